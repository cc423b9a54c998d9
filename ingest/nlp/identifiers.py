"""Recognisers for direct identifiers in Chinese text, on character offsets.

Each recogniser is a pure function of the (folded) text. Patterns that carry a checksum or a
fixed structure (resident IDs, phone numbers) are found anywhere; names, medical record numbers
and insurance numbers need a context word (姓名, 患者, 病历号, ...), because two Chinese
characters after a surname are far more often an ordinary word than a name. Form labels are not
identifiers: "姓名：" is the context, never the match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import stdnum.cn

from ingest.nlp.text import fold


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    type: str  # name, resident_id, phone, address, mrn, insurance_number
    text: str
    score: float = 1.0
    context: str = ""  # the word that introduced it (姓名, 医生, 病历号, ...), if any


# ---- resident identity card (GB 11643-1999; permanent-residence IDs for foreigners start with 9)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])([1-9]\d{5})[ ]?((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"[ ]?(\d{3}[0-9Xx])(?![0-9A-Za-z])"
)


def resident_id_valid(value: str) -> bool:
    """ISO 7064 MOD 11-2 check character of an 18-character resident ID."""
    v = value.upper()
    if not re.fullmatch(r"\d{17}[0-9X]", v):
        return False
    total = sum(int(d) * w for d, w in zip(v[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == v[17]


def resident_ids(text: str) -> list[Span]:
    out = []
    for m in _RESIDENT_ID.finditer(text):
        if resident_id_valid("".join(m.groups())):
            out.append(Span(m.start(), m.end(), "resident_id", m.group(0)))
    return out


# ---- telephone numbers

# Mainland mobile prefixes in use: 13x, 145-149, 150-153/155-159, 162/165-167, 170-178, 18x,
# 190-193/195-199.
_MOBILE = re.compile(
    r"(?<![\d+])(?:\+?86[ -]?)?(1(?:3\d|4[5-9]|5[0-35-9]|6[25-7]|7[0-8]|8\d|9[0-35-9]))"
    r"[ -]?(\d{4})[ -]?(\d{4})(?!\d)"
)
# Area codes: 010 and 02x are three digits, the rest four (0311, 0755, ...); local numbers have
# seven or eight digits and do not start with 0 or 1.
_LANDLINE = re.compile(
    r"(?<!\d)(?:\(0(?:10|2\d|[3-9]\d{2})\)|0(?:10|2\d|[3-9]\d{2})[ -]?)[2-9]\d{6,7}"
    r"(?:(?:转|-|ext\.?)\d{1,5})?(?!\d)"
)


def phones(text: str) -> list[Span]:
    out = [Span(m.start(), m.end(), "phone", m.group(0)) for m in _MOBILE.finditer(text)]
    taken = [(s.start, s.end) for s in out]
    for m in _LANDLINE.finditer(text):
        if not any(a < m.end() and m.start() < b for a, b in taken):
            out.append(Span(m.start(), m.end(), "phone", m.group(0)))
    return out


# Form labels: where a value ends when OCR runs two fields into one line.
_LABELS = re.compile(
    r"联系电话|电话|手机|身份证|性别|出生|年龄|民族|随访|住址|地址|家住|空腹|餐后|血压|体重|用药|诊断|病历|医保|姓名"
)


# ---- names

SURNAMES = files("ingest.nlp") / "surnames.txt"


@cache
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character, compound) surnames from ``surnames.txt``."""
    words = [
        w.strip()
        for w in SURNAMES.read_text(encoding="utf-8").splitlines()
        if w.strip() and not w.startswith("#")
    ]
    return frozenset(w for w in words if len(w) == 1), frozenset(w for w in words if len(w) == 2)


# Words that introduce a person's name in notes and forms. Staff names are identifiers too
# (found, and protected in text), but not data about the patient.
STAFF_CONTEXT = frozenset(
    {"签名", "医师", "医生", "护士", "随访人", "随访医生", "责任医生", "填表人"}
)
_NAME_CONTEXT = re.compile(
    r"(?:姓名|患者姓名|病人姓名|患者|病人|家属|联系人|监护人|签名|医师|医生|护士|随访人|随访医生|"
    r"责任医生|填表人|Name)\s*[:：]?\s*"
)
# Characters that do not occur in a given name right after a context word
# ("患者自述", "患者血糖").
_NOT_GIVEN = set(
    "自今血于因既无有近诉一主空餐服病家本入出来反晨昨前后未已曾在为的了是现每经由以及与和"
    "男女岁年月日于并因次既可需应将被把对从到向就都也还又再才"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _name_at(text: str, i: int) -> int:
    """End of a name starting at ``i``, or -1: a surname and one or two given characters."""
    single, compound = surnames()
    if text[i : i + 2] in compound:
        start_given = i + 2
    elif text[i : i + 1] in single:
        start_given = i + 1
    else:
        return -1
    end = start_given
    while end < len(text) and end - start_given < 2 and _CJK.match(text[end]):
        if text[end] in _NOT_GIVEN or _LABELS.match(text, end):
            break  # "患者张伟今日...", or OCR ran "姓名：张伟性别：男" into one line
        end += 1
    return end if end > start_given else -1


def names(text: str) -> list[Span]:
    out = []
    for m in _NAME_CONTEXT.finditer(text):
        end = _name_at(text, m.end())
        if end > 0:
            context = re.sub(r"[\s:：]", "", m.group(0))
            out.append(Span(m.end(), end, "name", text[m.end() : end], context=context))
    return out


# ---- record numbers by context

_RECORD_NUMBERS = (
    (re.compile(r"(?:病历号|病案号|住院号|门诊号|就诊卡号|ID号|MRN)\s*[:：]?\s*"), "mrn"),
    (re.compile(r"(?:医保卡号|医保号|社保卡号|医疗保险号)\s*[:：]?\s*"), "insurance_number"),
)
_NUMBER_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,23}")


def record_numbers(text: str) -> list[Span]:
    out = []
    for context, kind in _RECORD_NUMBERS:
        for m in context.finditer(text):
            v = _NUMBER_VALUE.match(text, m.end())
            if v and any(c.isdigit() for c in v.group(0)):
                out.append(Span(v.start(), v.end(), kind, v.group(0)))
    return out


# ---- addresses by administrative structure

_ADDRESS_CONTEXT = re.compile(
    r"(?:住址|地址|家庭住址|现住址|居住地址|户籍地址|家住|住在|现住)\s*[:：]?\s*"
)
# An address runs over names, numbers and these markers, and stops at punctuation, whitespace or
# the next form label.
_ADDRESS_BODY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9#\-()（）]+")
_ADDRESS_MARKERS = re.compile(
    r"省|市|区|县|旗|镇|乡|街道|路|街|大道|巷|弄|胡同|村|组|小区|号|栋|幢|单元|室|楼"
)


@cache
def gazetteer() -> frozenset[str]:
    """Province, prefecture and county names from python-stdnum's region table (~3,500)."""
    path = files(stdnum.cn) / "loc.dat"
    found: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.search(r'(?:province|county|prefecture)="(?:\[[^\]]*\])?([^"]+)"', line)
        if m and len(m.group(1)) >= 2 and m.group(1) not in ("市辖区", "县", "省直辖县级行政区划"):
            found.add(m.group(1))
    # Provinces and municipalities are written without their suffix too (北京, 广东).
    found |= {n[:-1] for n in found if n.endswith(("省", "市")) and len(n) >= 3}
    return frozenset(found)


@cache
def _gazetteer_pattern() -> re.Pattern[str]:
    names_by_length = sorted(gazetteer(), key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names_by_length))


def _address_end(text: str, start: int) -> int:
    body = _ADDRESS_BODY.match(text, start)
    if body is None:
        return -1
    end = body.end()
    label = _LABELS.search(text, start, end)
    if label:
        end = label.start()
    segment = text[start:end]
    return end if len(_ADDRESS_MARKERS.findall(segment)) >= 2 else -1


def addresses(text: str) -> list[Span]:
    out: list[Span] = []
    starts = [m.end() for m in _ADDRESS_CONTEXT.finditer(text)]
    starts += [m.start() for m in _gazetteer_pattern().finditer(text)]
    covered = -1
    for start in sorted(set(starts)):
        if start < covered:
            continue
        end = _address_end(text, start)
        if end > start:
            out.append(Span(start, end, "address", text[start:end]))
            covered = end
    return out


RECOGNISERS = (resident_ids, phones, names, record_numbers, addresses)
# When two findings overlap, the more certain kind wins: checksummed and structured numbers first.
_PRIORITY = {"resident_id": 0, "phone": 1, "mrn": 2, "insurance_number": 2, "name": 3, "address": 4}


def identifiers(text: str) -> list[Span]:
    """Every identifier in ``text``, non-overlapping, in order; offsets index ``text`` itself."""
    folded = fold(text)
    found = [s for recognise in RECOGNISERS for s in recognise(folded)]
    found.sort(key=lambda s: (_PRIORITY[s.type], s.start))
    kept: list[Span] = []
    for s in found:
        if all(s.end <= k.start or k.end <= s.start for k in kept):
            kept.append(Span(s.start, s.end, s.type, text[s.start : s.end], s.score, s.context))
    return sorted(kept, key=lambda s: s.start)

"""Clinical entities in Chinese text: diagnoses (ICD-10), drugs with doses, measurements with
units, sex and dates — on character offsets, from the vocabulary in ``clinical.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

VOCABULARY = files("ingest.nlp") / "clinical.toml"


@dataclass(frozen=True, slots=True)
class Entity:
    start: int
    end: int
    type: str  # diagnosis, drug, measurement, sex, date
    text: str
    kind: str = ""  # field class for measurements; "EncounterDate" / "BirthDate" for dates
    value: str = ""  # normalised value: "7.8", "2026-10-12", "male", "二甲双胍 0.5g bid"
    unit: str | None = None
    code: str | None = None  # ICD-10 for diagnoses
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    diagnoses: dict[str, str]  # term → ICD-10
    drugs: dict[str, str]  # term → drug name
    measurements: dict[str, tuple[str, str]]  # label → (kind, default unit)


@cache
def vocabulary(path: Traversable = VOCABULARY) -> Vocabulary:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return Vocabulary(
        {t: d["code"] for d in raw["diagnosis"] for t in d["terms"]},
        {t: d["name"] for d in raw["drug"] for t in d["terms"]},
        {label: (m["kind"], m["unit"]) for m in raw["measurement"] for label in m["labels"]},
    )


def _alternatives(terms: list[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))


_NUMBER = r"(\d{1,4}(?:\s?\.\s?\d{1,3})?)"
_UNIT = r"(mmol/L|mmol/mol|mg/dL|mL/min/1\.73\s?m2|mL/min|mmHg|kPa|kg|公斤|斤|%)?"
# Spaces, then perhaps a separator and more spaces. Not "\s*[:：为是]?\s*", the same language:
# there the two runs of spaces split a long run of them every possible way before failing,
# ~20 s for "血压" followed by 50,000 spaces.
_SEP = r"\s*(?:[:：为是]\s*)?"
_DOSE = re.compile(
    r"\s*(\d+(?:\.\d+)?)\s*(mg|g|μg|ug|U|IU|单位|毫克|克)"
    r"(?:\s*(qd|bid|tid|qid|qn|每日[一二三四1-4]次|每天[一二三四1-4]次|一日[一二三1-3]次|睡前|"
    r"早餐前|晚餐前|三餐前))?",
    re.IGNORECASE,
)
_BLOOD_PRESSURE = re.compile(r"血压" + _SEP + r"(\d{2,3})\s*/\s*(\d{2,3})\s*(mmHg|kPa)?")
_SEX = re.compile(r"性别\s*(?:[:：]\s*)?(男|女)|(?<=[，,\s])(男|女)(?=[，,\s]\s*\d{1,3}\s*岁)")
_DATE = r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?"
_LABELLED_DATE = re.compile(r"(随访日期|就诊日期|复诊日期|检查日期|出生日期|日期)" + _SEP + _DATE)
_VISIT_DATE = re.compile(_DATE + r"\s*(?:随访|就诊|复诊|来诊)(?!日期)")
_BARE_DATE = re.compile(r"(?<!\d)" + _DATE + r"(?!\d)")


def _number(text: str) -> str:
    return re.sub(r"\s", "", text)


def _iso(y: str, m: str, d: str) -> str:
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def diagnoses(text: str, vocab: Vocabulary) -> list[Entity]:
    pattern = re.compile(_alternatives(list(vocab.diagnoses)))
    return [
        Entity(
            m.start(),
            m.end(),
            "diagnosis",
            m.group(0),
            code=vocab.diagnoses[m.group(0)],
            value=m.group(0),
        )
        for m in pattern.finditer(text)
    ]


def drugs(text: str, vocab: Vocabulary) -> list[Entity]:
    out = []
    for m in re.finditer(_alternatives(list(vocab.drugs)), text):
        name = vocab.drugs[m.group(0)]
        dose = _DOSE.match(text, m.end())
        end = dose.end() if dose else m.end()
        parts = [name] + ([dose.group(1) + dose.group(2)] if dose else [])
        if dose and dose.group(3):
            parts.append(dose.group(3))
        out.append(Entity(m.start(), end, "drug", text[m.start() : end], value=" ".join(parts)))
    return out


def measurements(text: str, vocab: Vocabulary) -> list[Entity]:
    out = []
    labels = re.compile(
        "(" + _alternatives(list(vocab.measurements)) + ")" + _SEP + _NUMBER + r"\s*" + _UNIT,
        re.IGNORECASE,
    )
    by_lower = {k.lower(): v for k, v in vocab.measurements.items()}
    for m in labels.finditer(text):
        kind, default_unit = by_lower[m.group(1).lower()]
        unit = re.sub(r"\s", "", m.group(3)) if m.group(3) else default_unit
        out.append(
            Entity(
                m.start(),
                m.end(),
                "measurement",
                m.group(0),
                kind=kind,
                value=_number(m.group(2)),
                unit=unit,
            )
        )
    for m in _BLOOD_PRESSURE.finditer(text):
        unit = m.group(3) or "mmHg"
        out.append(
            Entity(
                m.start(),
                m.end(),
                "measurement",
                m.group(0),
                kind="SystolicPressure",
                value=m.group(1),
                unit=unit,
            )
        )
        out.append(
            Entity(
                m.start(),
                m.end(),
                "measurement",
                m.group(0),
                kind="DiastolicPressure",
                value=m.group(2),
                unit=unit,
            )
        )
    return out


def sexes(text: str) -> list[Entity]:
    out = []
    for m in _SEX.finditer(text):
        word = m.group(1) or m.group(2)
        out.append(
            Entity(
                m.start(), m.end(), "sex", m.group(0), value="male" if word == "男" else "female"
            )
        )
    return out


def dates(text: str) -> list[Entity]:
    """Visit and birth dates, by their label or a following 随访/就诊; other dates (a table row's
    reading date) are returned with kind "" so measurements can take their time from them."""
    out = []
    for m in _LABELLED_DATE.finditer(text):
        kind = "BirthDate" if m.group(1) == "出生日期" else "EncounterDate"
        out.append(
            Entity(m.start(), m.end(), "date", m.group(0), kind=kind, value=_iso(*m.groups()[1:4]))
        )
    for m in _VISIT_DATE.finditer(text):
        out.append(
            Entity(
                m.start(),
                m.end(),
                "date",
                m.group(0),
                kind="EncounterDate",
                value=_iso(*m.groups()[:3]),
            )
        )
    taken = [(e.start, e.end) for e in out]
    for m in _BARE_DATE.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            out.append(Entity(m.start(), m.end(), "date", m.group(0), value=_iso(*m.groups())))
    return out


def entities(text: str, vocab: Vocabulary | None = None) -> list[Entity]:
    """All clinical entities of (folded) ``text`` in order of position."""
    v = vocab or vocabulary()
    found = diagnoses(text, v) + drugs(text, v) + measurements(text, v) + sexes(text) + dates(text)
    return sorted(found, key=lambda e: (e.start, e.end))

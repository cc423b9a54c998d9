"""Synthetic scanned follow-up sheets and free-text notes, with ground truth.

``python -m ingest.synthetic.sheets OUT_DIR [--count N] [--seed S]`` writes, per synthetic patient
(Faker zh_CN, widened with compound surnames and consistent addresses), a printed sheet
(``*-printed.png``), one filled in a brush font standing in for handwriting (``*-handwritten.png``,
rotated, noisy, stamped), a PDF of the printed sheet, a note (``*-note.txt``) and
``*-truth.json``. Fonts come from Debian packages (fonts-wqy-zenhei, fonts-arphic-ukai).
No real patients: every identifier is generated, resident IDs with a valid check character.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from faker import Faker
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ingest.synthetic.samples import check_digit

PRINTED_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
BRUSH_FONT = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")
# Consistent addresses: (region code of the resident ID, province-city-district).
REGIONS = (
    ("110105", "北京市朝阳区"),
    ("310104", "上海市徐汇区"),
    ("440305", "广东省深圳市南山区"),
    ("420106", "湖北省武汉市武昌区"),
    ("510107", "四川省成都市武侯区"),
    ("330106", "浙江省杭州市西湖区"),
)
STREETS = ("建设路", "人民路", "解放大道", "中山路", "光明街", "和平里街道", "文化路")
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "皇甫")
DIAGNOSES = (
    ("2型糖尿病", "E11.9"),
    ("糖尿病肾病", "E11.2"),
    ("糖尿病视网膜病变", "E11.3"),
    ("高血压", "I10"),
    ("糖尿病性大疱病", "E11.6"),
)
DRUGS = (
    "二甲双胍 0.5g bid",
    "格列美脲 2mg qd",
    "阿卡波糖 50mg tid",
    "甘精胰岛素 12U 睡前",
    "达格列净 10mg qd",
)
CLINICS = ("东湖社区卫生服务中心", "南山社区卫生服务中心", "桃园社区卫生服务站")


@dataclass(frozen=True, slots=True)
class Truth:
    name: str
    sex: str  # male / female
    birth_date: str
    resident_id: str
    phone: str
    address: str
    mrn: str
    visit: str
    diagnoses: list[tuple[str, str]]
    drugs: list[str]
    systolic: int
    diastolic: int
    weight: str
    hba1c: str
    readings: list[tuple[str, str, str]]  # (date, fasting, 2-hour) mmol/L
    doctor: str
    clinic: str


def patient(fake: Faker, rng: random.Random, visit: date) -> Truth:
    sex = rng.choice(("male", "female"))
    surname = rng.choice(COMPOUND) if rng.random() < 0.15 else fake.last_name()
    given = fake.first_name_male() if sex == "male" else fake.first_name_female()
    birth = date(1945, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
    region, place = rng.choice(REGIONS)
    seq = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == "male" else (0, 2, 4))
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    phone = rng.choice(("138", "139", "150", "186", "177", "199", "166")) + (
        f"{rng.randrange(10**8):08d}"
    )
    address = f"{place}{rng.choice(STREETS)}{rng.randrange(1, 300)}号{rng.randrange(1, 12)}单元"
    diagnoses = [DIAGNOSES[0], *rng.sample(DIAGNOSES[1:], rng.randrange(0, 3))]
    readings = []
    for k in range(3):
        day = visit - timedelta(days=30 * (2 - k))
        readings.append(
            (day.isoformat(), f"{rng.uniform(5.5, 11):.1f}", f"{rng.uniform(7, 16):.1f}")
        )
    return Truth(
        surname + given,
        sex,
        birth.isoformat(),
        first17 + check_digit(first17),
        phone,
        address,
        f"MZ{rng.randrange(10**7):07d}",
        visit.isoformat(),
        diagnoses,
        rng.sample(DRUGS, rng.randrange(1, 3)),
        rng.randrange(112, 168),
        rng.randrange(66, 98),
        f"{rng.uniform(48, 95):.1f}",
        f"{rng.uniform(5.8, 10.5):.1f}",
        readings,
        fake.last_name() + fake.first_name(),
        rng.choice(CLINICS),
    )


def _sex_zh(sex: str) -> str:
    return "男" if sex == "male" else "女"


def render(t: Truth, handwritten: bool, rng: random.Random) -> Image.Image:
    """A follow-up sheet: printed labels, values printed or in a brush font, a table, a stamp."""
    width, height = 1240, 1500
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    label_font = ImageFont.truetype(str(PRINTED_FONT), 32)
    title_font = ImageFont.truetype(str(PRINTED_FONT), 40)
    value_font = ImageFont.truetype(str(BRUSH_FONT if handwritten else PRINTED_FONT), 36)
    ink = (20, 30, 110) if handwritten else (0, 0, 0)
    draw.text((150, 50), f"{t.clinic} 糖尿病患者随访记录表", font=title_font, fill="black")

    def field(x: int, y: int, label: str, value: str) -> None:
        draw.text((x, y), label + "：", font=label_font, fill="black")
        lw = draw.textlength(label + "：", font=label_font)
        jitter = rng.randrange(-3, 4) if handwritten else 0
        draw.text((x + lw + 6, y - 2 + jitter), value, font=value_font, fill=ink)

    y = 150
    field(80, y, "姓名", t.name)
    field(520, y, "性别", _sex_zh(t.sex))
    field(800, y, "病历号", t.mrn)
    y += 80
    field(80, y, "出生日期", t.birth_date)
    field(600, y, "随访日期", t.visit)
    y += 80
    field(80, y, "身份证号", t.resident_id)
    y += 80
    field(80, y, "联系电话", t.phone)
    y += 80
    field(80, y, "住址", t.address)
    y += 80
    field(80, y, "诊断", "，".join(d for d, _ in t.diagnoses))
    y += 80
    field(80, y, "血压", f"{t.systolic}/{t.diastolic} mmHg")
    field(600, y, "体重", f"{t.weight} kg")
    y += 80
    field(80, y, "糖化血红蛋白", f"{t.hba1c} %")
    y += 80
    field(80, y, "用药", "，".join(t.drugs))
    y += 100
    columns = (80, 420, 800, 1160)
    headers = ("日期", "空腹血糖(mmol/L)", "餐后2小时血糖(mmol/L)")
    rows = [headers, *t.readings]
    for r, row in enumerate(rows):
        top = y + r * 70
        draw.line((columns[0], top, columns[-1], top), fill="black", width=2)
        for c, cell in enumerate(row):
            font = label_font if r == 0 else value_font
            draw.text((columns[c] + 20, top + 16), cell, font=font, fill="black" if r == 0 else ink)
    bottom = y + len(rows) * 70
    draw.line((columns[0], bottom, columns[-1], bottom), fill="black", width=2)
    for x in columns:
        draw.line((x, y, x, bottom), fill="black", width=2)
    field(700, bottom + 60, "随访医生", t.doctor)
    if handwritten:
        _stamp(image, (980, bottom - 40), t.clinic)
        image = image.rotate(rng.uniform(-1.5, 1.5), expand=False, fillcolor="white")
        image = _noise(image, rng).filter(ImageFilter.GaussianBlur(0.6))
    return image


def _stamp(image: Image.Image, centre: tuple[int, int], text: str) -> None:
    """A red round seal with the clinic's name along its rim, as clinics stamp their sheets."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    cx, cy = centre
    r = 110
    red = (210, 30, 30, 150)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=6)
    font = ImageFont.truetype(str(PRINTED_FONT), 24)
    for i, ch in enumerate(text):
        angle = math.radians(200 + i * (140 / max(1, len(text) - 1)))
        draw.text(
            (cx + (r - 30) * math.cos(angle) - 12, cy + (r - 30) * math.sin(angle) - 12),
            ch,
            font=font,
            fill=red,
        )
    draw.text((cx - 20, cy - 20), "★", font=ImageFont.truetype(str(PRINTED_FONT), 40), fill=red)
    image.paste(Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB"))


def _noise(image: Image.Image, rng: random.Random) -> Image.Image:
    pixels = image.load()
    if pixels is None:
        return image
    for _ in range(image.width * image.height // 150):
        x, y = rng.randrange(image.width), rng.randrange(image.height)
        shade = rng.randrange(120, 220)
        pixels[x, y] = (shade, shade, shade)
    return image


def corrected_reading(value: str = "7.8 mmol/L") -> Image.Image:
    """A strip with one fasting-glucose reading crossed out twice, as corrections look on paper:
    OCR reads it with low confidence (~0.6), which must be flagged for review, not accepted."""
    image = Image.new("RGB", (900, 140), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 50), "空腹血糖：", font=ImageFont.truetype(str(PRINTED_FONT), 30), fill="black")
    ink = (20, 30, 110)
    draw.text((200, 50), value, font=ImageFont.truetype(str(BRUSH_FONT), 34), fill=ink)
    for k in range(2):
        draw.line((190, 65 + k * 8, 440, 75 + k * 6), fill=ink, width=3)
    return image


NOTE_TEMPLATES = (
    "患者{name}，{sex}，{age}岁，于{visit}来我中心随访。身份证号：{resident_id}，联系电话：{phone}，"
    "家住{address}。病历号：{mrn}。诊断：{diagnoses}。空腹血糖 {fasting} mmol/L，糖化血红蛋白 "
    "{hba1c}%，血压 {systolic}/{diastolic} mmHg。目前用药：{drugs}。随访医生：{doctor}",
    "{visit}复诊。患者姓名：{name}（{sex}，{age}岁），电话 {phone_spaced}，现住址：{address}。"
    "自述近期口干多饮。查空腹血糖{fasting}mmol/L，体重{weight}kg。诊断{diagnoses}，"
    "继续{drugs}。身份证{resident_id}。责任医生：{doctor}",
    "随访记录（{visit}随访）\n患者：{name}\n性别：{sex}\n联系电话：{phone_intl}\n"
    "地址：{address}\n门诊号：{mrn}\n血压：{systolic}/{diastolic}mmHg\n"
    "糖化血红蛋白：{hba1c}%\n用药：{drugs}\n签名：{doctor}",
)


def note(t: Truth, rng: random.Random) -> tuple[str, list[dict[str, object]]]:
    """A free-text note and the identifiers in it, as (start, end, type) of the patient's and
    the doctor's identifiers."""
    template = rng.choice(NOTE_TEMPLATES)
    values = {
        "name": t.name,
        "sex": _sex_zh(t.sex),
        "age": str(date.fromisoformat(t.visit).year - date.fromisoformat(t.birth_date).year),
        "visit": t.visit.replace("-", "年", 1).replace("-", "月", 1) + "日",
        "resident_id": t.resident_id,
        "phone": t.phone,
        "phone_spaced": f"{t.phone[:3]} {t.phone[3:7]} {t.phone[7:]}",
        "address": t.address,
        "phone_intl": f"+86 {t.phone}",
        "mrn": t.mrn,
        "diagnoses": "，".join(d for d, _ in t.diagnoses),
        "fasting": t.readings[-1][1],
        "hba1c": t.hba1c,
        "systolic": str(t.systolic),
        "diastolic": str(t.diastolic),
        "weight": t.weight,
        "drugs": "，".join(t.drugs),
        "doctor": t.doctor,
    }
    kinds = {
        "name": "name",
        "doctor": "name",
        "resident_id": "resident_id",
        "phone": "phone",
        "phone_spaced": "phone",
        "phone_intl": "phone",
        "address": "address",
        "mrn": "mrn",
    }
    text = ""
    spans: list[dict[str, object]] = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        key, _, rest = after.partition("}")
        text += before
        start = len(text)
        text += values[key]
        if key in kinds:
            spans.append(
                {"start": start, "end": len(text), "type": kinds[key], "text": values[key]}
            )
    return text + rest, spans


def write(out: Path, count: int, seed: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    written = []
    for i in range(1, count + 1):
        t = patient(fake, rng, date(2026, 10, 1) + timedelta(days=rng.randrange(0, 40)))
        stem = out / f"sheet-{i:02d}"
        printed = render(t, False, rng)
        printed.save(stem.with_name(stem.name + "-printed.png"))
        printed.save(stem.with_name(stem.name + "-printed.pdf"), resolution=150)
        render(t, True, rng).save(stem.with_name(stem.name + "-handwritten.png"))
        text, spans = note(t, rng)
        stem.with_name(stem.name + "-note.txt").write_text(text, encoding="utf-8")
        truth = {"sheet": asdict(t), "note_identifiers": spans}
        path = stem.with_name(stem.name + "-truth.json")
        path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    for path in write(args.out, args.count, args.seed):
        print(path)


if __name__ == "__main__":
    main()

"""Synthetic sample files for every reader — made-up people, valid-looking identifiers.

``python -m ingest.synthetic.samples OUT_DIR`` writes them; the committed copies in ``samples/``
come from this generator with the default seed. Resident IDs carry a correct GB 11643 check digit
and phone numbers use real mobile prefixes, so the samples pass validation; the tests break them
on purpose.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
COMPOUND = ("欧阳", "司马", "上官")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
AREAS = ("110105", "310104", "440305", "420106", "510107")  # 朝阳 徐汇 南山 武昌 武侯
STREETS = ("建设路", "人民路", "解放大道", "中山路", "光明街")
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_digit(first17: str) -> str:
    """GB 11643 / ISO 7064 MOD 11-2 check character."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    resident_id: str
    phone: str
    address: str
    birth: date
    sex: str


def person(rng: random.Random) -> Person:
    surname = rng.choice(COMPOUND) if rng.random() < 0.1 else rng.choice(SURNAMES)
    name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45))
    sex = rng.choice(("male", "female"))
    seq = rng.randrange(0, 100) * 10 + (
        rng.choice((1, 3, 5, 7, 9)) if sex == "male" else rng.choice((0, 2, 4, 6, 8))
    )
    first17 = f"{rng.choice(AREAS)}{birth:%Y%m%d}{seq:03d}"
    phone = rng.choice(("138", "139", "150", "186", "177", "199")) + f"{rng.randrange(10**8):08d}"
    address = f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号{rng.randrange(1, 30)}栋"
    return Person(name, first17 + check_digit(first17), phone, address, birth, sex)


def glucose(rng: random.Random, fasting: bool) -> Decimal:
    base = rng.gauss(7.5 if fasting else 10.5, 1.8)
    return Decimal(str(round(min(max(base, 3.2), 25.0), 1)))


def hba1c_for(rng: random.Random, fasting: Decimal) -> str:
    """An HbA1c consistent with the fasting glucose (ADAG: mean glucose mmol/L = 1.59 × HbA1c −
    2.59, fasting a little below the mean), with noise: so models have something to learn."""
    value = (float(fasting) + 0.8 + 2.59) / 1.59 + rng.gauss(0, 0.5)
    return str(round(min(max(value, 4.8), 14.0), 1))


def json_document(rng: random.Random, n: int, day: date = date(2026, 11, 2)) -> dict[str, Any]:
    records = []
    for i in range(n):
        p = person(rng)
        fasting = glucose(rng, True)
        rare = i % 17 == 5  # now and then the rare complication the seed's §4.5 is about
        conditions = [{"code": "E11.9", "display": "2型糖尿病"}]
        if rare:
            conditions.append({"code": "L13.8", "display": "糖尿病性大疱病"})
        when = f"{day.isoformat()}T08:{i % 60:02d}:00+08:00"
        records.append(
            {
                "patient": {
                    "name": p.name,
                    "resident_id": p.resident_id,
                    "phone": p.phone,
                    "address": p.address,
                    "birth_date": p.birth.isoformat(),
                    "sex": p.sex,
                },
                "encounter": {"date": day.isoformat()},
                "observations": [
                    {
                        "type": "fasting_glucose",
                        "value": str(fasting),
                        "unit": "mmol/L",
                        "time": when,
                    },
                    {"type": "hba1c", "value": hba1c_for(rng, fasting), "unit": "%"},
                    {"type": "systolic_bp", "value": rng.randrange(110, 165), "unit": "mmHg"},
                    {"type": "diastolic_bp", "value": rng.randrange(65, 100), "unit": "mmHg"},
                    {"type": "weight", "value": str(round(rng.uniform(50, 95), 1)), "unit": "kg"},
                ],
                "conditions": conditions,
                "medications": [
                    {"drug": "二甲双胍", "dose": "500 mg", "frequency": "bid", "prescribed": True}
                ],
            }
        )
    return {"records": records}


COMPLICATIONS = (
    ("E11.2", "糖尿病肾病"),
    ("E11.3", "糖尿病视网膜病变"),
    ("E11.4", "糖尿病周围神经病变"),
)


def follow_up_cohort(
    rng: random.Random,
    n: int,
    complications: float,
    sicker: float = 0.0,
    day: date = date(2026, 11, 2),
) -> dict[str, Any]:
    """Follow-up records whose diabetic complications follow HbA1c and blood pressure (the risk
    rises with both), so a complication-risk model has something to learn. ``complications``
    scales the risk: low for a hospital's general population, high for a clinic that follows
    complicated patients; ``sicker`` raises fasting glucose (mmol/L) for such a clinic's patients,
    and HbA1c with it."""
    doc = json_document(rng, n, day)
    for record in doc["records"]:
        obs = {o["type"]: o for o in record["observations"]}
        if sicker:
            fasting = Decimal(str(round(float(obs["fasting_glucose"]["value"]) + sicker, 1)))
            obs["fasting_glucose"]["value"] = str(fasting)
            obs["hba1c"]["value"] = hba1c_for(rng, fasting)
        seen = {kind: float(o["value"]) for kind, o in obs.items()}
        # Complications here follow the risk only: the rare one included (diabetic bullosis,
        # about one complication in eight), not the every-17th-record rule of json_document.
        record["conditions"] = [c for c in record["conditions"] if c["code"] == "E11.9"]
        score = 3.0 * (seen["hba1c"] - 8.5) + 0.05 * (seen["systolic_bp"] - 140)
        if rng.random() < complications / (1 + math.exp(-score)):
            code, name = (
                ("L13.8", "糖尿病性大疱病") if rng.random() < 0.125 else rng.choice(COMPLICATIONS)
            )
            record["conditions"].append({"code": code, "display": name})
    return doc


def fhir_bundle(rng: random.Random, n: int = 2) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for k in range(n):
        p = person(rng)
        pid = f"p{k + 1}"
        entries.append(
            {
                "fullUrl": f"urn:uuid:patient-{pid}",
                "resource": {
                    "resourceType": "Patient",
                    "id": pid,
                    "identifier": [
                        {"system": "urn:oid:2.16.156.10011.1.1", "value": p.resident_id},
                        {
                            "type": {
                                "coding": [
                                    {
                                        "system": V2_0203,
                                        "code": "MR",
                                    }
                                ]
                            },
                            "value": f"MR{rng.randrange(10**6):06d}",
                        },
                    ],
                    "name": [{"text": p.name}],
                    "gender": p.sex,
                    "birthDate": p.birth.isoformat(),
                    "telecom": [{"system": "phone", "value": "+86 " + p.phone}],
                    "address": [{"text": p.address}],
                },
            }
        )
        ref = {"reference": f"Patient/{pid}"}
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "1558-6"}]},
                    "subject": ref,
                    "effectiveDateTime": "2026-11-03T07:40:00+08:00",
                    "valueQuantity": {"value": float(glucose(rng, True)) * 18, "unit": "mg/dL"},
                }
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                    "subject": ref,
                    "effectiveDateTime": "2026-11-03T07:45:00+08:00",
                    "component": [
                        {
                            "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                            "valueQuantity": {"value": 138, "unit": "mmHg"},
                        },
                        {
                            "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                            "valueQuantity": {"value": 86, "unit": "mmHg"},
                        },
                    ],
                }
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "33914-3"}]},
                    "subject": ref,
                    "valueQuantity": {"value": 72, "unit": "mL/min/1.73m2"},
                }
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": ref,
                    "code": {
                        "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.2"}],
                        "text": "2型糖尿病肾病",
                    },
                }
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "status": "active",
                    "intent": "order",
                    "subject": ref,
                    "authoredOn": "2026-11-03",
                    "medicationCodeableConcept": {"text": "达格列净"},
                    "dosageInstruction": [{"text": "10 mg qd"}],
                }
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Consent",
                    "status": "active",
                    "patient": ref,
                    "scope": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                "code": "research",
                            }
                        ]
                    },
                    "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
                    "dateTime": "2026-10-01T10:00:00+08:00",
                }
            }
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _readings(
    rng: random.Random, n_patients: int, per: int
) -> list[tuple[str, Person, datetime, str, Decimal]]:
    out = []
    start = datetime(2026, 10, 20, 7, 0)
    for k in range(n_patients):
        p = person(rng)
        for r in range(per):
            period = ("fasting", "postprandial", "random")[r % 3]
            when = start + timedelta(days=r // 3, hours=(0, 3, 9)[r % 3], minutes=rng.randrange(50))
            out.append((f"U{1000 + k}", p, when, period, glucose(rng, period == "fasting")))
    return out


def sinocare_csv(rng: random.Random) -> bytes:
    words = {"fasting": "空腹", "postprandial": "早餐后2小时", "random": "随机"}
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["用户编号", "姓名", "手机号", "测量时间", "测量时段", "血糖值(mmol/L)"])
    for uid, p, when, period, value in _readings(rng, 3, 6):
        w.writerow([uid, p.name, p.phone, when.strftime("%Y/%m/%d %H:%M"), words[period], value])
    return buf.getvalue().encode("gb18030")


def accuchek_csv(rng: random.Random) -> bytes:
    flags = {"fasting": "Before Meal", "postprandial": "After Meal", "random": "Other"}
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["Patient ID", "Date/Time", "BG (mg/dL)", "Flag"])
    for uid, _, when, period, value in _readings(rng, 2, 6):
        mg = int((value * Decimal("18.016")).to_integral_value())
        w.writerow([uid, when.strftime("%m/%d/%Y %I:%M %p"), mg, flags[period]])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def yuwell_xlsx(rng: random.Random, patients: int = 3, per: int = 6) -> bytes:
    kinds = {"fasting": "空腹血糖", "postprandial": "餐后血糖", "random": "随机血糖"}
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["患者ID", "患者姓名", "检测日期", "检测类型", "检测结果", "单位"])
    for uid, p, when, period, value in _readings(rng, patients, per):
        mg = period == "random"  # this workstation reports random glucose in mg/dL
        shown = int((value * Decimal("18.016")).to_integral_value()) if mg else float(value)
        sheet.append([uid, p.name, when, kinds[period], shown, "mg/dL" if mg else "mmol/L"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_all(out: Path, seed: int = 20261129) -> list[Path]:
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "records.json": json.dumps(json_document(rng, 4), ensure_ascii=False, indent=2).encode(),
        "bundle.fhir.json": json.dumps(fhir_bundle(rng), ensure_ascii=False, indent=2).encode(),
        "sinocare.csv": sinocare_csv(rng),
        "accuchek.csv": accuchek_csv(rng),
        "yuwell.xlsx": yuwell_xlsx(rng),
    }
    paths = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        paths.append(out / name)
    return paths


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "samples")):
        print(path)

"""Clinical entities and note extraction: ICD-10 mapping, drugs with doses, readings with units
despite OCR confusions, dates, and the data a note yields."""

from __future__ import annotations

from datetime import datetime

from ingest.nlp.clinical import entities
from ingest.nlp.text import fold
from ingest.readers import note
from ingest.synthetic.samples import check_digit


def kinds(text: str) -> list[tuple[str, str, str | None]]:
    return [(e.kind or e.type, e.value, e.unit or e.code) for e in entities(fold(text))]


def test_diagnoses_map_to_icd10_longest_term_first() -> None:
    assert kinds("诊断：2型糖尿病，糖尿病肾病，糖尿病性大疱病") == [
        ("diagnosis", "2型糖尿病", "E11.9"),
        ("diagnosis", "糖尿病肾病", "E11.2"),
        ("diagnosis", "糖尿病性大疱病", "E11.6"),
    ]
    assert kinds("社区糖尿病随访记录表") == []  # a form's title is not a diagnosis


def test_drugs_with_dose_and_frequency() -> None:
    assert kinds("用药：二甲双胍缓释片 0.5g bid，甘精胰岛素 12U 睡前，阿卡波糖") == [
        ("drug", "二甲双胍 0.5g bid", None),
        ("drug", "甘精胰岛素 12U 睡前", None),
        ("drug", "阿卡波糖", None),
    ]


def test_readings_survive_ocr_confusions() -> None:
    assert kinds("空腹血糖：7.8 mmo1/L") == [("FastingGlucose", "7.8", "mmol/L")]
    assert kinds("空腹血糖：１１. ２mmol/l") == [("FastingGlucose", "11.2", "mmol/L")]
    assert kinds("FPG 140 mg/dL") == [("FastingGlucose", "140", "mg/dL")]
    assert kinds("糖化血红蛋白 7.1%") == [("HbA1c", "7.1", "%")]
    assert kinds("血压：142/88mmH9") == [
        ("SystolicPressure", "142", "mmHg"),
        ("DiastolicPressure", "88", "mmHg"),
    ]
    assert kinds("体重 72.5公斤") == [("BodyWeight", "72.5", "公斤")]
    assert kinds("空腹血糖 7.8") == [("FastingGlucose", "7.8", "mmol/L")]  # the label's unit


def test_dates_by_label_and_visit_word() -> None:
    assert kinds("出生日期：1964-03-07  随访日期：2026-10-12") == [
        ("BirthDate", "1964-03-07", None),
        ("EncounterDate", "2026-10-12", None),
    ]
    assert kinds("2026年10月2日复诊") == [("EncounterDate", "2026-10-02", None)]
    assert kinds("患者张三，男，62岁")[0][:2] == ("sex", "male")


def test_a_note_becomes_one_patient_with_located_data() -> None:
    first17 = "31010419640307002"
    rid = first17 + check_digit(first17)
    text = (
        f"患者王秀兰，女，62岁，2026年10月12日随访。身份证号：{rid}。诊断：2型糖尿病。"
        "空腹血糖 8.1 mmol/L，血压 150/92 mmHg。"
        "用药：二甲双胍 0.5g bid。随访医生：李静"
    )
    extracted = note.read(text.encode(), "note.txt")
    assert extracted.method == "nlp"
    (subject,) = extracted.subjects
    data = {(d.kind, str(d.value)) for d in subject.data}
    assert ("PersonName", "王秀兰") in data
    assert ("PersonName", "李静") not in data  # the doctor is not the patient
    assert ("ResidentId", rid) in data
    assert ("Sex", "female") in data
    assert ("Condition", "2型糖尿病") in data
    assert ("MedicationStatement", "二甲双胍 0.5g bid") in data
    glucose = next(d for d in subject.data if d.kind == "FastingGlucose")
    assert glucose.time == datetime(2026, 10, 12)
    start = text.index("空腹血糖")
    assert glucose.location == f"characters {start}-{start + len('空腹血糖 8.1 mmol/L')}"

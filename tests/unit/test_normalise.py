"""Unit conversion and identifier normalisation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import IngestError
from ingest.model import Datum
from ingest.normalise import GLUCOSE_MG_PER_MMOL, convert, normalise, phone, resident_id


@pytest.mark.parametrize(
    ("kind", "value", "unit", "expected"),
    [
        ("FastingGlucose", "126", "mg/dL", ("6.99", "mmol/L")),
        ("FastingGlucose", "7.0", "mmol/l", ("7.00", "mmol/L")),
        ("RandomGlucose", "180", "MG/DL", ("9.99", "mmol/L")),
        ("HbA1c", "53", "mmol/mol", ("7.0", "%")),
        ("SystolicPressure", "18.7", "kPa", ("140", "mm[Hg]")),
        ("BodyWeight", "140", "斤", ("70.00", "kg")),
        ("BodyWeight", "154", "lb", ("69.85", "kg")),
        ("EGFR", "58", "mL/min/1.73m²", ("58.0", "mL/min/{1.73_m2}")),
    ],
)
def test_conversions(kind: str, value: str, unit: str, expected: tuple[str, str]) -> None:
    got, stored_unit = convert(kind, value, unit, "here")
    assert (str(got), stored_unit) == expected


@given(st.decimals(min_value=Decimal("0.5"), max_value=Decimal("60"), places=2))
def test_glucose_mg_per_dl_round_trips_within_reporting_precision(mmol: Decimal) -> None:
    mg = mmol * GLUCOSE_MG_PER_MMOL
    back, _ = convert("FastingGlucose", mg, "mg/dL", "x")
    assert abs(back - mmol) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("kind", "value", "unit", "message"),
    [
        ("FastingGlucose", "7.2", None, "has no unit"),
        ("FastingGlucose", "7.2", "g/L", "unit 'g/L' is not known"),
        ("HbA1c", "seven", "%", "is not a number"),
        ("BodyWeight", "NaN", "kg", "is not a number"),
        # Finite, but past 28 digits once rounded: was a decimal.InvalidOperation (a 500).
        ("FastingGlucose", "1e400", "mmol/L", "'1e400' is too large a number"),
        ("FastingGlucose", "9" * 400, "mg/dL", "'9999999999…' is too large a number"),
    ],
)
def test_bad_values_name_their_place(kind: str, value: str, unit: str | None, message: str) -> None:
    with pytest.raises(IngestError, match=message) as info:
        convert(kind, value, unit, "row 7, column 'GLU'")
    assert info.value.location == "row 7, column 'GLU'"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("010 6512 3456", "010-65123456"),
        ("0755-12345678", "0755-12345678"),
    ],
)
def test_phone_forms(raw: str, expected: str) -> None:
    assert phone(raw) == expected


def test_resident_id_and_codes_are_upper_cased() -> None:
    assert resident_id(" 11010519491231002x ") == "11010519491231002X"
    assert normalise(Datum("Condition", " 糖尿病 ", "x", code=" e11.9 ")).code == "E11.9"

"""Normalisation: units to the one UCUM unit each kind is stored in, identifiers to one form.

Conversions are exact decimal arithmetic with one rounding at the end, to the precision the
clinic reports (glucose 2 decimals, HbA1c 1, blood pressure 0, weight 2, eGFR 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, DecimalException, InvalidOperation

from ingest.errors import IngestError
from ingest.model import Datum, Value

GLUCOSE_MG_PER_MMOL = Decimal("18.016")  # mg/dL per mmol/L (molar mass of glucose / 10)


@dataclass(frozen=True, slots=True)
class Quantity:
    unit: str  # UCUM code stored
    places: int  # decimals kept
    label: str  # for messages
    conversions: dict[str, Callable[[Decimal], Decimal]]


def _same(x: Decimal) -> Decimal:
    return x


GLUCOSE = Quantity(
    "mmol/L",
    2,
    "glucose",
    {"mmol/l": _same, "mg/dl": lambda x: x / GLUCOSE_MG_PER_MMOL},
)
QUANTITIES: dict[str, Quantity] = {
    "FastingGlucose": GLUCOSE,
    "PostprandialGlucose": GLUCOSE,
    "RandomGlucose": GLUCOSE,
    # IFCC mmol/mol to NGSP %: the NGSP master equation.
    "HbA1c": Quantity(
        "%",
        1,
        "HbA1c",
        {"%": _same, "mmol/mol": lambda x: x * Decimal("0.09148") + Decimal("2.152")},
    ),
    "SystolicPressure": Quantity(
        "mm[Hg]", 0, "blood pressure", {"mmhg": _same, "kpa": lambda x: x * Decimal("7.50062")}
    ),
    "DiastolicPressure": Quantity(
        "mm[Hg]", 0, "blood pressure", {"mmhg": _same, "kpa": lambda x: x * Decimal("7.50062")}
    ),
    "BodyWeight": Quantity(
        "kg",
        2,
        "body weight",
        {
            "kg": _same,
            "g": lambda x: x / 1000,
            "lb": lambda x: x * Decimal("0.45359237"),
            "斤": lambda x: x / 2,
        },
    ),
    "EGFR": Quantity("mL/min/{1.73_m2}", 1, "eGFR", {"ml/min/1.73m2": _same}),
}

_UNIT_ALIASES = {
    "mmol/l": "mmol/l",
    "mmol": "mmol/l",
    "mg/dl": "mg/dl",
    "mg%": "mg/dl",
    "%": "%",
    "mmol/mol": "mmol/mol",
    "mmhg": "mmhg",
    "mm[hg]": "mmhg",
    "kpa": "kpa",
    "kg": "kg",
    "公斤": "kg",
    "g": "g",
    "lb": "lb",
    "lbs": "lb",
    "斤": "斤",
    "ml/min/1.73m2": "ml/min/1.73m2",
    "ml/min/1.73m²": "ml/min/1.73m2",
    "ml/min/{1.73_m2}": "ml/min/1.73m2",
    "ml/min/1.73 m2": "ml/min/1.73m2",
}


def unit_key(unit: str) -> str:
    """Lower-case, space-free spelling of a unit as clinics and meters write it."""
    text = unit.strip().lower().replace(" ", "").replace("ｍ", "m").replace("／", "/")
    return _UNIT_ALIASES.get(text, text)


def _shown(raw: object) -> str:
    """A value as a message quotes it: its start, if it is long."""
    text = str(raw)
    return text if len(text) <= 40 else text[:10] + "…"


def to_decimal(raw: object, location: str, what: str) -> Decimal:
    text = str(raw).strip().replace(",", ".") if not isinstance(raw, Decimal) else raw
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise IngestError(location, f"{what} '{_shown(raw)}' is not a number") from None
    if not value.is_finite():
        raise IngestError(location, f"{what} '{_shown(raw)}' is not a number")
    return value


def convert(kind: str, raw: object, unit: str | None, location: str) -> tuple[Decimal, str]:
    """A measured value in the stored unit of its kind."""
    q = QUANTITIES[kind]
    if unit is None or not unit.strip():
        raise IngestError(location, f"{q.label} has no unit (expected {q.unit})")
    convert_fn = q.conversions.get(unit_key(unit))
    if convert_fn is None:
        known = ", ".join(sorted(q.conversions))
        raise IngestError(location, f"unit '{unit}' is not known for {q.label} (known: {known})")
    exponent = Decimal(1).scaleb(-q.places)
    try:
        value = convert_fn(to_decimal(raw, location, q.label))
        return value.quantize(exponent, rounding=ROUND_HALF_EVEN), q.unit
    except DecimalException:
        # Finite but past the decimal context's 28 digits once rounded ("1e400"): no reading
        # is that large, and the plausible-range rules could not even compare it.
        raise IngestError(location, f"{q.label} '{_shown(raw)}' is too large a number") from None


_SEPARATORS = re.compile(r"[\s\-()（）]")


def phone(raw: str) -> str:
    """Mobile numbers as 11 digits; landlines as area code, hyphen, number."""
    text = raw.strip()
    bracketed = re.match(r"^[(（](0[1-9]\d{1,2})[)）]\s*(.+)$", text)
    if bracketed:
        return f"{bracketed.group(1)}-{_SEPARATORS.sub('', bracketed.group(2))}"
    landline = re.match(r"^(0[1-9]\d{1,2})[\s\-]+(.+)$", text)
    if landline:
        return f"{landline.group(1)}-{_SEPARATORS.sub('', landline.group(2))}"
    digits = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


def resident_id(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


def _with(d: Datum, value: Value, unit: str | None, code: str | None) -> Datum:
    # Not dataclasses.replace: that costs four times as much, on every field of every file.
    return Datum(d.kind, value, d.location, unit, d.time, code, d.confidence)


def normalise(datum: Datum) -> Datum:
    """The datum with its value and unit in stored form (a new object; readers' output is kept)."""
    if datum.kind in QUANTITIES:
        amount, unit = convert(datum.kind, datum.value, datum.unit, datum.location)
        return _with(datum, amount, unit, datum.code)
    if datum.kind == "PhoneNumber":
        return _with(datum, phone(str(datum.value)), datum.unit, datum.code)
    if datum.kind == "ResidentId":
        return _with(datum, resident_id(str(datum.value)), datum.unit, datum.code)
    code = datum.code.strip().upper() if datum.code else None
    value = datum.value.strip() if isinstance(datum.value, str) else datum.value
    return _with(datum, value, datum.unit, code)

"""The FHIR twin accepts only what fhir.resources accepts, with the same values.

The claim is checked differentially: on the sample Bundles, on a Bundle using many more
elements than the samples (extensions, narrative, timing, ranges, ...), and on thousands of
broken variants of both — keys removed, unknown keys, ``_field`` siblings, nulls, wrong types,
bad dates and codes, a second choice of ``value[x]``. Whenever the twin takes a variant,
fhir.resources must take it too, give every field the same value, and the reader must extract
the same data from both.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.fhirprimitiveextension import FHIRPrimitiveExtension
from fhir.resources.R4B.patient import Patient
from pydantic import BaseModel, ValidationError

from ingest.errors import IngestError
from ingest.readers import fhir, fhirtwin
from ingest.synthetic.samples import fhir_bundle
from tests import REPO_ROOT
from tests.unit.variants import mutants

Json = Any
XHTML = '<div xmlns="http://www.w3.org/1999/xhtml"><p>随访记录</p></div>'

# One patient using many of the elements the samples leave out.
RICH: Json = {
    "resourceType": "Bundle",
    "id": "rich-1",
    "meta": {"lastUpdated": "2026-11-03T08:00:00+08:00", "versionId": "2"},
    "type": "collection",
    "timestamp": "2026-11-03T08:00:00+08:00",
    "entry": [
        {
            "fullUrl": "urn:uuid:patient-r1",
            "resource": {
                "resourceType": "Patient",
                "id": "r1",
                "text": {"status": "generated", "div": XHTML},
                "extension": [
                    {"url": "http://example.org/ethnicity", "valueString": "汉族"},
                    {
                        "url": "http://example.org/nested",
                        "extension": [{"url": "part", "valueCode": "a"}],
                    },
                ],
                "identifier": [
                    {
                        "system": "urn:oid:2.16.156.10011.1.1",
                        "value": "310104196702285356",
                        "period": {"start": "2020-01-01"},
                    }
                ],
                "active": True,
                "name": [{"use": "official", "family": "胡", "given": ["静"]}],
                "telecom": [{"system": "phone", "value": "+86 19900933746", "rank": 1}],
                "gender": "female",
                "birthDate": "1967-02",
                "deceasedBoolean": False,
                "address": [
                    {
                        "line": ["人民路181号"],
                        "city": "上海",
                        "district": "黄浦区",
                        "postalCode": "200001",
                    }
                ],
                "maritalStatus": {"text": "已婚"},
                "multipleBirthInteger": 1,
                "contact": [
                    {
                        "name": {"text": "家属"},
                        "telecom": [{"system": "phone", "value": "13800000000"}],
                    }
                ],
                "communication": [{"language": {"text": "zh-CN"}, "preferred": True}],
                "managingOrganization": {
                    "reference": "Organization/hosp-a",
                    "display": "市第一医院",
                },
            },
        },
        {
            "resource": {
                "resourceType": "Observation",
                "id": "o1",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/"
                                "observation-category",
                                "code": "laboratory",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [
                        {"system": "http://loinc.org", "code": "4548-4", "display": "HbA1c"}
                    ],
                    "text": "糖化血红蛋白",
                },
                "subject": {"reference": "Patient/r1"},
                "effectiveDateTime": "2026-11-03",
                "issued": "2026-11-03T09:00:00.123+08:00",
                "valueQuantity": {
                    "value": 7.25,
                    "unit": "%",
                    "system": "http://unitsofmeasure.org",
                    "code": "%",
                    "comparator": "<",
                },
                "interpretation": [{"text": "偏高"}],
                "note": [
                    {"authorString": "社区医生", "time": "2026-11-03T10:00:00Z", "text": "复查"}
                ],
                "referenceRange": [
                    {
                        "low": {"value": 4, "unit": "%"},
                        "high": {"value": 6.0, "unit": "%"},
                        "age": {"low": {"value": 18}},
                    }
                ],
            }
        },
        {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                "subject": {"reference": "Patient/r1"},
                "effectivePeriod": {"start": "2026-11-03T07:45:00+08:00"},
                "component": [
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                        "valueQuantity": {"value": 138, "unit": "mmHg"},
                    },
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                        "valueQuantity": {"value": 86.5, "unit": "mmHg"},
                    },
                ],
            }
        },
        {
            "resource": {
                "resourceType": "Condition",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E10.8"}],
                    "text": "1型糖尿病伴并发症",
                },
                "subject": {"reference": "Patient/r1"},
                "onsetAge": {"value": 40, "unit": "a"},
                "recordedDate": "2026-11-03",
            }
        },
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {"text": "二甲双胍"},
                "subject": {"reference": "Patient/r1"},
                "authoredOn": "2026-11-03T10:30:00+08:00",
                "dosageInstruction": [
                    {
                        "text": "500 mg bid",
                        "timing": {
                            "repeat": {
                                "boundsPeriod": {"start": "2026-11-03"},
                                "frequency": 2,
                                "period": 1,
                                "periodUnit": "d",
                                "timeOfDay": ["08:00:00", "18:00:00"],
                            }
                        },
                        "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg"}}],
                        "maxDosePerPeriod": {
                            "numerator": {"value": 2000, "unit": "mg"},
                            "denominator": {"value": 1, "unit": "d"},
                        },
                    }
                ],
                "dispenseRequest": {
                    "numberOfRepeatsAllowed": 3,
                    "quantity": {"value": 60, "unit": "tablet"},
                },
            }
        },
        {
            "resource": {
                "resourceType": "MedicationStatement",
                "status": "active",
                "medicationCodeableConcept": {"coding": [{"display": "胰岛素"}]},
                "subject": {"reference": "Patient/r1"},
                "effectiveDateTime": "2026-10-01",
                "dosage": [{"text": "睡前 10 U", "asNeededBoolean": False}],
            }
        },
        {
            "resource": {
                "resourceType": "Consent",
                "status": "active",
                "scope": {"coding": [{"code": "research"}]},
                "category": [{"text": "科研"}],
                "patient": {"reference": "Patient/r1"},
                "dateTime": "2026-11-03T11:00:00+08:00",
                "policyRule": {"text": "PIPL"},
                "provision": {
                    "type": "permit",
                    "period": {"start": "2026-11-03", "end": "2027-11-03"},
                },
            }
        },
    ],
}


def _bundles() -> dict[str, Json]:
    sample = json.loads((REPO_ROOT / "samples" / "bundle.fhir.json").read_text("utf-8"))
    return {
        "sample": sample,
        # Its first patient: the second has the same shape.
        "patient": {**sample, "entry": sample["entry"][:7]},
        "generated": fhir_bundle(random.Random(5), 3),
        "rich": RICH,
    }


def _fhir_resources(raw: Json) -> Bundle | None:
    try:
        return Bundle.model_validate(raw)
    except (ValidationError, KeyError, TypeError):  # the last two: an unknown resourceType
        return None


def _same(twin: Any, model: Any, at: str) -> None:
    """Every field the twin has holds the same value, of the same type, in the fhir.resources
    model; every field it does not have is empty there."""
    if isinstance(twin, list):
        assert isinstance(model, list), at
        assert len(twin) == len(model), at
        for k, (a, b) in enumerate(zip(twin, model, strict=True)):
            _same(a, b, f"{at}[{k}]")
        return
    if isinstance(twin, BaseModel):
        assert getattr(twin, "__resource_type__") == model.__resource_type__, at  # noqa: B009
        fields = type(twin).model_fields
        for name in fields:
            if name != "resourceType":
                _same(getattr(twin, name), getattr(model, name), f"{at}.{name}")
        for name in type(model).model_fields:
            if name not in fields:
                assert getattr(model, name) is None, f"{at}.{name}"
        return
    assert type(twin) is type(model), at
    assert twin == model, at


def _extracted(bundle: Any) -> object:
    try:
        return fhir.extract(bundle, "b.json")
    except IngestError as e:
        return str(e)


@pytest.mark.parametrize("name", ["sample", "generated", "rich"])
def test_the_twin_takes_well_formed_bundles_with_the_same_values(name: str) -> None:
    raw = _bundles()[name]
    twin = fhirtwin.validate(raw)
    model = _fhir_resources(raw)
    assert twin is not None
    assert model is not None
    _same(twin, model, "Bundle")
    assert _extracted(twin) == _extracted(model)


def test_the_twin_accepts_no_variant_fhir_resources_refuses() -> None:
    outcomes: Counter[str] = Counter()
    for name in ("patient", "rich"):
        for k, mutant in enumerate(mutants(_bundles()[name])):
            twin = fhirtwin.validate(mutant)
            # The reader's way, from the text: the same answer as from the decoded JSON.
            text = json.dumps(mutant, ensure_ascii=k % 2 == 0).encode()
            assert fhirtwin.validate_json(text) == twin
            if twin is None:
                if k % 4 == 0:  # a quarter is enough to show both kinds of refusal occur
                    model = _fhir_resources(mutant)
                    outcomes[
                        "twin refuses, fhir.resources "
                        + ("refuses" if model is None else "accepts")
                    ] += 1
                continue
            model = _fhir_resources(mutant)
            outcomes["both accept"] += 1
            assert model is not None, json.dumps(mutant, ensure_ascii=False)[:2000]
            _same(twin, model, "Bundle")
            assert _extracted(twin) == _extracted(model)
    # The corpus reaches every case: variants both take, both refuse, and those the twin leaves
    # to fhir.resources.
    assert len(outcomes) == 3, outcomes
    assert min(outcomes.values()) >= 100, outcomes


def _text_variant(change: tuple[str, str]) -> bytes:
    text = json.dumps(_bundles()["sample"], ensure_ascii=False)
    assert change[0] in text
    return text.replace(change[0], change[1], 1).encode("utf-8", "surrogatepass")


def _outcome(read: Any, data: bytes) -> object:
    try:
        return read(data)
    except IngestError as e:
        return str(e)


@pytest.mark.parametrize(
    "change",
    [
        ('"gender": "male"', '"gender": "female", "gender": "male"'),  # a key twice: the last
        ('"text": "胡静"', '"text": "\\u80e1\\ud83d\\ude00静"'),  # escapes, a surrogate pair
        ('"text": "胡静"', '"text": "胡\\ud800静"'),  # a lone surrogate: refused by both
        ('"text": "胡静"', '"text": "胡\ud800静"'),  # the same, unescaped: not UTF-8
        ('"status": "final"', '"status": "fi\nnal"'),  # a raw control character
        ('"value": 7', '"value": NaN'),
        ('"value": 7', '"value": 1e400'),
        ('"status": "final"', '"status": "final", "valueInteger": 123456789012345678901234567890'),
        ('{"resourceType": "Bundle"', '\ufeff{"resourceType": "Bundle"'),  # a byte-order mark
        ('"type": "collection"', '"type": "collection"} {'),  # text after the document
    ],
)
def test_the_text_is_read_as_its_decoded_json_is(change: tuple[str, str]) -> None:
    data = _text_variant(change)
    try:
        decoded = json.loads(data.decode("utf-8"))
    except ValueError:  # JSONDecodeError and UnicodeDecodeError: never the twin's
        assert fhirtwin.validate_json(data) is None
    else:
        assert fhirtwin.validate_json(data) == fhirtwin.validate(decoded)
    # The reader from the text, and fhir.resources on the decoded JSON: one outcome.
    before = _outcome(lambda d: fhir.extract(fhir._read_refused(d, "b.json"), "b.json"), data)
    assert _outcome(lambda d: fhir.read(d, "b.json"), data) == before


def test_a_refused_bundle_is_still_read_by_fhir_resources() -> None:
    raw = _bundles()["sample"]
    raw["entry"][0]["resource"]["_birthDate"] = {
        "extension": [{"url": "http://example.org/precision", "valueCode": "month"}]
    }
    assert fhirtwin.validate(raw) is None
    extracted = fhir.read(json.dumps(raw).encode(), "b.json")
    assert extracted == fhir.extract(Bundle.model_validate(raw), "b.json")


def test_an_invalid_bundle_is_named_by_fhir_resources() -> None:
    raw = _bundles()["sample"]
    raw["entry"][1]["resource"]["status"] = "not a code "
    with pytest.raises(IngestError, match=r"b.json Bundle\.entry\.1\.resource.*status"):
        fhir.read(json.dumps(raw).encode(), "b.json")


@pytest.mark.parametrize(
    ("kind", "said"), [(None, "null"), ("Foo", '"Foo"'), (7, "7"), ("Element", '"Element"')]
)
def test_an_entry_of_no_resource_type_is_named(kind: Json, said: str) -> None:
    raw = _bundles()["sample"]
    raw["entry"][2]["resource"]["resourceType"] = kind
    with pytest.raises(IngestError) as e:
        fhir.read(json.dumps(raw).encode(), "b.json")
    assert e.value.location == "b.json Bundle.entry.2.resource.resourceType"
    assert e.value.message == f"{said} is not a FHIR R4 resource type"


def test_a_contained_resource_of_no_resource_type_is_refused() -> None:
    raw = _bundles()["sample"]
    raw["entry"][0]["resource"]["contained"] = [{"resourceType": "Foo"}]
    with pytest.raises(IngestError, match=r"b\.json Bundle: a resourceType names no FHIR R4"):
        fhir.read(json.dumps(raw).encode(), "b.json")


def test_only_classes_that_validate_as_every_element_does_are_twinned() -> None:
    assert fhirtwin._only_base_behaviour(Patient)
    # It checks that an extension or a comment is present: a validator of its own.
    assert not fhirtwin._only_base_behaviour(FHIRPrimitiveExtension)

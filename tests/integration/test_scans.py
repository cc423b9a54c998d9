"""Scanned sheets, PDFs and free-text notes through POST /v1/records: the same pipeline as
structured input (grading, protection, one transaction, ledger), against the real Neo4j and real
OCR; low-confidence values are flagged in the receipt."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from ingest.synthetic.sheets import corrected_reading
from kgservice.graph.database import Graph
from tests import REPO_ROOT
from tests.integration.conftest import bearer
from tests.integration.test_records import count

pytestmark = pytest.mark.anyio
SHEETS = REPO_ROOT / "samples" / "sheets"
TRUTH = json.loads((SHEETS / "sheet-01-truth.json").read_text("utf-8"))["sheet"]


async def post(
    client: httpx.AsyncClient, key: str, body: bytes, media: str, name: str
) -> httpx.Response:
    headers = {**bearer(key), "Content-Type": media, "X-Source-Name": name}
    return await client.post("/v1/records", content=body, headers=headers)


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("sheet-01-handwritten.png", "image/png"),
        ("sheet-01-printed.pdf", "application/pdf"),
        ("sheet-01-note.txt", "text/plain; charset=utf-8"),
    ],
)
async def test_scans_and_notes_are_graded_protected_and_stored(
    client: httpx.AsyncClient, keys: dict[str, str], name: str, media: str
) -> None:
    clinic = keys["clinic-b records"]
    r = await post(client, clinic, (SHEETS / name).read_bytes(), media, name)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["reader"].startswith("note/zh" if name.endswith(".txt") else "scan/ocr")
    (record,) = receipt["records"]
    tags = {f["kind"]: f for f in record["fields"]}
    assert tags["ResidentId"]["tier"] == "CorePrivacy"
    assert tags["ResidentId"]["level"] == 4
    assert tags["FastingGlucose"]["category"] == "HealthStatus"
    # The identity is stored as a pseudonym and ciphertext; its own institution reads it back.
    stored = await client.get(f"/v1/records/{record['id']}", headers=bearer(clinic))
    fields = {f["kind"]: f for f in stored.json()["fields"]}
    assert fields["ResidentId"]["protected"] is True
    assert fields["ResidentId"]["value"] == TRUTH["resident_id"]
    assert fields["PersonName"]["value"] == TRUTH["name"]
    where = fields["ResidentId"]["location"]
    assert where.startswith("characters " if name.endswith(".txt") else "page 1, row ")
    other = await client.get(
        f"/v1/records/{record['id']}", headers=bearer(keys["alliance analyst"])
    )
    assert TRUTH["resident_id"] not in other.text


async def test_a_low_confidence_value_is_accepted_but_flagged(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    image = corrected_reading()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    r = await post(client, keys["clinic-b records"], buffer.getvalue(), "image/png", "fix.png")
    assert r.status_code == 201, r.text
    receipt = r.json()
    flagged = [f for f in receipt["records"][0]["fields"] if f["flagged"]]
    assert [f["kind"] for f in flagged] == ["FastingGlucose"]
    assert any(w["rule"] == "R-LOW-CONFIDENCE" for w in receipt["warnings"])
    assert receipt["contribution"]["flagged"] == 1


async def test_unreadable_scans_write_nothing(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    clinic = keys["clinic-b records"]
    bad = await post(client, clinic, b"%PDF-1.7 broken", "application/pdf", "bad.pdf")
    assert bad.status_code == 400
    assert "bad.pdf" in bad.json()["detail"]
    blank = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(blank, format="PNG")
    empty = await post(client, clinic, blank.getvalue(), "image/png", "blank.png")
    assert empty.status_code == 400
    assert "no text" in empty.json()["detail"]
    latin1 = await post(client, clinic, "患者".encode("gb18030"), "text/plain", "n.txt")
    assert latin1.status_code == 400
    assert "not UTF-8" in latin1.json()["detail"]
    assert await count(graph, "Record") == 0

"""The diabetes-alliance demo: the seed's medical alliance (医联体) as institutions, principals
and records.

One tertiary hospital (A) and two community health centres (B, with rare-complication follow-up
records; C, with routine vital signs) — the three players of the seed's §4.4 example — plus one
principal per role, and each institution's data submitted through the real ingest path (the
synthetic files in ``samples/``). Idempotent: running it again keeps what exists, the keys that
still work, and resubmitting a file returns its original receipt.

The package (seeding, ``scenario``, ``report`` and `shield demo` in ``cli``) is development
tooling: it runs from the source checkout, whose ``samples/`` it submits, and the wheel leaves it
out (pyproject.toml).
"""

from __future__ import annotations

import json
import random
import secrets
from pathlib import Path

from neo4j import AsyncManagedTransaction

from ingest.pipeline import Pipeline
from ingest.synthetic.samples import follow_up_cohort, json_document
from kgservice.auth import service as principals
from kgservice.auth.roles import Role
from kgservice.auth.schemas import PrincipalIn
from kgservice.grants import repository as grants_repo
from kgservice.grants.schemas import ALLIANCE
from kgservice.graph.database import Graph
from kgservice.institutions import repository as institutions_repo
from kgservice.institutions import service as institutions
from kgservice.institutions.schemas import InstitutionIn, Tier
from kgservice.ledger.canonical import Event, utc_now
from kgservice.ledger.service import Ledger
from kgservice.records import service as records
from kgservice.records import storage
from kgservice.records.protection import Protector
from kgservice.records.schemas import SubmissionReceipt
from kgservice.settlements import repository as settlements_repo
from kgservice.settlements import service as settlements
from kgservice.settlements.schemas import CatalogueItemIn

# The checkout's sample files (the demo is not installed with the wheel, so it runs from there).
SAMPLES = Path(__file__).resolve().parents[2] / "samples"

CATALOGUE = (
    CatalogueItemIn(
        id="consult-hosp-a",
        name_zh="星河市第一人民医院专家会诊配额",
        name_en="Specialist consultation at hospital A",
        provider="hosp-a",
        unit="consultation",
        price=100,
    ),
    CatalogueItemIn(
        id="ai-diagnosis-month",
        name_zh="AI辅助诊断工具使用权（一个月）",
        name_en="AI-assisted diagnosis tool, one month",
        provider=None,
        unit="month",
        price=150,
    ),
    CatalogueItemIn(
        id="fundus-screening",
        name_zh="眼底筛查转诊名额",
        name_en="Fundus screening referral slot",
        provider="hosp-a",
        unit="referral",
        price=40,
    ),
)

INSTITUTIONS = (
    InstitutionIn(
        id="hosp-a", name="星河市第一人民医院 (tertiary hospital A)", tier=Tier.tertiary_hospital
    ),
    InstitutionIn(
        id="clinic-b",
        name="东湖社区卫生服务中心 (community health centre B)",
        tier=Tier.community_health_centre,
    ),
    InstitutionIn(
        id="clinic-c",
        name="西岭社区卫生服务中心 (community health centre C)",
        tier=Tier.community_health_centre,
    ),
)

PRINCIPALS = (
    PrincipalIn(name="demo admin", role=Role.admin),
    PrincipalIn(name="hosp-a EHR", role=Role.institution_system, institution="hosp-a"),
    PrincipalIn(name="clinic-b records", role=Role.institution_system, institution="clinic-b"),
    PrincipalIn(name="clinic-c records", role=Role.institution_system, institution="clinic-c"),
    PrincipalIn(name="hosp-a endocrinologist", role=Role.requester, institution="hosp-a"),
    PrincipalIn(name="alliance data steward", role=Role.steward),
    PrincipalIn(name="review committee member", role=Role.reviewer),
    PrincipalIn(name="alliance analyst", role=Role.analyst),
    PrincipalIn(name="external auditor", role=Role.auditor),
    PrincipalIn(name="alliance operator", role=Role.operator),
)


async def seed(graph: Graph, ledger: Ledger, actor: str, known: dict[str, str]) -> dict[str, str]:
    """Create what is missing; return principal name → API key, reusing ``known`` keys that
    still authenticate."""
    for institution in INSTITUTIONS:
        if await graph.read(institutions_repo.get, institution.id) is None:
            await graph.write(institutions.register, ledger, actor, institution)
    keys: dict[str, str] = {}
    for spec in PRINCIPALS:
        old = known.get(spec.name)
        if old is not None and await graph.read(principals.authenticate, old) is not None:
            keys[spec.name] = old
            continue
        _, key, _ = await graph.write(principals.create_principal, ledger, actor, spec)
        keys[spec.name] = key
    return keys


def demo_files() -> dict[str, list[tuple[str, str, bytes]]]:
    """Institution system name → (file name, format, bytes) it submits."""
    # Clinic B's follow-up sheets include the rare complication of the seed's §4.5 story.
    rng = random.Random(7)  # noqa: S311 - synthetic demo data
    # B follows patients with complications (few records, many complications); A's general
    # population has few; C keeps routine vital signs. Complications follow HbA1c and blood
    # pressure, so the complication-risk model of the scenario has something to learn.
    clinic_b = json.dumps(follow_up_cohort(rng, 20, 1.0, sicker=2.0), ensure_ascii=False).encode()
    hosp_a = json.dumps(follow_up_cohort(rng, 200, 0.5), ensure_ascii=False).encode()
    clinic_c = json.dumps(json_document(rng, 10), ensure_ascii=False).encode()
    return {
        "hosp-a EHR": [
            ("bundle.fhir.json", "fhir", (SAMPLES / "bundle.fhir.json").read_bytes()),
            ("records.json", "json", (SAMPLES / "records.json").read_bytes()),
            ("ehr-export.json", "json", hosp_a),
        ],
        # B also keeps handwritten follow-up sheets and free-text notes (read by OCR and NLP).
        "clinic-b records": [
            ("follow-up.json", "json", clinic_b),
            ("sinocare.csv", "csv", (SAMPLES / "sinocare.csv").read_bytes()),
            (
                "sheet-01-handwritten.png",
                "png",
                (SAMPLES / "sheets" / "sheet-01-handwritten.png").read_bytes(),
            ),
            ("sheet-01-note.txt", "text", (SAMPLES / "sheets" / "sheet-01-note.txt").read_bytes()),
        ],
        "clinic-c records": [
            ("vital-signs.json", "json", clinic_c),
            ("accuchek.csv", "csv", (SAMPLES / "accuchek.csv").read_bytes()),
            ("yuwell.xlsx", "xlsx", (SAMPLES / "yuwell.xlsx").read_bytes()),
        ],
    }


async def seed_records(
    graph: Graph, ledger: Ledger, protector: Protector, pipeline: Pipeline, keys: dict[str, str]
) -> list[SubmissionReceipt]:
    """Each institution submits its files, as its own institution system."""
    receipts = []
    for system, files in demo_files().items():
        principal = await graph.read(principals.authenticate, keys[system])
        if principal is None or principal.institution is None:
            raise LookupError(f"demo principal '{system}' is missing")
        for name, fmt, data in files:
            checked = pipeline.check(data, fmt, name, principal.institution)
            prepared = storage.prepare(protector, checked, principal.institution, utc_now())
            if prepared.violations:
                raise records.RejectedRecords(prepared.violations)
            receipt = await graph.write(
                records.submit,
                ledger,
                principal,
                principal.institution,
                prepared,
                fmt,
                name,
                len(data),
            )
            receipts.append(receipt.parsed())
    return receipts


async def seed_rewards(graph: Graph, ledger: Ledger, keys: dict[str, str]) -> None:
    """The operator's catalogue, and each institution's use right for federated training granted
    to the alliance (so a training job passes RL-USE-GRANT). Idempotent."""
    operator = await graph.read(principals.authenticate, keys["alliance operator"])
    if operator is None:
        raise LookupError("demo principal 'alliance operator' is missing")
    for item in CATALOGUE:
        if await graph.read(settlements_repo.get_item, item.id) is None:
            await graph.write(settlements.add_item, ledger, operator, item)
    for institution in INSTITUTIONS:
        await graph.write(_training_grant, ledger, institution.id)


async def _training_grant(tx: AsyncManagedTransaction, ledger: Ledger, holder: str) -> None:
    existing = await grants_repo.list_for(tx, holder)
    if any(
        g["right"] == "use"
        and g["grantee"] == ALLIANCE
        and g["holder"] == holder
        and "model_training" in g["purposes"]
        and g.get("revoked") is None
        for g in existing
    ):
        return
    now = utc_now()
    row = await grants_repo.create(
        tx,
        id="grt_" + secrets.token_hex(8),
        right="use",
        holder=holder,
        grantee=ALLIANCE,
        purposes=["model_training"],
        categories=["health_status"],
        max_level=3,
        product=None,
        valid_from=now,
        valid_until=None,
        granted_by=f"demo:{holder}",
        created=now,
    )
    if row is not None:
        await ledger.append(tx, [Event("grant.made", f"demo:{holder}", row, institution=holder)])

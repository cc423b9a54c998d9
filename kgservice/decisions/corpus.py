"""A regression corpus of generated decision requests with the verdicts pySHACL gives them.

The fast path must give the same verdict and the same broken rules on every request
(tests/unit/test_decision_corpus.py). Regenerate after a deliberate rule change: in the
checkout, ``python -m kgservice.decisions.corpus`` rewrites ``shapes/decision_corpus.json``.
"""

from __future__ import annotations

import json
import random
import re
import sys
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ingest.grading import SHAPES_DIR, Engine, Finding
from kgservice.decisions.rules import Facts, RedLines, verdict
from kgservice.decisions.schemas import DecisionIn
from kgservice.vocab import Category, LegalBasis, Purpose

CORPUS_FILE = SHAPES_DIR / "decision_corpus.json"
IRI = "https://w3id.org/health-shield/id/decision/corpus"
DRUGS = (
    "metformin",
    "二甲双胍",
    "dapagliflozin",
    "glimepiride",
    "sitagliptin",
    "insulin glargine",
    "aspirin",
)
DIAGNOSES = ("E11.9", "E11.2", "E10.9", "I50.9", "N18.3", "L13.8")
INSTITUTIONS = ("hosp-a", "clinic-b", "clinic-c", None)
COVERAGE = ("AllPatients", "SomePatients", "NoPatients")


def generate(n: int, seed: int = 20261129) -> list[dict[str, Any]]:
    """``n`` varied requests with their facts (JSON-ready)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    out = []
    for _ in range(n):
        facts = {
            "requester": rng.choice(INSTITUTIONS),
            "consent": rng.choice(COVERAGE),
            "separate_consent": rng.choice(COVERAGE),
            "use_granted": rng.random() < 0.5,
            "operation_granted": rng.random() < 0.3,
        }
        if rng.random() < 0.2:
            request: dict[str, Any] = {
                "kind": "prescription",
                "holder": "hosp-a",
                "prescription": {
                    "drug": rng.choice(DRUGS),
                    "daily_dose_mg": rng.choice((5, 10, 100, 1000, 3000)),
                    "diagnosis": rng.choice(DIAGNOSES),
                    "egfr": rng.choice((None, 15, 24, 29, 30, 45, 90)),
                },
            }
        else:
            kind = rng.choice(("access", "export", "share", "training"))
            request = {
                "kind": kind,
                "holder": rng.choice(INSTITUTIONS[:3]),
                "purpose": rng.choice([*(p.value for p in Purpose), None]),
                "legal_basis": rng.choice([*(b.value for b in LegalBasis), None]),
                "recipient": rng.choice(("uni-lab", "hosp-a", None))
                if kind in ("export", "share")
                else None,
                "categories": rng.sample([c.value for c in Category], rng.randint(1, 3)),
                "max_level": rng.randint(1, 5),
                "deidentified": rng.random() < 0.3,
                "product": "model-1" if rng.random() < 0.2 else None,
            }
            if rng.random() < 0.15:
                request["emergency"] = {"justification": "急诊抢救需要调阅既往记录"}
        out.append({"request": request, "facts": facts})
    return out


def facts_of(raw: dict[str, Any]) -> Facts:
    return Facts(
        raw["requester"],
        raw["consent"],
        raw["separate_consent"],
        [],
        [],
        raw["use_granted"],
        raw["operation_granted"],
    )


def judge(redlines: RedLines, item: dict[str, Any]) -> dict[str, Any]:
    request = DecisionIn.model_validate(item["request"])
    findings = redlines.check(request, facts_of(item["facts"]), IRI)
    return {"verdict": verdict(findings).value, "rules": sorted({f.rule.id for f in findings})}


def _key(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.rule.id, f.focus, f.value or "") for f in findings)


def batches_like_singles(redlines: RedLines, n: int = 96, size: int = 32) -> bool:
    """Whether judging requests together gives each exactly the findings it gets alone, on
    ``n`` generated requests in batches of ``size``.

    True when every rule is about one request and the shared context, as the shipped red lines
    are. A rule that looks across requests (counting how many use a purpose, say) would see
    the others in a batch: then each request must be judged alone (``RedLines.batchable``)."""
    asks = [
        (DecisionIn.model_validate(item["request"]), facts_of(item["facts"]), f"{IRI}/{k}")
        for k, item in enumerate(generate(n, seed=7))
    ]
    for start in range(0, n, size):
        part = asks[start : start + size]
        data = redlines.context + "".join(redlines.data(*ask) for ask in part)
        together = redlines.engine.check(data)
        if {f.focus for f in together} - {iri for _, _, iri in part}:
            return False  # findings about something other than the requests themselves
        for request, facts, iri in part:
            mine = [f for f in together if f.focus == iri]
            if _key(mine) != _key(redlines.alone(request, facts, iri)):
                return False
    return True


# SPARQL functions whose value changes from one evaluation to the next: a rule using one may
# judge the same request graph differently each time. Matched anywhere in the rule text (a
# comment mentioning one also turns remembering off, which is only slower).
_UNREPEATABLE = re.compile(r"\b(NOW|RAND|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)


def findings_repeat(redlines: RedLines, n: int = 96) -> bool:
    """Whether the engine gives a request graph the same findings under any IRI, so that they
    may be remembered (``RedLines.repeatable``): no function above in the rules, and on ``n``
    generated requests, judged under two IRIs, the findings match once each IRI is renamed.

    True for the shipped red lines; a rule that reads its focus node's IRI, or a clock, would
    make each request be judged afresh."""
    if _UNREPEATABLE.search(redlines.rules_text):
        return False
    for k, item in enumerate(generate(n, seed=11)):
        request, facts = DecisionIn.model_validate(item["request"]), facts_of(item["facts"])
        first, second = f"{IRI}/first/{k}", f"{IRI}/second/{k}"
        a = _key(redlines.alone(request, facts, first))
        b = _key(redlines.alone(request, facts, second))
        if [(rule, _same(focus, first), _same(value, first)) for rule, focus, value in a] != [
            (rule, _same(focus, second), _same(value, second)) for rule, focus, value in b
        ]:
            return False
    return True


def _same(term: str, iri: str) -> str:
    return term.replace(iri, "(the request)")


def write(path: Path, n: int = 250) -> int:
    reference = RedLines(engine=Engine.pyshacl)
    items = [{**item, "expected": judge(reference, item)} for item in generate(n)]
    path.write_text(json.dumps(items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(items)


def load(path: Traversable = CORPUS_FILE) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return data


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("shapes", CORPUS_FILE.name)
    print(f"wrote {write(target)} requests")

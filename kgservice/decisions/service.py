"""Judging decision requests: from the facts looked up for a batch of requests to each one's
answer, decision node, review item and ledger events, with reasons that cite the rule and the
law. No I/O: the decision engine (kgservice/decisions/engine.py) looks the facts up, calls
``judge_batch`` and records what it returns.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from ingest.grading import Finding
from kgservice.auth.models import Principal
from kgservice.decisions import repository as repo
from kgservice.decisions.rules import OBLIGATIONS, Facts, RedLines, obligations, user_of, verdict
from kgservice.decisions.schemas import DecisionIn, DecisionOut, Kind, Reason, Verdict
from kgservice.errors import NotAuthenticated, ShieldError, Unprocessable
from kgservice.ledger.canonical import Event, payload_digest
from kgservice.ledger.repository import Write
from kgservice.ledger.schemas import ReceiptOut
from kgservice.ledger.service import Receipt
from kgservice.reviews import service as reviews

ID_BASE = "https://w3id.org/health-shield/id/decision/"


def _coverage(covered: int, total: int) -> str:
    if total and covered == total:
        return "AllPatients"
    return "SomePatients" if covered else "NoPatients"


Decided = DecisionOut | ShieldError  # the answer, or the error refusing the request
LookedUp = tuple[ShieldError | None, Facts]  # per request: why it is refused (or None), facts


@dataclass(frozen=True, slots=True)
class Ask:
    """One decision request and who asked."""

    principal: Principal
    request: DecisionIn


def lookup_params(ask: Ask) -> dict[str, object]:
    """What the decision lookup (``repository.LOOKUP``) needs of a request; also the key its
    facts are remembered under."""
    request = ask.request
    purpose = request.purpose.value if request.purpose is not None else None
    # Consent matters only for a stated purpose; prescriptions are judged on their facts.
    consent_applies = purpose is not None and request.kind is not Kind.prescription
    return {
        "principal": ask.principal.id,
        "holder": request.holder,
        "patients": sorted(set(request.patients)) if consent_applies else [],
        "purpose": purpose if request.kind is not Kind.prescription else None,
        "categories": [c.value for c in request.categories],
        "level": request.max_level,
        "grantee": user_of(request, ask.principal.institution),
        "product": request.product,
    }


def _facts(ask: Ask, found: dict[str, Any]) -> Facts:
    institution = ask.principal.institution
    if ask.request.kind is Kind.prescription:
        return Facts(institution, "NoPatients", "NoPatients", [], [])
    rows = found["coverage"]
    unconsented = [r["patient"] for r in rows if not r["consented"]]
    unseparated = [r["patient"] for r in rows if not r["separately"]]
    total = len(rows)
    return Facts(
        institution,
        _coverage(total - len(unconsented), total),
        _coverage(total - len(unseparated), total),
        unconsented,
        unseparated,
        found["use"],
        found["operation"],
    )


def _refusal(ask: Ask, row: dict[str, Any]) -> ShieldError | None:
    """Why a request is refused before it is judged (nothing of it is written), or None."""
    if not row["principal_active"]:
        # Revoked since its key was last seen (kgservice/auth/seen.py): as authentication says.
        return NotAuthenticated("the API key is not valid or was revoked")
    if not row["known"]:
        return Unprocessable(f"holder '{ask.request.holder}' is not a registered institution")
    return None


def from_lookup(asks: list[Ask], rows: list[dict[str, Any]]) -> list[LookedUp]:
    """Per request, from its row of the decision lookup: why it is refused before it is judged
    (or None) and the facts it is judged on."""
    return [(_refusal(ask, row), _facts(ask, row)) for ask, row in zip(asks, rows, strict=True)]


def _offending(f: Finding, request: DecisionIn, facts: Facts) -> list[str]:
    rule = f.rule.id
    if rule == "RL-CONSENT-VALID":
        return facts.unconsented or ["no patient named"]
    if rule == "RL-THIRD-PARTY-CONSENT":
        return facts.unseparated or ["no patient named"]
    if rule == "RL-CORE-EGRESS":
        return [f"max_level {request.max_level}"]
    if rule == "RL-PURPOSE":
        return ["purpose"]
    if rule in ("RL-LEGAL-BASIS", "RL-EMERGENCY-REVIEW"):
        return ["legal_basis"]
    if rule == "RL-USE-GRANT":
        return [f"use by {user_of(request, facts.requester_institution)}"]
    if rule == "RL-OPERATION-GRANT":
        return [f"product {request.product or '(none named)'}"]
    rx = request.prescription
    if rx is not None and rule == "RX-MAX-DOSE":
        return [f"daily_dose_mg {rx.daily_dose_mg}"]
    if rx is not None and rule == "RX-CONTRAINDICATION-EGFR":
        return [f"egfr {rx.egfr}"]
    if rx is not None and rule in ("RX-OFF-LABEL", "RX-KNOWN-DRUG"):
        return [f"diagnosis {rx.diagnosis}" if rule == "RX-OFF-LABEL" else f"drug {rx.drug}"]
    return [f.value.rsplit("#", 1)[-1]] if f.value else []


def reasons(findings: list[Finding], request: DecisionIn, facts: Facts) -> list[Reason]:
    return [
        Reason(
            rule=f.rule.id,
            severity=f.rule.severity,
            message_zh=f.rule.message_zh,
            message_en=f.rule.message_en,
            article=f.rule.article,
            offending=_offending(f, request, facts),
        )
        # By rule, then value: a rule broken twice lists its values in one order however
        # the engine ordered them (alone or in a batch).
        for f in sorted(findings, key=lambda x: (x.rule.id, x.value or ""))
    ]


def break_glass(request: DecisionIn, findings: list[Finding]) -> bool:
    """An emergency request overrides only rules marked ``hs:breakGlass`` (consent), and only
    when nothing else stands in its way (PIPL Art. 13(4)); core-private egress never yields."""
    violations = [f for f in findings if f.rule.severity == "Violation"]
    return (
        request.emergency is not None
        and bool(violations)
        and all(f.rule.break_glass for f in violations)
    )


@dataclass(slots=True)
class _Judged:
    """A decision made but not yet stored: its node, review item and ledger events."""

    answer: dict[str, Any]  # the DecisionOut fields but its ledger receipt
    row: dict[str, Any]
    review: dict[str, object] | None
    events: list[Event]


def _judge(
    ask: Ask, facts: Facts, findings: list[Finding], rule_set: str, decision_id: str, now: str
) -> _Judged:
    request, principal = ask.request, ask.principal
    why = reasons(findings, request, facts)
    rules = [r.rule for r in why]
    override = break_glass(request, findings)
    v = Verdict.permit if override else verdict(findings)
    if request.emergency is not None and v is Verdict.review:
        v = Verdict.permit  # break-glass permits at once; the committee reviews afterwards
    needs_review = override or v is Verdict.review or request.emergency is not None
    review_id = reviews.new_id() if needs_review and v is not Verdict.deny else None
    events = [
        Event(
            "decision.made",
            principal.id,
            {
                "id": decision_id,
                "kind": request.kind.value,
                "verdict": v.value,
                "rules": rules,
                "override": override,
                "rule_set": rule_set,
                "request_digest": payload_digest(request.model_dump(mode="json")),
            },
            institution=request.holder,
        )
    ]
    if request.emergency is not None and v is Verdict.permit:
        # Who, when (the entry's time), why (digest: the text may name the patient; it is kept
        # on the decision node for the committee) and what was seen.
        events.append(
            Event(
                "decision.override",
                principal.id,
                {
                    "decision": decision_id,
                    "overridden": rules,
                    "justification_digest": payload_digest(
                        {"text": request.emergency.justification}
                    ),
                    "patients": sorted(set(request.patients)),
                    "categories": [c.value for c in request.categories],
                    "max_level": request.max_level,
                },
                institution=request.holder,
            )
        )
    review_kind = "override" if request.emergency is not None else "review"
    review = None
    if review_id is not None:
        events.append(
            reviews.opened_event(review_id, decision_id, review_kind, principal.id, request.holder)
        )
        review = reviews.opened_row(
            review_id, decision_id, review_kind, request.holder, principal.id, rules, now
        )
    row = {
        "id": decision_id,
        "kind": request.kind.value,
        "holder": request.holder,
        "requester": principal.id,
        "user": user_of(request, principal.institution),
        "verdict": v.value,
        "override": override,
        "rules": rules,
        "rule_set": rule_set,
        "request": request.model_dump_json(),
        "facts": json.dumps(asdict(facts), ensure_ascii=False),
        "justification": request.emergency.justification if request.emergency else None,
        "decided": now,
    }
    duties = obligations(request, v)
    if review_id is not None and OBLIGATIONS["review"] not in duties:
        duties.append(OBLIGATIONS["review"])
    answer = {
        "id": decision_id,
        "verdict": v,
        "obligations": duties,
        "reasons": why,
        "rule_set": rule_set,
        "override": override,
        "review": review_id,
        "decided": now,
    }
    return _Judged(answer, row, review, events)


@dataclass(frozen=True, slots=True)
class Batch:
    """Requests judged together, not yet stored."""

    looked_up: list[LookedUp]
    judged: list[_Judged]  # the requests not refused, in order

    @property
    def events(self) -> list[Event]:
        return [e for j in self.judged for e in j.events]

    @property
    def writes(self) -> list[Write]:
        """The decisions and any review items, made in the ledger append's statement once it
        holds the head's lock. Linking a decision to its holder locks the holder's node, so two
        batches in flight never hold such locks at once. (Another writer that locks an
        institution before appending may deadlock with a batch; the server then fails one of
        the two, and either is written again: the driver retries a transaction, a failed
        ``Ledger.append_autocommit`` leaves the batch to one.)"""
        rows = [j.row for j in self.judged]
        opened = [j.review for j in self.judged if j.review is not None]
        return [(repo.CREATE_MANY, {"rows": rows})] + ([reviews.opening(opened)] if opened else [])

    def outcomes(self, receipts: list[Receipt]) -> list[Decided]:
        """Per request: its answer with its receipt, or its refusal."""
        answers: list[DecisionOut] = []
        first = 0
        for j in self.judged:
            # A decision's receipt is that of its first entry ("decision.made").
            answers.append(DecisionOut(**j.answer, ledger=ReceiptOut.of(receipts[first])))
            first += len(j.events)
        decided = iter(answers)
        return [next(decided) if refused is None else refused for refused, _ in self.looked_up]


def judge_batch(redlines: RedLines, asks: list[Ask], looked_up: list[LookedUp], now: str) -> Batch:
    """Judge the requests not refused by their lookup with ``redlines`` (one run for all, when
    the rule set allows), each as if it had come alone, at ``now``."""
    valid = [
        (ask, facts, "dec_" + secrets.token_hex(8))
        for ask, (refused, facts) in zip(asks, looked_up, strict=True)
        if refused is None
    ]
    findings = redlines.check_many(
        [(ask.request, facts, ID_BASE + decision_id) for ask, facts, decision_id in valid]
    )
    return Batch(
        looked_up,
        [
            _judge(ask, facts, found, redlines.rule_set, decision_id, now)
            for (ask, facts, decision_id), found in zip(valid, findings, strict=True)
        ],
    )

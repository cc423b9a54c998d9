"""Deciding a request: look up the facts, check the red lines, record the decision and its ledger
entry in one transaction, answer with reasons that cite the rule and the law."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict

from neo4j import AsyncManagedTransaction

from ingest.grading import Finding
from kgservice.auth.models import Principal
from kgservice.decisions import repository as repo
from kgservice.decisions.rules import OBLIGATIONS, Facts, obligations, user_of, verdict
from kgservice.decisions.schemas import DecisionIn, DecisionOut, Kind, Reason, Verdict
from kgservice.errors import Unprocessable
from kgservice.ledger.canonical import Event, payload_digest, utc_now
from kgservice.ledger.schemas import ReceiptOut
from kgservice.ledger.service import Ledger
from kgservice.reviews import service as reviews
from kgservice.rulesets.service import RuleSetCache

ID_BASE = "https://w3id.org/health-shield/id/decision/"


def _coverage(covered: int, total: int) -> str:
    if total and covered == total:
        return "AllPatients"
    return "SomePatients" if covered else "NoPatients"


async def lookup(
    tx: AsyncManagedTransaction, request: DecisionIn, principal: Principal, now: str
) -> tuple[bool, str | None, Facts]:
    """Whether the holder is registered, the active rule-set hash, and the facts: one query."""
    purpose = request.purpose.value if request.purpose is not None else None
    grantee = user_of(request, principal.institution)
    found = await repo.lookup(
        tx, holder=request.holder,
        # Consent matters only for a stated purpose; prescriptions are judged on their facts.
        patients=sorted(set(request.patients))
        if purpose is not None and request.kind is not Kind.prescription else [],
        purpose=purpose if request.kind is not Kind.prescription else None,
        categories=[c.value for c in request.categories], level=request.max_level,
        grantee=grantee, product=request.product, now=now,
    )  # fmt: skip
    if request.kind is Kind.prescription:
        facts = Facts(principal.institution, "NoPatients", "NoPatients", [], [])
        return found["known"], found["active"], facts
    rows = found["coverage"]
    unconsented = [r["patient"] for r in rows if not r["consented"]]
    unseparated = [r["patient"] for r in rows if not r["separately"]]
    total = len(rows)
    facts = Facts(principal.institution, _coverage(total - len(unconsented), total),
                  _coverage(total - len(unseparated), total), unconsented, unseparated,
                  found["use"], found["operation"])  # fmt: skip
    return found["known"], found["active"], facts


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
    return [Reason(rule=f.rule.id, severity=f.rule.severity, message_zh=f.rule.message_zh,
                   message_en=f.rule.message_en, article=f.rule.article,
                   offending=_offending(f, request, facts))
            for f in sorted(findings, key=lambda x: x.rule.id)]  # fmt: skip


def break_glass(request: DecisionIn, findings: list[Finding]) -> bool:
    """An emergency request overrides only rules marked ``hs:breakGlass`` (consent), and only
    when nothing else stands in its way (PIPL Art. 13(4)); core-private egress never yields."""
    violations = [f for f in findings if f.rule.severity == "Violation"]
    return (
        request.emergency is not None
        and bool(violations)
        and all(f.rule.break_glass for f in violations)
    )


async def decide(
    tx: AsyncManagedTransaction, ledger: Ledger, rulesets: RuleSetCache, principal: Principal,
    request: DecisionIn,
) -> DecisionOut:  # fmt: skip
    now = utc_now()
    known, active, facts = await lookup(tx, request, principal, now)
    if not known:
        raise Unprocessable(f"holder '{request.holder}' is not a registered institution")
    redlines = await rulesets.resolve(tx, active)
    decision_id = "dec_" + secrets.token_hex(8)
    findings = redlines.check(request, facts, ID_BASE + decision_id)
    why = reasons(findings, request, facts)
    rules = [r.rule for r in why]
    override = break_glass(request, findings)
    v = Verdict.permit if override else verdict(findings)
    if request.emergency is not None and v is Verdict.review:
        v = Verdict.permit  # break-glass permits at once; the committee reviews afterwards
    needs_review = override or v is Verdict.review or request.emergency is not None
    review_id = reviews.new_id() if needs_review and v is not Verdict.deny else None
    request_json = request.model_dump(mode="json")
    events = [Event(
        "decision.made", principal.id,
        {"id": decision_id, "kind": request.kind.value, "verdict": v.value, "rules": rules,
         "override": override, "rule_set": redlines.rule_set,
         "request_digest": payload_digest(request_json)},
        institution=request.holder,
    )]  # fmt: skip
    if request.emergency is not None and v is Verdict.permit:
        # Who, when (the entry's time), why (digest: the text may name the patient; it is kept
        # on the decision node for the committee) and what was seen.
        events.append(Event(
            "decision.override", principal.id,
            {"decision": decision_id, "overridden": rules,
             "justification_digest": payload_digest({"text": request.emergency.justification}),
             "patients": sorted(set(request.patients)),
             "categories": [c.value for c in request.categories],
             "max_level": request.max_level},
            institution=request.holder,
        ))  # fmt: skip
    review_kind = "override" if request.emergency is not None else "review"
    if review_id is not None:
        events.append(reviews.opened_event(review_id, decision_id, review_kind, principal.id,
                                           request.holder))  # fmt: skip
    # Everything else first: the ledger append takes the head lock, held until commit, so it
    # comes last to keep the time every other writer waits as short as possible.
    await repo.create(tx, id=decision_id, kind=request.kind.value, holder=request.holder,
                      requester=principal.id, user=user_of(request, principal.institution),
                      verdict=v.value, override=override, rules=rules,
                      rule_set=redlines.rule_set, request=request.model_dump_json(),
                      facts=json.dumps(asdict(facts), ensure_ascii=False),
                      justification=request.emergency.justification if request.emergency else None,
                      decided=now)  # fmt: skip
    if review_id is not None:
        await reviews.create(tx, review_id, decision_id, review_kind, request.holder,
                             principal.id, rules)  # fmt: skip
    receipt = (await ledger.append(tx, events))[0]
    duties = obligations(request, v)
    if review_id is not None and OBLIGATIONS["review"] not in duties:
        duties.append(OBLIGATIONS["review"])
    return DecisionOut(id=decision_id, verdict=v, obligations=duties, reasons=why,
                       rule_set=redlines.rule_set, override=override, review=review_id,
                       decided=now, ledger=ReceiptOut.of(receipt))  # fmt: skip

"""Deciding a request: look up the facts, check the red lines, record the decision and its ledger
entry in one transaction, answer with reasons that cite the rule and the law."""

from __future__ import annotations

import secrets

from neo4j import AsyncManagedTransaction

from ingest.grading import Finding
from kgservice.auth.models import Principal
from kgservice.consents import repository as consents
from kgservice.decisions import repository as repo
from kgservice.decisions.rules import Facts, RedLines, obligations, user_of, verdict
from kgservice.decisions.schemas import DecisionIn, DecisionOut, Reason
from kgservice.errors import Unprocessable
from kgservice.grants import repository as grants
from kgservice.institutions import repository as institutions
from kgservice.ledger.canonical import Event, payload_digest, utc_now
from kgservice.ledger.schemas import ReceiptOut
from kgservice.ledger.service import Ledger

ID_BASE = "https://w3id.org/health-shield/id/decision/"


def _coverage(covered: int, total: int) -> str:
    if total and covered == total:
        return "AllPatients"
    return "SomePatients" if covered else "NoPatients"


async def facts_for(
    tx: AsyncManagedTransaction, request: DecisionIn, principal: Principal, now: str
) -> Facts:
    rows = []
    if request.patients and request.purpose is not None:
        rows = await consents.coverage(tx, sorted(set(request.patients)), request.holder,
                                       request.purpose.value,
                                       [c.value for c in request.categories], now)  # fmt: skip
    unconsented = [r["patient"] for r in rows if not r["consented"]]
    unseparated = [r["patient"] for r in rows if not r["separately"]]
    total = len(rows)
    use = operation = False
    if request.purpose is not None:
        scope = {"holder": request.holder, "purpose": request.purpose.value,
                 "categories": [c.value for c in request.categories], "level": request.max_level,
                 "now": now}  # fmt: skip
        use = await grants.covers(tx, right="use", product=None, **scope,
                                  grantee=user_of(request, principal.institution))  # fmt: skip
        if request.product is not None:
            operation = await grants.covers(tx, right="operation", product=request.product,
                                            grantee=user_of(request, principal.institution),
                                            **scope)  # fmt: skip
    return Facts(principal.institution, _coverage(total - len(unconsented), total),
                 _coverage(total - len(unseparated), total), unconsented, unseparated,
                 use, operation)  # fmt: skip


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
    return [f.value.rsplit("#", 1)[-1]] if f.value else []


def reasons(findings: list[Finding], request: DecisionIn, facts: Facts) -> list[Reason]:
    return [Reason(rule=f.rule.id, severity=f.rule.severity, message_zh=f.rule.message_zh,
                   message_en=f.rule.message_en, article=f.rule.article,
                   offending=_offending(f, request, facts))
            for f in sorted(findings, key=lambda x: x.rule.id)]  # fmt: skip


async def decide(
    tx: AsyncManagedTransaction, ledger: Ledger, redlines: RedLines, principal: Principal,
    request: DecisionIn,
) -> DecisionOut:  # fmt: skip
    if await institutions.get(tx, request.holder) is None:
        raise Unprocessable(f"holder '{request.holder}' is not a registered institution")
    decision_id = "dec_" + secrets.token_hex(8)
    now = utc_now()
    facts = await facts_for(tx, request, principal, now)
    findings = redlines.check(request, facts, ID_BASE + decision_id)
    v = verdict(findings)
    why = reasons(findings, request, facts)
    request_json = request.model_dump(mode="json")
    event = Event(
        "decision.made", principal.id,
        {"id": decision_id, "kind": request.kind.value, "verdict": v.value,
         "rules": [r.rule for r in why], "rule_set": redlines.rule_set,
         "request_digest": payload_digest(request_json)},
        institution=request.holder,
    )  # fmt: skip
    (receipt,) = await ledger.append(tx, [event])
    await repo.create(tx, id=decision_id, kind=request.kind.value, holder=request.holder,
                      requester=principal.id, verdict=v.value, rules=[r.rule for r in why],
                      rule_set=redlines.rule_set, request=request.model_dump_json(),
                      decided=now, ledger_seq=receipt.seq)  # fmt: skip
    return DecisionOut(id=decision_id, verdict=v, obligations=obligations(request, v),
                       reasons=why, rule_set=redlines.rule_set, decided=now,
                       ledger=ReceiptOut.of(receipt))  # fmt: skip

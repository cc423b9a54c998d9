"""The red-line engine: the rule files as data, prepared once, and how findings become verdicts.

The facts a request is judged on are N-Triples: the request itself, the purpose → categories
table, the legal bases, and the consent coverage the service looked up. The same ``Grader``
machinery that grades records runs the red lines (shifty, held to pySHACL by the tests).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from importlib.resources.abc import Traversable

from rdflib import RDF, RDFS, Graph

from ingest.grading import SHAPES_DIR, Engine, Finding, Grader
from ingest.rdf import HS, HS_NS
from kgservice.decisions.schemas import DecisionIn, Kind, Verdict
from kgservice.grants.schemas import ALLIANCE
from kgservice.vocab import BASIS_TERMS, CATEGORY_TERMS, PURPOSE_TERMS

RULE_FILES = ("redlines.ttl",)
# The IRI a request is judged under when its findings are remembered (``RedLines.repeatable``);
# random, so no request's own text can contain it.
ANY_REQUEST = f"urn:health-shield:decision-request:{secrets.token_hex(8)}"
CONTEXT_FILES = ("purposes.ttl", "formulary.ttl")
ONTOLOGY = files("ontology") / "health.ttl"
OBLIGATIONS = {
    "deidentify": "de-identify: remove direct identifiers before release (PIPL Art. 73(3))",
    "review": "committee review (PIPL Art. 13(4), Art. 24)",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the service looked up for a request (stored with the decision, so a new rule set
    can be replayed over past requests as they were judged)."""

    requester_institution: str | None
    consent: str  # "AllPatients", "SomePatients", "NoPatients"
    separate_consent: str
    unconsented: list[str]  # patients without a covering consent
    unseparated: list[str]  # patients without a covering separate consent
    use_granted: bool = False  # the user holds a use right covering the request
    operation_granted: bool = False  # an operation right covers the data product


Case = tuple[DecisionIn, Facts, str]  # a request, its facts, and the IRI it is judged under


def _lit(value: object) -> str:
    if isinstance(value, bool):
        return f'"{str(value).lower()}"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    return f'"{value}"^^<http://www.w3.org/2001/XMLSchema#integer>'


def is_egress(request: DecisionIn, requester_institution: str | None) -> bool:
    if request.kind is not Kind.access:
        return True
    return requester_institution != request.holder


def is_third_party(request: DecisionIn, requester_institution: str | None) -> bool:
    """Data given to a processor other than the holder (training keeps raw data home)."""
    if request.kind is Kind.training:
        return False
    receiver = request.recipient if request.kind is not Kind.access else requester_institution
    return receiver != request.holder


def user_of(request: DecisionIn, requester_institution: str | None) -> str:
    """Who would use the data: the recipient of an export or share, else the requester's
    institution (alliance-wide requesters, such as the training operator, act for the alliance)."""
    if request.kind in (Kind.export, Kind.share) and request.recipient:
        return request.recipient
    return requester_institution or ALLIANCE


def prescription_ntriples(request: DecisionIn, drugs: dict[str, str], iri: str) -> str:
    rx = request.prescription
    if rx is None:
        raise ValueError("not a prescription check")
    me, dec = f"<{iri}>", "<http://www.w3.org/2001/XMLSchema#decimal>"
    drug = drugs.get(rx.drug.strip().lower()) or f"urn:health-shield:unlisted-drug:{iri}"
    lines = [
        f"{me} <{RDF.type}> <{HS_NS}PrescriptionCheck> .",
        f"{me} <{HS_NS}drug> <{drug}> .",
        f'{me} <{HS_NS}diagnosis> "{rx.diagnosis}" .',
        f'{me} <{HS_NS}dailyDoseMg> "{rx.daily_dose_mg}"^^{dec} .',
    ]
    if rx.egfr is not None:
        lines.append(f'{me} <{HS_NS}patientEGFR> "{rx.egfr}"^^{dec} .')
    return "\n".join(lines) + "\n"


def request_ntriples(request: DecisionIn, facts: Facts, iri: str) -> str:
    me = f"<{iri}>"
    t = f"<{RDF.type}>"
    lines = [f"{me} {t} <{HS_NS}DecisionRequest> ."]
    if is_egress(request, facts.requester_institution):
        lines.append(f"{me} {t} <{HS_NS}EgressRequest> .")
    if is_third_party(request, facts.requester_institution):
        lines.append(f"{me} {t} <{HS_NS}ThirdPartyProvision> .")
    if user_of(request, facts.requester_institution) != request.holder:
        lines.append(f"{me} {t} <{HS_NS}ForeignUse> .")
    status = {True: "Granted", False: "NotGranted"}
    lines.append(f"{me} <{HS_NS}useGrant> <{HS_NS}{status[facts.use_granted]}> .")
    lines.append(f"{me} <{HS_NS}operationGrant> <{HS_NS}{status[facts.operation_granted]}> .")
    if request.purpose is not None:
        lines.append(f"{me} <{HS_NS}purpose> <{HS_NS}{PURPOSE_TERMS[request.purpose]}> .")
    if request.legal_basis is not None:
        lines.append(f"{me} <{HS_NS}legalBasis> <{HS_NS}{BASIS_TERMS[request.legal_basis]}> .")
    for c in request.categories:
        lines.append(f"{me} <{HS_NS}requestsCategory> <{HS_NS}{CATEGORY_TERMS[c]}> .")
    lines.append(f"{me} <{HS_NS}requestsLevel> {_lit(request.max_level)} .")
    lines.append(f"{me} <{HS_NS}deidentified> {_lit(request.deidentified)} .")
    lines.append(f"{me} <{HS_NS}consentCoverage> <{HS_NS}{facts.consent}> .")
    lines.append(f"{me} <{HS_NS}separateConsentCoverage> <{HS_NS}{facts.separate_consent}> .")
    return "\n".join(lines) + "\n"


class RedLines:
    """The prepared red lines and the context every request is judged with.

    ``rules`` is the red-line Turtle (default: ``shapes/redlines.ttl``; an uploaded rule set
    replaces it); the context (purposes, formulary, legal bases) comes from ``directory``. The
    rule-set hash covers both, so a decision names exactly what judged it."""

    def __init__(
        self,
        directory: Traversable = SHAPES_DIR,
        engine: Engine = Engine.shifty,
        rules: str | None = None,
    ) -> None:
        text = rules if rules is not None else (directory / RULE_FILES[0]).read_text("utf-8")
        digest = hashlib.sha256(text.encode("utf-8"))
        for name in CONTEXT_FILES:
            digest.update((directory / name).read_bytes())
        self.rule_set = "sha256:" + digest.hexdigest()
        self.rules_text = text
        # Whether requests may be judged together (``check_many``): only once shown to give each
        # request what it gets alone (``corpus.batches_like_singles``, run by RuleSetCache).
        self.batchable = False
        # Whether the findings for a request graph may be remembered and reused for the same graph
        # under another IRI (``corpus.findings_repeat``, run by RuleSetCache). A request graph
        # holds only the abstracted facts (coverage, grants, purpose, categories, level, a
        # prescription's drug, dose and values), never patients or times, so routine requests
        # repeat it: the red lines then cost a dictionary lookup instead of an engine run.
        self.repeatable = False
        # How many distinct request graphs' findings are kept when ``repeatable``; a full memo
        # starts over. Set with ``repeatable`` by RuleSetCache (DecisionEngineSettings).
        self.memo_size = 0
        self._memo: dict[str, list[Finding]] = {}
        self.engine = Grader(Graph().parse(data=text, format="turtle"), engine)
        context = Graph()
        for name in CONTEXT_FILES:
            context.parse(data=(directory / name).read_text("utf-8"), format="turtle")
        ontology = Graph().parse(data=ONTOLOGY.read_text("utf-8"), format="turtle")
        for basis in ontology.subjects(RDF.type, HS.LegalBasis):
            context.add((basis, RDF.type, HS.LegalBasis))
        self.context = context.serialize(format="nt")
        # Drugs by any of their names, English or Chinese.
        self.drugs = {
            str(label).lower(): str(drug)
            for drug in context.subjects(RDF.type, HS.Drug)
            for label in context.objects(drug, RDFS.label)
        }

    def data(self, request: DecisionIn, facts: Facts, iri: str) -> str:
        """The request's own N-Triples (the context is added by the checks)."""
        if request.kind is Kind.prescription:
            return prescription_ntriples(request, self.drugs, iri)
        return request_ntriples(request, facts, iri)

    @property
    def remembered(self) -> int:
        """How many distinct request graphs have their findings remembered."""
        return len(self._memo)

    def alone(self, request: DecisionIn, facts: Facts, iri: str) -> list[Finding]:
        """The engine's findings for one request by itself (nothing remembered)."""
        return self.engine.check(self.context + self.data(request, facts, iri))

    def check(self, request: DecisionIn, facts: Facts, iri: str) -> list[Finding]:
        (found,) = self.check_many([(request, facts, iri)])
        return found

    def check_many(self, cases: Sequence[Case]) -> list[list[Finding]]:
        """Each request's findings: remembered ones when ``repeatable`` (and ``memo_size`` is
        not 0), the rest from the engine.

        A remembered request graph gets exactly the findings the engine gave it, moved to the
        request's own IRI (tests/unit/test_decision_corpus.py holds both to the engine)."""
        if not self.repeatable or self.memo_size == 0:
            return self._judge_many(cases)
        keys = [self.data(request, facts, ANY_REQUEST) for request, facts, _ in cases]
        # Each key is read from the memo once: another thread may start it over meanwhile.
        known = {k: found for k in keys if (found := self._memo.get(k)) is not None}
        todo = {k: case for k, case in zip(keys, cases, strict=True) if k not in known}
        if todo:
            judged = self._judge_many(list(todo.values()))
            fresh = {
                key: [_moved(f, iri, ANY_REQUEST) for f in found]
                for key, (_, _, iri), found in zip(todo, todo.values(), judged, strict=True)
            }
            if len(self._memo) + len(fresh) > self.memo_size:
                self._memo.clear()
            if len(fresh) <= self.memo_size:  # a batch larger than the memo is not kept
                self._memo.update(fresh)
            known.update(fresh)
        return [
            [_moved(f, ANY_REQUEST, iri) for f in known[k]]
            for k, (_, _, iri) in zip(keys, cases, strict=True)
        ]

    def _judge_many(self, cases: Sequence[Case]) -> list[list[Finding]]:
        """Each request's findings from the engine: one run over all of them when ``batchable``.

        Most of a check is fixed cost, so one run over many requests costs a fraction per
        request of a run per request (docs/performance.md). A finding about anything but one of
        the requests (say, a shared context node) cannot be told apart per request, so then each
        is judged alone."""
        if len(cases) < 2 or not self.batchable:
            return [self.alone(*case) for case in cases]
        found = self.engine.check(self.context + "".join(self.data(*case) for case in cases))
        by_focus: dict[str, list[Finding]] = {iri: [] for _, _, iri in cases}
        for finding in found:
            if finding.focus not in by_focus:
                return [self.alone(*case) for case in cases]
            by_focus[finding.focus].append(finding)
        return [by_focus[iri] for _, _, iri in cases]


def _moved(finding: Finding, old: str, new: str) -> Finding:
    """The finding with the request's IRI ``old`` replaced by ``new`` wherever it occurs: as
    focus, as value, or inside a value (an unlisted drug is named after its request)."""
    if old not in finding.focus and (finding.value is None or old not in finding.value):
        return finding
    value = None if finding.value is None else finding.value.replace(old, new)
    return replace(finding, focus=finding.focus.replace(old, new), value=value)


def verdict(findings: list[Finding]) -> Verdict:
    """Any violation denies; otherwise any warning sends the request to the committee."""
    if any(f.rule.severity == "Violation" for f in findings):
        return Verdict.deny
    if findings:
        return Verdict.review
    return Verdict.permit


def obligations(request: DecisionIn, v: Verdict) -> list[str]:
    out = []
    if v is not Verdict.deny and request.deidentified:
        out.append(OBLIGATIONS["deidentify"])
    if v is Verdict.review:
        out.append(OBLIGATIONS["review"])
    return out

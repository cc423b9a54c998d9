"""Roles of the people and systems that call the service (DESIGN §2)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    institution_system = "institution_system"  # submits its own institution's records
    steward = "steward"  # authors grading rules and red lines
    requester = "requester"  # clinicians, researchers, systems asking for decisions
    reviewer = "reviewer"  # review committee (ethics, law, tech)
    analyst = "analyst"  # read-only Cypher
    auditor = "auditor"  # verifies the ledger
    operator = "operator"  # federated training, settlement, rewards catalogue
    admin = "admin"  # institutions and principals


# These act for one institution and must be bound to one; the others may be alliance-wide.
INSTITUTION_BOUND = frozenset({Role.institution_system, Role.requester})
ALL_ROLES = frozenset(Role)

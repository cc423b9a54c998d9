"""The one place where a principal's role and institution scope are checked.

Pure functions of the principal and the data's owner: no request, no graph. Endpoints reach the
role check through ``Allow`` (kgservice/auth/access.py); services call the scope checks once they
know whose data a request touches. A reviewer reads this file to know who can do what.
"""

from __future__ import annotations

from collections.abc import Set

from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.errors import Forbidden


def check_role(principal: Principal, roles: Set[Role]) -> Principal:
    """``principal``, if its role is one of ``roles``; otherwise 403 naming the roles allowed."""
    if principal.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise Forbidden(f"role '{principal.role}' may not do this (allowed: {allowed})")
    return principal


def in_scope(principal: Principal, institution: str | None) -> bool:
    """A principal bound to an institution acts on its own institution's data only.

    Alliance-wide principals (no institution) see everything their role allows. Data that
    belongs to no institution (``None``) is alliance data, visible to every role allowed.
    """
    return (
        principal.institution is None
        or institution is None
        or (principal.institution == institution)
    )


def check_scope(principal: Principal, institution: str | None) -> None:
    """Raise 403 without naming the other institution or revealing what it holds."""
    if not in_scope(principal, institution):
        raise Forbidden("this belongs to another institution")


def bound_institution(principal: Principal) -> str:
    """The institution ``principal`` acts for, for what only an institution can do (submit its
    records, record its patients' consents); 403 for an alliance-wide principal."""
    if principal.institution is None:
        raise Forbidden("this principal is not bound to an institution")
    return principal.institution

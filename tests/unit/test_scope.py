"""Who may do what (kgservice/auth/scope.py): the role and institution-scope checks alone."""

from __future__ import annotations

import pytest

from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.auth.scope import bound_institution, check_role, check_scope, in_scope
from kgservice.errors import Forbidden


def _principal(role: Role = Role.requester, institution: str | None = "hosp-a") -> Principal:
    return Principal(
        id="prn_1", name="p", role=role, institution=institution, created="2026-11-29T00:00:00Z"
    )


def test_a_role_allowed_passes_the_principal_through() -> None:
    principal = _principal(Role.auditor)
    assert check_role(principal, {Role.auditor, Role.admin}) is principal


def test_a_role_not_allowed_is_refused_with_the_roles_that_are() -> None:
    with pytest.raises(Forbidden) as refused:
        check_role(_principal(Role.analyst), {Role.steward, Role.admin})
    assert str(refused.value) == "role 'analyst' may not do this (allowed: admin, steward)"


@pytest.mark.parametrize(
    ("institution", "data", "allowed"),
    [
        ("hosp-a", "hosp-a", True),  # its own institution's data
        ("hosp-a", "hosp-b", False),  # another institution's
        ("hosp-a", None, True),  # alliance data
        (None, "hosp-b", True),  # an alliance-wide principal
        (None, None, True),
    ],
)
def test_a_bound_principal_reaches_its_own_institution_and_the_alliance_only(
    institution: str | None, data: str | None, allowed: bool
) -> None:
    principal = _principal(institution=institution)
    assert in_scope(principal, data) is allowed
    if allowed:
        check_scope(principal, data)
    else:
        with pytest.raises(Forbidden) as refused:
            check_scope(principal, data)
        assert data is not None
        assert data not in str(refused.value)  # the other institution is not named


def test_only_a_bound_principal_acts_for_an_institution() -> None:
    assert bound_institution(_principal(Role.institution_system, "hosp-a")) == "hosp-a"
    with pytest.raises(Forbidden, match="not bound to an institution"):
        bound_institution(_principal(Role.operator, None))

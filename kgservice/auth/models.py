"""The authenticated caller."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from kgservice.auth.roles import Role


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    # None: alliance-wide. Set: the principal acts for this institution only.
    institution: str | None = None
    created: str
    revoked: str | None = None

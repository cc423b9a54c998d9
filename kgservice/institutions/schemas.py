"""Institution I/O models."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Tier(StrEnum):
    tertiary_hospital = "tertiary_hospital"  # 三级医院
    secondary_hospital = "secondary_hospital"  # 二级医院
    community_health_centre = "community_health_centre"  # 社区卫生服务中心
    township_health_centre = "township_health_centre"  # 乡镇卫生院
    other = "other"


class InstitutionIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="stable slug, e.g. 'hosp-a'")
    name: str = Field(min_length=1, max_length=200)
    tier: Tier


class Institution(InstitutionIn):
    created: str

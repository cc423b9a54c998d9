"""From Shapley shares and uploads to whole contribution points (pure functions).

``allocate`` divides an integer pool by shares with the largest-remainder (Hamilton) method:
every institution first gets the floor of its exact quota, then the points left over go one each
to the largest fractional remainders, ties broken by the larger share and then by name — so the
sum is exactly the pool, nobody is more than one point from their exact quota, and the result is
reproducible. A negative Shapley value (data that made the model worse) earns nothing and does
not reduce the others' quotas: the pool is divided among positive shares only.

``upload_points`` is the documented formula for data uploads (seed §4.3: time, amount and quality
of each upload): fields accepted and not awaiting review, scaled by the submission's completeness
of the five diabetes-care essentials, plus a bonus per rare-complication diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from settlement.shapley import Number

RARE_BONUS = 20  # points per rare-complication diagnosis: scarce data (seed §4.4)


class AllocationError(ValueError):
    pass


def allocate(pool: int, shares: Mapping[str, Number]) -> dict[str, int]:
    """Whole points per player summing exactly to ``pool``."""
    if pool < 0:
        raise AllocationError("the pool must not be negative")
    positive = {
        p: Fraction(s) if not isinstance(s, float) else Fraction(repr(s))
        for p, s in shares.items()
        if s > 0
    }
    total = sum(positive.values(), Fraction(0))
    if total == 0:
        raise AllocationError("no player has a positive share: nothing to divide by")
    quotas = {p: pool * s / total for p, s in positive.items()}
    out = dict.fromkeys(shares, 0)
    out.update({p: math.floor(q) for p, q in quotas.items()})
    left = pool - sum(out.values())
    order = sorted(positive, key=lambda p: (-(quotas[p] - math.floor(quotas[p])), -positive[p], p))
    for p in order[:left]:
        out[p] += 1
    return out


def upload_points(fields: int, flagged: int, completeness: float, rare_conditions: int) -> int:
    """Points for one accepted submission: ⌊(fields − flagged) × (0.5 + 0.5 × completeness)⌋
    + 20 × rare conditions. Flagged fields earn once a reviewer has confirmed them."""
    if min(fields, flagged, rare_conditions) < 0 or not 0 <= completeness <= 1:
        raise AllocationError("counts must be non-negative and completeness within 0..1")
    usable = max(0, fields - flagged)
    quality = Fraction(1, 2) + Fraction(1, 2) * Fraction(repr(completeness))
    return math.floor(usable * quality) + RARE_BONUS * rare_conditions

"""The performance rating of operators paid by performance (care institutions, sewage
operators, …): one engine, the formula held as settings.

    score = 100 × Σ weightᵢ × inputᵢ   (inputs and weights in 0–1, weights summing to 1)

The weights per operator kind are HEMEI_RATING_WEIGHTS[kind]; the grade and the share of the
base reward follow from the score through HEMEI_RATING_GRADES (lowest score first match, highest
band first), and the reward is HEMEI_RATING_BASE_REWARD[kind] × that share. The engine knows
nothing about care: an app gathers its inputs (occupancy, satisfaction, norms; uptime,
effluent compliance, …) and records the outcome with `rating_record`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hemei.care.models import Institution, OperatorRating
from hemei.core.audit import audit_record
from hemei.core.parsing import county_of
from hemei.core.scope import UPPER_LEVEL_ROLES, require, require_actor
from hemei.regions.models import Region


@dataclass(frozen=True)
class Outcome:
    score: float
    grade: str
    reward: Decimal


def weights_for(kind: str) -> dict[str, float]:
    weights = settings.HEMEI_RATING_WEIGHTS.get(kind)
    if not weights:
        raise ValidationError(_("No rating formula for operators of kind %(k)s.") % {"k": kind})
    if not math.isclose(sum(weights.values()), 1.0, abs_tol=1e-6) or any(w < 0 for w in weights.values()):
        raise ValidationError(_("The rating weights of %(k)s must be positive and sum to 1.") % {"k": kind})
    return dict(weights)


def score(inputs: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """100 × the weighted sum; every weighted input must be given, in 0–1."""
    missing = sorted(set(weights) - set(inputs))
    if missing:
        raise ValidationError(_("Rating inputs missing: %(m)s.") % {"m": ", ".join(missing)})
    total = 0.0
    for name, weight in weights.items():
        value = float(inputs[name])
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise ValidationError(_("Rating input %(n)s must lie between 0 and 1.") % {"n": name})
        total += weight * value
    return round(100 * total, 2)


def grade_for(value: float) -> tuple[str, float]:
    for low, grade, share in settings.HEMEI_RATING_GRADES:
        if value >= low:
            return grade, share
    raise ValidationError(_("No grade for score %(s)s.") % {"s": value})


def rate(kind: str, inputs: Mapping[str, float]) -> Outcome:
    value = score(inputs, weights_for(kind))
    grade, share = grade_for(value)
    base = Decimal(settings.HEMEI_RATING_BASE_REWARD.get(kind, 0))
    return Outcome(value, grade, (base * Decimal(str(share))).quantize(Decimal("0.01"), ROUND_HALF_UP))


@transaction.atomic
def rating_record(
    *, actor: Any, kind: str, operator: str, region: Region, month: dt.date, inputs: Mapping[str, float],
    institution: Institution | None = None,
) -> OperatorRating:
    """Compute and store one month's rating (township or county staff over `region`)."""
    require_actor(actor)
    require(actor, UPPER_LEVEL_ROLES, region)
    outcome = rate(kind, inputs)
    row = OperatorRating.objects.create(
        county=county_of(region), region=region, kind=kind, operator=operator[:100], institution=institution,
        month=month.replace(day=1), inputs={k: float(v) for k, v in inputs.items()}, weights=weights_for(kind),
        score=outcome.score, grade=outcome.grade, reward=outcome.reward,
    )
    audit_record(actor=actor, action="create", obj=row,
                 changes={"score": [None, outcome.score], "grade": [None, outcome.grade]})
    return row

"""Reads of courtyard reviews for the pages, the export and the public board (no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from hemei.courtyard.models import Result, ReviewEvent, Tier
from hemei.regions.models import Household, Region

PUBLIC_STATUSES = (ReviewEvent.Status.CLOSED, ReviewEvent.Status.AWARDED)


@dataclass
class Row:
    """One ranked household; only public fields besides the evaluator totals."""

    rank: int
    household: Household
    head_name: str
    total: Decimal
    tier: Tier | None
    evaluator_totals_decimal: list[Decimal]
    entry_state: str


def ranked_results(event: ReviewEvent, *, limit: Q | None = None) -> list[Row]:
    """`limit` (from `access.household_limit`) keeps only the households the reader may see."""
    results = Result.objects.filter(event=event)
    if limit is not None:
        results = results.filter(household__in=Household.objects.filter(limit))
    results = (
        results
        .select_related("household__head", "tier", "entry")
        .order_by("rank", "household__number", "pk")
    )
    return [
        Row(
            r.rank,
            r.household,
            r.household.head.name if r.household.head else "",
            r.total,
            r.tier,
            [Decimal(t) for t in r.evaluator_totals],
            r.entry.get_state_display() if r.entry else "",
        )
        for r in results
    ]


def plaque_counts(event: ReviewEvent) -> list[tuple[Tier, int]]:
    counts: dict[int, int] = {}
    for tier_id in Result.objects.filter(event=event).exclude(tier=None).values_list("tier_id", flat=True):
        counts[tier_id] = counts.get(tier_id, 0) + 1
    return [(t, counts.get(t.pk, 0)) for t in event.tiers.select_related("item")]


def public_events(village: Region) -> list[ReviewEvent]:
    return list(ReviewEvent.objects.filter(village=village, status__in=PUBLIC_STATUSES).order_by("-date", "-pk")[:5])

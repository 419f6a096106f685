"""Visit coverage: households visited / households per grid and period.

The default rule (issue 3): every household at least once a quarter. The period length in
months is the setting HEMEI_VISIT_PERIOD_MONTHS (default 3); periods start in January, so
with 3 they are the calendar quarters and with 1 the calendar months. An absent household
that was phoned counts as visited: the phone follow-up is the visit the form records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from hemei.regions.models import Household, Level, Region
from hemei.visits.models import Visit

DEFAULT_PERIOD_MONTHS = 3


def period_months() -> int:
    months = int(getattr(settings, "HEMEI_VISIT_PERIOD_MONTHS", DEFAULT_PERIOD_MONTHS))
    if months not in (1, 2, 3, 4, 6, 12):
        raise ValueError("HEMEI_VISIT_PERIOD_MONTHS must divide 12")
    return months


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_default_timezone()
        return (
            dt.datetime.combine(self.start, dt.time(), tzinfo=tz),
            dt.datetime.combine(self.end, dt.time(), tzinfo=tz),
        )


def period_of(day: dt.date) -> Period:
    months = period_months()
    first_month = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first_month, 1)
    end_month = first_month + months
    end = dt.date(day.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return Period(start, end)


@dataclass(frozen=True)
class GridCoverage:
    grid: Region
    households: int
    visited: int

    @property
    def percent(self) -> int:
        return round(100 * self.visited / self.households) if self.households else 100


def _visited_q(period: Period) -> Exists:
    start, end = period.bounds()
    return Exists(Visit.objects.filter(household=OuterRef("pk"), visited_at__gte=start, visited_at__lt=end))


def coverage(region: Region, period: Period) -> list[GridCoverage]:
    """One row per grid in `region` (the region itself when it is a grid): two queries."""
    grids = list(Region.objects.filter(path__startswith=region.path, level=Level.GRID).order_by("code"))
    start, end = period.bounds()
    counts: dict[int, tuple[int, int]] = {
        row["region_id"]: (row["n"], row["seen"])
        for row in Household.objects.filter(region__in=grids)
        .values("region_id")
        .annotate(
            n=Count("pk", distinct=True),
            seen=Count("pk", filter=Q(visits__visited_at__gte=start, visits__visited_at__lt=end), distinct=True),
        )
    }
    return [GridCoverage(g, *counts.get(g.pk, (0, 0))) for g in grids]


def missing_households(region: Region, period: Period) -> list[Household]:
    """Households in `region` not visited in the period (one query)."""
    return list(
        Household.objects.filter(region__path__startswith=region.path)
        .annotate(seen=_visited_q(period))
        .filter(seen=False)
        .select_related("head", "region")
        .order_by("region__code", "number")
    )

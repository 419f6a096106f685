"""Case statistics for supervision: on-time rate and satisfaction rate per unit and period.

Definitions (the same everywhere they are shown, and in docs/cases.md):
- a case counts in the period it was submitted in;
- finished = resolved or closed (rejected and merged cases are not work done);
- on time = finished with neither overdue flag set. The flags are frozen when a deadline is
  missed, so a case that was late once stays late in the statistics even after a fix;
- on-time rate = on time / finished; satisfaction rate = cases closed on a first answer of
  满意 or 基本满意 / cases the reporter has answered (a 不满意 that reopened a case counts as
  not satisfied, even after a later good rating).
Everything is one grouped query per table (no per-unit queries), so a county page costs the
same number of queries for 5 townships or 50.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth

from hemei.cases.models import Case
from hemei.regions.models import Region

S = Case.Status
FINISHED = Q(status__in=(S.RESOLVED, S.CLOSED))
ON_TIME = FINISHED & Q(overdue_accept=False, overdue_resolve=False)
# A case closes only on a good rating (不满意 reopens it), so the last rating is always good:
# count the reporter's first answer instead (rated_unsatisfied is frozen on the first 不满意).
RATED = (Q(rating__isnull=False) & Q(status=S.CLOSED)) | Q(rated_unsatisfied=True)
SATISFIED = Q(status=S.CLOSED, rated_unsatisfied=False, rating__in=(Case.Rating.SATISFIED, Case.Rating.BASICALLY))
OPEN_LATE = Q(status__in=(S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)) & (Q(overdue_accept=True) | Q(overdue_resolve=True))


@dataclass(frozen=True)
class Rates:
    name: str
    key: str
    total: int
    finished: int
    on_time: int
    rated: int
    satisfied: int
    open_late: int

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.finished, 1) if self.finished else None

    @property
    def satisfaction_rate(self) -> float | None:
        return round(100 * self.satisfied / self.rated, 1) if self.rated else None

    def chart_row(self) -> dict[str, object]:
        return {"name": self.name, "on_time": self.on_time_rate, "satisfaction": self.satisfaction_rate}


_AGGREGATES = {
    "total": Count("pk"),
    "finished": Count("pk", filter=FINISHED),
    "on_time": Count("pk", filter=ON_TIME),
    "rated": Count("pk", filter=RATED),
    "satisfied": Count("pk", filter=SATISFIED),
    "open_late": Count("pk", filter=OPEN_LATE),
}


def _period(qs: QuerySet[Case], start: dt.date | None, end: dt.date | None) -> QuerySet[Case]:
    tz = ZoneInfo(settings.TIME_ZONE)
    if start:
        qs = qs.filter(created_at__gte=dt.datetime.combine(start, dt.time(), tz))
    if end:
        qs = qs.filter(created_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz))
    return qs


def _rates(name: str, key: str, row: Mapping[str, Any]) -> Rates:
    return Rates(name=name, key=key, **{k: int(row.get(k) or 0) for k in _AGGREGATES})


def rates_total(qs: QuerySet[Case], *, start: dt.date | None = None, end: dt.date | None = None) -> Rates:
    return _rates("", "", _period(qs, start, end).aggregate(**_AGGREGATES))


def rates_by_subregion(qs: QuerySet[Case], region: Region, *, start: dt.date | None = None,
                       end: dt.date | None = None) -> list[Rates]:
    """One row per child region of `region` (townships of a county, villages of a township,
    grids of a village), in the tree's order, children without cases included."""
    children = list(Region.objects.get_children(region).only("path", "name", "code"))
    if not children:
        return []
    width = len(region.path) + Region.steplen
    rows = (_period(qs.filter(region__path__startswith=region.path), start, end)
            .annotate(unit=Substr("region__path", 1, width)).values("unit").annotate(**_AGGREGATES))
    by_path: dict[str, Mapping[str, Any]] = {r["unit"]: r for r in rows}
    return [_rates(c.name, c.code, by_path.get(c.path, {})) for c in children]


def rates_by_month(qs: QuerySet[Case], *, start: dt.date | None = None, end: dt.date | None = None) -> list[Rates]:
    tz = ZoneInfo(settings.TIME_ZONE)
    rows = (_period(qs, start, end).annotate(month=TruncMonth("created_at", tzinfo=tz)).values("month")
            .annotate(**_AGGREGATES).order_by("month"))
    return [_rates(r["month"].strftime("%Y-%m"), r["month"].strftime("%Y-%m"), r) for r in rows]


def rates_by_unit(qs: QuerySet[Case], *, start: dt.date | None = None, end: dt.date | None = None,
                  limit: int = 15) -> list[Rates]:
    """Per responsible unit (责任单位), the busiest first."""
    rows = (_period(qs.exclude(responsible_unit=""), start, end).values("responsible_unit")
            .annotate(**_AGGREGATES).order_by("-total", "responsible_unit")[:limit])  # type: ignore[misc]
    return [_rates(r["responsible_unit"], r["responsible_unit"], r) for r in rows]

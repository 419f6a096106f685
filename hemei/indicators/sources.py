"""Computed data elements: where each number comes from in Hemei's own records.

Each source is one grouped query per period (never a query per village), registered with
`@source(element, ...)`, returning {element: {region id: value}} for the lowest region the
records carry (a grid for cases, visits, monitoring and households; a village for the rest).

`snapshot=True` marks a source that reads the present state (the register has no dates to
ask "how many households in March?"): it is computed only for the periods still open (this
month, its quarter and year, and last month), and a closed period keeps what it recorded —
`hemei rollup --rebuild` keeps those snapshots too.

Elderly care: `hemei.eldercare` registers `eldercare.calls` and `eldercare.calls_15min` here
with `@source("eldercare.calls", "eldercare.calls_15min")` once it exists; until then the
elements are in the catalogue with no source and the indicator shows "no data".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from hemei.indicators.periods import Period

Values = dict[str, dict[int, Decimal]]
SourceFn = Callable[[Period], Values]


@dataclass(frozen=True)
class ComputedSource:
    elements: tuple[str, ...]
    fn: SourceFn
    snapshot: bool = False


SOURCES: list[ComputedSource] = []


def source(*elements: str, snapshot: bool = False) -> Callable[[SourceFn], SourceFn]:
    def register(fn: SourceFn) -> SourceFn:
        SOURCES.append(ComputedSource(elements, fn, snapshot))
        return fn

    return register


def computed_elements() -> set[str]:
    return {e for s in SOURCES for e in s.elements}


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the period as aware datetimes in the configured zone."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return (dt.datetime.combine(period.start, dt.time(), tz),
            dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tz))


def _grouped(qs: QuerySet[Any], key: str, **aggregates: Any) -> Values:
    out: Values = defaultdict(dict)
    for row in qs.values(key).annotate(**aggregates).order_by():
        for name, value in row.items():
            if name != key and value:
                out[name][row[key]] = Decimal(value)
    return out


@source("cases.submitted", "cases.finished", "cases.on_time", "cases.rated", "cases.satisfied")
def cases_by_submission(period: Period) -> Values:
    from hemei.cases.models import Case
    from hemei.dashboards.selectors import FINISHED, ON_TIME, RATED, SATISFIED

    start, end = _bounds(period)
    qs = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    raw = _grouped(qs, "region_id", submitted=Count("pk"), finished=Count("pk", filter=FINISHED),
                   on_time=Count("pk", filter=ON_TIME), rated=Count("pk", filter=RATED),
                   satisfied=Count("pk", filter=SATISFIED))
    return {f"cases.{k}": v for k, v in raw.items()}


@source("cases.escalated")
def case_escalations(period: Period) -> Values:
    from hemei.cases.models import CaseEvent

    start, end = _bounds(period)
    qs = CaseEvent.objects.filter(kind=CaseEvent.Kind.ESCALATED, at__gte=start, at__lt=end)
    return {"cases.escalated": _grouped(qs, "case__region_id", n=Count("pk")).get("n", {})}


@source("cases.open_late", snapshot=True)
def cases_open_late(period: Period) -> Values:
    from hemei.cases.models import Case
    from hemei.dashboards.selectors import OPEN_LATE

    return {"cases.open_late": _grouped(Case.objects.filter(OPEN_LATE), "region_id", n=Count("pk")).get("n", {})}


@source("households", snapshot=True)
def households(period: Period) -> Values:
    from hemei.regions.models import Household

    return {"households": _grouped(Household.objects.all(), "region_id", n=Count("pk")).get("n", {})}


@source("villages")
def villages(period: Period) -> Values:
    from hemei.regions.models import Level, Region

    ids = Region.objects.filter(level=Level.VILLAGE).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=period.end)).values_list("pk", flat=True)
    return {"villages": {pk: Decimal(1) for pk in ids}}


@source("visits.households")
def visits(period: Period) -> Values:
    from hemei.visits.models import Visit

    start, end = _bounds(period)
    qs = Visit.objects.filter(visited_at__gte=start, visited_at__lt=end)
    return {"visits.households": _grouped(qs, "region_id", n=Count("household", distinct=True)).get("n", {})}


@source("monitoring.households", "monitoring.ever", "monitoring.removed")
def monitoring(period: Period) -> Values:
    from hemei.visits.models import Monitoring

    _start, end = _bounds(period)
    S = Monitoring.Step
    qs = Monitoring.objects.filter(step__in=(S.MONITORED, S.REMOVED), decided_at__lt=end)
    raw = _grouped(qs, "region_id", ever=Count("pk"),
                   removed=Count("pk", filter=Q(removed_at__lt=end)),
                   households=Count("pk", filter=Q(removed_at__isnull=True) | Q(removed_at__gte=end)))
    return {f"monitoring.{k}": v for k, v in raw.items()}


@source("points.households")
def points(period: Period) -> Values:
    from hemei.points.models import Entry

    qs = Entry.objects.filter(state=Entry.State.EFFECTIVE, deed_date__gte=period.start, deed_date__lte=period.end)
    return {"points.households": _grouped(qs, "household__region_id",
                                          n=Count("household", distinct=True)).get("n", {})}


@source("points.redemptions")
def redemptions(period: Period) -> Values:
    from hemei.points.models import Redemption

    start, end = _bounds(period)
    qs = Redemption.objects.filter(state=Redemption.State.COLLECTED, collected_at__gte=start, collected_at__lt=end)
    return {"points.redemptions": _grouped(qs, "village_id", n=Count("pk")).get("n", {})}


@source("stars.households")
def stars(period: Period) -> Values:
    from hemei.stars.models import StarRating

    rows = StarRating.objects.filter(
        round__awarded_on__isnull=False, round__awarded_on__lte=period.end, round__year__gte=period.end.year - 1,
        excluded=False, final__isnull=False,
    ).values_list("village_id", "household_id", "final")
    seen: dict[int, set[int]] = defaultdict(set)
    for village_id, household_id, final in rows:
        if final:
            seen[village_id].add(household_id)
    return {"stars.households": {v: Decimal(len(h)) for v, h in seen.items()}}


@source("courtyard.households", snapshot=True)
def courtyards(period: Period) -> Values:
    from hemei.courtyard.models import Result, ReviewEvent

    qs = Result.objects.filter(tier__isnull=False, event__status=ReviewEvent.Status.AWARDED)
    return {"courtyard.households": _grouped(qs, "event__village_id",
                                             n=Count("household", distinct=True)).get("n", {})}


@source("disclosure.due", "disclosure.on_time")
def disclosure(period: Period) -> Values:
    from django.db.models import F

    from hemei.disclosure.models import ScheduleDue

    start, end = _bounds(period)
    qs = ScheduleDue.objects.filter(due_at__gte=start, due_at__lt=end)
    raw = _grouped(qs, "village_id", due=Count("pk"),
                   on_time=Count("pk", filter=Q(fulfilled_at__isnull=False, fulfilled_at__lte=F("due_at"))))
    return {f"disclosure.{k}": v for k, v in raw.items()}


@source("finance.income")
def finance(period: Period) -> Values:
    from hemei.disclosure.models import FinanceEntry

    qs = FinanceEntry.objects.filter(direction=FinanceEntry.Direction.INCOME, date__gte=period.start,
                                     date__lte=period.end)
    return {"finance.income": _grouped(qs, "village_id", n=Sum("amount")).get("n", {})}


@source("assets.put_to_use")
def assets_put_to_use(period: Period) -> Values:
    from hemei.assets.models import Asset, AssetStatusChange

    start, end = _bounds(period)
    qs = AssetStatusChange.objects.filter(from_state=Asset.Status.IDLE, at__gte=start, at__lt=end).exclude(
        to_state=Asset.Status.IDLE)
    return {"assets.put_to_use": _grouped(qs, "village_id", n=Count("pk")).get("n", {})}


@source("assets.idle", snapshot=True)
def assets_idle(period: Period) -> Values:
    from hemei.assets.models import Asset

    return {"assets.idle": _grouped(Asset.objects.filter(status=Asset.Status.IDLE), "village_id",
                                    n=Count("pk")).get("n", {})}


@source("contracts.overdue")
def contracts_overdue(period: Period) -> Values:
    """Scheduled payments due by the period's end, of contracts in force, not fully paid by
    then. One query: each due with what was paid by the end."""
    from django.db.models import DecimalField, Value
    from django.db.models.functions import Coalesce

    from hemei.contracts.models import Contract, PaymentDue

    C = Contract.Status
    rows = (PaymentDue.objects.filter(due_on__lte=period.end,
                                      contract__status__in=(C.SIGNED, C.ACTIVE, C.EXPIRED, C.TERMINATED))
            .annotate(paid=Coalesce(Sum("payments__amount", filter=Q(payments__paid_on__lte=period.end)),
                                    Value(0), output_field=DecimalField(max_digits=20, decimal_places=2)))
            .values_list("contract__village_id", "amount", "paid"))
    out: dict[int, Decimal] = defaultdict(Decimal)
    for village_id, amount, paid in rows:
        if paid < amount:
            out[village_id] += 1
    return {"contracts.overdue": dict(out)}

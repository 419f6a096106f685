"""Reads of care data, scoped through `hemei.care.access`. Pages and the API read here."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from hemei.care.access import access_elders, access_orders, access_visits
from hemei.care.models import CareVisit, Elder, Metric, Reading, WorkOrder
from hemei.cases.models import Case
from hemei.core.masking import mask_name
from hemei.regions.models import Level as RegionLevel
from hemei.regions.models import Region

OPEN = (Case.Status.SUBMITTED, Case.Status.ACCEPTED, Case.Status.IN_PROGRESS)


def open_orders(user: Any) -> QuerySet[WorkOrder]:
    """The carer's page: open work orders in scope, oldest deadline first, with what the page
    shows loaded in the same query."""
    return (access_orders(user).filter(case__status__in=OPEN)
            .select_related("case", "case__category", "elder__resident__household", "region")
            .order_by("case__status", "respond_by", "pk"))


def recent_orders(user: Any, days: int = 7) -> QuerySet[WorkOrder]:
    since = timezone.now() - dt.timedelta(days=days)
    return (access_orders(user).filter(created_at__gte=since)
            .select_related("case", "case__category", "elder__resident", "region").order_by("-created_at", "-pk"))


@dataclass(frozen=True)
class ElderRow:
    elder: Elder
    name: str  # masked: 张*
    level: str
    living: str
    monitored: bool


def elder_rows(user: Any) -> list[ElderRow]:
    qs = access_elders(user).select_related("resident", "region").order_by("region__path", "pk")
    return [ElderRow(e, mask_name(e.resident.name), e.get_ability_level_display(), e.get_living_display(),
                     e.monitored) for e in qs]


def series(elder: Elder, *, days: int = 7) -> dict[str, list[tuple[str, float]]]:
    """The elder's readings per metric for the chart: [(ISO time, value)]."""
    since = timezone.now() - dt.timedelta(days=days)
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for metric, at, value in (Reading.objects.filter(elder=elder, at__gte=since)
                              .order_by("at", "pk").values_list("metric", "at", "value")):
        out[metric].append((timezone.localtime(at).isoformat(timespec="minutes"), value))
    return {m: out[m] for m in Metric.values if m in out}


@dataclass(frozen=True)
class Coverage:
    key: str
    label: str
    due: int
    done: int
    missed: int

    @property
    def rate(self) -> float:
        closed = self.done + self.missed
        return self.done / closed if closed else 1.0


def coverage(user: Any, *, since: dt.date, until: dt.date) -> tuple[list[Coverage], list[Coverage]]:
    """Visit coverage per village and per carer (done / (done + missed)) between two dates."""
    visits = access_visits(user).filter(due_on__gte=since, due_on__lte=until)
    by_village: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in visits.values("region__path", "region__level").annotate(
            due=Count("pk", filter=Q(status=CareVisit.Status.DUE)),
            done=Count("pk", filter=Q(status=CareVisit.Status.DONE)),
            missed=Count("pk", filter=Q(status=CareVisit.Status.MISSED))).order_by():
        path = item["region__path"]
        row = by_village[path[: -Region.steplen] if item["region__level"] == RegionLevel.GRID else path]
        row[0] += item["due"]
        row[1] += item["done"]
        row[2] += item["missed"]
    names = dict(Region.objects.filter(path__in=list(by_village)).values_list("path", "name"))
    villages = [Coverage(p, names.get(p, p), *v) for p, v in sorted(by_village.items())]
    carers = [Coverage(str(item["visitor_id"]), item["visitor__username"] or "—", 0, item["n"], 0) for item in
              visits.filter(status=CareVisit.Status.DONE).values("visitor_id", "visitor__username")
              .annotate(n=Count("pk")).order_by("visitor__username")]
    return villages, carers


@dataclass(frozen=True)
class ResponseStats:
    orders: int
    accepted_in_time: int
    escalated: int
    median_accept_minutes: float | None


def response_stats(user: Any, *, days: int = 7) -> ResponseStats:
    """Calls of the last days: how many were taken on by the carer's deadline, how many
    escalated, the median minutes from call to acceptance."""
    rows = list(recent_orders(user, days).values_list("created_at", "respond_by", "case__accepted_at", "step",
                                                       "case__tier"))
    minutes = sorted((acc - created).total_seconds() / 60 for created, _due, acc, _s, _t in rows if acc)
    in_time = sum(1 for _c, due, acc, _s, _t in rows if acc and acc <= due)
    escalated = sum(1 for *_x, step, tier in rows if step == WorkOrder.Step.LEAD or tier != Case.Tier.VILLAGE)
    median = minutes[len(minutes) // 2] if minutes else None
    return ResponseStats(len(rows), in_time, escalated, round(median, 1) if median is not None else None)


def satisfaction(region: Region, month: dt.date) -> float:
    """Share of satisfied ratings (基本满意 counts half) of the care work orders under
    `region` rated in `month`; 1.0 when none was rated (no complaint is no evidence against)."""
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    # The month in local time (a rating at 07:00 on the 1st belongs to that month, not the last).
    since, until = (timezone.make_aware(dt.datetime.combine(d, dt.time())) for d in (first, nxt))
    ratings = list(WorkOrder.objects.filter(region__path__startswith=region.path, case__closed_at__gte=since,
                                            case__closed_at__lt=until).exclude(case__rating__isnull=True)
                   .values_list("case__rating", flat=True))
    if not ratings:
        return 1.0
    score: dict[str | None, float] = {Case.Rating.SATISFIED: 1.0, Case.Rating.BASICALLY: 0.5,
                                      Case.Rating.UNSATISFIED: 0.0}
    return sum(score.get(r, 0.0) for r in ratings) / len(ratings)

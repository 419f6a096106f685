"""Dashboard figures, read from the indicator summaries only (never from a ledger).

A dashboard of a region costs a fixed number of queries whatever its size: its children
(one query), the summary rows of the region and its children for the period and the one
before (one query), the region's trend (one query). Every indicator is computed from summed
numerators and denominators (`Indicator.value`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from hemei.indicators import catalogue
from hemei.indicators.catalogue import Indicator
from hemei.indicators.models import Place, Summary
from hemei.indicators.periods import Kind, Period, PeriodError, month_of, of_kind, parse, series
from hemei.regions.models import Level, Region

Data = dict[tuple[int, str, str], Decimal]


def default_period(on: dt.date | None = None) -> Period:
    """Last month: the month villages have just reported."""
    return month_of(on or timezone.localdate()).previous()


def chosen_period(code: str, kind: str = "") -> Period:
    if code:
        try:
            return parse(code)
        except PeriodError:
            pass
    period = default_period()
    if kind in (Kind.QUARTER, Kind.YEAR):
        return of_kind(kind, period.end)
    return period


@dataclass(frozen=True)
class Figure:
    indicator: Indicator
    value: Decimal | None
    previous: Decimal | None
    numerator: Decimal
    denominator: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def meets(self) -> bool | None:
        return self.indicator.meets(self.value)

    @property
    def better(self) -> bool | None:
        """Whether the change since the last period is an improvement."""
        change = self.change
        if not change:
            return None
        return (change > 0) == (self.indicator.direction == catalogue.Direction.UP)


def figure(indicator: Indicator, data: Data, region_id: int, period: Period, previous: Period | None) -> Figure:
    num = data.get((region_id, period.code, indicator.numerator), Decimal(0))
    den = data.get((region_id, period.code, indicator.denominator), Decimal(0)) if indicator.denominator else None
    before = None
    if previous is not None:
        p_num = data.get((region_id, previous.code, indicator.numerator))
        p_den = data.get((region_id, previous.code, indicator.denominator)) if indicator.denominator else None
        before = indicator.value(p_num, p_den) if p_num is not None or p_den is not None else None
    return Figure(indicator, indicator.value(num, den), before, num, den)


@dataclass
class Dashboard:
    region: Region
    period: Period
    previous: Period
    indicator: Indicator
    key: list[Figure]
    children: list[tuple[Region, Figure]]
    ranking: list[tuple[Region, Figure]]
    trend: list[tuple[Period, Figure]]
    programmes: list[dict[str, Any]]
    completeness: Figure
    table: list[tuple[Region, list[Figure]]] = field(default_factory=list)  # children × key figures
    ancestors: list[Region] = field(default_factory=list)

    def chart_children(self) -> list[dict[str, Any]]:
        return [{"name": r.name, "code": r.code, "value": _num(f.value)} for r, f in self.children]

    def chart_trend(self) -> list[dict[str, Any]]:
        return [{"name": p.label, "value": _num(f.value)} for p, f in self.trend]


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def read(region: Region, periods: list[Period], elements: list[str], *, depths: list[int]) -> Data:
    """Summary rows under `region` at `depths` for `periods` and `elements`: one query."""
    qs = Summary.objects.filter(period__in=[p.code for p in periods], element__in=elements,
                                path__startswith=region.path, depth__in=depths)
    return {(r, p, e): v for r, p, e, v in qs.values_list("region_id", "period", "element", "value")}


def children_of(region: Region) -> list[Region]:
    return list(Region.objects.filter(path__startswith=region.path, depth=region.depth + 1).order_by("code"))


def ancestors_of(region: Region) -> list[Region]:
    step = Region.steplen
    prefixes = [region.path[:i] for i in range(step, len(region.path), step)]
    return list(Region.objects.filter(path__in=prefixes).order_by("depth"))


def programme_elements() -> list[str]:
    codes: list[str] = ["villages", "reports.approved"]
    for p in catalogue.PROGRAMMES:
        codes += [f"{p.code}.started", f"{p.code}.done", *(f"{p.code}.{m}" for m in p.modes)]
    return codes


def programmes(data: Data, region_id: int, period: Period) -> list[dict[str, Any]]:
    villages = data.get((region_id, period.code, "villages"), Decimal(0))
    reported = data.get((region_id, period.code, "reports.approved"), Decimal(0))
    rows = []
    for p in catalogue.PROGRAMMES:
        started = data.get((region_id, period.code, f"{p.code}.started"), Decimal(0))
        done = data.get((region_id, period.code, f"{p.code}.done"), Decimal(0))
        modes = {m: int(data.get((region_id, period.code, f"{p.code}.{m}"), Decimal(0))) for m in p.modes}
        rows.append({"code": p.code, "name": str(p.name), "villages": int(villages), "done": int(done),
                     "started": int(started - done), "not_started": int(max(reported - started, Decimal(0))),
                     "not_reported": int(max(villages - reported, Decimal(0))),
                     "modes": {str(catalogue.MODE_NAMES[m]): n for m, n in modes.items()}})
    return rows


def key_figures(region: Region, period: Period) -> list[Figure]:
    """The dashboard's key figures of one region alone, in one query: the strip a village's
    leaders see above their 待办 list."""
    previous = period.previous()
    key = [catalogue.INDICATORS[c] for c in catalogue.KEY_FIGURES]
    data = read(region, [period, previous], sorted(set(catalogue.needed_elements(key))), depths=[region.depth])
    return [figure(i, data, region.pk, period, previous) for i in key]


def dashboard(region: Region, period: Period, indicator: Indicator, *, trend_length: int = 12) -> Dashboard:
    """Everything one dashboard page shows, in five queries."""
    previous = period.previous()
    key = [catalogue.INDICATORS[c] for c in catalogue.KEY_FIGURES]
    completeness = catalogue.INDICATORS["completeness"]
    elements = sorted(set(catalogue.needed_elements([*key, indicator, completeness])) | set(programme_elements()))
    children = children_of(region)
    data = read(region, [period, previous], elements, depths=[region.depth, region.depth + 1])
    trend_periods = series(period, trend_length)
    trend_data = read(region, trend_periods, list(indicator.elements), depths=[region.depth])
    rows = [(c, figure(indicator, data, c.pk, period, previous)) for c in children]
    reverse = indicator.direction == catalogue.Direction.UP
    ranking = sorted([r for r in rows if r[1].value is not None], key=lambda r: r[1].value or 0, reverse=reverse)
    return Dashboard(
        region=region, period=period, previous=previous, indicator=indicator,
        key=[figure(i, data, region.pk, period, previous) for i in key],
        children=rows, ranking=ranking,
        trend=[(p, figure(indicator, trend_data, region.pk, p, None)) for p in trend_periods],
        programmes=programmes(data, region.pk, period),
        completeness=figure(completeness, data, region.pk, period, previous),
        table=[(c, [figure(i, data, c.pk, period, previous) for i in [*key[:-1], completeness]]) for c in children],
        ancestors=ancestors_of(region),
    )


def map_features(region: Region, period: Period, indicator: Indicator) -> dict[str, Any]:
    """Villages under `region` with their place and the indicator's value (two queries)."""
    places = list(Place.objects.filter(region__path__startswith=region.path, region__level=Level.VILLAGE)
                  .select_related("region").order_by("region__code"))
    depths = sorted({p.region.depth for p in places})
    data = read(region, [period], list(indicator.elements), depths=depths) if places else {}
    features = []
    for place in places:
        f = figure(indicator, data, place.region_id, period, None)
        features.append({"code": place.region.code, "name": place.region.name, "lat": float(place.latitude),
                         "lng": float(place.longitude), "outline": place.outline, "value": _num(f.value)})
    return {"indicator": str(indicator.name), "unit": str(indicator.unit), "period": period.label,
            "direction": indicator.direction.value, "target": _num(indicator.target), "villages": features}

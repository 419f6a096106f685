"""Reads for the asset pages: the township idle-asset database and the projects overview.
Every function starts from a scoped queryset (`hemei.assets.access`)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from hemei.assets import access
from hemei.assets.models import Asset, ProjectIncome, RevitalisationProject
from hemei.disclosure.board import BoardQuery, page_of
from hemei.disclosure.personal import redact
from hemei.regions.models import Region


@dataclass
class AssetFilter:
    """The filters of the register and the idle database, read from a query string."""

    q: str = ""
    village: Region | None = None
    category: str = ""
    status: str = ""
    area_min: Decimal | None = None
    area_max: Decimal | None = None
    errors: list[str] = field(default_factory=list)

    def apply(self, qs: QuerySet[Asset]) -> QuerySet[Asset]:
        if self.q:
            qs = qs.filter(Q(name__icontains=self.q) | Q(location__icontains=self.q) | Q(code__icontains=self.q)
                           | Q(kind__icontains=self.q))
        if self.village is not None:
            qs = qs.filter(village=self.village)
        if self.category:
            qs = qs.filter(category=self.category)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.area_min is not None:
            qs = qs.filter(area__gte=self.area_min)
        if self.area_max is not None:
            qs = qs.filter(area__lte=self.area_max)
        return qs


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip().replace(",", ""))
    except (decimal.InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number >= 0 else None


def read_filter(user: Any, params: Any, *, default_status: str = "") -> AssetFilter:
    """Unknown choices are ignored with a message rather than a 500 or an empty page; a village
    outside the user's scope is 404 (`access_village`)."""
    f = AssetFilter(q=(params.get("q") or "").strip()[:100])
    code = (params.get("village") or "").strip()
    if code:
        f.village = access.access_village(user, code)
    category = params.get("category") or ""
    if category in Asset.Category.values:
        f.category = category
    elif category:
        f.errors.append(_("Unknown category."))
    status = params.get("status", default_status)
    if status in Asset.Status.values:
        f.status = status
    elif status and status != "all":
        f.errors.append(_("Unknown status."))
    for name in ("area_min", "area_max"):
        raw = (params.get(name) or "").strip()
        if raw:
            value = _decimal(raw)
            if value is None:
                f.errors.append(_("The area range takes numbers of zero or more."))
            setattr(f, name, value)
    return f


@dataclass
class IdleDatabase:
    rows: list[Asset]
    count: int
    area_by_unit: list[tuple[str, Decimal]]
    by_village: list[dict[str, Any]]
    markers: list[dict[str, Any]]
    plan: list[tuple[str, list[Asset]]]  # assets without coordinates, by village


def idle_database(user: Any, f: AssetFilter, *, limit: int = 500) -> IdleDatabase:
    """The township idle-asset database: the filtered assets (one query with their villages),
    the totals by unit and by village (two aggregate queries; areas are summed per unit, never
    m² with 亩), map markers for the assets with
    coordinates and a "plan" list by village for those without."""
    qs = f.apply(access.access_assets(user))
    rows = list(qs.select_related("village").order_by("village__code", "code")[:limit])
    units = dict(Asset.Unit.choices)
    area_by_unit = [
        (str(units.get(r["unit"], r["unit"])), r["total"] or Decimal("0"))
        for r in qs.order_by().values("unit").annotate(total=Sum("area")).order_by("unit")
    ]
    by_village: list[dict[str, Any]] = [
        dict(r)
        for r in qs.order_by().values("village__code", "village__name")
        .annotate(n=Count("id"), sqm=Sum("area", filter=Q(unit=Asset.Unit.SQM)),
                  mu=Sum("area", filter=Q(unit=Asset.Unit.MU)))
        .order_by("village__code")
    ]
    markers = []
    plan: dict[str, list[Asset]] = defaultdict(list)
    statuses = dict(Asset.Status.choices)
    categories = dict(Asset.Category.choices)
    for a in rows:
        if a.latitude is not None and a.longitude is not None:
            markers.append({
                "id": a.pk, "lat": float(a.latitude), "lng": float(a.longitude), "name": a.name, "code": a.code,
                "village": a.village.name, "area": f"{a.area} {units.get(a.unit, a.unit)}",
                "status": str(statuses.get(a.status, a.status)),
                "category": str(categories.get(a.category, a.category)),
                "url": f"/w/assets/{a.pk}/",
            })
        else:
            plan[a.village.name].append(a)
    # The plan lists villages in code order, as the rows come.
    return IdleDatabase(rows, qs.count(), area_by_unit, by_village, markers, list(plan.items()))


# --- projects overview --------------------------------------------------------------------


def effective_incomes(projects: list[int]) -> QuerySet[ProjectIncome]:
    """Each year's figure is the row no later row corrects."""
    return ProjectIncome.objects.filter(project_id__in=projects, corrected_by__isnull=True)


@dataclass
class ProjectsOverview:
    projects: list[RevitalisationProject]
    by_path: list[dict[str, Any]]
    year: int
    years: list[int]
    chart: list[dict[str, Any]]
    expected_total: Decimal
    actual_total: Decimal


def projects_overview(user: Any, *, region: Region | None = None, year: int | None = None) -> ProjectsOverview:
    """All projects in scope (optionally under one region) with their effective income in
    `year` (default: the latest year with any income), counts by path and the chart rows."""
    qs = access.access_projects(user)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    projects: list[RevitalisationProject] = list(
        qs.select_related("region").annotate(n_assets=Count("assets")).order_by("region__code", "name")
    )
    ids = [p.pk for p in projects]
    incomes = list(effective_incomes(ids).values_list("project_id", "year", "amount"))
    years = sorted({y for _p, y, _a in incomes}, reverse=True)
    chosen = year if year is not None else (years[0] if years else dt.date.today().year)
    actual: dict[int, Decimal] = {}
    total_by_project: dict[int, Decimal] = defaultdict(Decimal)
    for pid, y, amount in incomes:
        total_by_project[pid] += amount
        if y == chosen:
            actual[pid] = amount
    paths = dict(RevitalisationProject.Path.choices)
    counts: dict[str, int] = defaultdict(int)
    for p in projects:
        counts[p.path] += 1
        p.actual_income = actual.get(p.pk)  # type: ignore[attr-defined]
        p.total_income = total_by_project.get(p.pk, Decimal("0.00"))  # type: ignore[attr-defined]
    by_path = [{"path": key, "label": str(label), "n": counts.get(key, 0)} for key, label in paths.items()]
    chart = [
        {"name": p.name, "expected": str(p.expected_annual_income), "actual": str(actual.get(p.pk) or 0)}
        for p in projects
    ]
    return ProjectsOverview(
        projects, by_path, chosen, years, chart,
        sum((p.expected_annual_income for p in projects), Decimal("0.00")),
        sum(actual.values(), Decimal("0.00")),
    )


# --- the public board -----------------------------------------------------------------------


def village_summary(village: Region, *, idle_page: Any = None) -> dict[str, Any] | None:
    """Counts of the village's assets by status and by category, and a page of the idle ones
    (code, name, type, area, location: no person, no value). None when there are no assets.
    `idle_page` is a `hemei.disclosure.board.BoardQuery` (default: the first 50)."""
    qs = Asset.objects.filter(village=village)
    statuses = dict(Asset.Status.choices)
    categories = dict(Asset.Category.choices)
    by_status = [
        {"label": str(statuses.get(r["status"], r["status"])), "n": r["n"]}
        for r in qs.order_by().values("status").annotate(n=Count("id")).order_by("status")
    ]
    if not by_status:
        return None
    by_category = [
        {"label": str(categories.get(r["category"], r["category"])), "n": r["n"]}
        for r in qs.order_by().values("category").annotate(n=Count("id")).order_by("category")
    ]
    units = dict(Asset.Unit.choices)
    rows, page = page_of(
        qs.filter(status=Asset.Status.IDLE).order_by("code", "pk").values("code", "name", "kind", "area", "unit",
                                                                            "location"),
        idle_page or BoardQuery(),
        50 if idle_page is None else 20,
    )
    idle = [
        {"code": redact(a["code"]), "name": redact(a["name"]), "kind": redact(a["kind"]),
         "location": redact(a["location"]), "area": a["area"], "unit": str(units.get(a["unit"], a["unit"]))}
        for a in rows
    ]
    return {"by_status": by_status, "by_category": by_category, "idle": idle, "page": page,
            "total": sum(r["n"] for r in by_status)}

"""Supervision statistics pages (selectors and views only: this app writes nothing)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from hemei.cases.access import access_cases
from hemei.core.parsing import parse_date
from hemei.dashboards import selectors
from hemei.regions.access import access_region, access_regions, require_staff_scope
from hemei.regions.models import Region


def home_region(user: Any) -> Region | None:
    """The highest region the user may read (the county for a county admin, the township for
    township staff): the natural starting point for their statistics."""
    return access_regions(user).order_by("depth", "path").first()


def case_rates_context(request: HttpRequest, region: Region | None) -> dict[str, Any]:
    """Rates for `region` (or the user's home region) and the period in the query string
    (default: this calendar year), for the board and the statistics page."""
    region = region or home_region(request.user)
    today = timezone.localdate()
    start = parse_date(request.GET.get("from", "")) or today.replace(month=1, day=1)
    end = parse_date(request.GET.get("to", "")) or today
    qs = access_cases(request.user)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    by_region = selectors.rates_by_subregion(qs, region, start=start, end=end) if region is not None else []
    by_month = selectors.rates_by_month(qs, start=start, end=end)
    return {
        "stats_region": region, "stats_from": start, "stats_to": end,
        "stats_total": selectors.rates_total(qs, start=start, end=end),
        "stats_by_region": by_region,
        "stats_by_month": by_month,
        "stats_by_unit": selectors.rates_by_unit(qs, start=start, end=end),
        "chart_by_region": [r.chart_row() for r in by_region],
        "chart_by_month": [r.chart_row() for r in by_month],
    }


@login_required
def case_stats(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    code = request.GET.get("region", "")
    region = access_region(request.user, code) if code else None
    return render(request, "dashboards/case_stats.html", case_rates_context(request, region))

"""The dashboard pages: a home for every tier, the 大屏, the definitions, chart downloads.

Each page reads summary rows only (`hemei.dashboards.figures`). The region comes from the
query string (`?region=CODE`, default the user's highest region) and must lie in the user's
scope (else 404); children of a region in scope are in scope.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from hemei.core.xlsx import xlsx_response
from hemei.dashboards import export, figures
from hemei.indicators import catalogue
from hemei.indicators.access import access_dashboard_region
from hemei.indicators.catalogue import Indicator
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Level, Region

DEFAULT_INDICATOR = "case_on_time"


def _indicator(request: HttpRequest, default: str = DEFAULT_INDICATOR) -> Indicator:
    return catalogue.INDICATORS.get(request.GET.get("indicator", ""), catalogue.INDICATORS[default])


def _board(request: HttpRequest, code: str = "") -> figures.Dashboard:
    require_staff_scope(request.user)
    region = access_dashboard_region(request.user, code or request.GET.get("region", ""))
    period = figures.chosen_period(request.GET.get("period", ""), request.GET.get("kind", ""))
    return figures.dashboard(region, period, _indicator(request))


def _context(board: figures.Dashboard) -> dict[str, Any]:
    return {
        "board": board,
        "indicators": catalogue.INDICATORS_LIST,
        "groups": catalogue.GROUPS,
        "chart_children": board.chart_children(),
        "chart_trend": board.chart_trend(),
        "chart_programmes": board.programmes,
        "query": f"region={board.region.code}&period={board.period.code}&indicator={board.indicator.code}",
        "period_choices": _period_choices(board),
        "is_above_county": board.region.level in (Level.CITY, Level.PROVINCE),
    }


def _period_choices(board: figures.Dashboard) -> list[tuple[str, str]]:
    month = figures.default_period()
    months = [month]
    for _ in range(11):
        months.append(months[-1].previous())
    longer = [p for p in month.containing()] + [month.containing()[0].previous(), month.containing()[1].previous()]
    return [(p.code, p.label) for p in [*months, *longer]]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """`dashboards:home`: the dashboard of the user's area (or of `?region=`)."""
    return render(request, "dashboards/home.html", _context(_board(request)))


@login_required
def screen(request: HttpRequest, code: str) -> HttpResponse:
    """The 大屏 of a village or a county: 1920×1080, dark, reloading itself every minute."""
    board = _board(request, code)
    return render(request, "dashboards/screen.html", {**_context(board), "refresh_seconds": 60})


@login_required
def map_data(request: HttpRequest) -> JsonResponse:
    board_region = _region(request)
    period = figures.chosen_period(request.GET.get("period", ""))
    return JsonResponse(figures.map_features(board_region, period, _indicator(request)))


def _region(request: HttpRequest) -> Region:
    require_staff_scope(request.user)
    return access_dashboard_region(request.user, request.GET.get("region", ""))


@login_required
def chart_xlsx(request: HttpRequest, chart: str) -> HttpResponse:
    board = _board(request)
    features = figures.map_features(board.region, board.period, board.indicator) if chart == "map" else None
    if chart not in export.CHARTS:
        chart = "children"
    data = export.workbook(chart, board, actor=request.user, features=features)
    name = f"{board.region.code}-{board.period.code}-{chart}.xlsx"
    return xlsx_response(data, name)


@login_required
def definitions(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    from hemei.indicators.sources import computed_elements

    computed = computed_elements()
    elements = [(e, e.source == catalogue.Source.ENTERED or e.code in computed) for e in catalogue.ELEMENTS.values()]
    return render(request, "dashboards/definitions.html", {
        "indicators": catalogue.INDICATORS_LIST, "elements": elements, "groups": catalogue.GROUPS,
        "element_names": {e.code: e.name for e in catalogue.ELEMENTS.values()},
    })

"""This app's sections of the public board: disclosures by period, finance, and requests (cases).

Registered like any other app's (`hemei.disclosure.board.board_section`); the views know no
section by name. Case figures are counts and rates only, never a case's title or a name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.cases.models import Case
from hemei.core.freshness import track
from hemei.core.parsing import parse_year
from hemei.dashboards.selectors import rates_by_month, rates_total
from hemei.disclosure.board import (
    COUNTY_TOPICS,
    BoardQuery,
    Figure,
    board_section,
    items_for,
    page_of,
    published_disclosures,
    published_years,
)
from hemei.disclosure.finance import income_by_year
from hemei.disclosure.models import (
    AnnualIncome,
    Disclosure,
    DisclosureAttachment,
    DisclosureVersion,
    FinanceEntry,
    Kind,
)
from hemei.regions.models import Region

# Disclosures are long texts: ten to a page keeps a page within a few phone screens.
DISCLOSURES_PER_PAGE = 10

track(Disclosure, "disclosure")
track(DisclosureVersion, "disclosure")
track(DisclosureAttachment, "disclosure", place=lambda a: a.version.village_id)
track(FinanceEntry, "finance")
track(AnnualIncome, "finance")
# A case carries its county, not its village (its region may be a grid): the board's case
# figures are kept per county, so a case anywhere in the county renews them.
COUNTY_TOPICS.add("cases")
track(Case, "cases", place=lambda c: c.county_id)


def _kind(query: BoardQuery) -> str:
    kind = query.get("kind")
    return kind if kind in Kind.values else ""


def disclosures_summary(village: Region) -> list[Figure] | None:
    latest = list(published_disclosures(village)[:1])
    if not latest:
        return None
    items = items_for(village, latest)
    return [Figure(items[0].latest.title, _("latest"))] if items else None


@board_section("disclosures", title=_("Disclosures (三务公开)"), template="board/_disclosures.html", order=10,
               topics=("disclosure",), summary=disclosures_summary, params=("kind", "year"))
def disclosures_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    kind = _kind(query)
    year = parse_year(query.get("year"))
    rows, page = page_of(published_disclosures(village, kind=kind, year=year), query, DISCLOSURES_PER_PAGE)
    return {
        "items": items_for(village, rows),
        "page": page,
        "kinds": Kind.choices,
        "kind": kind,
        "years": published_years(village),
        "year": year,
        "query": urlencode({k: v for k, v in (("kind", kind), ("year", year or "")) if v}),
    }


def finance_summary(village: Region) -> list[Figure] | None:
    income = income_by_year(village)
    if not income:
        return None
    last = income[-1]
    return [Figure(last["value"], _("%(year)s income, 10,000 yuan") % {"year": last["name"]})]


@board_section("finance", title=_("Finance (财务公开)"), template="board/_finance.html", order=12,
               topics=("finance", "disclosure"), summary=finance_summary)
def finance_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    rows, page = page_of(published_disclosures(village, kind=Kind.FINANCE), query, DISCLOSURES_PER_PAGE)
    income = income_by_year(village) if query.page == 1 else []
    return {"income": income, "items": items_for(village, rows), "page": page}


def _cases(village: Region) -> Any:
    return Case.objects.filter(region__path__startswith=village.path)


def cases_summary(village: Region) -> list[Figure] | None:
    stats = rates_total(_cases(village))
    rate = f"{stats.on_time_rate} %" if stats.on_time_rate is not None else "—"
    return [Figure(stats.total, _("requests received")), Figure(rate, _("on time"))]


@board_section("cases", title=_("Requests and problems"), template="board/_cases.html", order=14,
               topics=("cases",), summary=cases_summary)
def cases_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    cases = _cases(village)
    since = timezone.localdate().replace(day=1) - dt.timedelta(days=334)
    months = rates_by_month(cases, start=since.replace(day=1))
    return {"stats": rates_total(cases), "months": [r.chart_row() for r in months], "rows": months}

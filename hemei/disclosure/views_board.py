"""The public village board (/v/<code>/): no login, phone-first, large type, printable.

Only public figures: published disclosure versions (personal numbers masked), the finance
chart, case statistics as counts and rates (no case details, no names), and the ledger chain
heads. Sections of other apps come from the registry in `hemei.disclosure.board`.
"""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from hemei.cases.models import Case
from hemei.dashboards.selectors import rates_by_month, rates_total
from hemei.disclosure.board import chain_heads_for, published_items, sections_for
from hemei.disclosure.finance import income_by_year
from hemei.disclosure.models import DisclosureAttachment, DisclosureVersion, Kind
from hemei.disclosure.views import _file
from hemei.regions.models import Level, Region


def _village(code: str) -> Region:
    region = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if region is None:
        raise Http404
    return region


def village_board(request: HttpRequest, code: str) -> HttpResponse:
    village = _village(code)
    kind = request.GET.get("kind", "")
    items = published_items(village, kind=kind if kind in Kind.values else "")
    cases = Case.objects.filter(region__path__startswith=village.path)
    since = timezone.localdate().replace(day=1) - dt.timedelta(days=334)
    months = [r.chart_row() for r in rates_by_month(cases, start=since.replace(day=1))]
    return render(
        request,
        "board/village.html",
        {
            "village": village,
            "items": items,
            "kinds": Kind.choices,
            "kind": kind,
            "income": income_by_year(village),
            "stats": rates_total(cases),
            "months": months,
            "sections": sections_for(village),
            "heads": chain_heads_for(village),
        },
    )


def board_print(request: HttpRequest, code: str) -> HttpResponse:
    """公示栏: the latest version of each recent disclosure, laid out for an A4 printer."""
    village = _village(code)
    return render(
        request,
        "board/print.html",
        {"village": village, "items": published_items(village, limit=12), "today": timezone.localdate()},
    )


def board_attachment(request: HttpRequest, code: str, pk: int) -> FileResponse:
    village = _village(code)
    attachment = DisclosureAttachment.objects.filter(
        pk=pk, version__village=village, version__status=DisclosureVersion.Status.PUBLISHED
    ).first()
    if attachment is None:
        raise Http404
    return _file(attachment)

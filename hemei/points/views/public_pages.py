"""Public pages (no login): the 公示 notice to print and the ranking."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from hemei.points import public
from hemei.points.models import (
    RuleSet,
)
from hemei.regions.models import Level, Region

# --- public pages (no login) ----------------------------------------------------------------


def _public_village(code: str) -> Region:
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if village is None or not RuleSet.objects.filter(village=village).exists():
        raise Http404
    return village


def public_print(request: HttpRequest, code: str) -> HttpResponse:
    """公示 notice for the village notice board (A4): the entries in publicity, the chain head
    (length and hash) to check the paper against the board, and how to object."""
    village = _public_village(code)
    return render(
        request,
        "points/print.html",
        {
            "village": village,
            "entries": public.in_publicity(village, limit=500),
            "head": public.head_of(village),
            "today": timezone.localdate(),
        },
    )


def public_ranking(request: HttpRequest, code: str) -> HttpResponse:
    village = _public_village(code)
    setting, rows = public.ranking(village)
    if setting == RuleSet.Ranking.NONE:
        raise Http404
    return render(
        request,
        "points/ranking.html",
        {"village": village, "rows": rows, "setting": setting, "year": timezone.localdate().year},
    )

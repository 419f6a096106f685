"""The stars section of the public village board: household number, the head's name and the
stars only (no ID number, phone or address)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.core.freshness import track
from hemei.disclosure.board import BoardQuery, Figure, board_section, page_of
from hemei.regions.models import Household, Region
from hemei.stars.models import HouseholdStar, Stage, Star, StarRound

# HouseholdStar rows are written in bulk (`hemei.stars.services._apply_cache` touches the topic).
track(StarRound, "stars")
track(Star, "stars")


def public_star_rows(village: Region, query: BoardQuery | None = None) -> tuple[list[dict[str, Any]], Any]:
    """One page of households holding stars: number, head's name, star names. Two queries:
    a page of households (by number), then their stars; three columns each, never whole rows."""
    holders = (
        Household.objects.filter(pk__in=HouseholdStar.objects.filter(village=village).values("household_id"))
        .order_by("number", "pk")
        .values("pk", "number", "head__name")
    )
    if query is None:
        households, page = list(holders), None
    else:
        households, page = page_of(holders, query)
    names: dict[int, list[str]] = {}
    for household_id, star in (
        HouseholdStar.objects.filter(household_id__in=[h["pk"] for h in households])
        .order_by("star__position", "star_id")
        .values_list("household_id", "star__name")
    ):
        names.setdefault(household_id, []).append(star)
    rows = [{"number": h["number"], "head": h["head__name"] or "", "stars": names.get(h["pk"], [])}
            for h in households]
    return rows, page


def _round(village: Region) -> StarRound | None:
    return (StarRound.objects.filter(village=village).order_by("-year")
            .only("year", "stage", "publicity_until").first())


def stars_summary(village: Region) -> list[Figure] | None:
    households = HouseholdStar.objects.filter(village=village).values("household_id").distinct().count()
    if not households and _round(village) is None:
        return None
    return [Figure(households, _("households holding stars"))]


@board_section("stars", title=_("Star-rated households (星级文明户)"), template="stars/_board.html", order=40,
               topics=("stars",), summary=stars_summary)
def stars_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    rows, page = public_star_rows(village, query)
    rnd = _round(village)
    if not rows and rnd is None:
        return None
    return {
        "rows": rows,
        "page": page,
        "round": rnd,
        "in_publicity": rnd is not None and rnd.stage == Stage.PUBLICITY,
    }

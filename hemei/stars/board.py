"""The stars section of the public village board: household number, the head's name and the
stars only (no ID number, phone or address)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.disclosure.board import board_section
from hemei.regions.models import Region
from hemei.stars.models import HouseholdStar, Stage, StarRound


def public_star_rows(village: Region) -> list[dict[str, Any]]:
    """One row per household holding stars: number, head's name, star names (two queries)."""
    rows: dict[int, dict[str, Any]] = {}
    qs = (HouseholdStar.objects.filter(village=village)
          .select_related("household__head", "star").order_by("household__number", "star__position"))
    for hs in qs:
        h = hs.household
        row = rows.setdefault(h.pk, {"number": h.number, "head": h.head.name if h.head else "", "stars": []})
        row["stars"].append(hs.star.name)
    return list(rows.values())


@board_section("stars", title=_("Star-rated households (星级文明户)"), template="stars/_board.html", order=40)
def stars_section(village: Region) -> dict[str, Any] | None:
    rows = public_star_rows(village)
    rnd = StarRound.objects.filter(village=village).order_by("-year").first()
    if not rows and rnd is None:
        return None
    return {
        "rows": rows,
        "round": rnd,
        "in_publicity": rnd is not None and rnd.stage == Stage.PUBLICITY,
    }

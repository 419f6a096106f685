"""Reads of star ratings: current stars, history, coverage. Callers pass querysets or regions
already scoped through `hemei.stars.access`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from hemei.regions.models import Household, Level, Region
from hemei.stars.models import HouseholdStar, Star, StarChange, StarRating, StarRound


def star_names(village: Region) -> dict[int, str]:
    return dict(Star.objects.filter(village=village).values_list("pk", "name"))


def current_stars(household_ids: list[int], *, stars: Iterable[Star] | None = None) -> dict[int, list[Star]]:
    """household id → the stars it holds now, in catalogue order (one query). With `stars`
    (the village's catalogue, already loaded) the rows are read as ids and mapped onto it,
    instead of building a Star object per held star."""
    out: dict[int, list[Star]] = {h: [] for h in household_ids}
    held = HouseholdStar.objects.filter(household_id__in=household_ids).order_by("star__position", "star_id")
    if stars is not None:
        by_id = {s.pk: s for s in stars}
        rows = list(held.values_list("household_id", "star_id"))
        missing = {star_id for _h, star_id in rows} - by_id.keys()
        if missing:  # not the catalogue passed in: read those few rather than show them wrong
            by_id.update(Star.objects.in_bulk(missing))
        for household_id, star_id in rows:
            out.setdefault(household_id, []).append(by_id[star_id])
        return out
    for hs in held.select_related("star"):
        out.setdefault(hs.household_id, []).append(hs.star)
    return out


def replay(changes: Iterable[tuple[int, int, str]]) -> dict[int, set[int]]:
    """household id → star ids held after applying the changes in order (the definition of
    "current stars"; `HouseholdStar` caches it)."""
    held: dict[int, set[int]] = {}
    for household_id, star_id, kind in changes:
        stars = held.setdefault(household_id, set())
        if kind == StarChange.Kind.GRANT:
            stars.add(star_id)
        else:
            stars.discard(star_id)
    return held


def history(household: Household) -> list[StarChange]:
    return list(StarChange.objects.filter(household=household).select_related("star", "actor", "round")
                .order_by("-date", "-pk"))


def latest_round(village: Region) -> StarRound | None:
    return StarRound.objects.filter(village=village).order_by("-year").first()


@dataclass
class Coverage:
    village: Region
    households: int
    rated: int
    declared: int
    round: StarRound | None
    star_households: int

    @property
    def percent(self) -> Decimal | None:
        if not self.households:
            return None
        return (Decimal(self.rated) * 100 / self.households).quantize(Decimal("0.1"))

    def chart_row(self) -> dict[str, Any]:
        return {"name": self.village.name, "value": float(self.percent or 0)}


def coverage(villages: list[Region]) -> list[Coverage]:
    """Per village: households, rated (decided in the latest round: final stars or excluded)
    ÷ households, declarations, and households holding at least one star. Four queries."""
    ids = [v.pk for v in villages]
    households = dict(Household.objects.filter(village_id__in=ids).values_list("village_id")
                      .annotate(n=Count("pk")).values_list("village_id", "n"))
    rounds: dict[int, StarRound] = {}
    for rnd in StarRound.objects.filter(village_id__in=ids).order_by("village_id", "-year"):
        rounds.setdefault(rnd.village_id, rnd)
    figures: dict[int, dict[str, Any]] = {
        row["round_id"]: dict(row)
        for row in StarRating.objects.filter(round__in=list(rounds.values())).values("round_id").annotate(
            declared=Count("pk"), rated=Count("pk", filter=Q(excluded=True) | Q(final__isnull=False))
        )
    }
    holders = dict(HouseholdStar.objects.filter(village_id__in=ids).values_list("village_id")
                   .annotate(n=Count("household_id", distinct=True)).values_list("village_id", "n"))
    out = []
    for v in villages:
        found = rounds.get(v.pk)
        row: dict[str, Any] = figures.get(found.pk, {}) if found else {}
        out.append(Coverage(v, households.get(v.pk, 0), row.get("rated", 0), row.get("declared", 0), found,
                            holders.get(v.pk, 0)))
    return out


def villages_below(region: Region) -> list[Region]:
    if region.level == Level.VILLAGE:
        return [region]
    return list(Region.objects.filter(path__startswith=region.path, level=Level.VILLAGE).order_by("code"))

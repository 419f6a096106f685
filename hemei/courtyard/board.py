"""The courtyard section of the public village board (`hemei.disclosure.board`): the closed
reviews with their plaque counts and the households with a plaque (number, head's name,
total). Nothing else about a household is public."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from hemei.core.freshness import track
from hemei.courtyard.models import Result, ReviewEvent, Tier
from hemei.courtyard.selectors import PUBLIC_STATUSES
from hemei.disclosure.board import BoardQuery, Figure, board_section, page_of
from hemei.regions.models import Region

REVIEWS_PER_PAGE = 3
WINNERS_SHOWN = 20

# Results are written in bulk inside the move that closes a review; the move bumps the topic.
track(ReviewEvent, "courtyard")


def _public_events(village: Region) -> Any:
    return (ReviewEvent.objects.filter(village=village, status__in=PUBLIC_STATUSES)
            .order_by("-date", "-pk").values("pk", "title", "date"))


def courtyard_summary(village: Region) -> list[Figure] | None:
    closed = _public_events(village).count()
    if not closed:
        return None
    plaques = Result.objects.filter(event__village=village, event__status__in=PUBLIC_STATUSES,
                                    tier__isnull=False).count()
    return [Figure(plaques, _("plaques awarded")), Figure(closed, _("reviews"))]


@board_section("courtyard", title=_("Beautiful courtyards (美丽庭院)"), template="courtyard/_board.html", order=40,
               topics=("courtyard",), summary=courtyard_summary)
def courtyard_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    """A page of reviews in four queries: the reviews, their plaques, the count per plaque and
    the plaque holders (number, head's name, total, plaque)."""
    events, page = page_of(_public_events(village), query, REVIEWS_PER_PAGE)
    if not events:
        return None
    ids = [e["pk"] for e in events]
    tiers: dict[int, list[dict[str, Any]]] = {}
    for t in Tier.objects.filter(event_id__in=ids).order_by("sort", "pk").values("pk", "event_id", "name"):
        tiers.setdefault(t["event_id"], []).append(dict(t))
    counts = dict(Result.objects.filter(event_id__in=ids, tier__isnull=False).order_by().values("tier_id")
                  .annotate(n=Count("pk")).values_list("tier_id", "n"))
    winners: dict[int, list[dict[str, Any]]] = {}
    for r in (Result.objects.filter(event_id__in=ids, tier__isnull=False)
              .order_by("rank", "household__number", "pk")
              .values("event_id", "total", "household__number", "household__head__name", "tier__name")):
        shown = winners.setdefault(r["event_id"], [])
        if len(shown) < WINNERS_SHOWN:
            shown.append(dict(r))
    reviews = [{"event": e, "plaques": [(t["name"], counts.get(t["pk"], 0)) for t in tiers.get(e["pk"], [])],
                "winners": winners.get(e["pk"], [])} for e in events]
    return {"reviews": reviews, "page": page}

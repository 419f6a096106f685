"""What the meetings app shows in public: decided agenda items (votes and decision text only)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from hemei.disclosure.board import BoardQuery, Figure, board_section
from hemei.meetings.models import AgendaItem
from hemei.regions.models import Region

PUBLIC_LIMIT = 200
BOARD_LIMIT = 5


def public_items(village: Region, limit: int = PUBLIC_LIMIT) -> QuerySet[AgendaItem]:
    """Decided items of the village's meetings, newest first; no names, minutes or case numbers."""
    return (
        AgendaItem.objects.filter(meeting__region=village)
        .exclude(outcome=AgendaItem.Outcome.PENDING)
        .select_related("meeting")
        .only(
            "title",
            "decision",
            "outcome",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "decided_at",
            "corrects_id",
            "order",
            "meeting__kind",
            "meeting__held_at",
            "meeting__attendees",
            "meeting__place",
        )
        .order_by("-meeting__held_at", "meeting_id", "order")[:limit]
    )


def meetings_summary(village: Region) -> list[Figure] | None:
    n = AgendaItem.objects.filter(meeting__region=village).exclude(outcome=AgendaItem.Outcome.PENDING).count()
    return [Figure(n, _("decisions"))] if n else None


# The section's page is the meetings app's own paged one (`public-meetings`); the summary
# screen links to it. Decisions are written with `update()` (`agenda_item_decide` touches).
@board_section(
    "meetings", title=_("Decisions of village meetings (民主议事)"), template="meetings/_board.html", order=20,
    topics=("meetings",), summary=meetings_summary, url_name="public-meetings",
)
def meetings_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    items = list(public_items(village, BOARD_LIMIT))
    return {"items": items} if items else None

"""The courtyard section of the public village board (`hemei.disclosure.board`): the latest
closed reviews with their plaque counts and the households with a plaque (number, head's
name, total). Nothing else about a household is public."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.courtyard.selectors import plaque_counts, public_events, ranked_results
from hemei.disclosure.board import board_section
from hemei.regions.models import Region


@board_section("courtyard", title=_("Beautiful courtyards (美丽庭院)"), template="courtyard/_board.html", order=40)
def courtyard_section(village: Region) -> dict[str, Any] | None:
    events = public_events(village)[:3]
    if not events:
        return None
    return {
        "reviews": [
            {
                "event": e,
                "plaques": plaque_counts(e),
                "winners": [r for r in ranked_results(e) if r.tier is not None][:20],
            }
            for e in events
        ]
    }

"""The courtyard reviews section of the household file (hemei.core.household_file)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from hemei.core.household_file import LIMIT, Cell, FileSection, file_section
from hemei.courtyard.access import EVENTS
from hemei.courtyard.models import Result


@file_section("courtyard", order=60)
def courtyard_section(user: Any, household: Any) -> FileSection | None:
    results = list(Result.objects.filter(household=household, event__in=EVENTS.queryset(user))
                   .select_related("event", "tier").order_by("-event_id")[:LIMIT])
    if not results:
        return None
    rows = [[Cell(r.event.title, reverse("courtyard-results", args=[r.event_id])), Cell(f"{r.total}", css="num"),
             Cell(str(r.rank), css="num"), Cell(r.tier.name if r.tier else "—")] for r in results]
    return FileSection(key="courtyard", title=_("Courtyard reviews"), order=60,
                       columns=[_("Review"), _("Total"), _("Rank"), _("Plaque")], rows=rows)

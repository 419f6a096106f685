"""The star-rated household section of the household file (hemei.core.household_file)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from hemei.core.household_file import LIMIT, Cell, FileSection, file_section
from hemei.core.templatetags.hemei_format import local_date
from hemei.stars.access import CHANGES
from hemei.stars.models import HouseholdStar


@file_section("stars", order=50)
def stars_section(user: Any, household: Any) -> FileSection:
    changes = list(CHANGES.queryset(user).filter(household=household).select_related("star")
                   .order_by("-date", "-id")[:LIMIT])
    held = [h.star.name for h in HouseholdStar.objects.filter(household=household).select_related("star")
            .order_by("star__position")]
    rows = [[Cell(local_date(c.date)), Cell(c.star.name), Cell(c.get_kind_display()), Cell(c.reason)]
            for c in changes]
    return FileSection(
        key="stars", title=_("Star-rated household"), order=50,
        columns=[_("Date"), _("Star"), _("Change"), _("Reason")], rows=rows,
        figures=[("★" * len(held) if held else "0", _("stars held")), ("、".join(held) or "—", _("stars"))],
        more_url=reverse("stars-household", args=[household.pk]), empty=_("No stars yet."),
    )

"""The cases section of the household file (hemei.core.household_file)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from hemei.cases.access import access_cases
from hemei.cases.privacy import for_reader
from hemei.core.household_file import LIMIT, Cell, FileSection, file_section
from hemei.core.templatetags.hemei_format import local_date

OPEN = ("submitted", "accepted", "in_progress")


@file_section("cases", order=10)
def cases_section(user: Any, household: Any) -> FileSection:
    cases = [for_reader(user, c) for c in access_cases(user).filter(household=household)
             .select_related("category", "region").order_by("-created_at")[:LIMIT]]
    open_count = sum(1 for c in cases if c.status in OPEN)
    rows = [[Cell(c.number, reverse("case-detail", args=[c.number])), Cell(c.title), Cell(c.category.name),
             Cell(c.get_status_display(), css=f"badge badge-{c.status}"), Cell(local_date(c.created_at))]
            for c in cases]
    return FileSection(
        key="cases", title=_("Cases"), order=10,
        columns=[_("Number"), _("Title"), _("Category"), _("Status"), _("Submitted on")], rows=rows,
        figures=[(str(open_count), _("cases open")), (str(len(cases)), _("in all"))],
        more_url=f"{reverse('case-new')}?household={household.pk}", empty=_("No cases from this household."),
    )

"""The points section of the household file: balance and entries (hemei.core.household_file)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from hemei.core.household_file import LIMIT, Cell, FileSection, file_section
from hemei.core.templatetags.hemei_format import local_date, thousands
from hemei.points.access import access_entries
from hemei.points.models import Account


@file_section("points", order=40)
def points_section(user: Any, household: Any) -> FileSection:
    entries = list(access_entries(user).filter(household=household).select_related("item")
                   .order_by("-deed_date", "-id")[:LIMIT])
    account = Account.objects.filter(household=household).first()
    rows = [[Cell(local_date(e.deed_date)),
             Cell(f"{e.item.code} {e.item.description}" if e.item else e.get_kind_display()),
             Cell(f"{e.points:+,}", css="num"), Cell(e.get_state_display(), css=f"badge badge-{e.state}")]
            for e in entries]
    return FileSection(
        key="points", title=_("Points"), order=40,
        columns=[_("Date"), _("Item"), _("Points"), _("State")], rows=rows,
        figures=[(thousands(account.balance if account else 0), _("points balance"))],
        empty=_("No points entries yet."),
    )

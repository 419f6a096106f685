"""The policies section of the household file (hemei.core.household_file): what the household
qualifies for today, and its applications, with a link to its policy page and card."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from hemei.core.household_file import Cell, FileSection, file_section
from hemei.core.scope import scope_for


@file_section("policies", order=35)
def policies_section(user: Any, household: Any) -> FileSection | None:
    from hemei.policies import selectors

    if not scope_for(user).is_staff_scope:
        return None
    matches = [m for m in selectors.household_matches(user, household) if m.qualifies]
    if not matches:
        return None
    status = {a.policy_id: a.get_status_display() for m in matches for a in m.applications}
    page = reverse("policy-household", args=[household.pk])
    rows = [[Cell(m.policy.name, page), Cell(m.version.label),
             Cell(status.get(m.policy.pk, _("not applied")),
                  css="" if m.policy.pk in status else "badge badge-late")] for m in matches]
    return FileSection(
        key="policies", title=_("Policies it qualifies for"), order=35,
        columns=[_("Policy"), _("Version"), _("Application")], rows=rows,
        figures=[(str(len(matches)), _("policies")), (str(sum(m.policy.pk not in status for m in matches)),
                                                      _("not applied"))],
        more_url=page,
    )

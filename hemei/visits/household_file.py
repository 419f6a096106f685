"""The visits and monitoring sections of the household file (hemei.core.household_file)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from hemei.core.household_file import LIMIT, Cell, FileSection, file_section
from hemei.core.templatetags.hemei_format import local_date, local_dt
from hemei.visits.access import access_monitorings, access_visits


@file_section("visits", order=20)
def visits_section(user: Any, household: Any) -> FileSection:
    visits = list(access_visits(user).filter(household=household).select_related("visitor")
                  .annotate(n_problems=Count("problems")).order_by("-visited_at")[:LIMIT])
    rows = [[Cell(local_date(v.visited_at), reverse("visit-detail", args=[v.pk])),
             Cell(str(v.visitor or "")),
             Cell(_("at home") if v.present else _("phoned: %(who)s") % {"who": v.phone_contact}),
             Cell(str(v.n_problems), css="num")] for v in visits]
    return FileSection(
        key="visits", title=_("Visits"), order=20,
        columns=[_("Date"), _("Visited by"), _("How"), _("Problems found")], rows=rows,
        figures=[(local_date(visits[0].visited_at) if visits else "—", _("last visit"))],
        more_url=f"{reverse('visit-new')}?household={household.pk}", empty=_("Not visited yet."),
    )


@file_section("monitoring", order=30)
def monitoring_section(user: Any, household: Any) -> FileSection | None:
    records = list(access_monitorings(user).filter(household=household).order_by("-created_at")[:LIMIT])
    if not records:
        return None  # most households are never monitored: no empty heading in their file
    rows = [[Cell(m.ref, reverse("monitoring-detail", args=[m.pk])), Cell(m.get_kind_display() or "—"),
             Cell(m.get_step_display()), Cell("、".join(m.risk_labels())),
             Cell(local_dt(m.step_due) if m.step_due else "—")] for m in records]
    return FileSection(
        key="monitoring", title=_("Return-to-poverty monitoring"), order=30,
        columns=[_("Record"), _("Kind"), _("Step"), _("Risk types"), _("Step due")], rows=rows,
    )

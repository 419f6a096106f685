"""The land trusteeship section of the household file (hemei.core.household_file)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from hemei.contracts.access import INCOMES, PARCELS
from hemei.core.household_file import LIMIT, Cell, FileSection, file_section
from hemei.core.templatetags.hemei_format import local_date, yuan


@file_section("trusteeship", order=70)
def trusteeship_section(user: Any, household: Any) -> FileSection | None:
    parcels = list(PARCELS.queryset(user).filter(household=household).order_by("-entrusted_from")[:LIMIT])
    incomes = list(INCOMES.queryset(user).filter(household=household).order_by("-year")[:10])
    if not parcels and not incomes:
        return None
    rows = [[Cell(p.code or str(p.pk), reverse("trust-parcel", args=[p.pk])), Cell(f"{p.area_mu}", css="num"),
             Cell(p.provider), Cell(f"{local_date(p.entrusted_from)} – {local_date(p.ended_on or p.entrusted_to)}")]
            for p in parcels]
    figures = [(yuan(i.yield_income), _("yield income %(year)d") % {"year": i.year}) for i in incomes[:3]]
    return FileSection(key="trusteeship", title=_("Land trusteeship"), order=70,
                       columns=[_("Parcel"), _("Area (mu)"), _("Service provider"), _("Entrusted")], rows=rows,
                       figures=figures)

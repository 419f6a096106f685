"""Who may see and do what with indicators.

- read (dashboards, summaries, facts, reports): staff posted at or above the place; a grid
  worker reads their grid's figures and the village's own (`village_wide` for reports);
- enter a village's period form and submit it: the village committee and the accountant
  (the people who keep its books);
- approve or return it: township staff over the village (the approval is the township's);
- city and province staff read their counties side by side and change nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import BOOKKEEPING_ROLES, TOWNSHIP_ROLES, register_scoped, scope_for, scoped
from hemei.indicators.models import Fact, Place, Report, Summary
from hemei.regions.models import Level, Region

ENTRY_ROLES = BOOKKEEPING_ROLES
APPROVE_ROLES = TOWNSHIP_ROLES

REPORTS = register_scoped(Report, via="village__", village_wide=True,
                          actions={"enter": ENTRY_ROLES, "approve": APPROVE_ROLES})
FACTS = register_scoped(Fact, via="region__")
SUMMARIES = register_scoped(Summary, via="region__")
PLACES = register_scoped(Place, via="region__")


def access_reports(user: Any) -> QuerySet[Report]:
    return REPORTS.queryset(user)


def access_summaries(user: Any) -> QuerySet[Summary]:
    return SUMMARIES.queryset(user)


def dashboard_regions(user: Any) -> QuerySet[Region]:
    """Regions whose dashboard the user may open: their subtrees."""
    return scoped(Region.objects.all(), user, "")


def home_region(user: Any) -> Region | None:
    """The highest region of the user's scope (a province, city, county, township, village or
    grid): where their dashboard starts."""
    if scope_for(user).everything:
        return Region.objects.order_by("depth", "path").first()
    return dashboard_regions(user).order_by("depth", "path").first()


def access_dashboard_region(user: Any, code: str) -> Region:
    """A region by code inside the user's scope, else 404."""
    region = Region.objects.filter(code=code).first() if code else home_region(user)
    if region is None or not scope_for(user).covers_path(region.path):
        raise Http404
    return region


def access_entry_villages(user: Any) -> QuerySet[Region]:
    """Villages whose forms the user may read (posted at the village or above)."""
    return scoped(Region.objects.filter(level=Level.VILLAGE).order_by("code"), user, "")

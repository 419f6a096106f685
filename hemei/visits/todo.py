"""The visits app's part of 待办: households not yet visited this period, and monitoring steps
the user decides (hemei.core.todo)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hemei.core.scope import GRID_ROLES, scope_for, scoped
from hemei.core.todo import TodoItem, todo_source
from hemei.regions.models import Household, Level, Region
from hemei.visits.models import OPEN_STEPS, Monitoring, Visit
from hemei.visits.monitoring import can_act, with_deciding_regions
from hemei.visits.selectors import period_of

LIMIT = 50


@todo_source("visit")
def visit_todo(user: Any, now: dt.datetime) -> list[TodoItem]:
    """One item per grid the user works in as a grid worker or leader: how many households
    have not been visited this period, due at the period's end. Two queries."""
    scope = scope_for(user)
    grid_paths = [path for path, role in scope.posts if role in GRID_ROLES]
    if not grid_paths:
        return []
    period = period_of(timezone.localdate(now))
    start, end = period.bounds()
    grids = {g.pk: g for g in Region.objects.filter(path__in=grid_paths, level=Level.GRID)}
    seen = Visit.objects.filter(household=OuterRef("pk"), visited_at__gte=start, visited_at__lt=end)
    missing = dict(Household.objects.filter(region__in=grids).annotate(seen=Exists(seen)).filter(seen=False)
                   .values("region_id").annotate(n=Count("pk")).values_list("region_id", "n"))
    due = end - dt.timedelta(seconds=1)
    return [TodoItem(
        kind="visit",
        title=ngettext("Visit %(n)d household not yet visited this period",
                       "Visit %(n)d households not yet visited this period", n) % {"n": n},
        url=f"{reverse('visit-coverage')}?region={grids[pk].code}",
        due=due, action=_("Visit"), detail=grids[pk].name,
    ) for pk, n in sorted(missing.items()) if n]


@todo_source("monitoring")
def monitoring_todo(user: Any, now: dt.datetime) -> list[TodoItem]:
    """Open monitoring steps the user decides (verification at the grid, review and notice at
    the village, ...), by the step's deadline."""
    qs = with_deciding_regions(scoped(Monitoring.objects.all(), user, write=True).filter(step__in=OPEN_STEPS)
                               .select_related("region", "household__village", "household__head")
                               .order_by("step_due"))[:LIMIT]
    items = []
    for m in qs:
        if not can_act(user, m):
            continue
        head = m.household.head.name if m.household.head else m.household.number
        items.append(TodoItem(
            kind="monitoring",
            title=_("%(step)s: household of %(head)s") % {"step": m.get_step_display(), "head": head},
            url=reverse("monitoring-detail", args=[m.pk]),
            due=m.step_due, action=_("Open"), detail=f"{m.household.village.name}{m.region.name} · {m.ref}",
        ))
    return items

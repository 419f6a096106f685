"""The staff home (/w/) by role: 待办 for the people who work in grids and villages, the
dashboards for the township and above (hemei.core.todo gathers the list)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from hemei.core.scope import VILLAGE_LEADER_ROLES, Scope
from hemei.core.todo import grouped, todo_for
from hemei.dashboards.figures import Figure, default_period, key_figures
from hemei.indicators.periods import Period
from hemei.regions import views
from hemei.regions.access import require_staff_scope, scope_for
from hemei.regions.models import Level, Post, Region, Role

# Posts whose work is supervision over many villages: their home is a dashboard, not a list.
DASHBOARD_ROLES = frozenset(
    {Role.TOWNSHIP_STAFF, Role.COUNTY_DISPATCHER, Role.COUNTY_ADMIN, Role.CITY_STAFF, Role.PROVINCE_STAFF}
)


def wants_dashboard(scope: Scope) -> bool:
    """A superuser, or someone whose every staff post is at the township or above."""
    if scope.everything:
        return True
    roles = {role for _path, role in scope.posts}
    return bool(roles) and roles <= DASHBOARD_ROLES


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    if request.GET.get("region") or request.GET.get("q"):
        # /w/?region=… (the region tree's links, older bookmarks) browses that region's households.
        return views.household_overview(request)
    scope = scope_for(request.user)
    if wants_dashboard(scope):
        return redirect(reverse("dashboards:home"))
    now = timezone.now()
    groups = grouped(todo_for(request.user, now), now)
    # Grids over the rule's size (HEMEI_GRID_MAX_*) stay in view of those who can split them.
    oversized = views.oversized_notice(request.user, None)
    return render(request, "regions/todo.html", {"groups": groups, "now": now, "oversized": oversized,
                                                 "village_figures": _village_figures(request.user)})


def _village_figures(user: Any) -> tuple[Region, Period, list[Figure]] | None:
    """A village leader's (secretary, director) key figures of their village, as the village
    dashboard shows them: the work comes first, the village's progress is in view on landing."""
    post = (Post.objects.current().filter(user=user, role__in=VILLAGE_LEADER_ROLES, region__level=Level.VILLAGE)
            .select_related("region").order_by("pk").first())
    if post is None:
        return None
    period = default_period()
    return post.region, period, key_figures(post.region, period)

"""Who reads and acts on policy matching (declared once, read through `hemei.core.scope`).

Policies are a public catalogue of their area: every staff user reads the policies that reach
their households (issued for their region or above it) and those issued below it; only
township and county staff over a policy's area add versions. Applications and the work-away
register are rows about a household: a grid worker reads and writes their own grid's only, a
villager reads their own household's applications; grid staff and the village committee record
applications, the committee and the upper levels grant or refuse them.
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.core.scope import COMMITTEE_ROLES, GRID_ROLES, UPPER_LEVEL_ROLES, register_scoped, scope_for
from hemei.policies.models import Application, Policy, WorkAway
from hemei.regions.models import Region

#: Who keeps the catalogue (new policies and versions): township and county staff.
POLICY_ROLES: Final = UPPER_LEVEL_ROLES
#: Who records that a household applied, and keeps the work-away register: the grid's staff and
#: the village committee standing in for them (and the levels above).
RECORD_ROLES: Final = GRID_ROLES | COMMITTEE_ROLES | UPPER_LEVEL_ROLES
#: Who grants or refuses an application: the village committee, township and county.
DECIDE_ROLES: Final = COMMITTEE_ROLES | UPPER_LEVEL_ROLES

APPLICATIONS = register_scoped(Application, via="region__", households="household_id",
                               actions={"record": RECORD_ROLES, "decide": DECIDE_ROLES})
WORK_AWAY = register_scoped(WorkAway, via="region__", actions={"record": RECORD_ROLES})


def _ancestor_paths(path: str) -> list[str]:
    step = Region.steplen
    return [path[:i] for i in range(step, len(path) + 1, step)]


def access_policies(user: Any) -> QuerySet[Policy]:
    """Policies whose area reaches the user's regions (at or above a post) or lies below them;
    a villager reads those reaching their own household."""
    scope = scope_for(user)
    qs = Policy.objects.all()
    if scope.everything:
        return qs
    paths: set[str] = set()
    below = Q(pk__in=[])
    for p in scope.read_paths:
        paths.update(_ancestor_paths(p))
        below |= Q(region__path__startswith=p)
    if scope.household_ids:
        from hemei.regions.models import Household

        for grid_path in Household.objects.filter(pk__in=scope.household_ids).values_list("region__path", flat=True):
            paths.update(_ancestor_paths(grid_path))
    return qs.filter(Q(region__path__in=paths) | below)


def access_policy(user: Any, pk: Any) -> Policy:
    try:
        return access_policies(user).select_related("region").get(pk=pk)
    except (Policy.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_applications(user: Any) -> QuerySet[Application]:
    return APPLICATIONS.queryset(user)


def access_application(user: Any, pk: Any) -> Application:
    try:
        return access_applications(user).select_related("household", "policy", "version", "member", "region") \
            .get(pk=pk)
    except (Application.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None

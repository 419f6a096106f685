"""Who may read which cases (ARCHITECTURE rule 2: scope is data)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.cases.models import Case
from hemei.regions.access import _path_q, scope_for
from hemei.regions.models import Region


def access_cases(user: Any) -> QuerySet[Case]:
    """Staff: cases whose region lies in their read subtrees. Villagers: cases reported by a
    resident of their own household. Everyone else: nothing."""
    scope = scope_for(user)
    qs = Case.objects.all()
    if scope.everything:
        return qs
    # By region id (a subquery over the region tree), not a join on the path: the planner
    # can then walk the (region, created_at) index for a grid worker's newest cases.
    q = Q(region__in=Region.objects.filter(_path_q(scope.read_paths, "")).values("pk")) if scope.read_paths \
        else Q(pk__in=[])
    if scope.household_ids:
        q |= Q(reporter__household_id__in=scope.household_ids)
    return qs.filter(q)


def access_case(user: Any, number: str) -> Case:
    try:
        return access_cases(user).select_related("category", "region", "county").get(number=number)
    except Case.DoesNotExist:
        raise Http404 from None

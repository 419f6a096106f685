"""Who may read which cases (ARCHITECTURE rule 2: scope is data)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.cases.models import Case
from hemei.core.scope import register_scoped, scope_for
from hemei.regions.models import Level, Post, Region, Resident, Role

CASES = register_scoped(Case, via="region__", households="reporter__household_id")


def access_cases(user: Any) -> QuerySet[Case]:
    """Staff: cases whose region lies in their read subtrees. Villagers: cases reported by a
    resident of their own household. Everyone else: nothing."""
    # The same rows as `CASES.queryset(user)` (the matrix test checks both), in the form the
    # case indexes answer.
    scope = scope_for(user)
    qs = Case.objects.all()
    if scope.everything:
        return qs
    q = _subtrees_q(user, scope.read_paths)
    if scope.household_ids:
        q |= Q(reporter__household_id__in=scope.household_ids)
    return qs.filter(q)


def _subtrees_q(user: Any, paths: tuple[str, ...]) -> Q:
    """The filter for cases under `paths`, in the form an index can answer newest-first:
    a whole county → `county_id =` (the tenant key, index (county, created_at, id)); a region
    without children (a grid) → `region_id =` (index (region, created_at, id)); anything else
    → region ids from the tree. Never a join on the path, which makes the planner sort every
    case in scope before it can return the first page. Cached on the user for the request."""
    if not paths:
        return Q(pk__in=[])
    cached = getattr(user, "_hemei_cases_q", None)
    if cached is not None:
        return cached
    q = Q(pk__in=[])
    for pk, path, level, numchild in Region.objects.filter(path__in=paths).values_list(
            "pk", "path", "level", "numchild"):
        if level == Level.COUNTY:
            q |= Q(county_id=pk)
        elif numchild == 0:
            q |= Q(region_id=pk)
        else:
            q |= Q(region__in=Region.objects.filter(path__startswith=path).values("pk"))
    user._hemei_cases_q = q
    return q


def access_case(user: Any, number: str, related: tuple[str, ...] = ()) -> Case:
    try:
        return access_cases(user).select_related("category", "region", "county", *related).get(number=number)
    except Case.DoesNotExist:
        raise Http404 from None


def villager_resident(user: Any) -> Resident | None:
    """The resident a villager account speaks for (its villager post), with the household and
    grid loaded: the reporter of a case filed on a phone, over the pages, the API or Open311."""
    post = (Post.objects.current().filter(user=user, role=Role.VILLAGER, resident__isnull=False)
            .select_related("resident__household__region").order_by("pk").first())
    return post.resident if post is not None else None

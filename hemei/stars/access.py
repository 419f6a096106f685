"""Who may do what with star ratings, on top of the region scopes of `hemei.regions.access`.

- declare (自评/申报): a villager for their own household; a grid worker or grid leader for
  households of their grid; the village committee for any household of the village;
- record 互评 results: grid workers of the household's grid and the committee;
- 两委复评, exclusions, stage changes, publicity, award, catalogue, 挂星/摘星: the committee
  (secretary, director, committee members) of the village;
- 乡镇认定: township staff of the township the village belongs to.
Reads outside the scope are 404 (`access_*` querysets); writes out of scope raise
PermissionDenied in the services.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.cases.access import villager_resident
from hemei.points.access import COMMITTEE_ROLES, GRID_ROLES, roles_over
from hemei.points.access import may as _may
from hemei.regions.access import scope_for
from hemei.regions.models import Household, Level, Region, Role
from hemei.stars.models import StarChange, StarRating, StarRound

TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP_STAFF})

__all__ = [
    "COMMITTEE_ROLES",
    "GRID_ROLES",
    "TOWNSHIP_ROLES",
    "access_rounds",
    "access_village",
    "may",
    "require",
    "roles_over",
    "villager_resident",
]


def may(user: Any, region: Region, roles: frozenset[str]) -> bool:
    """`None` is the system (the demo, commands): services called by code act for it."""
    return user is None or _may(user, region, roles)


def require(user: Any, region: Region, roles: frozenset[str]) -> None:
    if not may(user, region, roles):
        raise PermissionDenied


def own_household(user: Any, household: Household) -> bool:
    resident = villager_resident(user) if getattr(user, "is_authenticated", False) else None
    return resident is not None and resident.household_id == household.pk


def may_declare(user: Any, household: Household) -> bool:
    return own_household(user, household) or may(user, household.region, GRID_ROLES | COMMITTEE_ROLES)


def _paths_q(user: Any, field: str) -> Q:
    scope = scope_for(user)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    for path in scope.read_paths:
        # A grid worker's post is below the village: they see their village's rounds too.
        q |= Q(**{f"{field}__path__startswith": path})
        q |= Q(**{f"{field}__path": path[: len(path) - Region.steplen]})
    return q


def access_rounds(user: Any) -> QuerySet[StarRound]:
    return StarRound.objects.filter(_paths_q(user, "village"))


def access_ratings(user: Any) -> QuerySet[StarRating]:
    scope = scope_for(user)
    if scope.everything:
        return StarRating.objects.all()
    q = Q(pk__in=[])
    for path in scope.read_paths:
        q |= Q(household__region__path__startswith=path)
    if scope.household_ids:
        q |= Q(household_id__in=scope.household_ids)
    return StarRating.objects.filter(q)


def access_changes(user: Any) -> QuerySet[StarChange]:
    scope = scope_for(user)
    if scope.everything:
        return StarChange.objects.all()
    q = Q(pk__in=[])
    for path in scope.read_paths:
        q |= Q(household__region__path__startswith=path)
    if scope.household_ids:
        q |= Q(household_id__in=scope.household_ids)
    return StarChange.objects.filter(q)


def access_village(user: Any, code: str) -> Region:
    """A village the user works in or above (a grid worker reaches their grid's village)."""
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if village is None:
        raise Http404
    scope = scope_for(user)
    if scope.covers_path(village.path) or any(p.startswith(village.path) for p in scope.read_paths):
        return village
    raise Http404

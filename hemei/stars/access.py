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

from django.db.models import QuerySet
from django.http import Http404

from hemei.cases.access import villager_resident
from hemei.core.scope import (
    COMMITTEE_ROLES,
    GRID_ROLES,
    TOWNSHIP_ROLES,
    is_system,
    register_scoped,
    roles_over,
    scope_for,
)
from hemei.core.scope import may as core_may
from hemei.core.scope import require as core_require
from hemei.regions.models import Household, Level, Region
from hemei.stars.models import StarChange, StarRating, StarRound

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

# A round belongs to the village's shared life: its grids' staff read it too. Ratings and
# changes belong to a household: its grid, the village and above, and the household itself.
ROUNDS = register_scoped(StarRound, via="village__", village_wide=True,
                         actions={"manage": COMMITTEE_ROLES, "approve": TOWNSHIP_ROLES})
RATINGS = register_scoped(StarRating, via="household__region__", households="household_id")
CHANGES = register_scoped(StarChange, via="household__region__", households="household_id")


def may(user: Any, region: Region, roles: frozenset[str]) -> bool:
    """`hemei.core.scope.may` in this app's argument order: the system actor may, None and
    anonymous users may not."""
    return core_may(user, roles, region)


def require(user: Any, region: Region, roles: frozenset[str]) -> None:
    core_require(user, roles, region)


def own_household(user: Any, household: Household) -> bool:
    resident = villager_resident(user) if getattr(user, "is_authenticated", False) and not is_system(user) else None
    return resident is not None and resident.household_id == household.pk


def may_declare(user: Any, household: Household) -> bool:
    return own_household(user, household) or may(user, household.region, GRID_ROLES | COMMITTEE_ROLES)


def access_rounds(user: Any) -> QuerySet[StarRound]:
    return ROUNDS.queryset(user)


def access_ratings(user: Any) -> QuerySet[StarRating]:
    return RATINGS.queryset(user)


def access_changes(user: Any) -> QuerySet[StarChange]:
    return CHANGES.queryset(user)


def access_village(user: Any, code: str) -> Region:
    """A village the user works in or above (a grid worker reaches their grid's village)."""
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if village is None or not scope_for(user).reaches_village(village.path):
        raise Http404
    return village

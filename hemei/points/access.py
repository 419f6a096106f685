"""Who may do what with points, on top of the region scopes of `hemei.regions.access`.

- propose: grid workers and grid leaders for households of their grid (items open to grid
  workers), the village committee (secretary, director, committee members) for any item;
- review (approve / reject), correct, manage rules and the shop's catalogue: the committee;
- decide objections: the supervision committee (村务监督委员会, `Role.SUPERVISION`). Nobody
  decides an objection to an entry they proposed or reviewed themselves;
- the counter: the shop keeper and the committee;
- object: a villager (a villager post with a resident) of the entry's village.
Reads outside the scope are 404 (`access_*` querysets).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from hemei.points.models import Entry, Redemption, Reward
from hemei.regions.access import scope_for
from hemei.regions.models import Post, Region, Resident, Role

COMMITTEE_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR, Role.COMMITTEE})
GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
SHOP_ROLES = COMMITTEE_ROLES | {Role.SHOP_KEEPER}
SUPERVISION_ROLES = frozenset({Role.SUPERVISION})


def roles_over(user: Any, region: Region) -> frozenset[str]:
    """Roles of the user's current staff posts whose region contains `region`."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser:
        return frozenset(Role.values)
    cache: dict[str, frozenset[str]] = user.__dict__.setdefault("_points_roles", {})
    if region.path not in cache:
        posts = Post.objects.current().filter(user=user).exclude(role=Role.VILLAGER).select_related("region")
        cache[region.path] = frozenset(p.role for p in posts if region.path.startswith(p.region.path))
    return cache[region.path]


def may(user: Any, region: Region, roles: frozenset[str]) -> bool:
    return bool(roles_over(user, region) & roles)


def villager_resident(user: Any) -> Resident | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    post = (
        Post.objects.current()
        .filter(user=user, role=Role.VILLAGER, resident__isnull=False)
        .select_related("resident__household__village")
        .first()
    )
    return post.resident if post else None


def _village_q(user: Any, prefix: str) -> Q:
    scope = scope_for(user)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    for path in scope.read_paths:
        q |= Q(**{f"{prefix}region__path__startswith": path})
    if scope.household_ids:
        q |= Q(**{f"{prefix}pk__in": scope.household_ids})
    return q


def access_entries(user: Any) -> QuerySet[Entry]:
    return Entry.objects.filter(_village_q(user, "household__"))


def access_redemptions(user: Any) -> QuerySet[Redemption]:
    return Redemption.objects.filter(_village_q(user, "household__"))


def access_rewards(user: Any) -> QuerySet[Reward]:
    scope = scope_for(user)
    if scope.everything:
        return Reward.objects.all()
    q = Q(pk__in=[])
    for path in scope.read_paths:
        # A grid worker's path is below the village: they see their village's shop too.
        q |= Q(village__path__startswith=path) | Q(village__path=path[: len(path) - Region.steplen])
    resident = villager_resident(user)
    if resident is not None:
        q |= Q(village_id=resident.household.village_id)
    return Reward.objects.filter(q)

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

from hemei.core.scope import (
    COMMITTEE_ROLES,
    GRID_ROLES,
    SHOP_ROLES,
    SUPERVISION_ROLES,
    is_system,
    register_scoped,
    roles_over,
    scope_q,
)
from hemei.core.scope import may as core_may
from hemei.points.models import Entry, Redemption, Reward
from hemei.regions.models import Post, Region, Resident, Role

ENTRIES = register_scoped(Entry, via="household__region__", households="household_id")
REDEMPTIONS = register_scoped(Redemption, via="household__region__", households="household_id")
# The shop belongs to the village's shared life: its grids' staff read it too.
REWARDS = register_scoped(Reward, via="village__", village_wide=True)

__all__ = ["COMMITTEE_ROLES", "GRID_ROLES", "SHOP_ROLES", "SUPERVISION_ROLES", "roles_over"]


def may(user: Any, region: Region, roles: frozenset[str]) -> bool:
    """`hemei.core.scope.may` with the points apps' argument order (region, then roles)."""
    return core_may(user, roles, region)


def villager_resident(user: Any) -> Resident | None:
    if user is None or not getattr(user, "is_authenticated", False) or is_system(user):
        return None
    post = (
        Post.objects.current()
        .filter(user=user, role=Role.VILLAGER, resident__isnull=False)
        .select_related("resident__household__village")
        .first()
    )
    return post.resident if post else None


def access_entries(user: Any) -> QuerySet[Entry]:
    return ENTRIES.queryset(user)


def access_redemptions(user: Any) -> QuerySet[Redemption]:
    return REDEMPTIONS.queryset(user)


def access_rewards(user: Any) -> QuerySet[Reward]:
    """The shops of the user's villages; a villager reads their own village's shop."""
    q = scope_q(user, via="village__", village_wide=True)
    if q is None:
        return Reward.objects.all()
    resident = villager_resident(user)
    if resident is not None:
        q |= Q(village_id=resident.household.village_id)
    return Reward.objects.filter(q)

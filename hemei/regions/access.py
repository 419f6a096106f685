"""Who may see and change what: a user's posts define region subtrees; every read and
write of regional data goes through these functions.

An object outside the user's scope is reported as "not found" (404), never "forbidden",
so guessing ids reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import Scope, is_system, minimal_paths, paths_q, register_scoped, scope_for, scoped
from hemei.regions.models import Household, Level, Post, PostQuerySet, Region, Resident, Role

__all__ = ["Scope", "scope_for", "scoped"]


# The scope itself lives in core (one Scope for every app); these names stay importable here.
def require_staff_scope(user: Any) -> None:
    """Staff pages (workbench, roster) are for posts over regions; villagers get a 404."""
    if not scope_for(user).is_staff_scope:
        raise Http404


HOUSEHOLDS = register_scoped(Household, via="region__", households="pk")
RESIDENTS = register_scoped(Resident, via="region__", households="household_id")


def access_regions(user: Any, *, write: bool = False) -> QuerySet[Region]:
    """Regions the user may browse (or, with write, change): their subtrees, not ancestors;
    a villager reaches the grid of their household."""
    qs = scoped(Region.objects.all(), user, "", households="households", write=write)
    return qs.distinct() if scope_for(user).household_ids and not write else qs


def staff_villages(user: Any, *, limit: int = 500) -> list[Region]:
    """The villages the user works in or above (a grid worker's village is the grid's parent),
    in path order, in two queries whatever the scope: a grid's village is its path minus one
    step, so no ancestor lookup per grid (a province user has thousands)."""
    rows = access_regions(user).filter(level__in=[Level.VILLAGE, Level.GRID]).order_by("path")
    paths = {path if level == Level.VILLAGE else path[: len(path) - Region.steplen]
             for path, level in rows.values_list("path", "level")[:limit]}
    return list(Region.objects.filter(path__in=paths, level=Level.VILLAGE).order_by("path"))


def access_households(user: Any, *, write: bool = False) -> QuerySet[Household]:
    return HOUSEHOLDS.queryset(user, write=write)


def access_residents(user: Any, *, write: bool = False) -> QuerySet[Resident]:
    return RESIDENTS.queryset(user, write=write)


def access_household(user: Any, pk: int, *, write: bool = False) -> Household:
    try:
        return access_households(user, write=write).select_related("region", "village", "head").get(pk=pk)
    except (Household.DoesNotExist, ValueError, TypeError):
        if write and access_households(user).filter(pk=pk).exists():
            raise PermissionDenied from None
        raise Http404 from None


def access_resident(user: Any, pk: int, *, write: bool = False) -> Resident:
    try:
        return access_residents(user, write=write).select_related("household", "region").get(pk=pk)
    except (Resident.DoesNotExist, ValueError, TypeError):
        if write and access_residents(user).filter(pk=pk).exists():
            raise PermissionDenied from None
        raise Http404 from None


def access_region(user: Any, code: str, *, write: bool = False) -> Region:
    """A region by code, inside the user's subtrees."""
    scope = scope_for(user)
    region = Region.objects.filter(code=code).first()
    if region is None or not scope.covers_path(region.path):
        raise Http404
    if write and not scope.covers_path(region.path, write=True):
        raise PermissionDenied
    return region


def can_browse_audit(user: Any) -> bool:
    scope = scope_for(user)
    return scope.everything or Role.COUNTY_ADMIN in scope.roles


def audit_county_codes(user: Any) -> list[str] | None:
    """County codes whose audit rows the user may browse; None means all."""
    scope = scope_for(user)
    if scope.everything:
        return None
    posts = Post.objects.current().filter(user=user, role=Role.COUNTY_ADMIN).select_related("region")
    return sorted({p.region.code[:6] for p in posts})


# --- managing people and posts (hemei.regions.views_people) -----------------------------
#
# Who may give whom which post. A manager assigns only roles below their own authority,
# only inside the region of their managing post, and only at a level where the role is
# held. The same rule decides who may end a post, unlock an account or reset a password.

# What a village's secretary or director may hand out in the village and its grids.
VILLAGE_MANAGED_ROLES: frozenset[str] = frozenset(
    {
        Role.GRID_WORKER,
        Role.GRID_LEADER,
        Role.COMMITTEE,
        Role.SUPERVISION,
        Role.ACCOUNTANT,
        Role.SHOP_KEEPER,
        Role.CARE_WORKER,
        Role.VILLAGER,
    }
)
# Managing role → roles its holder may assign at or below the post's region.
MANAGED_ROLES: dict[str, frozenset[str]] = {
    Role.SECRETARY: VILLAGE_MANAGED_ROLES,
    Role.DIRECTOR: VILLAGE_MANAGED_ROLES,
    Role.TOWNSHIP_STAFF: VILLAGE_MANAGED_ROLES | {Role.SECRETARY, Role.DIRECTOR},
    Role.COUNTY_ADMIN: frozenset(Role.values) - {Role.COUNTY_ADMIN, Role.CITY_STAFF, Role.PROVINCE_STAFF},
}
# Region levels at which a role is held: a secretary serves a village, not a grid.
ROLE_LEVELS: dict[str, frozenset[str]] = {
    Role.VILLAGER: frozenset({Level.VILLAGE}),
    Role.GRID_WORKER: frozenset({Level.VILLAGE, Level.GRID}),
    Role.GRID_LEADER: frozenset({Level.VILLAGE, Level.GRID}),
    Role.SECRETARY: frozenset({Level.VILLAGE}),
    Role.DIRECTOR: frozenset({Level.VILLAGE}),
    Role.COMMITTEE: frozenset({Level.VILLAGE}),
    Role.SUPERVISION: frozenset({Level.VILLAGE}),
    Role.ACCOUNTANT: frozenset({Level.VILLAGE}),
    Role.SHOP_KEEPER: frozenset({Level.VILLAGE}),
    Role.CARE_WORKER: frozenset({Level.TOWNSHIP, Level.VILLAGE, Level.GRID}),
    Role.TOWNSHIP_STAFF: frozenset({Level.TOWNSHIP}),
    Role.COUNTY_DISPATCHER: frozenset({Level.COUNTY}),
    Role.COUNTY_ADMIN: frozenset({Level.COUNTY}),
    Role.CITY_STAFF: frozenset({Level.CITY}),
    Role.PROVINCE_STAFF: frozenset({Level.PROVINCE}),
}


@dataclass(frozen=True)
class ManagerGrant:
    """One managing post: the roles its holder may assign at or below `path`."""

    path: str
    roles: frozenset[str]


def manager_grants(user: Any) -> tuple[ManagerGrant, ...]:
    """The user's current managing posts, in path order, from the posts their scope has read
    (no query of its own: every staff page's menu asks). A superuser holds one grant over
    everything."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    if user.is_superuser:
        return (ManagerGrant("", frozenset(Role.values)),)
    if is_system(user):
        return ()
    return tuple(ManagerGrant(path, MANAGED_ROLES[role]) for path, role in scope_for(user).posts
                 if role in MANAGED_ROLES)


def can_manage_posts(user: Any) -> bool:
    """Whether the user sees the people pages at all."""
    return bool(manager_grants(user))


def manage_paths(user: Any) -> tuple[str, ...]:
    """Region subtrees whose posts the user manages ('' = everything)."""
    return minimal_paths({g.path for g in manager_grants(user)})


def roles_at(grants: tuple[ManagerGrant, ...], region: Region) -> frozenset[str]:
    """Roles the grants allow at this region: authority there, and a role held at its level."""
    roles: set[str] = set()
    for grant in grants:
        if region.path.startswith(grant.path):
            roles |= grant.roles
    return frozenset(r for r in roles if region.level in ROLE_LEVELS.get(r, ()))


def assignable_roles(user: Any, region: Region) -> frozenset[str]:
    """Roles the user may assign (and end) at this region; empty outside their scope."""
    return roles_at(manager_grants(user), region)


def access_managed_posts(user: Any) -> PostQuerySet:
    """Posts (current and ended) at regions the user manages."""
    paths = manage_paths(user)
    if "" in paths:
        return Post.objects.all()
    return Post.objects.filter(paths_q(paths, "region__"))


def access_managed_users(user: Any) -> QuerySet[Any]:
    """Accounts holding (or having held) a post the user manages. A superuser reaches every
    account; for everyone else an account without a post in scope does not exist."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.all()
    paths = manage_paths(user)
    if "" in paths:
        return users
    return users.filter(pk__in=access_managed_posts(user).values("user_id"))


def access_managed_user(user: Any, pk: Any) -> Any:
    try:
        return access_managed_users(user).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


# Roles independent of the village's own managers: the supervision committee (村务监督委员会)
# watches the secretary and the director, so only someone above the village (the township or
# the county) may set its members' passwords, or the supervised could take over the supervisor.
INDEPENDENT_OF_VILLAGE: frozenset[str] = frozenset({Role.SUPERVISION})


def _granted_above(grants: tuple[ManagerGrant, ...], region: Region, role: str) -> bool:
    """Whether a grant from a region strictly above `region` covers `role` there."""
    return any(
        role in g.roles and region.path.startswith(g.path) and len(g.path) < len(region.path) for g in grants
    )


def can_manage_account(manager: Any, target: Any, *, password: bool = False) -> bool:
    """Whether the manager may unlock (or, with password, set the password of) the account.

    1. The manager must have authority over every current post of the account: otherwise a
       director could take over the secretary's account, or a village secretary the account
       of someone who also serves elsewhere.
    2. Superuser and Django-admin accounts are left to superusers.
    3. Setting a password hands over everything the account may do, so the account may not
       hold a permission (e.g. revealing personal data) that the manager lacks, nor a role
       independent of the manager (`INDEPENDENT_OF_VILLAGE`) unless the manager is above it.
    """
    if not can_manage_posts(manager):
        return False
    if manager.is_superuser:
        return True
    if target.is_superuser or target.is_staff:
        return False
    if not access_managed_users(manager).filter(pk=target.pk).exists():
        return False
    grants = manager_grants(manager)
    for post in Post.objects.current().filter(user=target).select_related("region"):
        if post.role not in roles_at(grants, post.region):
            return False
        if password and post.role in INDEPENDENT_OF_VILLAGE and not _granted_above(grants, post.region, post.role):
            return False
    return not password or target.get_all_permissions() <= manager.get_all_permissions()

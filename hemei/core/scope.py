"""Who acts: the one definition of an acceptable actor for every service.

Every service takes `actor` and calls `require_actor(actor)` before it reads anything else.
A signed-in user is checked further against their scope by the app's access rules; the
explicit `SYSTEM` actor stands for code that acts on nobody's behalf (sweeps, the demo,
imports run by an operator, device ingestion). `None` and an anonymous user are refused
everywhere: a forgotten argument must never mean "no checks".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from hemei.regions.models import Role


class SystemActor:
    """The sentinel for work done by the system itself. It is not a user: audit rows record
    it by `label` with no user foreign key, and it passes every role check."""

    is_authenticated: Final = True
    is_active: Final = True
    is_superuser: Final = False
    pk: Final = None

    def __init__(self, label: str = "system") -> None:
        self.label = label

    def get_username(self) -> str:
        return self.label

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"SystemActor({self.label!r})"


SYSTEM: Final = SystemActor()


def system(label: str) -> SystemActor:
    """A system actor named for the audit log (e.g. `system("sweep")`, `system("demo")`)."""
    return SystemActor(label)


def is_system(actor: Any) -> bool:
    return isinstance(actor, SystemActor)


def require_actor(actor: Any) -> None:
    """Refuse `None` and anonymous or inactive users before a service does anything else."""
    if is_system(actor):
        return
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise PermissionDenied("no actor")


def user_of(actor: Any) -> Any:
    """The user row behind an actor, for `created_by`-style fields: None for a system actor."""
    return None if is_system(actor) else actor


# --- role sets: each name means one thing everywhere ------------------------------------
#
# Apps build their write rules from these sets; when two apps need different sets they use
# different names (the village committee never includes the accountant; the village's books
# do).

#: 村两委 as a deciding body: the party secretary, the director and the committee members.
COMMITTEE_ROLES: Final = frozenset({Role.SECRETARY, Role.DIRECTOR, Role.COMMITTEE})
#: The two who sign for the village: secretary and director (publish, schedules).
VILLAGE_LEADER_ROLES: Final = frozenset({Role.SECRETARY, Role.DIRECTOR})
#: Who keeps the village's books (asset register, contracts, disclosure texts): the
#: committee and the village accountant.
BOOKKEEPING_ROLES: Final = COMMITTEE_ROLES | {Role.ACCOUNTANT}
#: Finance entries and statements: the accountant with the secretary and the director.
FINANCE_ROLES: Final = VILLAGE_LEADER_ROLES | {Role.ACCOUNTANT}
#: Staff of a grid.
GRID_ROLES: Final = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
#: The points shop's counter.
SHOP_ROLES: Final = COMMITTEE_ROLES | {Role.SHOP_KEEPER}
#: 村务监督委员会.
SUPERVISION_ROLES: Final = frozenset({Role.SUPERVISION})
#: Township staff only (乡镇认定 of star households).
TOWNSHIP_ROLES: Final = frozenset({Role.TOWNSHIP_STAFF})
#: The levels above the village that review its decisions: township staff and the county
#: administrator (points pages read a wider, read-only `OVERSIGHT_ROLES` with the dispatcher).
UPPER_LEVEL_ROLES: Final = frozenset({Role.TOWNSHIP_STAFF, Role.COUNTY_ADMIN})
#: Staff of a city or a province: they read their counties' figures side by side and change
#: nothing below (not in WRITE_ROLES, in no app's write set).
CITY_PROVINCE_ROLES: Final = frozenset({Role.CITY_STAFF, Role.PROVINCE_STAFF})
#: Every role (a superuser or the system holds them all).
ALL_ROLES: Final = frozenset(Role.values)


# --- the scope of a user -----------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The data a user may reach. Built once per request from the user's current posts and
    cached on the user object. "Sees everything" is `everything=True`, and nothing else."""

    read_paths: tuple[str, ...] = ()
    write_paths: tuple[str, ...] = ()
    household_ids: frozenset[int] = frozenset()  # villagers: their own household
    everything: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    can_reveal: bool = False
    posts: tuple[tuple[str, str], ...] = ()  # (region path, role) of the current staff posts
    # "app_label.codename" of the user's own and groups' permissions, loaded with the scope in
    # one query, so that no check walks the groups (`has_permission`, templates' `perms`).
    permissions: frozenset[str] = frozenset()

    def has_permission(self, name: str) -> bool:
        return self.everything or name in self.permissions

    @property
    def is_staff_scope(self) -> bool:
        return self.everything or bool(self.read_paths)

    def covers_path(self, path: str, *, write: bool = False) -> bool:
        if self.everything:
            return True
        paths = self.write_paths if write else self.read_paths
        return any(path.startswith(p) for p in paths)

    def reaches_village(self, village_path: str) -> bool:
        """The one answer to "does a grid worker see the village?": a post at or above the
        village covers it; a post below it (one of its grids) reaches the village's own
        shared life (meetings, shop, star rounds, courtyard reviews) but not its books. Which
        of the two a model follows is declared once, in its `register_scoped(..., village_wide=)`."""
        return self.covers_path(village_path) or any(p.startswith(village_path) for p in self.read_paths)

    def roles_over(self, path: str) -> frozenset[str]:
        """Roles of the staff posts whose region contains the region at `path`."""
        if self.everything:
            return ALL_ROLES
        return frozenset(role for post_path, role in self.posts if path.startswith(post_path))


_NOBODY: Final = Scope()
_EVERYTHING: Final = Scope(everything=True, can_reveal=True, roles=frozenset({"superuser"}))


def minimal_paths(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path (keeps OR lists short)."""
    result: list[str] = []
    for p in sorted(paths, key=len):
        if not any(p.startswith(q) for q in result):
            result.append(p)
    return tuple(sorted(result))


def _permissions(user: Any) -> frozenset[str]:
    """The user's permissions, direct and through groups, in one query (Django's ModelBackend
    takes two and builds the set for every group on the first `has_perm`)."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    rows = (Permission.objects.filter(Q(user=user) | Q(group__user=user))
            .values_list("content_type__app_label", "codename").distinct())
    return frozenset(f"{app}.{codename}" for app, codename in rows)


def scope_for(user: Any) -> Scope:
    """The user's scope: nothing for None or anonymous users, everything for a superuser or
    the system actor, else the union of the current posts' subtrees."""
    if is_system(user):
        return _EVERYTHING
    if user is None or not user.is_authenticated or not user.is_active:
        return _NOBODY
    cached = getattr(user, "_hemei_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = _EVERYTHING
    else:
        from hemei.regions.models import WRITE_ROLES, Post

        read: set[str] = set()
        write: set[str] = set()
        households: set[int] = set()
        roles: set[str] = set()
        posts: list[tuple[str, str]] = []
        permissions = _permissions(user)
        for post in Post.objects.current().filter(user=user).select_related("region", "resident"):
            roles.add(post.role)
            if post.role == Role.VILLAGER:
                if post.resident is not None:
                    households.add(post.resident.household_id)
                continue
            posts.append((post.region.path, post.role))
            read.add(post.region.path)
            if post.role in WRITE_ROLES:
                write.add(post.region.path)
        scope = Scope(
            read_paths=minimal_paths(read),
            write_paths=minimal_paths(write),
            household_ids=frozenset(households),
            roles=frozenset(roles),
            can_reveal="regions.reveal_personal_data" in permissions,
            posts=tuple(sorted(posts)),
            permissions=permissions,
        )
    user._hemei_scope = scope
    return scope


def paths_q(paths: tuple[str, ...], via: str = "") -> Q:
    """Rows whose region (reached through `via`, e.g. "region__") lies under one of `paths`;
    no paths match nothing."""
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{via}path__startswith": p})
    return q


def scope_q(
    user: Any, *, via: str = "region__", households: str | None = None, village_wide: bool = False,
    write: bool = False,
) -> Q | None:
    """The filter of `scoped()`; None when the user sees everything.

    - `via`: the lookup prefix of the row's region field ("region__", "village__",
      "household__region__", "" for regions themselves);
    - `households`: the lookup of the row's household id ("household_id", "pk"): a villager
      then sees the rows of their own household;
    - `village_wide`: rows that belong to a village itself are also read by the staff of
      its grids (see `Scope.reaches_village`).
    """
    scope = scope_for(user)
    if scope.everything:
        return None
    paths = scope.write_paths if write else scope.read_paths
    q = paths_q(paths, via)
    if village_wide and not write:
        from hemei.regions.models import Level, Region

        for p in paths:
            parent = p[: len(p) - Region.steplen]
            if parent:
                q |= Q(**{f"{via}path": parent, f"{via}level": Level.VILLAGE})
    if households is not None and scope.household_ids and not write:
        q |= Q(**{f"{households}__in": scope.household_ids})
    return q


def scoped[M: Model](
    queryset: QuerySet[M], user: Any, via: str = "region__", *, households: str | None = None,
    village_wide: bool = False, write: bool = False,
) -> QuerySet[M]:
    """The one scope filter: `queryset` narrowed to what `user` may read (or write)."""
    q = scope_q(user, via=via, households=households, village_wide=village_wide, write=write)
    return queryset if q is None else queryset.filter(q)


def roles_over(user: Any, region: Any) -> frozenset[str]:
    """Roles the user holds over `region` (at it or above it). The system and a superuser
    hold every role; None and anonymous users none."""
    return scope_for(user).roles_over(region.path)


# --- may / require -----------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """How one scoped model is reached: the lookup prefix of its region, the roles of its
    named actions, and the options of `scope_q`."""

    model: type[Model]
    via: str
    households: str | None = None
    village_wide: bool = False
    actions: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def region_attr(self) -> str:
        """The attribute chain from an instance to its region ("village", "household.region")."""
        return ".".join(part for part in self.via.split("__")[:-1])

    def region_of(self, obj: Any) -> Any:
        region = obj
        for part in self.region_attr.split(".") if self.region_attr else ():
            region = getattr(region, part)
        return region

    def queryset(self, user: Any, *, write: bool = False) -> QuerySet[Any]:
        return scoped(self.model._default_manager.all(), user, self.via, households=self.households,
                      village_wide=self.village_wide, write=write)


REGISTRY: dict[type[Model], Registration] = {}


def register_scoped(
    model: type[Model], *, via: str, households: str | None = None, village_wide: bool = False,
    actions: Mapping[str, frozenset[str]] | None = None,
) -> Registration:
    """Declare a model's scope (called once, in its app's access.py). The persona matrix test
    walks this registry, so a model that belongs to a place must be registered here."""
    registration = Registration(model, via, households, village_wide, dict(actions or {}))
    REGISTRY[model] = registration
    return registration


def registration(model: type[Model] | Model) -> Registration:
    cls = model if isinstance(model, type) else type(model)
    return REGISTRY[cls]


def _region_and_roles(action: str | frozenset[str], obj: Any) -> tuple[Any, frozenset[str]]:
    from hemei.regions.models import Region

    if isinstance(obj, Region):
        if not isinstance(action, frozenset):
            raise TypeError("a region is checked against a role set, not a named action")
        return obj, action
    reg = registration(obj)
    roles = action if isinstance(action, frozenset) else reg.actions[action]
    return reg.region_of(obj), roles


def may(user: Any, action: str | frozenset[str], obj: Any) -> bool:
    """Whether `user` may do `action` to `obj`: a role set, or the name of an action of the
    object's registration, held over the object's region (a region itself takes a role set).
    The system actor may; None and anonymous users may not."""
    if is_system(user):
        return True
    region, roles = _region_and_roles(action, obj)
    return bool(roles_over(user, region) & roles)


def require(user: Any, action: str | frozenset[str], obj: Any) -> None:
    """`may` or PermissionDenied (None and anonymous users are refused first)."""
    require_actor(user)
    if not may(user, action, obj):
        raise PermissionDenied


def require_in_scope(user: Any, action: str | frozenset[str], obj: Any) -> None:
    """For pages: outside the user's read scope → 404 (ids reveal nothing); inside it without
    the role → 403."""
    region, _roles = _region_and_roles(action, obj)
    if not scope_for(user).covers_path(region.path):
        raise Http404
    require(user, action, obj)


def fetch(model: type[Model], user: Any, pk: Any) -> Any:
    """One row of a registered model by id, within the user's scope; else 404 (never 403:
    "not yours" and "does not exist" answer alike)."""
    try:
        return registration(model).queryset(user).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None

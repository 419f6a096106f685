"""Who may see and change what: a user's posts define region subtrees; every read and
write of regional data goes through these functions.

An object outside the user's scope is reported as "not found" (404), never "forbidden",
so guessing ids reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.regions.models import WRITE_ROLES, Household, Post, Region, Resident, Role


@dataclass(frozen=True)
class Scope:
    """The data a user may reach. Built once per request from the user's current posts."""

    read_paths: tuple[str, ...] = ()
    write_paths: tuple[str, ...] = ()
    household_ids: frozenset[int] = frozenset()  # villagers: their own household
    everything: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    can_reveal: bool = False

    @property
    def is_staff_scope(self) -> bool:
        return self.everything or bool(self.read_paths)

    def covers_path(self, path: str, *, write: bool = False) -> bool:
        if self.everything:
            return True
        paths = self.write_paths if write else self.read_paths
        return any(path.startswith(p) for p in paths)


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path (keeps OR lists short)."""
    result: list[str] = []
    for p in sorted(paths, key=len):
        if not any(p.startswith(q) for q in result):
            result.append(p)
    return tuple(sorted(result))


def scope_for(user: Any) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    cached = getattr(user, "_hemei_scope", None)
    if cached is not None:
        return cached
    can_reveal = user.has_perm("regions.reveal_personal_data")
    if user.is_superuser:
        scope = Scope(everything=True, can_reveal=True, roles=frozenset({"superuser"}))
    else:
        read: set[str] = set()
        write: set[str] = set()
        households: set[int] = set()
        roles: set[str] = set()
        for post in Post.objects.current().filter(user=user).select_related("region", "resident"):
            roles.add(post.role)
            if post.role == Role.VILLAGER:
                if post.resident is not None:
                    households.add(post.resident.household_id)
                continue
            read.add(post.region.path)
            if post.role in WRITE_ROLES:
                write.add(post.region.path)
        scope = Scope(
            read_paths=_minimal(read),
            write_paths=_minimal(write),
            household_ids=frozenset(households),
            roles=frozenset(roles),
            can_reveal=can_reveal,
        )
    user._hemei_scope = scope
    return scope


def _path_q(paths: tuple[str, ...], prefix: str) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{prefix}path__startswith": p})
    return q


def require_staff_scope(user: Any) -> None:
    """Staff pages (workbench, roster) are for posts over regions; villagers get a 404."""
    if not scope_for(user).is_staff_scope:
        raise Http404


def access_regions(user: Any, *, write: bool = False) -> QuerySet[Region]:
    """Regions the user may browse (or, with write, change): their subtrees, not ancestors."""
    scope = scope_for(user)
    qs = Region.objects.all()
    if scope.everything:
        return qs
    if write:
        return qs.filter(_path_q(scope.write_paths, ""))
    q = _path_q(scope.read_paths, "")
    if scope.household_ids:
        q |= Q(households__in=scope.household_ids)
    return qs.filter(q).distinct() if scope.household_ids else qs.filter(q)


def access_households(user: Any, *, write: bool = False) -> QuerySet[Household]:
    scope = scope_for(user)
    qs = Household.objects.all()
    if scope.everything:
        return qs
    paths = scope.write_paths if write else scope.read_paths
    regions = Region.objects.filter(_path_q(paths, "")).values("pk")
    q = Q(region__in=regions) if paths else Q(pk__in=[])
    if scope.household_ids and not write:
        q |= Q(pk__in=scope.household_ids)
    return qs.filter(q)


def access_residents(user: Any, *, write: bool = False) -> QuerySet[Resident]:
    scope = scope_for(user)
    qs = Resident.objects.all()
    if scope.everything:
        return qs
    paths = scope.write_paths if write else scope.read_paths
    regions = Region.objects.filter(_path_q(paths, "")).values("pk")
    q = Q(region__in=regions) if paths else Q(pk__in=[])
    if scope.household_ids and not write:
        q |= Q(household_id__in=scope.household_ids)
    return qs.filter(q)


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

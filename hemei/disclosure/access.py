"""Who may read and write disclosures and finance entries (scope is data, docs/access.md).

Reads follow the user's read subtrees: a village's items are seen by posts at the village or
above (a grid worker's grid lies below the village, so a grid worker sees none). Out of scope
is "not found" (404). Writes need a role at the village or above:
- write a disclosure: secretary, director, committee member, accountant;
- publish an approved version: secretary or director;
- review: a supervision committee member (村务监督委员会) of the village — or, only while the
  village has no current supervision post, township staff — and never the version's author;
- finance entries and statements: accountant, secretary, director;
- schedule settings: secretary, director, township staff, county administrator.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.disclosure.models import Disclosure, DisclosureVersion, FinanceEntry, ScheduleDue
from hemei.regions.access import _path_q, scope_for
from hemei.regions.models import Level, Post, Region, Role

AUTHOR_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR, Role.COMMITTEE, Role.ACCOUNTANT})
PUBLISH_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR})
FINANCE_ROLES = frozenset({Role.ACCOUNTANT, Role.SECRETARY, Role.DIRECTOR})
SCHEDULE_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR, Role.TOWNSHIP_STAFF, Role.COUNTY_ADMIN})
ALL = frozenset(Role.values)


def _posts(user: Any) -> tuple[tuple[str, str], ...]:
    """(region path, role) of the user's current posts, cached on the user (one query a request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    cached = getattr(user, "_hemei_disclosure_posts", None)
    if cached is None:
        cached = tuple(
            Post.objects.current().filter(user=user).exclude(role=Role.VILLAGER).values_list("region__path", "role")
        )
        user._hemei_disclosure_posts = cached
    return cached


def roles_at(user: Any, village: Region) -> frozenset[str]:
    """Roles the user holds at this village or above it."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return ALL
    return frozenset(role for path, role in _posts(user) if village.path.startswith(path))


def villages_for(user: Any, roles: frozenset[str]) -> QuerySet[Region]:
    """Villages where the user holds one of `roles` (at the village or above)."""
    qs = Region.objects.filter(level=Level.VILLAGE).order_by("code")
    if getattr(user, "is_superuser", False):
        return qs
    paths = tuple(path for path, role in _posts(user) if role in roles)
    return qs.filter(_path_q(paths, "")) if paths else qs.none()


def require_role(user: Any, village: Region, roles: frozenset[str]) -> None:
    """Outside the user's scope → 404; inside it without the role → 403."""
    if not scope_for(user).covers_path(village.path):
        raise Http404
    if not roles_at(user, village) & roles:
        raise PermissionDenied


def _village_q(user: Any, prefix: str = "village__") -> Q | None:
    scope = scope_for(user)
    if scope.everything:
        return None
    return _path_q(scope.read_paths, prefix) if scope.read_paths else Q(pk__in=[])


def access_disclosures(user: Any) -> QuerySet[Disclosure]:
    q = _village_q(user)
    qs = Disclosure.objects.all()
    return qs if q is None else qs.filter(q)


def access_disclosure(user: Any, pk: Any) -> Disclosure:
    try:
        return access_disclosures(user).select_related("village", "county").get(pk=pk)
    except (Disclosure.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_versions(user: Any) -> QuerySet[DisclosureVersion]:
    q = _village_q(user)
    qs = DisclosureVersion.objects.all()
    return qs if q is None else qs.filter(q)


def access_entries(user: Any) -> QuerySet[FinanceEntry]:
    q = _village_q(user)
    qs = FinanceEntry.objects.all()
    return qs if q is None else qs.filter(q)


def access_dues(user: Any) -> QuerySet[ScheduleDue]:
    q = _village_q(user)
    qs = ScheduleDue.objects.all()
    return qs if q is None else qs.filter(q)


def access_village(user: Any, code: str) -> Region:
    region = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if region is None or not scope_for(user).covers_path(region.path):
        raise Http404
    return region


def has_supervision(village: Region) -> bool:
    return Post.objects.current().filter(role=Role.SUPERVISION, region__level=Level.VILLAGE, region=village).exists()


def supervised_villages(village_ids: list[int]) -> set[int]:
    """Which of these villages have a current supervision post (one query for a whole list)."""
    posts = Post.objects.current().filter(role=Role.SUPERVISION, region_id__in=village_ids)
    return set(posts.values_list("region_id", flat=True))


def can_review(user: Any, version: DisclosureVersion, village: Region, supervised: set[int] | None = None) -> bool:
    if version.author_id is not None and version.author_id == getattr(user, "pk", None):
        return False  # nobody reviews their own text
    roles = roles_at(user, village)
    if Role.SUPERVISION in roles or getattr(user, "is_superuser", False):
        return True
    if Role.TOWNSHIP_STAFF not in roles:
        return False
    return village.pk not in supervised if supervised is not None else not has_supervision(village)

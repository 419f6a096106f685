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

from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import (
    ALL_ROLES,
    BOOKKEEPING_ROLES,
    FINANCE_ROLES,
    UPPER_LEVEL_ROLES,
    VILLAGE_LEADER_ROLES,
    paths_q,
    register_scoped,
    require_in_scope,
    roles_over,
    scope_for,
)
from hemei.disclosure.models import Disclosure, DisclosureVersion, FinanceEntry, ScheduleDue
from hemei.regions.models import Level, Post, Region, Role

AUTHOR_ROLES = BOOKKEEPING_ROLES
PUBLISH_ROLES = VILLAGE_LEADER_ROLES
SCHEDULE_ROLES = VILLAGE_LEADER_ROLES | UPPER_LEVEL_ROLES
ALL = ALL_ROLES

__all__ = ["FINANCE_ROLES", "roles_at"]

# A village's books: read by posts at the village or above (not by its grids).
DISCLOSURES = register_scoped(Disclosure, via="village__", actions={"write": AUTHOR_ROLES, "publish": PUBLISH_ROLES})
VERSIONS = register_scoped(DisclosureVersion, via="village__")
FINANCE_ENTRIES = register_scoped(FinanceEntry, via="village__", actions={"write": FINANCE_ROLES})
DUES = register_scoped(ScheduleDue, via="village__", actions={"write": SCHEDULE_ROLES})


def roles_at(user: Any, village: Region) -> frozenset[str]:
    """Roles the user holds at this village or above it."""
    return roles_over(user, village)


def villages_for(user: Any, roles: frozenset[str]) -> QuerySet[Region]:
    """Villages where the user holds one of `roles` (at the village or above)."""
    qs = Region.objects.filter(level=Level.VILLAGE).order_by("code")
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(paths_q(tuple(path for path, role in scope.posts if role in roles)))


def require_role(user: Any, village: Region, roles: frozenset[str]) -> None:
    """Outside the user's scope → 404; inside it without the role → 403."""
    require_in_scope(user, roles, village)


def access_disclosures(user: Any) -> QuerySet[Disclosure]:
    return DISCLOSURES.queryset(user)


def access_disclosure(user: Any, pk: Any) -> Disclosure:
    try:
        return access_disclosures(user).select_related("village", "county").get(pk=pk)
    except (Disclosure.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_versions(user: Any) -> QuerySet[DisclosureVersion]:
    return VERSIONS.queryset(user)


def access_entries(user: Any) -> QuerySet[FinanceEntry]:
    return FINANCE_ENTRIES.queryset(user)


def access_dues(user: Any) -> QuerySet[ScheduleDue]:
    return DUES.queryset(user)


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

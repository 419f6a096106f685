"""Who may see and change collective assets and revitalisation projects.

Reads follow the user's read subtrees at village level and above: the village committee sees
its village, township staff every village of the township, the county all of the county. A
grid worker's subtree lies below the village, so a grid worker sees no assets (the register is
the committee's, not the grid's). Out of scope is "not found" (404), never "forbidden".
Writes:
- assets (register, photos, status, import): secretary, director, committee members and the
  accountant of the village (村两委 + 村会计 keep the asset register);
- projects: the same at the village, and township staff (the township runs the "1" platform
  and may record a project of any of its villages, or one of its own).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from hemei.assets.models import Asset, AssetStatusChange, RevitalisationProject
from hemei.core.scope import BOOKKEEPING_ROLES, may, paths_q, register_scoped, require_in_scope, scope_for, scoped
from hemei.disclosure.access import roles_at, villages_for
from hemei.regions.models import Level, Region, Role

ASSET_ROLES = BOOKKEEPING_ROLES
PROJECT_ROLES = ASSET_ROLES | {Role.TOWNSHIP_STAFF}

__all__ = ["roles_at", "villages_for"]

# The asset register is the village's book: read at the village and above, not by its grids.
ASSETS = register_scoped(Asset, via="village__", actions={"write": ASSET_ROLES})
STATUS_CHANGES = register_scoped(AssetStatusChange, via="village__")
PROJECTS = register_scoped(RevitalisationProject, via="region__", actions={"write": PROJECT_ROLES})


def access_assets(user: Any) -> QuerySet[Asset]:
    return ASSETS.queryset(user)


def access_asset(user: Any, pk: Any) -> Asset:
    try:
        return access_assets(user).select_related("village", "county").get(pk=pk)
    except (Asset.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_status_changes(user: Any) -> QuerySet[AssetStatusChange]:
    return STATUS_CHANGES.queryset(user)


def access_projects(user: Any) -> QuerySet[RevitalisationProject]:
    return PROJECTS.queryset(user)


def access_project(user: Any, pk: Any) -> RevitalisationProject:
    try:
        return access_projects(user).select_related("region", "county", "decision_item").get(pk=pk)
    except (RevitalisationProject.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visible_villages(user: Any) -> QuerySet[Region]:
    """Villages whose assets the user may read (for the village filter)."""
    return scoped(Region.objects.filter(level=Level.VILLAGE).order_by("code"), user, "")


def access_village(user: Any, code: str) -> Region:
    region = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if region is None or not scope_for(user).covers_path(region.path):
        raise Http404
    return region


def may_edit(user: Any, village: Region) -> bool:
    return may(user, ASSET_ROLES, village)


def may_edit_project(user: Any, region: Region) -> bool:
    return may(user, PROJECT_ROLES, region)


def require_edit(user: Any, village: Region) -> None:
    """Outside the scope → 404; inside it without an asset role → 403."""
    require_in_scope(user, ASSET_ROLES, village)


def require_edit_project(user: Any, region: Region) -> None:
    require_in_scope(user, PROJECT_ROLES, region)


def project_regions(user: Any) -> QuerySet[Region]:
    """Villages and townships where the user may record a project."""
    qs = Region.objects.filter(level__in=[Level.VILLAGE, Level.TOWNSHIP]).order_by("code")
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(paths_q(tuple(path for path, role in scope.posts if role in PROJECT_ROLES)))

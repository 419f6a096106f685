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

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.assets.models import Asset, AssetStatusChange, RevitalisationProject
from hemei.disclosure.access import roles_at, villages_for
from hemei.regions.access import _path_q, scope_for
from hemei.regions.models import Level, Region, Role

ASSET_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR, Role.COMMITTEE, Role.ACCOUNTANT})
PROJECT_ROLES = ASSET_ROLES | {Role.TOWNSHIP_STAFF}

__all__ = ["roles_at", "villages_for"]


def _q(user: Any, prefix: str) -> Q | None:
    scope = scope_for(user)
    if scope.everything:
        return None
    return _path_q(scope.read_paths, prefix) if scope.read_paths else Q(pk__in=[])


def access_assets(user: Any) -> QuerySet[Asset]:
    q = _q(user, "village__")
    qs = Asset.objects.all()
    return qs if q is None else qs.filter(q)


def access_asset(user: Any, pk: Any) -> Asset:
    try:
        return access_assets(user).select_related("village", "county").get(pk=pk)
    except (Asset.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_status_changes(user: Any) -> QuerySet[AssetStatusChange]:
    q = _q(user, "village__")
    qs = AssetStatusChange.objects.all()
    return qs if q is None else qs.filter(q)


def access_projects(user: Any) -> QuerySet[RevitalisationProject]:
    q = _q(user, "region__")
    qs = RevitalisationProject.objects.all()
    return qs if q is None else qs.filter(q)


def access_project(user: Any, pk: Any) -> RevitalisationProject:
    try:
        return access_projects(user).select_related("region", "county", "decision_item").get(pk=pk)
    except (RevitalisationProject.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visible_villages(user: Any) -> QuerySet[Region]:
    """Villages whose assets the user may read (for the village filter)."""
    qs = Region.objects.filter(level=Level.VILLAGE).order_by("code")
    q = _q(user, "")
    return qs if q is None else qs.filter(q)


def access_village(user: Any, code: str) -> Region:
    region = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if region is None or not scope_for(user).covers_path(region.path):
        raise Http404
    return region


def may_edit(user: Any, village: Region) -> bool:
    return bool(roles_at(user, village) & ASSET_ROLES)


def may_edit_project(user: Any, region: Region) -> bool:
    return bool(roles_at(user, region) & PROJECT_ROLES)


def require_edit(user: Any, village: Region) -> None:
    """Outside the scope → 404; inside it without an asset role → 403."""
    if not scope_for(user).covers_path(village.path):
        raise Http404
    if not may_edit(user, village):
        raise PermissionDenied


def require_edit_project(user: Any, region: Region) -> None:
    if not scope_for(user).covers_path(region.path):
        raise Http404
    if not may_edit_project(user, region):
        raise PermissionDenied


def project_regions(user: Any) -> QuerySet[Region]:
    """Villages and townships where the user may record a project."""
    qs = Region.objects.filter(level__in=[Level.VILLAGE, Level.TOWNSHIP]).order_by("code")
    if getattr(user, "is_superuser", False):
        return qs
    from hemei.disclosure.access import _posts

    paths = tuple(path for path, role in _posts(user) if role in PROJECT_ROLES)
    return qs.filter(_path_q(paths, "")) if paths else qs.none()

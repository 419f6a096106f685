"""Reads of regional data, always through the user's scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from hemei.regions.access import access_households, access_regions, scope_for
from hemei.regions.models import Household, Level, Region, Resident


def household_search(
    user: Any, *, region: Region | None = None, include_sub: bool = True, q: str = ""
) -> QuerySet[Household]:
    """Households in scope, optionally inside one region, matching a search text.

    The text matches a member's name, pinyin initials (wxm), or the last four characters of
    an ID number or phone; a 户号 matches exactly.
    """
    qs = access_households(user)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path) if include_sub else qs.filter(region=region)
    q = q.strip()
    if q:
        members = Resident.objects.filter(household=OuterRef("pk"))
        if q.isascii() and q.isalpha():
            members = members.filter(name_initials__startswith=q.lower())
        elif q.isdigit() and len(q) == 4:
            members = members.filter(Q(id_tail=q) | Q(phone_tail=q))
        elif q.isascii() and len(q) == 4 and q[:3].isdigit() and q[3] in "xX":
            members = members.filter(id_tail=q.upper())
        else:
            members = members.filter(name__contains=q)
        qs = qs.filter(Exists(members) | Q(number=q))
    return qs.select_related("head", "region").order_by("region__code", "number", "pk")


@dataclass
class TreeNode:
    region: Region
    households: int = 0
    residents: int = 0
    children: list[TreeNode] = field(default_factory=list)


def region_tree(user: Any, *, max_depth_below: int = 3) -> list[TreeNode]:
    """The user's regions as a tree with derived household and resident counts.

    Counts are grouped by grid in two queries and rolled up in Python, so the tree costs the
    same number of queries whatever its size.
    """
    scope = scope_for(user)
    regions = list(access_regions(user).order_by("path"))
    if not regions:
        return []
    min_depth = min(r.depth for r in regions)
    regions = [r for r in regions if r.depth <= min_depth + max_depth_below or not scope.read_paths]
    households = dict(
        access_households(user).values_list("region_id").annotate(n=Count("pk")).values_list("region_id", "n")
    )
    residents = dict(
        Resident.objects.filter(household__in=access_households(user), status=Resident.Status.LIVING)
        .values_list("region_id").annotate(n=Count("pk")).values_list("region_id", "n")
    )
    by_path = {r.path: TreeNode(region=r) for r in regions}
    grid_paths = Region.objects.filter(pk__in=list(households) + list(residents)).values_list("pk", "path")
    totals_h: dict[str, int] = defaultdict(int)
    totals_r: dict[str, int] = defaultdict(int)
    step = Region.steplen
    for pk, path in grid_paths:
        # Roll each grid's figures up to every ancestor path: O(grids x depth).
        for end in range(step, len(path) + 1, step):
            totals_h[path[:end]] += households.get(pk, 0)
            totals_r[path[:end]] += residents.get(pk, 0)
    roots: list[TreeNode] = []
    for path, node in by_path.items():
        node.households = totals_h.get(path, 0)
        node.residents = totals_r.get(path, 0)
        parent = by_path.get(path[:-step])
        (parent.children if parent else roots).append(node)
    return roots


def region_counts(region: Region) -> dict[str, int]:
    """Derived counts for one region and below (no stored counters to drift)."""
    under = Region.objects.filter(path__startswith=region.path)
    return {
        "households": Household.objects.filter(region__in=under).count(),
        "residents": Resident.objects.filter(region__in=under, status=Resident.Status.LIVING).count(),
        "grids": under.filter(level=Level.GRID).count(),
    }

"""Reads of regional data, always through the user's scope."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext as _

from hemei.regions.access import access_households, access_regions, scope_for
from hemei.regions.models import Household, Level, Region, Resident


def with_village_names[M: Model](qs: QuerySet[M], field: str = "region") -> QuerySet[M]:
    """Each row with `village_name`: the name of the region above its `field` region (the
    village above a grid), from a subquery in the rows' own query, for the `place` filter
    (`{{ row.region|place:row.village_name }}`): a list asks no query per village, so it
    costs the same queries whatever villages (and whatever cache) its page meets."""
    path = OuterRef(f"{field}__path")
    parent = Region.objects.filter(path=Substr(path, 1, Length(path) - Region.steplen)).values("name")[:1]
    return qs.annotate(village_name=Subquery(parent))  # type: ignore[return-value]  # django-stubs: annotate widens


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
    # Grid id, not grid code: the (region, number) index then yields a page without sorting
    # the whole county (grids are created in code order by the demo and by imports).
    return qs.select_related("head", "region").order_by("region_id", "number", "pk")


@dataclass
class TreeNode:
    region: Region
    households: int = 0
    residents: int = 0
    children: list[TreeNode] = field(default_factory=list)


TREE_CACHE_SECONDS = 120


def region_tree(user: Any, *, max_depth_below: int = 2) -> list[TreeNode]:
    """The user's regions as a tree with derived household and resident counts.

    Counts are grouped by grid in two queries and rolled up the materialized path in Python,
    so the tree costs the same number of queries whatever its size. On a county of a million
    households the two GROUP BYs take seconds, so the per-grid figures are cached for two
    minutes per scope: the tree may lag a fresh import by that much, lists never do.
    """
    scope = scope_for(user)
    all_regions = list(access_regions(user).order_by("path"))
    if not all_regions:
        return []
    min_depth = min(r.depth for r in all_regions)
    shown = [r for r in all_regions if r.depth <= min_depth + max_depth_below or not scope.read_paths]
    key = "region-tree:" + hashlib.sha256(
        repr((scope.everything, scope.read_paths, sorted(scope.household_ids))).encode()
    ).hexdigest()
    per_grid: dict[int, tuple[int, int]] | None = cache.get(key)
    if per_grid is None:
        # Residents carry their household's grid (checked by `hemei verify`), so both counts
        # filter on the grid alone: no join from residents to households.
        regions_in_scope = access_regions(user).values("pk")
        households = dict(
            access_households(user).values_list("region_id").annotate(n=Count("pk")).values_list("region_id", "n")
        )
        residents = dict(
            Resident.objects.filter(region__in=regions_in_scope, status=Resident.Status.LIVING)
            .values_list("region_id").annotate(n=Count("pk")).values_list("region_id", "n")
        )
        if scope.household_ids:  # a villager's own household only
            residents = dict(
                Resident.objects.filter(household__in=scope.household_ids, status=Resident.Status.LIVING)
                .values_list("region_id").annotate(n=Count("pk")).values_list("region_id", "n")
            )
        per_grid = {pk: (households.get(pk, 0), residents.get(pk, 0)) for pk in set(households) | set(residents)}
        cache.set(key, per_grid, TREE_CACHE_SECONDS)
    path_of = {r.pk: r.path for r in all_regions}
    totals_h: dict[str, int] = defaultdict(int)
    totals_r: dict[str, int] = defaultdict(int)
    step = Region.steplen
    for pk, (n_households, n_residents) in per_grid.items():
        path = path_of.get(pk, "")
        # Roll each grid's figures up to every ancestor path: O(grids x depth).
        for end in range(step, len(path) + 1, step):
            totals_h[path[:end]] += n_households
            totals_r[path[:end]] += n_residents
    by_path = {r.path: TreeNode(region=r) for r in shown}
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


@dataclass(frozen=True)
class OversizedGrid:
    grid: Region
    households: int
    people: int

    def describe(self) -> str:
        return _("%(grid)s (%(code)s): %(h)d households, %(p)d people — a rural grid is about %(mh)d households, "
                 "at most %(mp)d people; consider splitting it.") % {
            "grid": self.grid.name, "code": self.grid.code, "h": self.households, "p": self.people,
            "mh": settings.HEMEI_GRID_MAX_HOUSEHOLDS, "mp": settings.HEMEI_GRID_MAX_PEOPLE}


def oversized_grids(under: Region | list[Region] | None = None) -> list[OversizedGrid]:
    """Grids over HEMEI_GRID_MAX_HOUSEHOLDS households or HEMEI_GRID_MAX_PEOPLE living residents
    (the rule: a natural village or about 300 households, at most 2,500 people), under `under`
    (one region or several: the posts of whoever reads the 待办 page) or everywhere. Two grouped
    queries and the grids', whatever the number of grids or regions."""
    households = Household.objects.all()
    residents = Resident.objects.filter(status=Resident.Status.LIVING)
    if under is not None:
        roots = [under] if isinstance(under, Region) else under
        if not roots:
            return []
        within = Q()
        for root in roots:
            within |= Q(region__path__startswith=root.path)
        households = households.filter(within)
        residents = residents.filter(within)
    by_h = dict(households.values_list("region_id").annotate(n=Count("id")).values_list("region_id", "n"))
    by_p = dict(residents.values_list("region_id").annotate(n=Count("id")).values_list("region_id", "n"))
    over = {pk for pk, n in by_h.items() if n > settings.HEMEI_GRID_MAX_HOUSEHOLDS}
    over |= {pk for pk, n in by_p.items() if n > settings.HEMEI_GRID_MAX_PEOPLE}
    grids = Region.objects.filter(pk__in=over, level=Level.GRID).order_by("path")
    return [OversizedGrid(g, by_h.get(g.pk, 0), by_p.get(g.pk, 0)) for g in grids]

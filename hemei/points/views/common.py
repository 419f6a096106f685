"""What the points pages share: the villages a user works in or oversees, the village a page
is about, and the small helpers every form uses (idempotency keys, error text)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse

from hemei.core.parsing import picked
from hemei.core.scope import paths_q
from hemei.core.xlsx import xlsx_response
from hemei.points.access import (
    COMMITTEE_ROLES,
    GRID_ROLES,
    may,
    villager_resident,
)
from hemei.points.models import (
    Entry,
    RuleItem,
    RuleSet,
)
from hemei.regions.access import require_staff_scope, scope_for, staff_villages
from hemei.regions.models import Level, Post, Region, Role

E = Entry.State
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _quantity(sent: dict[str, Any]) -> int:
    """How many of a reward, as the form read it (`QuantityField`: 1 when not given);
    ValueError for anything but a sane whole number, which the views answer like any other
    bad form."""
    quantity = sent.get("quantity")
    if not isinstance(quantity, int):
        raise ValueError(quantity)
    return quantity


def _key() -> str:
    return uuid.uuid4().hex


def _resident(request: HttpRequest) -> Any:
    resident = villager_resident(request.user)
    if resident is None:
        raise Http404
    return resident


def _staff_villages(request: HttpRequest) -> list[Region]:
    return staff_villages(request.user)


# Township and county staff read a village's rules and shop figures (oversight), never write.
OVERSIGHT_ROLES = frozenset({Role.TOWNSHIP_STAFF, Role.COUNTY_DISPATCHER, Role.COUNTY_ADMIN})


def _roles_in_village(user: Any, village: Region) -> frozenset[str]:
    """Roles of the user's current staff posts over the village or inside it (a grid worker's
    post is at a grid of the village), in one query."""
    if user.is_superuser:
        return frozenset(Role.values)
    posts = Post.objects.current().filter(user=user).exclude(role=Role.VILLAGER).select_related("region")
    return frozenset(
        p.role for p in posts if village.path.startswith(p.region.path) or p.region.path.startswith(village.path)
    )


def proposable_items(user: Any, village: Region, items: list[RuleItem]) -> list[RuleItem]:
    """The items this user may propose (the same rule as `ledger._check_proposal`): the
    committee any item, grid workers and leaders only items open to grid workers."""
    roles = _roles_in_village(user, village)
    if roles & COMMITTEE_ROLES:
        return items
    if roles & GRID_ROLES:
        return [i for i in items if i.proposer == RuleItem.Proposer.GRID]
    return []


def _overseen_villages(request: HttpRequest) -> list[Region]:
    """Villages with points rules that township / county staff oversee: one query for the
    posts, one for the villages (a county has hundreds)."""
    user: Any = request.user
    posts = list(
        Post.objects.current().filter(user=user, role__in=OVERSIGHT_ROLES).select_related("region")
    )
    if not posts and not user.is_superuser:
        return []
    # Villages with rules first; the others still open (a township whose villages have no
    # rules yet sees that, not a 404).
    qs = Region.objects.filter(level=Level.VILLAGE).annotate(
        has_rules=Exists(RuleSet.objects.filter(village_id=OuterRef("pk")))
    )
    if not user.is_superuser:
        qs = qs.filter(paths_q(tuple(post.region.path for post in posts)))
    return list(qs.order_by("-has_rules", "path")[:500])


def _whole_village(request: HttpRequest, code: str) -> Region:
    """A village the user reads as a whole (committee, shop keeper, township, county); a grid
    worker reads only their grid, and anyone else gets a 404."""
    require_staff_scope(request.user)
    scope = scope_for(request.user)
    villages = _staff_villages(request)
    village = next((v for v in villages if v.code == code), None) if code else (villages[0] if villages else None)
    if village is None or not scope.covers_path(village.path):
        raise Http404
    return village


def _choose(request: HttpRequest, roles: frozenset[str]) -> tuple[Region, list[Region]]:
    require_staff_scope(request.user)
    villages = [v for v in _staff_villages(request) if may(request.user, v, roles)]
    code = picked(request, "village")
    village = next((v for v in villages if v.code == code), None) if code else (villages[0] if villages else None)
    if village is None:
        raise Http404
    return village, villages


def _xlsx(data: bytes, name: str) -> HttpResponse:
    return xlsx_response(data, name)

"""Who may see and do what with courtyard reviews.

- see an event: staff whose scope covers the village (a grid worker's grid is inside it, so
  they see their village's reviews too), township and county staff above it, and the
  event's own panel members. Everyone else gets a 404 (ids cannot be probed);
- create, edit, open, close and award: the village committee (secretary, director, members);
- score: the event's panel members only;
- the panel is drawn from staff with a current post in the village (or one of its grids) or
  in its township.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.core.scope import COMMITTEE_ROLES, is_system, may, paths_q, register_scoped, scope_for, scope_q
from hemei.courtyard.models import ReviewEvent
from hemei.regions.models import Post, Region, Role

# A review belongs to the village's shared life: its grids' staff read it too.
EVENTS = register_scoped(ReviewEvent, via="village__", village_wide=True, actions={"manage": COMMITTEE_ROLES})


def access_events(user: Any) -> QuerySet[ReviewEvent]:
    """The events of the user's scope, and the events whose panel the user sits on."""
    q = scope_q(user, via="village__", village_wide=True)
    if q is None:
        return ReviewEvent.objects.all()
    if getattr(user, "is_authenticated", False) and not is_system(user):
        q |= Q(pk__in=ReviewEvent.panel.through.objects.filter(user_id=user.pk).values("reviewevent_id"))
    return ReviewEvent.objects.filter(q)


def access_event(user: Any, pk: int) -> ReviewEvent:
    event = access_events(user).select_related("village").filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


def household_limit(user: Any, event: ReviewEvent) -> Q | None:
    """None when the user sees every household of the event (staff whose scope covers the
    village, and panel members, who visit them all); else the households of the user's own
    subtrees — a grid worker sees the review of their village but never another grid's
    households."""
    scope = scope_for(user)
    if scope.everything or scope.covers_path(event.village.path):
        return None
    if event.panel.filter(pk=getattr(user, "pk", None) or 0).exists():
        return None
    return paths_q(scope.read_paths, "region__")


def is_committee(user: Any, village: Region) -> bool:
    return may(user, COMMITTEE_ROLES, village)


def panel_candidates(village: Region) -> QuerySet[Any]:
    """Active users with a current staff post in the village, its grids or its township."""
    township = Region.objects.get_parent(village)
    region_q = Q(region__path__startswith=village.path)
    if township is not None:
        region_q |= Q(region=township)
    posts = Post.objects.current().exclude(role=Role.VILLAGER).filter(region_q)
    return get_user_model().objects.filter(pk__in=posts.values("user_id"), is_active=True).order_by("username")

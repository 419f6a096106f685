"""Who may read which meetings (ARCHITECTURE rule 2): staff whose posts cover the village
(the village and above, or one of its grids: a grid worker reads their village's meetings but
may not record them). Out of scope is 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from hemei.meetings.models import AgendaItem, Meeting
from hemei.regions.access import scope_for


def access_meetings(user: Any) -> QuerySet[Meeting]:
    from hemei.regions.models import Region

    scope = scope_for(user)
    qs = Meeting.objects.all()
    if scope.everything:
        return qs
    if not scope.read_paths:
        return qs.none()
    # A grid post's parent path is its village: a grid worker reads their village's meetings.
    q = Q(pk__in=[])
    for p in scope.read_paths:
        q |= Q(region__path__startswith=p)
        parent = p[: len(p) - Region.steplen]
        if parent:
            q |= Q(region__path=parent, region__level="village")
    return qs.filter(q)


def access_meeting(user: Any, pk: int) -> Meeting:
    try:
        return access_meetings(user).select_related("region", "county").get(pk=pk)
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_item(user: Any, pk: int) -> AgendaItem:
    try:
        return (
            AgendaItem.objects.filter(meeting__in=access_meetings(user))
            .select_related("meeting__region", "case")
            .get(pk=pk)
        )
    except (AgendaItem.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_record(user: Any, meeting_region_path: str) -> bool:
    return scope_for(user).covers_path(meeting_region_path, write=True)

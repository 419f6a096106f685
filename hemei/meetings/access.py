"""Who may read which meetings (ARCHITECTURE rule 2): staff whose posts cover the village
(the village and above, or one of its grids: a grid worker reads their village's meetings but
may not record them). Out of scope is 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import register_scoped, scope_for
from hemei.meetings.models import AgendaItem, Meeting

# Meetings are the village's shared life: its grids' staff read them (but do not record).
MEETINGS = register_scoped(Meeting, via="region__", village_wide=True)
ITEMS = register_scoped(AgendaItem, via="meeting__region__", village_wide=True)


def access_meetings(user: Any) -> QuerySet[Meeting]:
    return MEETINGS.queryset(user)


def access_meeting(user: Any, pk: int) -> Meeting:
    try:
        return access_meetings(user).select_related("region", "county").get(pk=pk)
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_item(user: Any, pk: int) -> AgendaItem:
    try:
        return (
            ITEMS.queryset(user)
            .select_related("meeting__region", "case")
            .get(pk=pk)
        )
    except (AgendaItem.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_record(user: Any, meeting_region_path: str) -> bool:
    return scope_for(user).covers_path(meeting_region_path, write=True)

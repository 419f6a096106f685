"""`{% case_meetings case as m %}`: what the "put to a meeting" box on the staff case page
needs, without the case view knowing about meetings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from hemei.cases.deliberation import TABLEABLE
from hemei.meetings.models import AgendaItem, Meeting
from hemei.regions.models import Region

register = template.Library()
RECENT_DAYS = 60


@register.simple_tag
def case_meetings(case: Any) -> dict[str, Any]:
    items = list(AgendaItem.objects.filter(case=case).select_related("meeting").order_by("meeting__held_at", "id"))
    pending = any(not i.is_decided for i in items)
    meetings: list[Meeting] = []
    if case.status in TABLEABLE and not pending:
        since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
        # The case's village is the case's region or one of its ancestors (path prefixes).
        path, step = case.region.path, Region.steplen
        meetings = list(
            Meeting.objects.filter(held_at__gte=since, region__level="village")
            .filter(region__path__in=[path[:i] for i in range(step, len(path) + 1, step)])
            .order_by("held_at")[:20]
        )
    return {
        "items": items,
        "meetings": meetings,
        "can_table": bool(meetings),
        "tableable": case.status in TABLEABLE and not pending,
    }

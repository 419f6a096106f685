"""The disclosure sweeper: `hemei sweep` refreshes each village's schedule and moves every
publication that is late one tier up (village → township → county), once per deadline
(`hemei.disclosure.schedules`)."""

from __future__ import annotations

import datetime as dt

from hemei.core.sweeps import NEXT_TIER, Escalation, escalate_each, sweep_time, sweeper
from hemei.disclosure.models import ScheduleDue
from hemei.disclosure.schedules import escalate, schedule_refresh


@sweeper("disclosure")
def sweep(now: dt.datetime | None = None) -> list[Escalation]:
    now = sweep_time(now)
    schedule_refresh(now)
    late = ScheduleDue.objects.filter(fulfilled_at__isnull=True, due_at__lte=now, tier__in=list(NEXT_TIER))
    return escalate_each(late.order_by("due_at", "pk").values_list("pk", flat=True), escalate, now)

"""The rollup sweeper: refresh the open periods' summaries, at most every
``HEMEI_ROLLUP_EVERY`` seconds (default 300), and the `hemei verify` check that the
incremental rows equal a rebuild."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from hemei.core.sweeps import Escalation, sweeper
from hemei.core.verify import invariant
from hemei.indicators import rollup
from hemei.indicators.models import RollupState


def every() -> int:
    return int(getattr(settings, "HEMEI_ROLLUP_EVERY", 300))


@sweeper("indicators")
def sweep_rollup(now: dt.datetime) -> list[Escalation]:
    state = RollupState.objects.filter(name="default").first()
    if state and state.refreshed_at and (now - state.refreshed_at).total_seconds() < every():
        return []
    rollup.refresh(now=now)
    return []


@invariant("indicator-rollup")
def check_rollup() -> list[str]:
    """Facts and summaries equal what `hemei rollup --rebuild` would write."""
    return rollup.differences()

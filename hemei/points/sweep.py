"""The publicity sweeper: `hemei sweep` makes entries effective when their publicity is over.

It is not an escalation, so it returns no `Escalation` rows (the command's output lists
escalations only); the count goes to the audit log. Exactly once and concurrency-safe via the
chain head lock (`hemei.points.ledger.publicity_sweep`).
"""

from __future__ import annotations

import datetime as dt

from hemei.core.sweeps import Escalation, sweeper
from hemei.points.ledger import publicity_sweep
from hemei.points.reset import reset_sweep


@sweeper("points-publicity")
def sweep_publicity(now: dt.datetime) -> list[Escalation]:
    publicity_sweep(now)
    return []


@sweeper("points-reset")
def sweep_reset(now: dt.datetime) -> list[Escalation]:
    # Runs after "points-publicity" (sweepers run in name order). Not an escalation.
    reset_sweep(now)
    return []

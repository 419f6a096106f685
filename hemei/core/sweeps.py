"""The shared deadline mechanism: one `hemei sweep` for every kind of deadline.

Cases, return-to-poverty monitoring steps and disclosure schedules all have deadlines that,
when missed, climb one tier (village → township → county). Each app registers one sweeper
function with `@sweeper("name")`; `sweep_all(now)` runs them all in a fixed order. Each
sweeper must be idempotent and safe to run from several processes at once, which
`claim_once()` gives: a conditional UPDATE on the row as it was read, acted on only by the
process whose update changed exactly one row (ARCHITECTURE rule 6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    """Where an item is being supervised. A missed deadline moves it one step up."""

    VILLAGE = "village", _("village")
    TOWNSHIP = "township", _("township")
    COUNTY = "county", _("county")


NEXT_TIER: dict[str, str] = {Tier.VILLAGE: Tier.TOWNSHIP, Tier.TOWNSHIP: Tier.COUNTY}


@dataclass(frozen=True)
class Escalation:
    """One missed deadline acted on: what (`kind`, `ref`), which deadline, and the tiers."""

    kind: str  # "case", "monitoring", "disclosure", ...
    ref: str  # a public number or a short label for the command's output
    deadline: str  # e.g. "accept", "resolve", "verify", "publish"
    from_tier: str
    to_tier: str


Sweeper = Callable[[dt.datetime], Sequence[Escalation]]
SWEEPERS: dict[str, Sweeper] = {}


def sweeper(name: str) -> Callable[[Sweeper], Sweeper]:
    """Register `fn(now) -> [Escalation]` under `name` (import the module in AppConfig.ready)."""

    def register(fn: Sweeper) -> Sweeper:
        SWEEPERS[name] = fn
        return fn

    return register


def claim_once(model: type[models.Model], pk: Any, *, expect: dict[str, Any], update: dict[str, Any]) -> bool:
    """Apply `update` to row `pk` only if it still matches `expect`; True for the one caller
    whose update changed the row. On PostgreSQL a concurrent UPDATE waits for the first to
    commit and then re-checks the WHERE clause, so the loser matches nothing."""
    return model._default_manager.filter(pk=pk, **expect).update(**update) == 1


def sweep_time(now: dt.datetime | None) -> dt.datetime:
    """The moment a sweep acts as of: `now`, or the current time; a naive time is refused
    (deadlines are compared as instants)."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("sweep needs a timezone-aware time")
    return now


def escalate_each(ids: Iterable[Any], escalate: Callable[[Any, dt.datetime], Escalation | None],
                  now: dt.datetime) -> list[Escalation]:
    """`escalate(pk, now)` for each late row (each claims its row with `claim_once` in its own
    transaction); the escalations that happened, in order."""
    return [done for pk in ids if (done := escalate(pk, now)) is not None]


def sweep_all(now: dt.datetime | None = None, *, only: Sequence[str] = ()) -> list[Escalation]:
    """Run every registered sweeper (or those named in `only`) as of `now`."""
    now = sweep_time(now)
    done: list[Escalation] = []
    for name in sorted(SWEEPERS):
        if only and name not in only:
            continue
        done.extend(SWEEPERS[name](now))
    return done

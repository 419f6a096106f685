"""The schedule rule of 三会一课: which organisations owe which kind of session, how often, and
the periods (calendar months, quarters or ISO weeks, in local time) it is counted in.

The rule is a setting (`HEMEI_PARTY_SCHEDULE`, kind → "month" / "quarter" / "week") read on
every call, so a deployment (or a test) can change it; kinds without an entry have no rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from django.conf import settings
from django.utils import timezone

from hemei.party.models import BranchKind, SessionKind

PERIODS: Final = ("week", "month", "quarter")
DEFAULT_SCHEDULE: Final[dict[str, str]] = {
    SessionKind.ASSEMBLY: "quarter",
    SessionKind.COMMITTEE: "month",
    SessionKind.GROUP: "month",
    SessionKind.LECTURE: "quarter",
    SessionKind.THEME_DAY: "month",
}
# Which organisations hold which kind: the 党小组会 is a group's own; the 支部 meetings belong to
# a 党支部 (a 党总支 holds its own committee and assembly too); classes and study anyone.
HELD_BY: Final[dict[str, frozenset[str]]] = {
    SessionKind.ASSEMBLY: frozenset({BranchKind.BRANCH, BranchKind.GENERAL}),
    SessionKind.COMMITTEE: frozenset({BranchKind.BRANCH, BranchKind.GENERAL}),
    SessionKind.GROUP: frozenset({BranchKind.GROUP}),
    SessionKind.LECTURE: frozenset({BranchKind.BRANCH, BranchKind.GENERAL}),
    SessionKind.THEME_DAY: frozenset({BranchKind.BRANCH, BranchKind.GENERAL}),
    SessionKind.MICRO: frozenset(BranchKind.values),
    SessionKind.STUDY: frozenset(BranchKind.values),
}
# The schedule applies to the organisations that do the everyday work: 党支部 and 党小组 (a
# 党总支's own meetings are not checked; its branches' are).
CHECKED_BRANCH_KINDS: Final = frozenset({BranchKind.BRANCH, BranchKind.GROUP})


def schedule() -> dict[str, str]:
    """kind → period of the rule in force; unknown kinds and periods are refused loudly (a
    typing error in the setting must not silently switch a rule off)."""
    configured = getattr(settings, "HEMEI_PARTY_SCHEDULE", DEFAULT_SCHEDULE)
    for kind, period in configured.items():
        if kind not in SessionKind.values:
            raise ValueError(f"HEMEI_PARTY_SCHEDULE: unknown session kind {kind!r}")
        if period and period not in PERIODS:
            raise ValueError(f"HEMEI_PARTY_SCHEDULE: unknown period {period!r} for {kind}")
    return {kind: period for kind, period in configured.items() if period}


def may_hold(branch_kind: str, session_kind: str) -> bool:
    return branch_kind in HELD_BY.get(session_kind, frozenset())


def rules_for(branch_kind: str) -> dict[str, str]:
    """The kinds (and their periods) an organisation of `branch_kind` is checked for."""
    if branch_kind not in CHECKED_BRANCH_KINDS:
        return {}
    return {kind: period for kind, period in schedule().items() if may_hold(branch_kind, kind)}


def period_of(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The period (first day, last day) that contains `day`."""
    if period == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if period == "month":
        start = day.replace(day=1)
    elif period == "quarter":
        start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    else:
        raise ValueError(period)
    months = 1 if period == "month" else 3
    month = start.month - 1 + months
    following = dt.date(start.year + month // 12, month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def end_moment(last_day: dt.date) -> dt.datetime:
    """The instant a period ends: midnight after its last day, local time."""
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def completed_periods(
    period: str, *, since: dt.date, now: dt.datetime, lookback_days: int,
) -> list[tuple[dt.date, dt.date]]:
    """The periods of `period` that ended before `now`, began on or after `since` (a branch
    founded mid-period owes nothing for it) and ended within the look-back; oldest first."""
    today = timezone.localdate(now)
    floor = today - dt.timedelta(days=lookback_days)
    found: list[tuple[dt.date, dt.date]] = []
    start, _end = period_of(today, period)
    while True:
        start, end = period_of(start - dt.timedelta(days=1), period)
        if start < since or end < floor:
            break
        found.append((start, end))
    return found[::-1]


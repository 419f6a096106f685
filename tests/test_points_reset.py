"""The reset at the end of a redemption period (rules saying "reset", not carry-over): run by
`hemei sweep`, exactly once at the boundary, through the ledger, never below zero."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.management import call_command

from hemei.core.models import ChainHead
from hemei.core.scope import SYSTEM
from hemei.core.verify import run_all
from hemei.points import ledger
from hemei.points.export import ledger_entries
from hemei.points.models import Account, Entry, RuleSet
from hemei.points.reset import last_boundary, reset_sweep
from hemei.points.testing import Adopted, adopted_rules
from hemei.regions.models import Household
from tests.conftest import World, at

BOUNDARY = at(2026, 10, 1, 0)  # local midnight starting 2026Q4


def score(pts: Adopted, household: Household, code: str, day: dt.date, key: str, *, effective: bool = True) -> Entry:
    when = at(day.year, day.month, day.day, 12)
    entry = ledger.entry_propose(
        actor=SYSTEM, household=household, item=pts.rule(code), deed_date=day, idempotency_key=key, at=when
    )
    entry = ledger.entry_review(actor=SYSTEM, entry=entry, approve=True, idempotency_key=f"{key}r", at=when)
    if effective:
        ledger.publicity_sweep(when + dt.timedelta(days=8))
    return Entry.objects.get(pk=entry.pk)


def points_clean() -> None:
    problems = {k: v for k, v in run_all().items() if k.startswith("points")}
    assert all(not v for v in problems.values()), problems


def balance(h: Household) -> int:
    return Account.objects.get(household=h).balance


def test_reset_posts_once_exactly_at_the_boundary_and_never_below_zero(world: World) -> None:
    pts = adopted_rules(actor=SYSTEM, village=world.village, held_at=at(2026, 9, 1), after_redemption="reset")
    score(pts, world.house_a, "G1", dt.date(2026, 9, 2), "a1")
    score(pts, world.house_b, "G1", dt.date(2026, 9, 2), "b1")
    # B has a deduction pending (reserved): the reset leaves those 5 points so it can still take effect.
    ledger.entry_propose(
        actor=SYSTEM, household=world.house_b, item=pts.rule("K1"), deed_date=dt.date(2026, 9, 20),
        idempotency_key="b2", at=at(2026, 9, 20),
    )
    assert (balance(world.house_a), balance(world.house_b)) == (10, 10)
    head_before = ChainHead.objects.get(chain="points", village=world.village).length

    with time_machine.travel(BOUNDARY - dt.timedelta(seconds=1), tick=False):
        call_command("sweep", "--now", (BOUNDARY - dt.timedelta(seconds=1)).isoformat())
    assert not Entry.objects.filter(kind=Entry.Kind.RESET).exists()

    with time_machine.travel(BOUNDARY, tick=False):
        call_command("sweep", "--now", BOUNDARY.isoformat())
    resets = {e.household_id: e for e in Entry.objects.filter(kind=Entry.Kind.RESET)}
    assert set(resets) == {world.house_a.pk, world.house_b.pk}
    assert resets[world.house_a.pk].points == -10 and resets[world.house_b.pk].points == -5
    assert all(e.state == Entry.State.EFFECTIVE and e.period == "2026Q3" and e.sequence for e in resets.values())
    assert (balance(world.house_a), balance(world.house_b)) == (0, 5)
    assert ChainHead.objects.get(chain="points", village=world.village).length == head_before + 2
    assert RuleSet.objects.get(village=world.village).reset_done_period == "2026Q3"
    # The ledger export by month finds them in September (their deed date: the period's last day).
    assert set(resets.values()) <= set(ledger_entries(world.village, "2026-09", "2026-09"))
    assert not set(resets.values()) & set(ledger_entries(world.village, "2026-10", "2026-10"))

    # Again, later in the same quarter: nothing more (and the reset_done marker is not the only guard).
    RuleSet.objects.filter(village=world.village).update(reset_done_period="")
    with time_machine.travel(BOUNDARY + dt.timedelta(hours=5), tick=False):
        call_command("sweep", "--now", (BOUNDARY + dt.timedelta(hours=5)).isoformat())
    assert Entry.objects.filter(kind=Entry.Kind.RESET).count() == 2
    assert (balance(world.house_a), balance(world.house_b)) == (0, 5)
    points_clean()


def test_carry_over_villages_are_not_reset_and_late_points_belong_to_the_new_period(world: World) -> None:
    carry = adopted_rules(actor=SYSTEM, village=world.village2, held_at=at(2026, 9, 1))
    score(carry, world.house_c, "G1", dt.date(2026, 9, 2), "c1")
    pts = adopted_rules(actor=SYSTEM, village=world.village, held_at=at(2026, 9, 1), after_redemption="reset")
    score(pts, world.house_a, "G1", dt.date(2026, 9, 2), "a1")
    # Approved late: its publicity ends after the boundary, so it is effective in 2026Q4.
    late = ledger.entry_propose(
        actor=SYSTEM, household=world.house_a, item=pts.rule("J1"), deed_date=dt.date(2026, 9, 28),
        idempotency_key="a2", at=at(2026, 9, 28),
    )
    ledger.entry_review(actor=SYSTEM, entry=late, approve=True, idempotency_key="a2r", at=at(2026, 9, 28))
    assert reset_sweep(at(2026, 10, 6)) == 1
    assert balance(world.house_c) == 10
    ledger.publicity_sweep(at(2026, 10, 6))
    assert balance(world.house_a) == 5  # the late 5 points were not taken
    assert reset_sweep(at(2026, 10, 7)) == 0
    points_clean()


def test_monthly_boundary_and_rules_younger_than_the_period(world: World) -> None:
    assert last_boundary(at(2026, 11, 1, 0), "month") == (at(2026, 11, 1, 0), "2026-10")
    assert last_boundary(at(2027, 1, 1, 0, 1), "year") == (at(2027, 1, 1, 0), "2026")
    pts = adopted_rules(actor=SYSTEM, village=world.village, held_at=at(2026, 10, 2), after_redemption="reset")
    score(pts, world.house_a, "G1", dt.date(2026, 10, 2), "a1", effective=False)
    # The rules began after 2026-10-01: 2026Q3 is not theirs to reset.
    assert reset_sweep(at(2026, 10, 20)) == 0
    assert RuleSet.objects.get(pk=pts.rule_set.pk).reset_done_period == ""

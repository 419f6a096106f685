"""Redemptions and deductions for the same household at the same moment (issue 12, item 3):
both reserve or spend the same points, so at most one of each pair is accepted, and `hemei
verify` names any deduction that can never take effect."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from hemei.core.scope import SYSTEM
from hemei.points import checks, ledger, shop
from hemei.points.models import Entry
from hemei.points.testing import adopted_rules
from hemei.regions import services
from hemei.regions.models import Role
from tests.conftest import World, at, make_user
from tests.test_points_shop import credit, reward

PAIRS = 16  # per round
ROUNDS = 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_redemption_and_a_deduction_at_once_are_never_both_accepted(world: World) -> None:
    """Households with 30 points; at the same instant a redemption of 25 (available − 5) and a
    −10 deduction for each: exactly one of the two is accepted, in every pair."""
    pts = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    houses = [services.household_create(actor=SYSTEM,
                                        grid=world.grid_a, number=f"{300 + n}") for n in range(PAIRS * ROUNDS)]
    for n, house in enumerate(houses):
        credit(world, pts, times=3, house=house, tag=f"r{n}")
    prize = reward(world, price=25, stock=len(houses))
    director = make_user("race-director", region=world.village, role=Role.DIRECTOR)
    results: dict[int, list[str]] = {h.pk: [] for h in houses}
    lock = threading.Lock()

    def redeem(house, barrier):
        try:
            barrier.wait()
            shop.redemption_create(actor=world.user("shop"), household=house, reward=prize,
                                   idempotency_key=f"redeem-{house.pk}", at=at(2026, 10, 21))
            outcome = "redeemed"
        except ValidationError as exc:
            outcome = f"redeem refused {exc.code}"
        finally:
            connection.close()
        with lock:
            results[house.pk].append(outcome)

    def deduct(house, barrier):
        try:
            barrier.wait()
            ledger.entry_propose(actor=director, household=house, item=pts.rule("K2"),
                                 deed_date=dt.date(2026, 10, 21), idempotency_key=f"deduct-{house.pk}",
                                 at=at(2026, 10, 21))
            outcome = "deducted"
        except ValidationError as exc:
            outcome = f"deduct refused {exc.code}"
        finally:
            connection.close()
        with lock:
            results[house.pk].append(outcome)

    for round_ in range(ROUNDS):
        batch = houses[round_ * PAIRS:(round_ + 1) * PAIRS]
        barrier = threading.Barrier(2 * len(batch))
        threads = [threading.Thread(target=fn, args=(h, barrier)) for h in batch for fn in (redeem, deduct)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    both = [pk for pk, got in results.items() if {"redeemed", "deducted"} <= set(got)]
    assert both == [], f"{len(both)} of {len(houses)} pairs accepted both: {results}"
    assert all(len(got) == 2 and ("redeemed" in got or "deducted" in got) for got in results.values()), results
    assert checks.check_reservations() == []
    assert checks.check_balances() == [] and checks.check_chains() == []


@pytest.mark.django_db
def test_verify_names_a_deduction_that_can_never_take_effect(world: World) -> None:
    pts = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    credit(world, pts, times=1, house=world.house_a)  # 10 points
    ledger.entry_propose(actor=world.user("secretary"), household=world.house_a, item=pts.rule("K2"),
                         deed_date=dt.date(2026, 10, 21), idempotency_key="d1", at=at(2026, 10, 21))
    assert checks.check_reservations() == []
    # A second −10 written behind the services' back (what the race used to leave).
    first = Entry.objects.get(household=world.house_a, points=-10)
    first.pk = None
    first.save()
    problems = checks.check_reservations()
    assert len(problems) == 1
    assert f"household {world.house_a.pk}: 2 pending deductions of 20 points but a balance of 10" in problems[0]

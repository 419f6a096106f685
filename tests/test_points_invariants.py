"""Concurrency through the REST API on PostgreSQL, where the balance (not the stock) is the
scarce thing. The stock-bound case and the Hypothesis state machine over the ledger
invariants live in tests/test_points_shop.py."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.points import checks
from hemei.points.models import Account, Entry, Redemption, Reward
from hemei.points.testing import adopted_rules
from tests.conftest import World, at
from tests.test_points_shop import credit, reward


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_counter_clients_never_overdraw_a_balance(world: World) -> None:
    """Two households with 30 points, a 12-point reward with 5 in stock: 12 requests at once
    through the API, exactly the 4 affordable ones succeed (2 per household), the other 8 are
    refused with code balance, and every invariant holds."""
    pts = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    houses = [world.house_a, world.house_b]
    for i, house in enumerate(houses):
        credit(world, pts, times=3, house=house, tag=f"h{i}")
    r = reward(world, price=12, stock=5)
    token = Token.objects.create(user=world.user("shop")).key
    codes: list[tuple[int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def attempt(n: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            barrier.wait()
            response = client.post("/api/v1/points/redemptions/", {"household": houses[n % 2].pk, "reward": r.pk},
                                   format="json", headers={"Idempotency-Key": f"t{n}"})
            body: Any = response.json()
            with lock:
                codes.append((response.status_code, body.get("error", {}).get("code", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [(201, "")] * 4 + [(409, "balance")] * 8
    assert Reward.objects.get(pk=r.pk).stock == 1
    for house in houses:
        assert Account.objects.get(household=house).balance == 6
        assert Redemption.objects.filter(household=house).count() == 2
    assert Entry.objects.filter(kind=Entry.Kind.REDEMPTION, state=Entry.State.EFFECTIVE).count() == 4
    assert checks.check_chains() == [] and checks.check_balances() == [] and checks.check_stock() == []

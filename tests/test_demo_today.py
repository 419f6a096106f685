"""The demo leaves something to do on the day it is built (issue 15): cases due today for
grid1, proposals waiting for the committee, the villager's reservation at the counter."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hemei.cases.demo import demo_today_cases
from hemei.core.scope import SYSTEM
from hemei.core.todo import grouped, todo_for
from hemei.points import shop
from hemei.points.demo import demo_today_points
from hemei.points.models import Entry, Redemption
from hemei.points.testing import adopted_rules
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")
NOW = at(2026, 12, 2, 9)  # a Wednesday morning


def test_the_day_of_the_build_has_work_on_every_screen(world, client):
    adopted_rules(actor=SYSTEM, village=world.village, held_at=at(2026, 9, 1))
    reward = shop.reward_create(actor=SYSTEM, village=world.village, name="洗衣粉", price=10, limit_per_period=4,
                                at=at(2026, 9, 2))
    shop.reward_restock(actor=SYSTEM, reward=reward, quantity=10, idempotency_key="t-restock", at=at(2026, 9, 2))
    with time_machine.travel(NOW, tick=False):
        assert demo_today_cases() == 1  # world's grid 1 has one household head
        assert demo_today_points() >= 1
        groups = grouped(todo_for(world.user("grid_a"), timezone.now()), timezone.now())
    assert any(i.kind == "case" for i in groups.today)
    assert Entry.objects.filter(state=Entry.State.PROPOSED, proposed_by=world.user("grid_a")).exists()
    reservation = Redemption.objects.get(household=world.house_a, state=Redemption.State.RESERVED)
    client.force_login(world.user("shop"))
    body = client.get(reverse("shop-counter")).content.decode()
    assert "待领取的预约" in body and "洗衣粉" in body
    assert f"household={reservation.household_id}" in body

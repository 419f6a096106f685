"""The points pages read their POST data through forms (`hemei.points.forms`): malformed
values are refused or ignored, never a 500 and never a change they did not ask for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils.html import escape
from django.utils.translation import gettext as _

from hemei.core.models import IdempotencyKey
from hemei.core.scope import SYSTEM
from hemei.points import ledger, rules_edit, shop
from hemei.points.models import Entry, Objection, Redemption, Reward
from hemei.points.testing import Adopted, adopted_rules
from tests.conftest import SH, World, at

NOW = dt.datetime(2026, 10, 12, 10, tzinfo=SH)
NOT_IDS = ["abc", "²", "99999999999999999999", "-1", "", "1\x00"]


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _said(response: Any, msgid: str) -> bool:
    return escape(_(msgid)) in response.content.decode()


def _stocked(world: World, pts: Adopted) -> Reward:
    """House A with 10 effective points and a reward of 4 points, 3 in stock."""
    entry = ledger.entry_propose(
        actor=world.user("grid_a"), household=world.house_a, item=pts.rule("G1"),
        deed_date=dt.date(2026, 10, 1), idempotency_key="p", at=at(2026, 10, 1),
    )
    ledger.entry_review(
        actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r", at=at(2026, 10, 1)
    )
    ledger.publicity_sweep(at(2026, 10, 9))
    reward = shop.reward_create(actor=SYSTEM, village=world.village, name="香皂", price=4)
    shop.reward_restock(actor=SYSTEM, reward=reward, quantity=3, idempotency_key="s")
    return reward


def test_counter_refuses_a_household_or_quantity_that_is_not_a_number(
    world: World, pts: Adopted, login: Any
) -> None:
    reward = _stocked(world, pts)
    client = login(world.user("shop"))
    for household in NOT_IDS:
        response = client.post("/w/shop/counter/", {"household": household, "reward": reward.pk, "key": "c"})
        assert response.status_code == 404, household
    # A quantity that does not read is refused, not taken for the default of one.
    for quantity in ["²", "1e3", "1.5", "one", "99999999999999999999", " ", "1\x00"]:
        response = client.post(
            "/w/shop/counter/", {"household": world.house_a.pk, "reward": reward.pk, "quantity": quantity, "key": "q"}
        )
        assert response.status_code == 404, quantity
    response = client.post("/w/shop/counter/", {"household": world.house_a.pk, "collect": "abc", "key": "g"})
    assert response.status_code == 404
    assert not Redemption.objects.exists()
    # No quantity at all is one.
    response = client.post("/w/shop/counter/", {"household": world.house_a.pk, "reward": reward.pk, "key": "k"})
    assert response.status_code == 302 and Redemption.objects.get().quantity == 1


def test_an_over_long_key_is_cut_to_100_characters(world: World, pts: Adopted, login: Any) -> None:
    reward = _stocked(world, pts)
    client = login(world.user("villager"))
    key = "k" * 100
    for tail in ("x" * 400, "y" * 5):  # the same first 100 characters: one reservation
        response = client.post("/me/shop/", {"reward": reward.pk, "key": key + tail})
        assert response.status_code == 302
    assert Redemption.objects.count() == 1
    assert IdempotencyKey.objects.filter(key=key).count() == 1


def test_the_villager_shop_refuses_bad_values_without_a_change(world: World, pts: Adopted, login: Any) -> None:
    reward = _stocked(world, pts)
    client = login(world.user("villager"))
    for data in (
        {"reward": "abc", "key": "a"},
        {"reward": reward.pk, "quantity": "²", "key": "b"},
        {"action": "cancel", "redemption": "99999999999999999999", "key": "c"},
    ):
        response = client.post("/me/shop/", data, follow=True)
        assert response.status_code == 200 and _said(response, "Please try again."), data
    assert not Redemption.objects.exists()


def test_a_batch_with_a_household_that_is_not_an_id_is_refused_whole(
    world: World, pts: Adopted, login: Any
) -> None:
    client = login(world.user("grid_a"))
    for bad in NOT_IDS:
        response = client.post(
            "/w/points/propose/",
            {"village": world.village.code, "item": pts.rule("G1").pk, "deed_date": "2026-10-05",
             "household": [world.house_a.pk, bad], "key": f"b{bad}"},
            follow=True,
        )
        assert response.status_code == 200, bad
        assert _said(response, "Choose a rule item and at least one household."), bad
    response = client.post(
        "/w/points/propose/",
        {"village": world.village.code, "item": "²", "deed_date": "2026-10-05",
         "household": [world.house_a.pk], "key": "i"},
    )
    assert response.status_code == 200 and not Entry.objects.exists()


def test_an_objection_with_a_nul_in_its_reason_is_refused(world: World, pts: Adopted, login: Any) -> None:
    entry = ledger.entry_propose(
        actor=world.user("grid_b"), household=world.house_b, item=pts.rule("G1"),
        deed_date=dt.date(2026, 10, 5), idempotency_key="p", at=at(2026, 10, 6),
    )
    ledger.entry_review(
        actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r", at=at(2026, 10, 8)
    )
    client = login(world.user("villager"))
    response = client.post(f"/me/points/{entry.pk}/object/", {"reason": "不\x00在", "key": "o"})
    assert response.status_code == 302 and not Objection.objects.exists()


def test_review_and_rule_pages_ignore_odd_selectors(world: World, pts: Adopted, login: Any) -> None:
    secretary = login(world.user("secretary"))
    # An over-long grid is no grid: a 404, never "no grid given" (the whole village's queue).
    response = secretary.post("/w/points/review/", {"grid": "9" * 500, "month": "2026-10", "entry": "abc"})
    assert response.status_code == 404
    response = secretary.post("/w/points/review/", {"grid": "9" * 500, "action": "approve_all", "key": "a"})
    assert response.status_code == 404
    response = secretary.post("/w/points/review/", {"action": "approve_all", "key": "a"})
    assert response.status_code == 302 and response["Location"] == "/w/points/review/"
    response = secretary.post("/w/points/rules/", {"village": world.village.code, "action": "draft", "title": "x"})
    assert response.status_code == 302
    draft = f"/w/points/rules/v/{pts.rule_set.versions.get(state='draft').pk}/"
    assert secretary.post(draft, {"action": "update", "item": "²"}).status_code == 404
    assert secretary.post(draft, {"action": "remove", "item": "99999999999999999999"}).status_code == 404
    response = secretary.post(draft, {"action": "table", "meeting": "²"})
    assert response.status_code == 200 and _said(response, "Choose a villagers' assembly or representatives meeting.")
    assert not rules_edit.is_tabled(pts.rule_set.versions.get(state="draft"))

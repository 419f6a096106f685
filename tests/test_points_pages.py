"""Points pages: villager points and shop, propose (batch), review and objections, counter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from hemei.core.scope import SYSTEM
from hemei.points import ledger, shop
from hemei.points.models import Entry, Objection, Redemption
from hemei.points.testing import Adopted, adopted_rules
from hemei.regions.models import Role
from tests.conftest import SH, World, at, make_user

NOW = dt.datetime(2026, 10, 12, 10, tzinfo=SH)


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def test_grid_worker_proposes_a_batch_and_committee_approves(world: World, pts: Adopted, login: Any) -> None:
    client = login(world.user("grid_a"))
    page = client.get("/w/points/propose/")
    assert page.status_code == 200 and "001" in page.content.decode() and "张志强" not in page.content.decode()
    response = client.post(
        "/w/points/propose/",
        {
            "village": world.village.code,
            "item": pts.rule("G1").pk,
            "deed_date": "2026-10-05",
            "household": [world.house_a.pk],
            "key": "form1",
        },
    )
    assert response.status_code == 302
    # house_b is outside grid A: 404, nothing written.
    client.post(
        "/w/points/propose/",
        {
            "village": world.village.code,
            "item": pts.rule("G1").pk,
            "deed_date": "2026-10-05",
            "household": [world.house_b.pk],
            "key": "form2",
        },
    )
    assert Entry.objects.count() == 1
    secretary = login(world.user("secretary"))
    entry = Entry.objects.get()
    assert str(entry.household.number) in secretary.get("/w/points/review/").content.decode()
    secretary.post("/w/points/review/", {"entry": entry.pk, "approve": "1", "key": "rv1"})
    assert Entry.objects.get().state == Entry.State.PUBLICITY


def test_villager_sees_points_and_objects(
    world: World, pts: Adopted, login: Any, django_assert_max_num_queries: Any
) -> None:
    entry = ledger.entry_propose(
        actor=world.user("grid_b"),
        household=world.house_b,
        item=pts.rule("G1"),
        deed_date=dt.date(2026, 10, 5),
        idempotency_key="p",
        at=at(2026, 10, 6),
    )
    ledger.entry_review(
        actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r", at=at(2026, 10, 8)
    )
    client = login(world.user("villager"))
    with django_assert_max_num_queries(25):
        page = client.get("/me/points/")
    assert page.status_code == 200 and "101" in page.content.decode()
    client.post(f"/me/points/{entry.pk}/object/", {"reason": "他那天不在", "key": "obj"})
    assert Objection.objects.get().entry == entry
    supervisor = make_user("sup", region=world.village, role=Role.SUPERVISION)
    sup = login(supervisor)
    assert "他那天不在" in sup.get("/w/points/review/").content.decode()
    sup.post(
        "/w/points/review/", {"objection": Objection.objects.get().pk, "uphold": "1", "decision": "属实", "key": "d"}
    )
    assert Entry.objects.get(pk=entry.pk).state == Entry.State.VOIDED


def test_staff_pages_are_not_for_villagers_and_outsiders(world: World, pts: Adopted, login: Any) -> None:
    client = login(world.user("villager"))
    for url in ("/w/points/propose/", "/w/points/review/", "/w/shop/counter/"):
        assert client.get(url).status_code == 404
    outsider = login(world.user("outsider"))
    assert outsider.get("/me/points/").status_code == 404


def test_counter_finds_household_and_redeems(world: World, pts: Adopted, login: Any) -> None:
    entry = ledger.entry_propose(
        actor=world.user("grid_a"),
        household=world.house_a,
        item=pts.rule("G1"),
        deed_date=dt.date(2026, 10, 1),
        idempotency_key="p",
        at=at(2026, 10, 1),
    )
    ledger.entry_review(
        actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r", at=at(2026, 10, 1)
    )
    ledger.publicity_sweep(at(2026, 10, 9))
    reward = shop.reward_create(actor=world.user("shop"), village=world.village, name="香皂", price=4)
    shop.reward_restock(actor=world.user("shop"), reward=reward, quantity=3, idempotency_key="s")
    client = login(world.user("shop"))
    page = client.get("/w/shop/counter/", {"q": "wjg"})  # 王建国's pinyin initials
    assert f"household={world.house_a.pk}" in page.content.decode()
    page = client.get("/w/shop/counter/", {"household": world.house_a.pk})
    assert "香皂" in page.content.decode()
    client.post("/w/shop/counter/", {"household": world.house_a.pk, "reward": reward.pk, "quantity": "2", "key": "c1"})
    client.post(
        "/w/shop/counter/", {"household": world.house_a.pk, "reward": reward.pk, "quantity": "2", "key": "c1"}
    )  # double tap: same key, one redemption
    assert Redemption.objects.get().points == 8
    assert client.get("/w/shop/counter/", {"household": world.house_c.pk}).status_code == 404


def test_villager_reserves_in_the_shop(world: World, pts: Adopted, login: Any) -> None:
    entry = ledger.entry_propose(
        actor=world.user("grid_a"),
        household=world.house_a,
        item=pts.rule("G1"),
        deed_date=dt.date(2026, 10, 1),
        idempotency_key="p",
        at=at(2026, 10, 1),
    )
    ledger.entry_review(
        actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r", at=at(2026, 10, 1)
    )
    ledger.publicity_sweep(at(2026, 10, 9))
    reward = shop.reward_create(actor=SYSTEM, village=world.village, name="毛巾", price=5)
    shop.reward_restock(actor=SYSTEM, reward=reward, quantity=3, idempotency_key="s")
    client = login(world.user("villager"))
    assert "毛巾" in client.get("/me/shop/").content.decode()
    client.post("/me/shop/", {"reward": reward.pk, "quantity": "1", "key": "v1"})
    redemption = Redemption.objects.get()
    assert redemption.state == "reserved" and redemption.channel == "phone"
    client.post("/me/shop/", {"action": "cancel", "redemption": redemption.pk, "key": "v2"})
    assert Redemption.objects.get().state == "cancelled"

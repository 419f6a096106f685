"""Points REST API (/api/v1/points/…): scopes, idempotent writes, refusals that change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hemei.core.models import IdempotencyKey
from hemei.core.scope import SYSTEM
from hemei.points import checks, ledger
from hemei.points.models import Account, Entry, Objection, Redemption, Reward, StockMovement
from hemei.points.testing import Adopted, adopted_rules
from tests.conftest import World, at
from tests.test_points_shop import credit, reward

API = "/api/v1/points"
NOW = at(2026, 10, 25)


@pytest.fixture(autouse=True)
def _english_and_frozen() -> Any:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


def api(world: World, persona: str, key: str | None = None) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=world.user(persona))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(world: World, persona: str, url: str, data: dict[str, Any] | None = None, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api(world, persona).post(url, data or {}, format="json", headers=headers)


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    # A 404 has the shared handler's generic code (hemei.core.api), the same as every API.
    assert body["code"] == code or status == 404, body
    return body


def snapshot() -> tuple[int, ...]:
    """Everything a refused write must leave alone."""
    return (
        Entry.objects.count(),
        Redemption.objects.count(),
        Objection.objects.count(),
        StockMovement.objects.count(),
        IdempotencyKey.objects.count(),
        sum(Account.objects.values_list("balance", flat=True)),
        sum(Reward.objects.values_list("stock", flat=True)),
    )


def clean() -> None:
    assert checks.check_chains() == [] and checks.check_balances() == [] and checks.check_stock() == []


# --- reads and scopes -----------------------------------------------------------------------


def test_accounts_follow_scope(world: World, pts: Adopted, django_assert_max_num_queries: Any) -> None:
    credit(world, pts, times=2)  # house_a: 20
    a, b, c = world.house_a.pk, world.house_b.pk, world.house_c.pk
    assert ids(api(world, "secretary").get(f"{API}/accounts/")) == {a, b}
    assert ids(api(world, "grid_a").get(f"{API}/accounts/")) == {a}
    assert ids(api(world, "grid_b").get(f"{API}/accounts/")) == {b}
    assert ids(api(world, "villager").get(f"{API}/accounts/")) == {a}
    assert ids(api(world, "township").get(f"{API}/accounts/")) == {a, b, c}
    assert ids(api(world, "outsider").get(f"{API}/accounts/")) == set()
    assert ids(api(world, "county").get(f"{API}/accounts/?village={world.village2.code}")) == {c}
    # Grid B cannot read grid A's account (404, never 403); a filter outside the scope is a 404.
    error(api(world, "grid_b").get(f"{API}/accounts/{a}/"), 404, "not_found")
    error(api(world, "villager").get(f"{API}/accounts/{b}/"), 404, "not_found")
    assert api(world, "grid_b").get(f"{API}/accounts/?village={world.village2.code}").status_code == 404
    rows = {r["id"]: r for r in api(world, "secretary").get(f"{API}/accounts/").json()["results"]}
    assert rows[a]["balance"] == 20 and rows[a]["available"] == 20 and rows[a]["entries_count"] == 2
    assert rows[b]["balance"] == 0
    # A pending deduction is reserved: available drops, the balance does not.
    ledger.entry_propose(actor=world.user("grid_a"), household=world.house_a, item=pts.rule("K1"),
                         deed_date=dt.date(2026, 10, 20), idempotency_key="k1")
    body = api(world, "villager").get(f"{API}/accounts/{a}/").json()
    assert body["account"]["balance"] == 20 and body["account"]["available"] == 15
    assert [e["points"] for e in body["entries"]] == [-5, 10, 10]
    assert body["entries"][1]["state"] == "effective" and body["entries"][1]["entry_hash"]
    for n in ("301", "302", "303", "304"):
        from hemei.regions import services

        services.household_create(actor=SYSTEM, grid=world.grid_a, number=n)
    client = api(world, "secretary")
    client.get(f"{API}/accounts/")  # token and posts warmed up
    with django_assert_max_num_queries(6):  # no query per household
        assert len(client.get(f"{API}/accounts/").json()["results"]) == 6


def test_entries_follow_scope_and_filters(world: World, pts: Adopted, django_assert_max_num_queries: Any) -> None:
    credit(world, pts, times=3)
    mine = ledger.entry_propose(actor=world.user("grid_b"), household=world.house_b, item=pts.rule("J1"),
                                deed_date=dt.date(2026, 10, 20), idempotency_key="b1")
    a_ids = set(Entry.objects.filter(household=world.house_a).values_list("pk", flat=True))
    assert ids(api(world, "grid_a").get(f"{API}/entries/")) == a_ids
    assert ids(api(world, "grid_b").get(f"{API}/entries/")) == {mine.pk}
    assert ids(api(world, "villager").get(f"{API}/entries/")) == a_ids
    assert ids(api(world, "secretary").get(f"{API}/entries/?status=proposed")) == {mine.pk}
    assert ids(api(world, "secretary").get(f"{API}/entries/?household={world.house_a.pk}")) == a_ids
    assert ids(api(world, "secretary").get(f"{API}/entries/?period=2026-10&village={world.village.code}")) == (
        a_ids | {mine.pk})
    assert ids(api(world, "secretary").get(f"{API}/entries/?period=2026-09")) == set()
    error(api(world, "grid_a").get(f"{API}/entries/{mine.pk}/"), 404, "not_found")
    error(api(world, "villager").get(f"{API}/entries/{mine.pk}/"), 404, "not_found")
    client = api(world, "secretary")
    client.get(f"{API}/entries/")
    with django_assert_max_num_queries(6):  # no query per entry
        assert len(client.get(f"{API}/entries/").json()["results"]) == 4


# --- proposals and reviews ------------------------------------------------------------------


def test_propose_is_idempotent_and_scoped(world: World, pts: Adopted) -> None:
    body = {"household": world.house_a.pk, "item": "J1", "deed_date": "2026-10-20", "evidence": "门前干净"}
    first = post(world, "grid_a", f"{API}/entries/", body, key="p1")
    assert first.status_code == 201, first.content
    assert first.json()["state"] == "proposed" and first.json()["points"] == 5
    again = post(world, "grid_a", f"{API}/entries/", body, key="p1")
    assert again.status_code == 200 and again.json() == first.json()
    before = snapshot()
    error(post(world, "grid_a", f"{API}/entries/", {**body, "item": "J2"}, key="p1"), 409, "idempotency_conflict")
    error(post(world, "grid_a", f"{API}/entries/", body), 400, "key")  # no key
    error(post(world, "grid_a", f"{API}/entries/", {**body, "household": world.house_b.pk}, key="p2"),
          404, "not_found")  # another grid's household
    error(post(world, "grid_a", f"{API}/entries/", {**body, "item": "G2"}, key="p3"), 403, "scope")  # committee item
    error(post(world, "villager", f"{API}/entries/", body, key="p4"), 403, "scope")
    error(post(world, "grid_a", f"{API}/entries/", {**body, "item": "ZZ"}, key="p5"), 400, "invalid")
    error(post(world, "grid_a", f"{API}/entries/", {**body, "deed_date": "2026-12-01"}, key="p6"), 400, "invalid")
    assert snapshot() == before


def test_review_by_the_committee_only(world: World, pts: Adopted) -> None:
    entry = ledger.entry_propose(actor=world.user("grid_a"), household=world.house_a, item=pts.rule("J1"),
                                 deed_date=dt.date(2026, 10, 20), idempotency_key="e1")
    other = ledger.entry_propose(actor=world.user("grid_a"), household=world.house_a, item=pts.rule("J2"),
                                 deed_date=dt.date(2026, 10, 20), idempotency_key="e2")
    before = snapshot()
    error(post(world, "grid_a", f"{API}/entries/{entry.pk}/approve/"), 403, "scope")
    error(post(world, "grid_b", f"{API}/entries/{entry.pk}/approve/"), 404, "not_found")
    error(post(world, "secretary", f"{API}/entries/{other.pk}/reject/", {}), 400, "invalid")  # reason required
    assert snapshot() == before
    done = post(world, "secretary", f"{API}/entries/{entry.pk}/approve/")
    assert done.status_code == 200 and done.json()["state"] == "publicity"
    assert post(world, "secretary", f"{API}/entries/{entry.pk}/approve/").json() == done.json()  # replay
    error(post(world, "secretary", f"{API}/entries/{entry.pk}/reject/", {"reason": "x"}), 409, "idempotency_conflict")
    error(post(world, "secretary", f"{API}/entries/{entry.pk}/reject/", {"reason": "x"}, key="r"), 409, "conflict")
    rejected = post(world, "secretary", f"{API}/entries/{other.pk}/reject/", {"reason": "无照片"})
    assert rejected.json()["state"] == "rejected" and rejected.json()["reason"] == "无照片"


def test_objections_only_by_villagers_during_publicity(world: World, pts: Adopted) -> None:
    # An entry of another household (grid B) of the villager's village, in publicity.
    entry = ledger.entry_propose(actor=world.user("grid_b"), household=world.house_b, item=pts.rule("J1"),
                                 deed_date=dt.date(2026, 10, 20), idempotency_key="e1")
    ledger.entry_review(actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r1")
    board = api(world, "villager").get(f"{API}/entries/publicity/")
    assert ids(board) == {entry.pk}
    url = f"{API}/entries/{entry.pk}/objections/"
    before = snapshot()
    error(post(world, "grid_b", url, {"reason": "不属实"}), 403, "scope")  # staff are not villagers
    error(post(world, "secretary", url, {"reason": "不属实"}), 403, "scope")
    error(post(world, "outsider", url, {"reason": "不属实"}), 404, "not_found")
    error(post(world, "villager", url, {}), 400, "invalid")
    assert snapshot() == before
    raised = post(world, "villager", url, {"reason": "不属实"})
    assert raised.status_code == 201 and raised.json()["state"] == "open"
    assert post(world, "villager", url, {"reason": "不属实"}).status_code == 200  # replay
    assert Objection.objects.count() == 1 and Entry.objects.get(pk=entry.pk).open_objections == 1


def test_objection_after_publicity_is_refused(world: World, pts: Adopted) -> None:
    entry = ledger.entry_propose(actor=world.user("grid_b"), household=world.house_b, item=pts.rule("J1"),
                                 deed_date=dt.date(2026, 10, 20), idempotency_key="e1",
                                 at=at(2026, 10, 20))
    ledger.entry_review(actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r1",
                        at=at(2026, 10, 20))  # publicity until 10-27
    url = f"{API}/entries/{entry.pk}/objections/"
    with time_machine.travel(at(2026, 10, 28), tick=False):
        before = snapshot()
        error(post(world, "villager", url, {"reason": "不属实"}), 409, "state")
        assert snapshot() == before
        ledger.publicity_sweep(at(2026, 10, 28))
        # Effective now: off the board, so a villager of another household cannot even find it.
        error(post(world, "villager", url, {"reason": "不属实"}), 404, "not_found")
    assert Objection.objects.count() == 0


# --- shop -----------------------------------------------------------------------------------


def test_counter_redemption_is_idempotent(world: World, pts: Adopted) -> None:
    credit(world, pts, times=3)  # 30
    r = reward(world, price=10, stock=5)
    body = {"household": world.house_a.pk, "reward": r.pk, "quantity": 2}
    first = post(world, "shop", f"{API}/redemptions/", body, key="s1")
    assert first.status_code == 201, first.content
    assert first.json()["state"] == "collected" and first.json()["channel"] == "counter"
    assert first.json()["points"] == 20
    assert post(world, "shop", f"{API}/redemptions/", body, key="s1").json() == first.json()
    before = snapshot()
    error(post(world, "shop", f"{API}/redemptions/", {**body, "quantity": 1}, key="s1"), 409, "idempotency_conflict")
    error(post(world, "shop", f"{API}/redemptions/", body), 400, "key")
    assert snapshot() == before
    assert Account.objects.get(household=world.house_a).balance == 10
    assert ids(api(world, "villager").get(f"{API}/redemptions/")) == {first.json()["id"]}
    assert ids(api(world, "grid_b").get(f"{API}/redemptions/")) == set()
    assert {row["id"] for row in api(world, "villager").get(f"{API}/rewards/").json()["results"]} == {r.pk}
    assert api(world, "villager").get(f"{API}/rewards/?village={world.village2.code}").status_code == 404
    clean()


def test_redemption_beyond_balance_stock_or_limit_changes_nothing(world: World, pts: Adopted) -> None:
    credit(world, pts, times=3)  # 30
    scarce = reward(world, price=10, stock=2, limit=1)
    dear = reward(world, price=31, stock=5)
    before = snapshot()
    url = f"{API}/redemptions/"
    a = world.house_a.pk
    assert error(post(world, "shop", url, {"household": a, "reward": dear.pk}, key="1"), 409, "balance")["message"]
    error(post(world, "shop", url, {"household": a, "reward": scarce.pk, "quantity": 3}, key="2"), 409, "stock")
    error(post(world, "shop", url, {"household": a, "reward": scarce.pk, "quantity": 2}, key="3"), 409, "limit")
    error(post(world, "shop", url, {"household": a, "reward": scarce.pk, "quantity": 0}, key="4"), 400, "invalid")
    error(post(world, "shop", url, {"household": world.house_c.pk, "reward": scarce.pk}, key="5"), 404, "not_found")
    error(post(world, "grid_a", url, {"household": a, "reward": scarce.pk}, key="6"), 403, "scope")
    assert snapshot() == before
    assert post(world, "shop", url, {"household": a, "reward": scarce.pk}, key="7").status_code == 201
    before = snapshot()
    error(post(world, "shop", url, {"household": a, "reward": scarce.pk}, key="8"), 409, "limit")
    assert snapshot() == before
    clean()


def test_villager_reserves_for_own_household_then_cancels_or_collects(world: World, pts: Adopted) -> None:
    credit(world, pts, times=3)
    r = reward(world, price=10, stock=5)
    url = f"{API}/redemptions/"
    before = snapshot()
    error(post(world, "villager", url, {"household": world.house_b.pk, "reward": r.pk}, key="x"), 404, "not_found")
    error(post(world, "villager", url, {"household": world.house_a.pk, "reward": r.pk, "channel": "counter"},
               key="y"), 403, "scope")
    assert snapshot() == before
    first = post(world, "villager", url, {"household": world.house_a.pk, "reward": r.pk}, key="v1")
    assert first.status_code == 201 and first.json()["state"] == "reserved" and first.json()["channel"] == "phone"
    second = post(world, "villager", url, {"household": world.house_a.pk, "reward": r.pk}, key="v2").json()
    assert Account.objects.get(household=world.house_a).balance == 10
    cancelled = post(world, "villager", f"{url}{first.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert Account.objects.get(household=world.house_a).balance == 20
    error(post(world, "villager", f"{url}{second['id']}/collect/"), 403, "scope")
    error(post(world, "grid_b", f"{url}{second['id']}/collect/"), 404, "not_found")
    collected = post(world, "shop", f"{url}{second['id']}/collect/")
    assert collected.status_code == 200 and collected.json()["state"] == "collected"
    before = snapshot()
    error(post(world, "shop", f"{url}{second['id']}/cancel/"), 409, "state")
    assert snapshot() == before
    clean()

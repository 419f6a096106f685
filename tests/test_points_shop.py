"""The points shop: redemption at the counter and by reservation, cancellation, limits, and
atomicity under concurrency; plus a Hypothesis state machine over the ledger invariants."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import translation
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from hemei.core.idempotency import IdempotencyConflict
from hemei.core.scope import SYSTEM
from hemei.points import checks, ledger, shop
from hemei.points.models import Account, Entry, ImmutableEntryError, Redemption, Reward, StockMovement
from hemei.points.testing import Adopted, adopted_rules
from hemei.regions.models import Role
from tests.conftest import World, at, build_world, make_user

E = Entry.State
OCT = dt.date(2026, 10, 5)


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


def credit(
    world: World, pts: Adopted, points_code: str = "G1", *, times: int = 1, house: Any = None, tag: str = "c"
) -> None:
    """Give the household effective points (as the committee, through publicity)."""
    house = house or world.house_a
    director = make_user(f"dir-{tag}", region=world.village, role=Role.DIRECTOR)
    for i in range(times):
        entry = ledger.entry_propose(
            actor=director,
            household=house,
            item=pts.rule(points_code),
            deed_date=OCT + dt.timedelta(days=i),
            idempotency_key=f"{tag}{i}",
            at=at(2026, 10, 10),
        )
        ledger.entry_review(
            actor=world.user("secretary"), entry=entry, approve=True, idempotency_key=f"{tag}r{i}", at=at(2026, 10, 10)
        )
    ledger.publicity_sweep(at(2026, 10, 20))


def reward(world: World, *, price: int = 10, stock: int = 5, limit: int | None = None) -> Reward:
    r = shop.reward_create(
        actor=world.user("shop"), village=world.village, name="洗衣粉", price=price, limit_per_period=limit
    )
    shop.reward_restock(actor=world.user("shop"), reward=r, quantity=stock, idempotency_key=f"stock-{r.pk}")
    r.refresh_from_db()
    return r


def redeem(
    world: World,
    r: Reward,
    *,
    qty: int = 1,
    key: str = "k",
    house: Any = None,
    actor: str | None = "shop",
    channel: str = "counter",
) -> Redemption:
    return shop.redemption_create(
        actor=world.user(actor) if actor else SYSTEM,
        household=house or world.house_a,
        reward=r,
        quantity=qty,
        channel=channel,
        idempotency_key=key,
        at=at(2026, 10, 21),
    )


def clean() -> None:
    assert checks.check_chains() == [] and checks.check_balances() == [] and checks.check_stock() == []


def test_counter_redemption_is_an_effective_entry_and_a_stock_movement(world: World, pts: Adopted) -> None:
    credit(world, pts, times=3)  # 30 points
    r = reward(world, price=12)
    redemption = redeem(world, r, qty=2)
    assert redemption.state == "collected" and redemption.points == 24 and redemption.period == "2026Q4"
    entry = redemption.entry
    assert entry.kind == "redemption" and entry.points == -24 and entry.state == E.EFFECTIVE and entry.sequence == 4
    assert Account.objects.get(household=world.house_a).balance == 6
    assert Reward.objects.get(pk=r.pk).stock == 3
    assert StockMovement.objects.filter(reward=r, kind="redemption").get().quantity == -2
    clean()


def test_reservation_by_the_villager_then_cancellation_restores_everything(world: World, pts: Adopted) -> None:
    credit(world, pts, times=2)
    r = reward(world, price=15)
    reservation = redeem(world, r, actor="villager", channel="phone", key="v1")
    assert reservation.state == "reserved"
    assert Account.objects.get(household=world.house_a).balance == 5
    with pytest.raises(ValidationError, match="may not redeem"):  # a villager uses the phone channel for itself
        redeem(world, r, actor="villager", key="v2")
    cancelled = shop.redemption_cancel(
        actor=world.user("villager"), redemption=reservation, idempotency_key="c1", at=at(2026, 10, 22)
    )
    assert cancelled.state == "cancelled" and cancelled.cancel_entry.points == 15
    assert Account.objects.get(household=world.house_a).balance == 20
    assert Reward.objects.get(pk=r.pk).stock == 5
    with pytest.raises(ValidationError, match="not yet collected"):
        shop.redemption_cancel(actor=world.user("shop"), redemption=reservation, idempotency_key="c2")
    clean()


def test_collecting_a_reservation(world: World, pts: Adopted) -> None:
    credit(world, pts)
    r = reward(world)
    reservation = redeem(world, r, actor="villager", channel="phone", key="v1")
    collected = shop.redemption_collect(actor=world.user("shop"), redemption=reservation, idempotency_key="g")
    assert collected.state == "collected"
    with pytest.raises(ValidationError, match="not yet collected"):
        shop.redemption_cancel(actor=world.user("villager"), redemption=reservation, idempotency_key="c")


def test_redemption_beyond_balance_stock_or_limit_changes_nothing(world: World, pts: Adopted) -> None:
    credit(world, pts, times=3)  # 30
    r = reward(world, price=10, stock=2, limit=1)
    with pytest.raises(ValidationError, match="Not enough points"):
        redeem(world, reward(world, price=31), key="a")
    with pytest.raises(ValidationError, match="in stock"):
        redeem(world, r, qty=3, key="b")
    redeem(world, r, key="c")
    with pytest.raises(ValidationError, match="At most 1"):
        redeem(world, r, key="d")
    with pytest.raises(ValidationError, match="another village"):
        redeem(world, r, key="e", house=world.house_c, actor=None)
    with pytest.raises(ValidationError, match="may not redeem"):
        redeem(world, r, key="f", actor="grid_a")
    with pytest.raises(ValidationError, match="at least one"):
        redeem(world, r, qty=0, key="g")
    assert Redemption.objects.count() == 1
    assert Account.objects.get(household=world.house_a).balance == 20
    clean()


def test_pending_deductions_are_reserved_against_the_balance(world: World, pts: Adopted) -> None:
    credit(world, pts)  # 10
    ledger.entry_propose(
        actor=world.user("grid_a"),
        household=world.house_a,
        item=pts.rule("K1"),
        deed_date=OCT,
        idempotency_key="ded",
        at=at(2026, 10, 10),
    )  # −5 pending
    r = reward(world, price=6)
    with pytest.raises(ValidationError, match="5 available"):
        redeem(world, r)


def test_minimum_balance_to_redeem(world: World) -> None:
    pts = adopted_rules(
        actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1), min_balance_to_redeem=20
    )
    credit(world, pts)
    with pytest.raises(ValidationError, match="starts at a balance of 20"):
        redeem(world, reward(world, price=5))


def test_redemption_idempotency(world: World, pts: Adopted) -> None:
    credit(world, pts, times=3)
    r = reward(world)
    first = redeem(world, r, key="same")
    assert redeem(world, r, key="same").pk == first.pk
    with pytest.raises(IdempotencyConflict):
        redeem(world, r, qty=2, key="same")
    assert Redemption.objects.count() == 1 and Reward.objects.get(pk=r.pk).stock == 4


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_clerks_redeem_a_scarce_reward_at_once(world: World) -> None:
    """Four households with 30 points each, a reward of 10 points with 7 in stock and a limit
    of 2 per household: 16 attempts at once, exactly 7 succeed (stock), none overdraws."""
    pts = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    from hemei.regions import services

    houses = [world.house_a, world.house_b]
    for n in ("201", "202"):
        houses.append(services.household_create(actor=SYSTEM, grid=world.grid_a, number=n))
    for i, house in enumerate(houses):
        credit(world, pts, times=3, house=house, tag=f"h{i}")
    r = reward(world, price=10, stock=7, limit=2)
    ok: list[int] = []
    refused: list[str] = []
    barrier = threading.Barrier(16)

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            redeem(world, r, key=f"t{n}", house=houses[n % 4])
            ok.append(n)
        except ValidationError as exc:
            refused.append(exc.code or "")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 7 and len(refused) == 9 and set(refused) <= {"stock", "limit"}
    assert Reward.objects.get(pk=r.pk).stock == 0
    for house in houses:
        assert Account.objects.get(household=house).balance >= 10
        assert Redemption.objects.filter(household=house).count() <= 2
    clean()


# --- Hypothesis: the ledger invariants under any sequence of operations ---------------------


class LedgerMachine(RuleBasedStateMachine):
    """Random proposals, reviews, sweeps, redemptions, cancellations, corrections and replays;
    after every step balances equal sums, nothing is negative and every chain verifies."""

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.keys = itertools.count()
        self.day = 0

    @initialize()
    def setup(self) -> None:
        self.world = build_world()
        self.pts = adopted_rules(actor=self.world.user("secretary"), village=self.world.village, held_at=at(2026, 9, 1))
        self.reward = shop.reward_create(actor=SYSTEM, village=self.world.village, name="米", price=7,
                                         limit_per_period=3)
        shop.reward_restock(actor=SYSTEM, reward=self.reward, quantity=4, idempotency_key="init")
        self.last_effective: int | None = None
        self.replay: tuple[str, dict[str, Any], int] | None = None

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def now(self) -> dt.datetime:
        return at(2026, 10, 10) + dt.timedelta(days=self.day)

    def key(self) -> str:
        return f"h{next(self.keys)}"

    @rule(house=st.sampled_from(["a", "b"]), code=st.sampled_from(["J1", "G1", "K1"]), approve=st.booleans())
    def propose(self, house: str, code: str, approve: bool) -> None:
        household = self.world.house_a if house == "a" else self.world.house_b
        actor = SYSTEM  # the system acts as the committee: the machine explores the ledger, not the roles
        try:
            key = self.key()
            kwargs = {"household": household, "item": self.pts.rule(code), "deed_date": OCT, "evidence": ""}
            entry = ledger.entry_propose(actor=actor, idempotency_key=key, at=self.now(), **kwargs)
            self.replay = (key, kwargs, entry.pk)
            ledger.entry_review(
                actor=actor,
                entry=entry,
                approve=approve,
                reason="" if approve else "不符",
                idempotency_key=self.key(),
                at=self.now(),
            )
        except ValidationError as exc:
            assert exc.code in {"cap", "balance"}

    @rule(days=st.integers(min_value=1, max_value=10))
    def sweep(self, days: int) -> None:
        self.day += days
        ledger.publicity_sweep(self.now())

    @rule(qty=st.integers(min_value=1, max_value=3), phone=st.booleans())
    def redeem(self, qty: int, phone: bool) -> None:
        try:
            shop.redemption_create(
                actor=SYSTEM,
                household=self.world.house_a,
                reward=self.reward,
                quantity=qty,
                channel="phone" if phone else "counter",
                idempotency_key=self.key(),
                at=self.now(),
            )
        except ValidationError as exc:
            assert exc.code in {"balance", "stock", "limit"}

    @rule()
    def cancel(self) -> None:
        reservation = Redemption.objects.filter(state="reserved").first()
        if reservation is not None:
            shop.redemption_cancel(actor=SYSTEM, redemption=reservation, idempotency_key=self.key(), at=self.now())

    @rule()
    def correct(self) -> None:
        entry = (
            Entry.objects.filter(state=E.EFFECTIVE, kind="score", points__gt=0)
            .exclude(corrections__kind="reversal")
            .first()
        )
        if entry is not None:
            try:
                ledger.entry_reverse(actor=SYSTEM, entry=entry, reason="更正", idempotency_key=self.key(),
                                     at=self.now())
            except ValidationError as exc:
                assert exc.code == "balance"

    @rule()
    def replay_last(self) -> None:
        if self.replay is None:
            return
        key, kwargs, pk = self.replay
        count = Entry.objects.count()
        assert ledger.entry_propose(actor=SYSTEM, idempotency_key=key, at=self.now(), **kwargs).pk == pk
        assert Entry.objects.count() == count

    @rule()
    def tamper(self) -> None:
        entry = Entry.objects.filter(state=E.EFFECTIVE).first()
        if entry is not None:
            entry.points += 1
            try:
                entry.save()
                raise AssertionError("an effective entry was saved")
            except ImmutableEntryError:
                pass

    @invariant()
    def ledger_holds(self) -> None:
        if not hasattr(self, "world"):
            return
        assert checks.check_chains() == []
        assert checks.check_balances() == []
        assert checks.check_stock() == []
        assert not Account.objects.filter(balance__lt=0).exists()
        assert not Reward.objects.filter(stock__lt=0).exists()


@pytest.mark.django_db
def test_ledger_state_machine() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    with translation.override("en"):
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=8,
                stateful_step_count=15,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )

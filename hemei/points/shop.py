"""The points shop (积分超市): catalogue, restocking, redemptions and their cancellation.

A redemption is one transaction: lock the village's chain head, its rule set, the household's
account (`locks.lock_points`, the order of every write that reserves or spends points) and the
reward, check balance (minus deductions still pending), the rule
set's minimum balance, stock and the per-household limit of the redemption period, then
write the negative effective entry (appended to the chain), the stock movement and the
redemption row. On SQLite the IMMEDIATE transaction already serialises writers; on PostgreSQL
the row locks do, so concurrent redemptions never overdraw points, stock or limits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.idempotency import remembered
from hemei.core.scope import is_system, require_actor, user_of
from hemei.core.workflow import transition
from hemei.points import posting as chain
from hemei.points.access import COMMITTEE_ROLES, SHOP_ROLES, may, villager_resident
from hemei.points.ledger import period_of
from hemei.points.locks import lock_points
from hemei.points.models import Entry, Redemption, Reward, RuleSet, StockMovement
from hemei.regions.models import Household, Level, Region

R = Redemption.State



def redemption_period_of(day: dt.date, period: str) -> str:
    if period == RuleSet.RedemptionPeriod.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    if period == RuleSet.RedemptionPeriod.YEAR:
        return f"{day.year:04d}"
    return f"{day.year:04d}Q{(day.month - 1) // 3 + 1}"


@transaction.atomic
def reward_create(
    *,
    actor: Any,
    village: Region,
    name: str,
    price: int,
    limit_per_period: int | None = None,
    own_product: bool = False,
    photo: Any = None,
    at: dt.datetime | None = None,
) -> Reward:
    require_actor(actor)
    if village.level != Level.VILLAGE:
        raise ValidationError(_("A reward belongs to a village's shop."))
    if not may(actor, village, SHOP_ROLES):
        raise ValidationError(_("Only the shop keeper or the committee manage the shop."), code="scope")
    name = (name or "").strip()[:100]
    if not name or int(price) <= 0:
        raise ValidationError(_("A reward needs a name and a price above zero."))
    if limit_per_period is not None and limit_per_period <= 0:
        raise ValidationError(_("The limit per household must be at least 1."))
    county = village.county_ancestor()
    assert county is not None
    reward = Reward.objects.create(
        county=county,
        village=village,
        name=name,
        price=int(price),
        limit_per_period=limit_per_period,
        own_product=own_product,
        photo=photo or "",
        created_at=at or timezone.now(),
    )
    audit_record(actor=actor, action="create", obj=reward, changes={"name": [None, name], "price": [None, price]})
    return reward


@transaction.atomic
def reward_restock(
    *, actor: Any, reward: Reward, quantity: int, note: str = "", idempotency_key: str, at: dt.datetime | None = None
) -> StockMovement:
    require_actor(actor)
    if not may(actor, reward.village, SHOP_ROLES):
        raise ValidationError(_("Only the shop keeper or the committee manage the shop."), code="scope")
    if isinstance(quantity, bool) or int(quantity) <= 0:
        raise ValidationError(_("Restock at least one."))
    now = at or timezone.now()

    def write() -> list[StockMovement]:
        Reward.objects.select_for_update().filter(pk=reward.pk).update(stock=F("stock") + int(quantity))
        movement = StockMovement.objects.create(
            reward=reward,
            kind=StockMovement.Kind.RESTOCK,
            quantity=int(quantity),
            note=(note or "").strip()[:200],
            actor=user_of(actor),
            at=now,
        )
        audit_record(actor=actor, action="update", obj=reward, note="restock", changes={"stock": [None, quantity]})
        return [movement]

    return remembered(
        actor=actor,
        key=idempotency_key,
        operation="reward_restock",
        payload={"reward": reward.pk, "quantity": int(quantity)},
        model=StockMovement,
        write=write,
    )[0][0]


def available_points(household: Household) -> int:
    """What the household may spend: the balance minus deductions still pending."""
    account = getattr(household, "points_account", None)
    balance = account.balance if account is not None else 0
    return balance + chain.pending_deductions(household)


@transaction.atomic
def redemption_create(
    *,
    actor: Any,
    household: Household,
    reward: Reward,
    quantity: int = 1,
    channel: str = Redemption.Channel.COUNTER,
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> Redemption:
    """Redeem at the counter (collected at once) or reserve on the phone (collected later)."""
    require_actor(actor)
    now = at or timezone.now()
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationError(_("Redeem at least one."))
    if channel not in Redemption.Channel.values:
        raise ValidationError(_("Unknown channel."))

    def write() -> list[Redemption]:
        if not is_system(actor):
            resident = villager_resident(actor)
            own = resident is not None and resident.household_id == household.pk
            if not (own and channel == Redemption.Channel.PHONE) and not may(actor, household.region, SHOP_ROLES):
                raise ValidationError(_("You may not redeem for this household."), code="scope")
        if reward.village_id != household.village_id:
            raise ValidationError(_("This reward is sold in another village's shop."))
        rule_set = RuleSet.objects.filter(village_id=household.village_id).first()
        if rule_set is None:
            raise ValidationError(_("This village has no points rules."))
        if rule_set.exclude_absent and not household.lives_in_village:
            raise ValidationError(_("Households not living in the village take no part in the points."))
        locks = lock_points(village_id=household.village_id, households=[household])
        head, account = locks.head, locks.account(household)
        locked = Reward.objects.select_for_update().get(pk=reward.pk)
        if not locked.active:
            raise ValidationError(_("This reward is not offered any more."))
        points = locked.price * quantity
        available = locks.available(household)
        if account.balance < rule_set.min_balance_to_redeem:
            raise ValidationError(
                _("Redemption starts at a balance of %(n)d points.") % {"n": rule_set.min_balance_to_redeem},
                code="balance",
            )
        if points > available:
            raise ValidationError(
                _("Not enough points: %(a)d available, %(p)d needed.") % {"a": available, "p": points}, code="balance"
            )
        if locked.stock < quantity:
            raise ValidationError(_("Only %(n)d left in stock.") % {"n": locked.stock}, code="stock")
        period = redemption_period_of(timezone.localdate(now), rule_set.redemption_period)
        if locked.limit_per_period is not None:
            taken = (
                Redemption.objects.filter(household=household, reward=locked, period=period)
                .exclude(state=R.CANCELLED)
                .aggregate(s=Sum("quantity"))["s"]
                or 0
            )
            if taken + quantity > locked.limit_per_period:
                raise ValidationError(
                    _("At most %(n)d per household in this period; %(t)d already taken.")
                    % {"n": locked.limit_per_period, "t": taken},
                    code="limit",
                )
        today = timezone.localdate(now)
        entry = Entry.objects.create(
            county_id=household.county_id,
            village_id=household.village_id,
            household=household,
            kind=Entry.Kind.REDEMPTION,
            points=-points,
            deed_date=today,
            period=period_of(today),
            reason=f"{locked.name} x{quantity}",
            state=Entry.State.PROPOSED,
            proposed_by=user_of(actor),
            proposed_at=now,
            reviewed_by=user_of(actor),
            reviewed_at=now,
        )
        chain.append(entry, head=head, account=account, at=now, actor=actor)
        Reward.objects.filter(pk=locked.pk).update(stock=F("stock") - quantity)
        counter = channel == Redemption.Channel.COUNTER
        redemption = Redemption.objects.create(
            county_id=household.county_id,
            village_id=household.village_id,
            household=household,
            reward=locked,
            quantity=quantity,
            points=points,
            period=period,
            state=R.COLLECTED if counter else R.RESERVED,
            channel=channel,
            entry=entry,
            created_by=user_of(actor),
            created_at=now,
            collected_at=now if counter else None,
        )
        StockMovement.objects.create(
            reward=locked,
            kind=StockMovement.Kind.REDEMPTION,
            quantity=-quantity,
            redemption=redemption,
            actor=user_of(actor),
            at=now,
        )
        audit_record(
            actor=actor,
            action="create",
            obj=redemption,
            changes={"reward": [None, locked.name], "quantity": [None, quantity], "points": [None, points]},
        )
        return [redemption]

    return remembered(
        actor=actor,
        key=idempotency_key,
        operation="redemption_create",
        model=Redemption,
        write=write,
        payload={"household": household.pk, "reward": reward.pk, "quantity": quantity, "channel": channel},
    )[0][0]


@transaction.atomic
def redemption_collect(
    *, actor: Any, redemption: Redemption, idempotency_key: str, at: dt.datetime | None = None
) -> Redemption:
    require_actor(actor)
    now = at or timezone.now()

    def write() -> list[Redemption]:
        if not may(actor, redemption.village, SHOP_ROLES):
            raise ValidationError(_("Only the shop keeper hands out rewards."), code="scope")
        fresh = Redemption.objects.get(pk=redemption.pk)
        return [transition(fresh, R.COLLECTED, actor=actor, at=now, collected_at=now)]

    return remembered(
        actor=actor,
        key=idempotency_key,
        operation="redemption_collect",
        payload={"redemption": redemption.pk},
        model=Redemption,
        write=write,
    )[0][0]


@transaction.atomic
def redemption_cancel(
    *, actor: Any, redemption: Redemption, idempotency_key: str, at: dt.datetime | None = None
) -> Redemption:
    """Cancel a reservation not yet collected: a reversing entry gives the points back and a
    stock movement puts the goods back, both in the chain's transaction."""
    require_actor(actor)
    now = at or timezone.now()

    def write() -> list[Redemption]:
        if not is_system(actor):
            resident = villager_resident(actor)
            own = resident is not None and resident.household_id == redemption.household_id
            if not own and not may(actor, redemption.village, SHOP_ROLES | COMMITTEE_ROLES):
                raise ValidationError(_("You may not cancel this reservation."), code="scope")
        household = Household.objects.get(pk=redemption.household_id)
        locks = lock_points(village_id=redemption.village_id, households=[household])
        head, account = locks.head, locks.account(household)
        Reward.objects.select_for_update().filter(pk=redemption.reward_id).first()
        current = Redemption.objects.select_for_update().get(pk=redemption.pk)
        if current.state != R.RESERVED:
            raise ValidationError(_("Only a reservation not yet collected can be cancelled."), code="state")
        today = timezone.localdate(now)
        entry = Entry.objects.create(
            county_id=current.county_id,
            village_id=current.village_id,
            household=household,
            kind=Entry.Kind.CANCELLATION,
            points=current.points,
            deed_date=today,
            period=period_of(today),
            reason=_("Reservation cancelled"),
            corrects_id=current.entry_id,
            proposed_by=user_of(actor),
            proposed_at=now,
            reviewed_by=user_of(actor),
            reviewed_at=now,
        )
        chain.append(entry, head=head, account=account, at=now, actor=actor)
        Reward.objects.filter(pk=current.reward_id).update(stock=F("stock") + current.quantity)
        StockMovement.objects.create(
            reward_id=current.reward_id,
            kind=StockMovement.Kind.CANCELLATION,
            quantity=current.quantity,
            redemption=current,
            actor=user_of(actor),
            at=now,
        )
        return [transition(current, R.CANCELLED, actor=actor, at=now, cancelled_at=now, cancel_entry=entry,
                           changes={"state": [R.RESERVED, R.CANCELLED]})]

    return remembered(
        actor=actor,
        key=idempotency_key,
        operation="redemption_cancel",
        payload={"redemption": redemption.pk},
        model=Redemption,
        write=write,
    )[0][0]

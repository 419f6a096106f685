"""The reset at the end of a redemption period, for villages whose rules say "reset" (清零).

At the first sweep at or after the start of a redemption period, each household's points left
over from the period that just closed are taken back by one effective `reset` entry through
the ledger (hash chain, immutable, like every other entry). What counts as left over:

- the balance as of the boundary (effective entries whose `effective_at` is before it), so
  points that became effective after the boundary belong to the new period;
- never more than the household can give now: its balance minus deductions still pending
  (reserved, see `chain.pending_deductions`), so the balance never goes below zero and a
  deduction in publicity can still take effect.

Exactly once per household and period: the reset entry's `period` is the closed redemption
period ("2026Q3") with a unique constraint on (household, period) for reset entries, and the
rule set remembers `reset_done_period`, re-read under the chain head's lock, so a second or
concurrent sweep of the same boundary finds it done.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from hemei.core.audit import audit_record_many
from hemei.core.scope import SYSTEM
from hemei.points import posting as chain
from hemei.points.models import Entry, RuleSet
from hemei.points.shop import redemption_period_of
from hemei.regions.models import Household


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the redemption period containing `day`."""
    if period == RuleSet.RedemptionPeriod.MONTH:
        return day.replace(day=1)
    if period == RuleSet.RedemptionPeriod.YEAR:
        return day.replace(month=1, day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def last_boundary(now: dt.datetime, period: str) -> tuple[dt.datetime, str]:
    """(the local midnight starting the current redemption period, the key of the period
    that closed there)."""
    start = period_start(timezone.localdate(now), period)
    boundary = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    return boundary, redemption_period_of(start - dt.timedelta(days=1), period)


def reset_rule_set(rule_set: RuleSet, now: dt.datetime) -> int:
    """Reset one village's balances for the period that closed last; returns entries posted."""
    boundary, closing = last_boundary(now, rule_set.redemption_period)
    if rule_set.reset_done_period == closing or boundary <= rule_set.created_at:
        return 0  # done already, or the rules did not exist in the closed period
    posted: list[Entry] = []
    with transaction.atomic():
        head = chain.lock_head(rule_set.village)
        locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        if locked.reset_done_period == closing or locked.after_redemption != RuleSet.AfterRedemption.RESET:
            return 0
        at_boundary = (
            Entry.objects.filter(village_id=rule_set.village_id, state=Entry.State.EFFECTIVE, effective_at__lt=boundary)
            .values_list("household_id")
            .annotate(s=Sum("points"))
            .order_by("household_id")
        )
        households = {h.pk: h for h in Household.objects.filter(pk__in=[pk for pk, s in at_boundary if s and s > 0])}
        last_day = boundary.date() - dt.timedelta(days=1)
        for household_id, left in at_boundary:
            if not left or left <= 0 or household_id not in households:
                continue
            household = households[household_id]
            account = chain.lock_account(household)
            amount = min(int(left), account.balance + chain.pending_deductions(household))
            if amount <= 0 or Entry.objects.filter(household=household, kind=Entry.Kind.RESET, period=closing).exists():
                continue
            entry = Entry.objects.create(
                county_id=household.county_id,
                village_id=rule_set.village_id,
                household=household,
                kind=Entry.Kind.RESET,
                points=-amount,
                deed_date=last_day,
                period=closing,
                reason=f"{closing} 清零",
                proposed_at=now,
                reviewed_at=now,
            )
            posted.append(chain.append(entry, head=head, account=account, at=now, actor=SYSTEM))
        RuleSet.objects.filter(pk=locked.pk).update(reset_done_period=closing)
        audit_record_many(
            actor="sweep",
            action="create",
            object_type="points.entry",
            county_code=rule_set.county_code,
            items=[(str(e.pk), f"{e.household_id} {e.points:+d}", {"kind": [None, "reset"]}) for e in posted],
            note=f"redemption period {closing} closed: balances reset",
        )
    return len(posted)


def reset_sweep(now: dt.datetime) -> int:
    done = 0
    for rule_set in RuleSet.objects.filter(after_redemption=RuleSet.AfterRedemption.RESET).select_related("village"):
        done += reset_rule_set(rule_set, now)
    return done

"""The contracts sweeper (`hemei sweep`): reminders and the end of terms.

Once per item, with two sweepers at once too (the shared mechanism of `hemei.core.sweeps`):
- a payment due within DUE_DAYS, and again once it is overdue, and a contract ending within
  EXPIRY_DAYS: a unique `notify.Reminder` row (kind, ref, deadline) is inserted first; the
  sweeper whose insert fails skips, so the village committee is told once;
- a signed contract whose term has begun becomes active, and a live contract whose term is
  over becomes expired: a workflow transition on the status read, then the asset goes back to idle.
Reminders are not escalations, so the list returned is empty.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.contracts import access
from hemei.contracts.models import Contract, ContractEvent, Payment, PaymentDue
from hemei.contracts.services import LIVE, S, contract_end
from hemei.core.scope import SYSTEM
from hemei.core.sweeps import Escalation, sweeper
from hemei.core.workflow import transition
from hemei.notify.models import Reminder
from hemei.notify.services import notify
from hemei.regions.models import Post

DUE_DAYS = 7
EXPIRY_DAYS = 90
SH = ZoneInfo("Asia/Shanghai")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=SH)


def committee(village_id: int) -> QuerySet[Any]:
    posts = Post.objects.current().filter(region_id=village_id, role__in=access.CONTRACT_ROLES)
    return get_user_model().objects.filter(pk__in=posts.values("user_id"))


def with_paid(qs: QuerySet[PaymentDue]) -> QuerySet[Any]:
    """Each row with `paid`: the sum of its payments (0 when none)."""
    paid = (
        Payment.objects.filter(due=OuterRef("pk")).values("due").annotate(s=Sum("amount")).values("s")
    )
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
    return qs.annotate(paid=Coalesce(Subquery(paid, output_field=DecimalField(max_digits=14, decimal_places=2)), zero))


def _once(kind: str, ref: str, deadline: dt.datetime, now: dt.datetime) -> bool:
    """Insert the reminder row; False when it was there already (or another sweeper has it)."""
    try:
        with transaction.atomic():
            Reminder.objects.create(kind=kind, ref=ref, deadline=deadline, created_at=now)
    except IntegrityError:
        return False
    return True


def _tell(contract: Contract, *, kind: str, title: str, body: str, now: dt.datetime, ref: str,
          deadline: dt.date) -> bool:
    with transaction.atomic():
        if not _once(kind, ref, _midnight(deadline), now):
            return False
        notify(recipients=committee(contract.village_id), kind=kind, title=title, body=body,
               link=f"/w/contracts/{contract.pk}/", ref=contract.number, county=contract.county_id)
        ContractEvent.objects.create(contract=contract, kind=ContractEvent.Kind.REMINDED, at=now, note=title[:2000])
    return True



@sweeper("contracts-reminders")
def sweep_contracts(now: dt.datetime) -> list[Escalation]:
    today = timezone.localdate(now)
    # 1. terms: signed → active once begun; live → expired once over (asset back to idle).
    # Each contract as read by this query (status signed): when another sweeper has moved it
    # since, the conditional update finds no row, a "conflict". (A second read of each row,
    # as there was, could see it active already, and active → active is a refused move.)
    for c in Contract.objects.filter(status=S.SIGNED, start__lte=today):
        try:
            transition(c, S.ACTIVE, actor=SYSTEM, at=now, event={"on": c.start})
        except ValidationError as exc:  # another sweeper activated it a moment ago
            if exc.code != "conflict":
                raise
    for c in Contract.objects.filter(status__in=LIVE, end__lt=today).select_related("village"):
        try:
            contract_end(actor=SYSTEM, contract=c, status=S.EXPIRED, on=c.end, reason="term over", at=now)
        except ValidationError as exc:  # another sweeper expired it a moment ago
            if exc.code != "conflict":
                raise
    # 2. payments due soon or overdue on live contracts.
    dues = with_paid(
        PaymentDue.objects.filter(contract__status__in=[*LIVE, S.EXPIRED, S.TERMINATED], due_on__lte=today
                                  + dt.timedelta(days=DUE_DAYS)).select_related("contract")
    ).filter(paid__lt=F("amount"))
    for due in dues.order_by("due_on", "pk"):
        c = due.contract
        outstanding = due.amount - due.paid
        if due.due_on >= today:
            _tell(c, kind="contract_payment_due", ref=f"due-{due.pk}", deadline=due.due_on, now=now,
                  title=_("Payment due: contract %(n)s") % {"n": c.number},
                  body=_("%(p)s owes %(a)s yuan by %(d)s (%(s)s).")
                  % {"p": c.party_name, "a": outstanding, "d": due.due_on, "s": c.subject})
        else:
            _tell(c, kind="contract_payment_overdue", ref=f"overdue-{due.pk}", deadline=due.due_on, now=now,
                  title=_("Payment overdue: contract %(n)s") % {"n": c.number},
                  body=_("%(p)s has not paid %(a)s yuan due on %(d)s (%(s)s).")
                  % {"p": c.party_name, "a": outstanding, "d": due.due_on, "s": c.subject})
    # 3. contracts ending within EXPIRY_DAYS.
    ending = Contract.objects.filter(status__in=LIVE, end__gte=today, end__lte=today + dt.timedelta(days=EXPIRY_DAYS))
    for c in ending.order_by("end", "pk"):
        _tell(c, kind="contract_expiring", ref=f"expiry-{c.pk}", deadline=c.end, now=now,
              title=_("Contract %(n)s ends on %(d)s") % {"n": c.number, "d": c.end},
              body=_("%(s)s, party B %(p)s: decide on renewal or a new tender in time.")
              % {"s": c.subject, "p": c.party_name})
    return []

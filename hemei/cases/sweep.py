"""The escalation sweep: late cases climb one tier (village → township → county).

`sweep(now)` is idempotent and safe to run from several processes at once:
1. Read the ids of open cases below county tier whose accept-by (still submitted) or
   resolve-by (accepted or in progress) lies at or before `now` — an index range scan, so the
   cost follows the overdue cases, not the table.
2. For each, in its own transaction, move it up with a conditional update on
   (pk, tier, status, the deadline as read). Only the sweeper whose update changed one row acts;
   a concurrent sweeper's update matches nothing (PostgreSQL re-checks the WHERE after the
   first commits), so each deadline escalates exactly once.
3. The winner freezes the overdue flag, gives the case a new deadline at the new tier (the
   same limit again, counted from `now`) and writes an `escalated` event and an audit row.
A case at county tier has nowhere to climb; it stays overdue (the supervision board shows it).

The reminder sweep (`case-reminders`) tells the responsible person once per resolve-by that
the deadline is near (`hemei.cases.notifications.remind`). The webhook sweep (`case-hooks`)
sends the outgoing case webhooks their waiting events (`hemei.cases.hooks`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef

from hemei.cases import hooks
from hemei.cases.deadlines import accept_deadline, resolve_deadline
from hemei.cases.models import Case, CaseEvent
from hemei.cases.notifications import REMINDER_KIND, remind
from hemei.core.audit import audit_record
from hemei.core.sweeps import NEXT_TIER, Escalation, claim_once, next_due, sweep_time, sweeper
from hemei.notify.models import Reminder

RESOLVING = (Case.Status.ACCEPTED, Case.Status.IN_PROGRESS)


def _escalate(pk: int, *, deadline: str, now: dt.datetime) -> Escalation | None:
    field = "accept_by" if deadline == "accept" else "resolve_by"
    statuses = (Case.Status.SUBMITTED,) if deadline == "accept" else RESOLVING
    with transaction.atomic():
        case = Case.objects.select_related("category").filter(pk=pk).first()
        if case is None or case.status not in statuses or case.tier not in NEXT_TIER:
            return None
        old_deadline = getattr(case, field)
        if old_deadline > now:
            return None
        old_tier, new_tier = case.tier, NEXT_TIER[case.tier]
        compute = accept_deadline if deadline == "accept" else resolve_deadline
        new_deadline = compute(case.category, now, case.county_code)
        flag = "overdue_accept" if deadline == "accept" else "overdue_resolve"
        if not claim_once(Case, pk, expect={"tier": old_tier, "status": case.status, field: old_deadline},
                          update={"tier": new_tier, "escalated_at": now, "updated_at": now,
                                  "late_since": case.late_since or old_deadline,
                                  field: new_deadline, flag: True}):
            return None  # another sweeper (or a clerk) got there first
        event = CaseEvent.objects.create(
            case=case, at=now, actor=None, kind=CaseEvent.Kind.ESCALATED,
            from_state=case.status, to_state=case.status,
            data={"deadline": deadline, "from_tier": old_tier, "to_tier": new_tier,
                  "missed": old_deadline.isoformat(), field: new_deadline.isoformat()},
        )
        from hemei.cases.notifications import case_event_notify  # the tier above is told, the responsible reminded

        case_event_notify(event)
        audit_record(actor="sweep", action="update", obj=case, note="escalated",
                     changes={"tier": [old_tier, new_tier], field: [old_deadline, new_deadline], flag: [None, True]})
    return Escalation("case", case.number, deadline, old_tier, new_tier)


@sweeper("cases")
def sweep(now: dt.datetime | None = None) -> list[Escalation]:
    """Escalate every case past a deadline as of `now` (default: the current time)."""
    now = sweep_time(now)
    below_county = list(NEXT_TIER)
    late_accept = Case.objects.filter(status=Case.Status.SUBMITTED, accept_by__lte=now, tier__in=below_county)
    late_resolve = Case.objects.filter(status__in=RESOLVING, resolve_by__lte=now, tier__in=below_county)
    done: list[Escalation] = []
    from hemei.cases.notifications import recipient_memo

    with recipient_memo():
        for deadline, qs in (("accept", late_accept), ("resolve", late_resolve)):
            for pk in qs.order_by(f"{deadline}_by", "pk").values_list("pk", flat=True).iterator(chunk_size=2000):
                result = _escalate(pk, deadline=deadline, now=now)
                if result is not None:
                    done.append(result)
    return done


@sweeper("case-reminders")
def remind_due_cases(now: dt.datetime) -> list[Escalation]:
    """Remind once per (case, resolve-by) when the deadline is within HEMEI_REMINDER_HOURS.
    Reads an index range on (status, resolve_by); cases reminded of this deadline already are
    left out in the same query. A reminder is not an escalation, so the list is empty."""
    horizon = now + dt.timedelta(hours=settings.HEMEI_REMINDER_HOURS)
    reminded = Reminder.objects.filter(kind=REMINDER_KIND, ref=OuterRef("number"), deadline=OuterRef("resolve_by"))
    due = (
        Case.objects.filter(status__in=RESOLVING, resolve_by__gt=now, resolve_by__lte=horizon)
        .exclude(Exists(reminded))
        .order_by("resolve_by", "pk")
        .values_list("pk", flat=True)
    )
    for pk in due.iterator(chunk_size=2000):
        remind(pk, now, horizon)
    return []


@next_due("cases")
def earliest_deadline() -> dt.datetime | None:
    """The earliest accept-by or resolve-by the sweeper will act on (two index range scans)."""
    below_county = list(NEXT_TIER)
    found = [
        Case.objects.filter(status=Case.Status.SUBMITTED, tier__in=below_county).aggregate(m=Min("accept_by"))["m"],
        Case.objects.filter(status__in=RESOLVING, tier__in=below_county).aggregate(m=Min("resolve_by"))["m"],
    ]
    return min((d for d in found if d is not None), default=None)


@sweeper("case-hooks")
def deliver_hooks(now: dt.datetime) -> list[Escalation]:
    """The outgoing case webhooks (`hemei.cases.hooks`): each hook's waiting events, in order."""
    return hooks.deliver(now)


@next_due("case-hooks")
def _next_delivery() -> dt.datetime | None:
    return hooks.next_delivery()

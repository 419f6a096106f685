"""Missed monitoring step deadlines climb one tier through the shared sweep (`hemei sweep`).

1. Read the ids of records at an open step, below county tier, whose `step_due` is at or before
   `now` (the (step, step_due) index: cost follows the late records).
2. For each, in its own transaction, claim it with a conditional update on (pk, step, tier,
   step_due as read) — only the sweeper whose update changed the row acts, so each deadline
   escalates exactly once even with two sweepers at the same moment.
3. The winner freezes `was_overdue`, gives the step a new deadline at the new tier (the same
   limit, counted from `now`) and writes an `escalated` event and an audit row.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from hemei.core.audit import audit_record
from hemei.core.calendar import add_working_days
from hemei.core.sweeps import NEXT_TIER, Escalation, claim_once, escalate_each, sweep_time, sweeper
from hemei.visits.models import OPEN_STEPS, Monitoring, MonitoringEvent


def _record(m: Monitoring, now: dt.datetime, *, kind: str, tier_field: str, due_field: str,
            old: tuple[str, dt.datetime], new: tuple[str, dt.datetime]) -> None:
    """The event and audit rows of one claimed escalation (a step's or the whole procedure's)."""
    (old_tier, old_due), (new_tier, new_due) = old, new
    MonitoringEvent.objects.create(
        monitoring=m, at=now, actor=None, kind=kind, from_state=m.step, to_state=m.step,
        data={"from_tier": old_tier, "to_tier": new_tier, "missed": old_due.isoformat(),
              due_field: new_due.isoformat()},
    )
    audit_record(actor="sweep", action="update", obj=m, note=kind,
                 changes={tier_field: [old_tier, new_tier], due_field: [old_due, new_due]})


def _escalate(pk: int, now: dt.datetime) -> Escalation | None:
    from hemei.visits.monitoring import step_days

    with transaction.atomic():
        m = Monitoring.objects.select_related("region").filter(pk=pk).first()
        if m is None or m.step not in OPEN_STEPS or m.tier not in NEXT_TIER or m.step_due is None:
            return None
        if m.step_due > now:
            return None
        old_due, old_tier, new_tier = m.step_due, m.tier, NEXT_TIER[m.tier]
        new_due = add_working_days(now, step_days(m.step), county_code=m.county_code)
        if not claim_once(
            Monitoring,
            pk,
            expect={"step": m.step, "tier": old_tier, "step_due": old_due},
            update={"tier": new_tier, "step_due": new_due, "was_overdue": True, "escalated_at": now, "updated_at": now},
        ):
            return None  # another sweeper or a clerk got there first
        _record(m, now, kind="escalated", tier_field="tier", due_field="step_due",
                old=(old_tier, old_due), new=(new_tier, new_due))
    return Escalation("monitoring", m.ref, str(m.step), old_tier, new_tier)


@sweeper("monitoring")
def sweep(now: dt.datetime | None = None) -> list[Escalation]:
    now = sweep_time(now)
    late = Monitoring.objects.filter(step__in=OPEN_STEPS, step_due__lte=now, tier__in=list(NEXT_TIER))
    return escalate_each(late.order_by("step_due", "pk").values_list("pk", flat=True), _escalate, now)


def _escalate_procedure(pk: int, now: dt.datetime) -> Escalation | None:
    """The whole procedure's clock, missed: the same claim as a step's (on pk, step,
    procedure tier and due as read), then `PROCEDURE_ESCALATED_DAYS` working days at the new tier."""
    from hemei.visits.monitoring import procedure_escalated_days

    with transaction.atomic():
        m = Monitoring.objects.select_related("region").filter(pk=pk).first()
        if m is None or m.step not in OPEN_STEPS or m.procedure_tier not in NEXT_TIER or m.procedure_due is None:
            return None
        if m.procedure_due > now:
            return None
        old_due, old_tier, new_tier = m.procedure_due, m.procedure_tier, NEXT_TIER[m.procedure_tier]
        new_due = add_working_days(now, procedure_escalated_days(), county_code=m.county_code)
        if not claim_once(
            Monitoring,
            pk,
            expect={"step": m.step, "procedure_tier": old_tier, "procedure_due": old_due},
            update={
                "procedure_tier": new_tier,
                "procedure_due": new_due,
                "procedure_overdue": True,
                "procedure_escalated_at": now,
                "updated_at": now,
            },
        ):
            return None
        _record(m, now, kind="procedure_escalated", tier_field="procedure_tier", due_field="procedure_due",
                old=(old_tier, old_due), new=(new_tier, new_due))
    return Escalation("monitoring", m.ref, "procedure", old_tier, new_tier)


@sweeper("monitoring_procedure")
def sweep_procedure(now: dt.datetime | None = None) -> list[Escalation]:
    """Records whose whole procedure (normally 15 days) ran out while still at an open step."""
    now = sweep_time(now)
    late = Monitoring.objects.filter(step__in=OPEN_STEPS, procedure_due__lte=now, procedure_tier__in=list(NEXT_TIER))
    return escalate_each(late.order_by("procedure_due", "pk").values_list("pk", flat=True), _escalate_procedure, now)

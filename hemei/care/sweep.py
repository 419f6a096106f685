"""The care steps before a work order's case climbs tiers, and missed visits.

A call is first the carer on duty's (`WorkOrder.respond_by`), then the care-centre lead's
(until the case's `accept_by`), then the case's own tiers: the cases sweeper moves it
village → township → county, each after the category's minutes. So the four steps carer →
lead → township → county are two sweepers over two deadlines, never two sweepers over one.

`sweep_orders(now)`:
1. Read the ids of orders still at the carer step, not taken on, whose `respond_by` passed.
2. For each, move it carer → lead (`transition`, conditional on the step and `respond_by` as
   read: only the sweeper whose update changed the row goes on; the order's event and audit rows).
3. Write an `escalated` event on the case too (its history shows the call's whole climb); tell the lead.

`sweep_visits(now)`: a due visit whose day ended undone is `missed` (the care visit
workflow) and escalated to the township tier; the township staff are told.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min

from hemei.care.models import CareVisit, WorkOrder
from hemei.cases.models import Case, CaseEvent
from hemei.core.scope import system
from hemei.core.sweeps import Escalation, Tier, next_due, sweeper
from hemei.core.workflow import record, transition

SWEEP = system("sweep")


def _lead_step(pk: int, now: dt.datetime) -> Escalation | None:
    with transaction.atomic():
        order = WorkOrder.objects.select_related("case", "elder__resident", "region").filter(pk=pk).first()
        if order is None or order.step != WorkOrder.Step.CARER or order.respond_by > now:
            return None
        if order.case.status != Case.Status.SUBMITTED:
            return None
        try:
            transition(order, WorkOrder.Step.LEAD, actor=SWEEP, at=now, expect={"respond_by": order.respond_by},
                       data={"missed": order.respond_by.isoformat()}, audit_note="escalated")
        except ValidationError:
            return None  # taken on meanwhile, or another sweeper got there first
        record(order.case, kind=CaseEvent.Kind.ESCALATED, actor=SWEEP, at=now, from_state=order.case.status,
               to_state=order.case.status,
               data={"deadline": "accept", "from_tier": "carer", "to_tier": "lead",
                     "missed": order.respond_by.isoformat(), "accept_by": order.case.accept_by.isoformat()})
        from hemei.care.notifications import tell_lead

        tell_lead(order)
    return Escalation("care", order.case.number, "respond", "carer", "lead")


@sweeper("care")
def sweep_orders(now: dt.datetime) -> list[Escalation]:
    late = (WorkOrder.objects.filter(step=WorkOrder.Step.CARER, respond_by__lte=now,
                                     case__status=Case.Status.SUBMITTED)
            .order_by("respond_by", "pk").values_list("pk", flat=True))
    done = []
    for pk in list(late):
        result = _lead_step(pk, now)
        if result is not None:
            done.append(result)
    return done


def _missed(pk: int, now: dt.datetime) -> Escalation | None:
    with transaction.atomic():
        visit = CareVisit.objects.select_related("region").filter(pk=pk, status=CareVisit.Status.DUE).first()
        if visit is None or visit.due_by > now:
            return None
        try:
            transition(visit, CareVisit.Status.MISSED, actor=SWEEP, at=now, tier=Tier.TOWNSHIP,
                       expect={"due_by": visit.due_by}, data={"due_by": visit.due_by.isoformat()})
        except ValidationError:
            return None  # done meanwhile, or another sweeper got there first
        from hemei.care.notifications import tell_missed_visit

        tell_missed_visit(visit)
    return Escalation("care-visit", f"{visit.elder_id}/{visit.due_on}", "visit", Tier.VILLAGE, Tier.TOWNSHIP)


@sweeper("care-visits")
def sweep_visits(now: dt.datetime) -> list[Escalation]:
    late = CareVisit.objects.filter(status=CareVisit.Status.DUE, due_by__lte=now).order_by("due_by", "pk")
    done = []
    for pk in list(late.values_list("pk", flat=True)):
        result = _missed(pk, now)
        if result is not None:
            done.append(result)
    return done


@next_due("care")
def earliest_deadline() -> dt.datetime | None:
    found = [
        WorkOrder.objects.filter(step=WorkOrder.Step.CARER, case__status=Case.Status.SUBMITTED)
        .aggregate(m=Min("respond_by"))["m"],
        CareVisit.objects.filter(status=CareVisit.Status.DUE).aggregate(m=Min("due_by"))["m"],
    ]
    return min((d for d in found if d is not None), default=None)

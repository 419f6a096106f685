"""Care's workflows as data (`hemei.core.workflow`): the home visit, and the work order's step
before its case climbs tiers. The work order's case moves through the case workflow
(`hemei.cases.workflow`) beside it, in the same transaction."""

from __future__ import annotations

from hemei.care.models import CareVisit, CareVisitEvent, WorkOrder, WorkOrderEvent
from hemei.core.workflow import Move, Workflow, register

S = CareVisit.Status
CARERS = "care workers and village cadres over the elder's grid"

VISIT = register(Workflow(
    name="care.visit",
    model=CareVisit,
    field="status",
    states=S,
    initial=S.DUE,
    event=CareVisitEvent,
    subject="visit",
    touch=("updated_at",),
    doc="A home visit due under an elder's visit plan (≥ 3 a week for 重度 and 完全丧失); "
        "a visit not made by its day's end is missed and escalated to the township.",
    moves=(
        Move("done", (S.DUE, S.MISSED), S.DONE, CARERS, sets=("visitor", "done_at", "note")),
        Move("missed", (S.DUE,), S.MISSED, "the sweep, at the visit's due-by", sets=("tier",)),
    ),
))

W = WorkOrder.Step
ORDER = register(Workflow(
    name="care.order",
    model=WorkOrder,
    field="step",
    states=W,
    initial=W.CARER,
    event=WorkOrderEvent,
    subject="order",
    doc="一键呼叫: a call is the carer on duty's until `respond_by`, then the care-centre lead's; whoever "
        "takes it on answers it (the case is accepted in the same transaction). Past the lead, the case's "
        "own tiers climb (township, county: the cases sweeper), and the step stays where it was.",
    moves=(
        Move("escalated", (W.CARER,), W.LEAD, "the sweep, when the carer on duty has not taken the call on by "
             "`respond_by`"),
        Move("answered", (W.CARER, W.LEAD, W.TIERS), W.ANSWERED, "a carer, lead or cadre over the elder's grid",
             sets=("carer",)),
    ),
))

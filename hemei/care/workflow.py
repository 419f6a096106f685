"""The care visit's workflow as data (`hemei.core.workflow`). Work orders have none of their
own: a work order is a case, and moves through the case workflow (`hemei.cases.workflow`)."""

from __future__ import annotations

from hemei.care.models import CareVisit, CareVisitEvent
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

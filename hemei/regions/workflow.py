"""A resident's status in the register as data (`hemei.core.workflow`).

A resident lives here, has moved out, or has died. The register is corrected freely: any
status may be recorded over any other, and recording the same status again moves its date
(a move to the same state), as `resident_set_status` always allowed. Entering a resident is
not a move."""

from __future__ import annotations

from typing import Any

from hemei.core.scope import scope_for
from hemei.core.workflow import Move, Workflow, register
from hemei.regions.models import Resident, ResidentEvent

S = Resident.Status
WRITERS = "staff whose posts cover the resident's grid for writing"


def _writes_here(actor: Any, obj: Any) -> bool:
    return scope_for(actor).covers_path(obj.region.path, write=True)


RESIDENT = register(Workflow(
    name="regions.resident",
    model=Resident,
    field="status",
    states=S,
    initial=S.LIVING,
    event=ResidentEvent,
    subject="resident",
    doc="A resident in the household register: living here, moved out or deceased, each with the date "
        "it took effect; a resident who is no longer living here stops being the household's head.",
    moves=tuple(
        Move(target, tuple(S.values), target, WRITERS, guard=_writes_here, sets=("status_date",))
        for target in S.values
    ),
))

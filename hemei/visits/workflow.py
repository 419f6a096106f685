"""The return-to-poverty monitoring procedure as data (`hemei.core.workflow`): 入户核实 →
村级评议 → 公示 → 乡镇审核 → 县级审定 → under monitoring → risk removed; every open step can end
in "not included". Each step is decided at one level (`monitoring.STEP_LEVEL`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.core.workflow import Move, Workflow, register
from hemei.visits.models import Monitoring, MonitoringEvent

St = Monitoring.Step
# Every move starts the new step's clock and deadline and sends the tier back to the village.
STEP = ("step_started_at", "step_due", "tier")


def _at_level(user: Any, m: Monitoring) -> bool:
    from hemei.visits.monitoring import can_act

    return can_act(user, m)


def _at_grid(user: Any, m: Monitoring) -> bool:
    from hemei.visits.monitoring import can_act

    return can_act(user, m, St.VERIFY)


GRID = "a write post over the household's grid"
VILLAGE = "a write post over the household's village"
TOWNSHIP = "a write post over its township"
COUNTY = "a write post over its county"

MONITORING = register(Workflow(
    name="visits.monitoring",
    model=Monitoring,
    field="step",
    states=St,
    initial=St.VERIFY,
    event=MonitoringEvent,
    subject="monitoring",
    touch=("updated_at",),
    conflict=_("The record was changed by someone else; reload it."),
    doc="防返贫动态监测: a household from entry through the procedure to risk removal.",
    moves=(
        Move("verified", (St.VERIFY,), St.REVIEW, GRID, _at_level, sets=(*STEP, "kind", "risks", "has_labour")),
        Move("not_confirmed", (St.VERIFY,), St.NOT_INCLUDED, GRID, _at_level, sets=(*STEP, "decided_at")),
        Move("notice", (St.REVIEW,), St.NOTICE, VILLAGE, _at_level,
             sets=(*STEP, "notice_from", "notice_until", "notice_text")),
        Move("village_agreed", (St.NOTICE,), St.TOWNSHIP, f"{VILLAGE}, after the notice", _at_level, sets=STEP),
        Move("village_refused", (St.NOTICE,), St.NOT_INCLUDED, f"{VILLAGE}, after the notice", _at_level,
             sets=(*STEP, "decided_at")),
        Move("township_agreed", (St.TOWNSHIP,), St.COUNTY, TOWNSHIP, _at_level, sets=STEP),
        Move("township_refused", (St.TOWNSHIP,), St.NOT_INCLUDED, TOWNSHIP, _at_level, sets=(*STEP, "decided_at")),
        Move("approved", (St.COUNTY,), St.MONITORED, COUNTY, _at_level, sets=(*STEP, "decided_at")),
        Move("county_refused", (St.COUNTY,), St.NOT_INCLUDED, COUNTY, _at_level, sets=(*STEP, "decided_at")),
        Move("removed", (St.MONITORED,), St.REMOVED, f"{GRID}, after six months of stable income", _at_grid,
             sets=(*STEP, "removed_at")),
    ),
))

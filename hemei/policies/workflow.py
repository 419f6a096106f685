"""A policy application's workflow as data (`hemei.core.workflow`): recorded as applied by the
grid's staff, then granted or refused (with the reason) by the village committee or above."""

from __future__ import annotations

from hemei.core.workflow import Move, Workflow, holds, register
from hemei.policies.access import DECIDE_ROLES
from hemei.policies.models import Application, ApplicationEvent

S = Application.Status
DECIDERS = "secretary, director, committee member of the village; township staff, county administrator"

APPLICATION = register(Workflow(
    name="policies.application",
    model=Application,
    field="status",
    states=S,
    initial=S.APPLIED,
    event=ApplicationEvent,
    subject="application",
    touch=("updated_at",),
    doc="A household's (or member's) application for a policy it qualifies for (政策明白卡), recorded by its "
        "grid's staff under the policy version in force; granted or refused with the reason. A refused "
        "application may be filed again.",
    moves=(
        Move("grant", (S.APPLIED,), S.GRANTED, DECIDERS, guard=holds(DECIDE_ROLES, over="region"),
             sets=("decided_at", "reason")),
        Move("refuse", (S.APPLIED,), S.REFUSED, DECIDERS + " (with the reason)",
             guard=holds(DECIDE_ROLES, over="region"), sets=("decided_at", "reason")),
    ),
))

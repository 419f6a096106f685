"""The alarm workflow as data (`hemei.core.workflow`): raised → acknowledged → cleared, and a
cleared alarm re-raised within the flapping window becomes active again (one alarm, not a
new one). Folding a repeated event into an open alarm is no state change: it only counts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.core.workflow import Move, Workflow, register
from hemei.devices.models import Alarm, AlarmEvent

S = Alarm.State
STAFF = "staff with a write post over the device's region"
DEVICE = "the device (ingestion), the offline sweep"


def _staff(user: Any, alarm: Alarm) -> bool:
    from hemei.devices.access import may_handle

    return may_handle(user, alarm)


ALARM = register(Workflow(
    name="devices.alarm",
    model=Alarm,
    field="state",
    states=S,
    initial=S.ACTIVE,
    event=AlarmEvent,
    subject="alarm",
    touch=("updated_at",),
    conflict=_("The alarm was changed meanwhile; reload it."),
    refused=_("An alarm cannot go from %(old)s to %(new)s."),
    doc="A device alarm: one per device and code while open; repeated events fold into it with a count.",
    moves=(
        Move("acknowledged", (S.ACTIVE,), S.ACKNOWLEDGED, STAFF, _staff, sets=("acknowledged_at", "acknowledged_by")),
        Move("cleared", (S.ACTIVE, S.ACKNOWLEDGED), S.CLEARED, f"{DEVICE}; {STAFF}", _staff,
             sets=("cleared_at", "flapping")),
        Move("reraised", (S.CLEARED,), S.ACTIVE, DEVICE, _staff,
             sets=("reraised", "flapping", "count", "last_at", "severity", "text", "acknowledged_at",
                   "acknowledged_by", "cleared_at")),
    ),
))

"""Who reads devices and alarms: the staff of the region's subtree (declared once, read
through `hemei.core.scope`). Registering a device takes the village committee or the levels
above; acknowledging and clearing an alarm takes any write post over the device's region
(the grid worker on the spot, the care worker, the township's dispatcher)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from hemei.core.scope import COMMITTEE_ROLES, GRID_ROLES, UPPER_LEVEL_ROLES, fetch, may, register_scoped
from hemei.devices.models import Alarm, Device
from hemei.regions.models import Role

MANAGE_ROLES = COMMITTEE_ROLES | UPPER_LEVEL_ROLES
HANDLE_ROLES = GRID_ROLES | COMMITTEE_ROLES | UPPER_LEVEL_ROLES | {Role.CARE_WORKER, Role.COUNTY_DISPATCHER}

DEVICES = register_scoped(Device, via="region__", actions={"manage": MANAGE_ROLES})
ALARMS = register_scoped(Alarm, via="region__", actions={"handle": HANDLE_ROLES})


def access_devices(user: Any) -> QuerySet[Device]:
    return DEVICES.queryset(user)


def access_alarms(user: Any) -> QuerySet[Alarm]:
    return ALARMS.queryset(user)


def access_device(user: Any, pk: Any) -> Device:
    return fetch(Device, user, pk)


def access_alarm(user: Any, pk: Any) -> Alarm:
    return fetch(Alarm, user, pk)


def may_handle(user: Any, alarm: Alarm) -> bool:
    return may(user, "handle", alarm)


def may_read_dead_letters(user: Any) -> bool:
    """Dead letters carry raw payloads of any county: administrators only."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_superuser or user.is_staff))

"""Every write to the device register and every staff action on an alarm (rule 1). Device
messages and the alarms they raise are written by `hemei.devices.ingest`, acting as a system
actor; both go through the alarm workflow (`hemei.devices.workflow`)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import require, require_actor, user_of
from hemei.core.workflow import transition
from hemei.devices import credentials
from hemei.devices.access import MANAGE_ROLES
from hemei.devices.models import Alarm, Device, Kind
from hemei.regions.models import Level, Region, Resident

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$")  # a topic level: no "/", "+", "#"


@transaction.atomic
def device_register(
    *, actor: Any, region: Region, kind: str, code: str, name: str, resident: Resident | None = None,
    profile: str = "",
    secret: str | None = None,
) -> tuple[Device, str]:
    """A new device at a village or grid; returns it and its secret (shown once). `secret` is
    for the demo and for devices that come with one burnt in (at least 16 characters)."""
    require_actor(actor)
    if region is None or region.level not in (Level.VILLAGE, Level.GRID):
        raise ValidationError(_("A device belongs to a village or a grid."))
    require(actor, MANAGE_ROLES, region)
    if kind not in Kind.values:
        raise ValidationError(_("Unknown device kind %(k)s.") % {"k": kind})
    code = (code or "").strip()
    if not CODE.match(code):
        raise ValidationError(_("A device code has 3 to 40 letters, digits, '-' or '_'."))
    if Device.objects.filter(code=code).exists():
        raise ValidationError(_("Device code %(c)s is taken.") % {"c": code})
    name = clean_text(name, _("Name"), limit=100, required=True)
    profile = clean_text(profile, _("Profile"), limit=40, required=False)
    village_path = region.path[: 3 * Region.steplen]  # county › township › village
    if resident is not None and not resident.region.path.startswith(village_path):
        raise ValidationError(_("The resident does not live in this village."))
    if secret is not None and len(secret) < 16:
        raise ValidationError(_("A device secret has at least 16 characters."))
    secret = secret or credentials.new_secret()
    device = Device.objects.create(
        county=county_of(region), region=region, resident=resident, kind=kind, code=code, name=name,
        profile=profile, secret_hash=credentials.mosquitto_hash(secret),
        signing_key=credentials.signing_key(secret), last_seen_at=timezone.now(),
    )
    audit_record(actor=actor, action="create", obj=device,
                 changes={"kind": [None, kind], "code": [None, code], "region": [None, region.code]})
    return device, secret


@transaction.atomic
def device_rotate_secret(*, actor: Any, device: Device) -> str:
    """A new secret for the device (the old one stops working at the next `hemei mqtt acl`)."""
    require_actor(actor)
    require(actor, MANAGE_ROLES, device.region)
    secret = credentials.new_secret()
    Device.objects.filter(pk=device.pk).update(secret_hash=credentials.mosquitto_hash(secret),
                                               signing_key=credentials.signing_key(secret))
    audit_record(actor=actor, action="update", obj=device, note="secret rotated", changes={"secret": ["*", "*"]})
    return secret


@transaction.atomic
def device_set_active(*, actor: Any, device: Device, active: bool) -> Device:
    """Take a device out of service (its messages are refused) or back in."""
    require_actor(actor)
    require(actor, MANAGE_ROLES, device.region)
    if device.active != active:
        Device.objects.filter(pk=device.pk).update(active=active)
        audit_record(actor=actor, action="update", obj=device, changes={"active": [device.active, active]})
        device.refresh_from_db()
    return device


def alarm_acknowledge(*, actor: Any, alarm: Alarm, note: str = "") -> Alarm:
    """Someone has seen the alarm and is on it: who and when are kept (event and audit row)."""
    require_actor(actor)
    if user_of(actor) is None:
        raise PermissionDenied(_("An alarm is acknowledged by a person."))
    note = clean_text(note, _("Note"), limit=500, required=False)
    return transition(alarm, Alarm.State.ACKNOWLEDGED, actor=actor, note=note,
                      acknowledged_at=timezone.now(), acknowledged_by=user_of(actor))


def alarm_clear(*, actor: Any, alarm: Alarm, note: str = "") -> Alarm:
    """Staff clear an alarm by hand (the condition is over, or it was a false alarm)."""
    require_actor(actor)
    note = clean_text(note, _("Note"), limit=500, required=False)
    return transition(alarm, Alarm.State.CLEARED, actor=actor, note=note, cleared_at=timezone.now(),
                      flapping=False)

"""Folding signals into alarms (called by ingestion and the offline sweep, as a system actor).

- A raise of a code that is already open (active or acknowledged) on the device only counts:
  `count + 1` and `last_at`, one conditional UPDATE, no event row (the message log holds
  every message).
- A raise of a code whose alarm was cleared less than HEMEI_ALARM_FLAP_MINUTES ago re-opens
  that alarm (`reraised`); from the HEMEI_ALARM_FLAP_LIMIT-th re-raise on it is `flapping`
  and clears are ignored, so it stays one open alarm until the device is quiet for a window
  (the offline sweep clears it then).
- Any other raise is a new alarm; when its rule says so it opens a case (source DEVICE) at
  the device's region and the rule's tier, and the cases sweep escalates it from there.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hemei.core.audit import audit_record
from hemei.core.scope import system
from hemei.core.workflow import record, transition
from hemei.devices.events import AlarmSignal
from hemei.devices.models import Alarm, Device
from hemei.devices.rules import OFFLINE, RuleBook, offline_signal

S = Alarm.State
INGEST = system("devices")


def _open(device: Device, code: str) -> Alarm | None:
    return Alarm.objects.filter(device=device, code=code).exclude(state=S.CLEARED).first()


def _clear(device: Device, code: str, *, now: dt.datetime) -> Alarm | None:
    alarm = _open(device, code)
    if alarm is None or alarm.flapping:
        return None  # nothing open, or flapping: the clear is suppressed
    return transition(alarm, S.CLEARED, actor=INGEST, at=now, cleared_at=now, flapping=False)


def _reraise(alarm: Alarm, signal: AlarmSignal, severity: str, *, now: dt.datetime) -> Alarm:
    times = alarm.reraised + 1
    flapping = times >= settings.HEMEI_ALARM_FLAP_LIMIT
    return transition(alarm, S.ACTIVE, actor=INGEST, at=now, reraised=times, flapping=flapping,
                      count=alarm.count + 1, last_at=now, severity=severity, text=signal.text[:200] or alarm.text,
                      acknowledged_at=None, acknowledged_by=None, cleared_at=None, data={"flapping": flapping})


def _open_case(alarm: Alarm, device: Device, rule: object) -> None:
    from hemei.cases.models import Case
    from hemei.cases.services import case_submit

    case = case_submit(
        actor=INGEST, region=device.region, category=rule.category,  # type: ignore[attr-defined]
        title=f"{device.name}: {alarm.text}"[:100],
        description=(f"设备告警 {alarm.code} ({alarm.get_severity_display()}), 设备 {device.code} {device.name}, "
                     f"{timezone.localtime(alarm.raised_at):%Y-%m-%d %H:%M:%S}"),
        source=Case.Source.DEVICE, tier=rule.tier,  # type: ignore[attr-defined]
    )
    Alarm.objects.filter(pk=alarm.pk).update(case=case)
    alarm.case = case


def _create(device: Device, signal: AlarmSignal, severity: str, text: str, *, now: dt.datetime,
            book: RuleBook) -> Alarm:
    alarm = Alarm.objects.create(county_id=device.county_id, region_id=device.region_id, device=device,
                                 code=signal.code, severity=severity, text=text, raised_at=now, last_at=now,
                                 updated_at=now)
    alarm.device = device
    record(alarm, kind="raised", actor=INGEST, at=now, to_state=S.ACTIVE, data={"severity": severity})
    audit_record(actor=INGEST, action="create", obj=alarm,
                 changes={"code": [None, signal.code], "severity": [None, severity]})
    rule = book.for_code(device, signal.code)
    # An app that handled the message (care for call boxes and bands) opens its own work orders.
    if rule is not None and rule.opens_case and rule.category_id is not None and not signal.handled:
        _open_case(alarm, device, rule)
    return alarm


def fold(device: Device, signal: AlarmSignal, *, now: dt.datetime | None = None,
         book: RuleBook | None = None) -> Alarm | None:
    """Apply one signal to the device's alarms; the alarm it touched (None: nothing to do)."""
    now = now or timezone.now()
    book = book or RuleBook.load()
    if signal.clear:
        return _clear(device, signal.code, now=now)
    rule = book.for_code(device, signal.code)
    severity = rule.severity if rule is not None else signal.severity
    text = (signal.text or (rule.text if rule else signal.code))[:200]
    open_alarm = _open(device, signal.code)
    if open_alarm is not None:
        Alarm.objects.filter(pk=open_alarm.pk).update(count=F("count") + 1, last_at=now, updated_at=now)
        return open_alarm
    window = now - dt.timedelta(minutes=settings.HEMEI_ALARM_FLAP_MINUTES)
    recent = (Alarm.objects.filter(device=device, code=signal.code, state=S.CLEARED, cleared_at__gte=window)
              .order_by("-cleared_at").first())
    if recent is not None:
        return _reraise(recent, signal, severity, now=now)
    try:
        with transaction.atomic():
            return _create(device, signal, severity, text, now=now, book=book)
    except IntegrityError:  # another listener opened it a moment ago: fold into that one
        found = _open(device, signal.code)
        if found is None:
            raise
        Alarm.objects.filter(pk=found.pk).update(count=F("count") + 1, last_at=now, updated_at=now)
        return found


def device_spoke(device: Device, *, now: dt.datetime) -> list[Alarm]:
    """A message came: a device marked offline is online again and its offline alarm clears."""
    if device.online:
        return []
    Device.objects.filter(pk=device.pk, online=False).update(online=True)
    device.online = True
    cleared = _clear(device, OFFLINE, now=now)
    return [cleared] if cleared is not None else []


def raise_offline(device: Device, *, now: dt.datetime) -> Alarm | None:
    return fold(device, offline_signal(), now=now)

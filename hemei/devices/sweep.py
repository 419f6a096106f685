"""The device sweeper (`hemei sweep`, `hemei.core.sweeps`):

1. A device online whose last message is older than its kind's heartbeat interval times
   HEMEI_DEVICE_MISSED is marked offline with a conditional UPDATE on (pk, online, last seen
   as read) — of two sweepers exactly one wins — and the winner raises its `offline` alarm
   (which may open a case, by rule). Its next message clears the alarm.
2. A flapping alarm not raised again for HEMEI_ALARM_FLAP_MINUTES is cleared: the device has
   calmed down.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hemei.core.sweeps import Escalation, claim_once, sweeper
from hemei.core.workflow import transition
from hemei.devices import alarms
from hemei.devices.models import Alarm, Device, Kind


def _silent_q(now: dt.datetime) -> Q:
    q = Q(pk__in=[])
    for kind in Kind.values:
        interval = settings.HEMEI_DEVICE_HEARTBEAT.get(kind, 300) * settings.HEMEI_DEVICE_MISSED
        q |= Q(kind=kind, last_seen_at__lt=now - dt.timedelta(seconds=interval))
    return q


@sweeper("devices")
def sweep(now: dt.datetime | None = None) -> list[Escalation]:
    now = now or timezone.now()
    done: list[Escalation] = []
    silent = Device.objects.filter(_silent_q(now), online=True, active=True).values_list("pk", "last_seen_at")
    for pk, seen in list(silent[:5000]):
        with transaction.atomic():
            if not claim_once(Device, pk, expect={"online": True, "last_seen_at": seen}, update={"online": False}):
                continue  # another sweeper, or the device spoke meanwhile
            device = Device.objects.select_related("region").get(pk=pk)
            device.online = False
            alarms.raise_offline(device, now=now)
        done.append(Escalation("device", device.code, "heartbeat", "online", "offline"))
    quiet = now - dt.timedelta(minutes=settings.HEMEI_ALARM_FLAP_MINUTES)
    for alarm in Alarm.objects.filter(flapping=True, last_at__lt=quiet).exclude(state=Alarm.State.CLEARED)[:5000]:
        try:
            transition(alarm, Alarm.State.CLEARED, actor=alarms.INGEST, at=now, cleared_at=now, flapping=False,
                       note="quiet after flapping", expect={"last_at": alarm.last_at})
        except ValidationError:
            continue  # raised again meanwhile: still flapping
    return done

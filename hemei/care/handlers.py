"""Thin adapters from device messages (`hemei.devices.events`) to the care services.

- `call_box` press → `open_call` (a care work order for the device's elder; the message id
  makes a replayed press open nothing new). Returns no alarm: the work order is the alarm.
- `health_band` reading `{"metric": ..., "value": ...}` or event `{"event": "fall"}` →
  `reading_record`; a value out of the elder's range returns an `AlarmSignal`
  (`<metric>_high` / `<metric>_low`, a fall `fall`), the first in-range value after one out
  of range returns the clearing signal. Ingestion folds the signals into the device's alarms.

A device without an elder raises `NotHandled`: ingestion applies the devices app's own alarm
rules, so no press is lost. A message the care services refuse raises ValidationError:
ingestion records it as a refused message and goes on.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hemei.care.models import Elder, Metric, Reading
from hemei.care.services import open_call, previous_flag, reading_record
from hemei.core.scope import system
from hemei.devices.events import AlarmSignal, DeviceEvent, NotHandled, register_handler

DEVICE = system("device")
SEVERITY: dict[str, str] = {Metric.FALL: "critical", Metric.SPO2: "critical", Metric.HEART_RATE: "major",
            Metric.SYSTOLIC: "major", Metric.DIASTOLIC: "major", Metric.GLUCOSE: "major", Metric.DOOR_IDLE: "major"}
BAND_METRICS = (Metric.HEART_RATE, Metric.SYSTOLIC, Metric.DIASTOLIC, Metric.GLUCOSE, Metric.SPO2)


def elder_of(device: Any) -> Elder:
    resident_id = getattr(device, "resident_id", None)
    elder = (Elder.objects.select_related("resident__household", "region").filter(resident_id=resident_id).first()
             if resident_id is not None else None)
    if elder is None:
        # A box or band in the home of someone without a care profile (yet): the devices app's
        # own alarm and rules take the message instead of it being refused.
        raise NotHandled(getattr(device, "code", "?"))
    return elder


def call_box(device: Any, event: DeviceEvent) -> AlarmSignal | None:
    if event.type != "press":
        return None  # heartbeats and the like are the devices app's business
    open_call(elder_of(device), actor=DEVICE, at=event.at, source_ref=event.message_id, kind="call")
    return None


def health_band(device: Any, event: DeviceEvent) -> AlarmSignal | None:
    if event.type == "heartbeat":
        return None  # it only keeps the band online, the devices app's business
    data = dict(event.data or {})
    metric: str
    value: Any
    if event.type == "event" and data.get("event") == "fall":
        metric, value = Metric.FALL, 1
    elif event.type == "reading" and data.get("metric") in BAND_METRICS:
        metric, value = data["metric"], data.get("value")
    else:
        raise ValidationError(_("A health band sends a reading of a known metric or a fall."), code="payload")
    reading = reading_record(actor=DEVICE, elder=elder_of(device), metric=metric, value=value, at=event.at,
                             source=Reading.Source.DEVICE, device_code=str(getattr(device, "code", "")),
                             message_id=event.message_id)
    return signal_for(reading)


def signal_for(reading: Reading) -> AlarmSignal | None:
    """Raise on a value out of range; clear when the value is back after one that was not."""
    if getattr(reading, "replayed", False):
        return None
    label = str(Metric(reading.metric).label)
    if reading.metric == Metric.FALL:
        return AlarmSignal(code="fall", severity="critical", text=_("Fall detected"))
    if reading.flag:
        return AlarmSignal(code=f"{reading.metric}_{reading.flag}", severity=SEVERITY[reading.metric],
                           text=_("%(m)s %(v)s out of range") % {"m": label, "v": f"{reading.value:g}"})
    before = previous_flag(reading)
    if before:
        return AlarmSignal(code=f"{reading.metric}_{before}", severity=SEVERITY[reading.metric],
                           text=_("%(m)s back in range") % {"m": label}, clear=True)
    return None


def register() -> None:
    # A call box's only message that means anything to care is a press (see call_box).
    register_handler("call_box", call_box, passes=("heartbeat", "reading", "event", "clear"))
    register_handler("health_band", health_band, passes=("heartbeat",))

"""The seam between device ingestion and the apps that understand a device's messages.

Ingestion (MQTT, the signed HTTP webhook) authenticates the device, refuses malformed,
replayed or flooding messages, and hands each accepted message to the handler registered
for the device's kind. A handler records what the message means to its app (a care work
order for a call-box press, a health reading for a band) and may return an `AlarmSignal`;
ingestion then folds the signal into the device's alarms (one active alarm per device and
code, with a count) and applies the alarm rules. Apps register in `AppConfig.ready()`, so
the devices app never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeviceEvent:
    """One accepted message of one device, already validated."""

    message_id: str  # the device's own id for the message: a replay carries the same one
    at: dt.datetime  # aware; when the device says it happened
    type: str  # "press", "reading", "event", "heartbeat", "clear"
    data: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"metric": "heart_rate", "value": 128}


@dataclass(frozen=True)
class AlarmSignal:
    """What a handler asks ingestion to raise (or clear) for the device."""

    code: str  # e.g. "heart_rate_high", "temperature_high", "fall"
    severity: str  # "critical", "major", "minor", "warning"
    text: str  # plain words for the alarm list; never personal data beyond the device's owner
    clear: bool = False  # True: the condition is over (an active alarm of this code is cleared)
    # Set by ingestion on what an app's handler returns: that app opens its own work orders,
    # so the alarm rules open no case for it (a signal from the devices app's defaults may).
    handled: bool = False


class NotHandled(Exception):
    """Raised by a handler when the message is not its app's after all (a call box whose
    resident has no care profile): ingestion then treats the message as it treats a kind
    without a handler (an alarm, and the alarm rules), so that no press is ever lost."""


Handler = Callable[[Any, DeviceEvent], AlarmSignal | None]
HANDLERS: dict[str, Handler] = {}
# Per handler (not per kind, so a handler swapped in by hand never inherits another's): the
# message types it returns None for without reading or writing anything. Ingestion stores
# those in bulk and does not call the handler (hemei.devices.ingest, the batch's fast path).
PASSES: dict[Handler, frozenset[str]] = {}


def register_handler(kind: str, fn: Handler, *, passes: tuple[str, ...] = ()) -> Handler:
    """Register `fn(device, event) -> AlarmSignal | None` for devices of `kind` ("call_box", ...).
    `passes`: the message types `fn` does nothing with (returns None, touches no table)."""
    HANDLERS[kind] = fn
    PASSES[fn] = frozenset(passes)
    return fn


def handler_for(kind: str) -> Handler | None:
    return HANDLERS.get(kind)


def passes(kind: str, type_: str) -> bool:
    """Whether the handler of `kind` does nothing with messages of `type_` (see PASSES)."""
    fn = HANDLERS.get(kind)
    return fn is not None and type_ in PASSES.get(fn, frozenset())

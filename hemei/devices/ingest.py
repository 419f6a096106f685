"""Device ingestion: the one path from a received message to rows (MQTT and the webhook).

`ingest_batch(items)` handles messages in one transaction, each as if in its own savepoint:
1. Parse the payload (JSON object, at most 8 KB; `id`, `ts`, `type`, `device`, `data`).
2. Find the device by the code in the topic (or URL); check it is active, that the payload
   names the same device, county and type as the topic, and the timestamp lies within
   HEMEI_DEVICE_MAX_AGE behind and HEMEI_DEVICE_MAX_AHEAD ahead.
3. Refuse a flood (more than HEMEI_DEVICE_RATE messages per device) and a replayed `id`.
4. Record the message, hand a `DeviceEvent` to the handler of the device's kind (or the
   default threshold handler) and fold the `AlarmSignal`s into alarms (`hemei.devices.alarms`).
Anything refused lands in `DeadLetter` with its reason and changes nothing else; a handler
that fails rolls back its savepoint only. Database errors propagate, so the listener's
`run_pass` reconnects and the batch is handled again (nothing was committed).

Most messages are heartbeats, whose acceptance is only their row: those (and whatever else
cannot raise or clear an alarm, `_plain`) are stored with one multi-row INSERT per batch, in
one savepoint for the batch; a replay among them fails that INSERT, and then the whole batch
is handled again message by message, each in its own savepoint (`ingest_batch`).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hemei.core.resilience import DB_ERRORS
from hemei.devices import alarms
from hemei.devices.events import AlarmSignal, DeviceEvent, NotHandled, handler_for, passes
from hemei.devices.models import Alarm, DeadLetter, Device, DeviceMessage
from hemei.devices.rules import RuleBook, default_signals, is_finite_number

logger = logging.getLogger("hemei.devices")

MAX_BYTES = 8192
TYPES = ("heartbeat", "press", "reading", "event", "clear")
R = DeadLetter.Reason


class Refused(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass
class Incoming:
    """One received message: its channel, where it came (topic or path) and its body.
    `code`, `county` and `type` come from the topic (MQTT) or the URL and headers (webhook)."""

    channel: str
    topic: str
    body: bytes
    code: str
    county: str = ""
    type: str = ""


@dataclass
class Outcome:
    accepted: bool
    reason: str = ""
    detail: str = ""
    device: Device | None = None
    alarms: list[Alarm] = field(default_factory=list)


def parse_topic(topic: str, prefix: str | None = None) -> tuple[str, str, str] | None:
    """`<prefix>/<county>/<code>/up/<type>` → (county, code, type); None for any other shape."""
    prefix = settings.HEMEI_MQTT_PREFIX if prefix is None else prefix
    parts = topic.split("/")
    head = prefix.split("/") if prefix else []
    if len(parts) != len(head) + 4 or parts[: len(head)] != head or parts[len(head) + 2] != "up":
        return None
    county, code, kind = parts[len(head)], parts[len(head) + 1], parts[len(head) + 3]
    return county, code, kind


class RateLimiter:
    """A sliding window of arrivals per device, in this process (one listener per deployment;
    each web worker keeps its own for the webhook)."""

    def __init__(self, spec: str | None = None, clock: Any = time.monotonic) -> None:
        count, _sep, seconds = (spec or settings.HEMEI_DEVICE_RATE).partition("/")
        self.limit, self.window, self.clock = int(count), float(seconds or 60), clock
        self.seen: dict[int, collections.deque[float]] = {}

    def snapshot(self, device_ids: Iterable[int]) -> dict[int, collections.deque[float] | None]:
        """The windows of `device_ids` as they are, for `restore` (None: no window yet)."""
        return {i: collections.deque(self.seen[i]) if i in self.seen else None for i in device_ids}

    def restore(self, snapshot: dict[int, collections.deque[float] | None]) -> None:
        for device_id, window in snapshot.items():
            if window is None:
                self.seen.pop(device_id, None)
            else:
                self.seen[device_id] = window

    def allow(self, device_id: int) -> bool:
        now = self.clock()
        window = self.seen.setdefault(device_id, collections.deque())
        while window and window[0] <= now - self.window:
            window.popleft()
        if len(window) >= self.limit:
            return False
        window.append(now)
        return True


DEFAULT_LIMITER = RateLimiter.__new__(RateLimiter)  # configured on first use (settings may change in tests)


def _limiter() -> RateLimiter:
    if not hasattr(DEFAULT_LIMITER, "limit"):
        DEFAULT_LIMITER.__init__()  # type: ignore[misc]
    return DEFAULT_LIMITER


def _moment(value: Any) -> dt.datetime:
    if is_finite_number(value):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise Refused(R.MALFORMED, "ts out of range") from exc
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise Refused(R.MALFORMED, "ts is not a time") from exc
        if timezone.is_naive(moment):
            raise Refused(R.MALFORMED, "ts has no UTC offset")
        return moment
    raise Refused(R.MALFORMED, "ts missing")


def _check_data(kind: str, data: dict[str, Any]) -> None:
    metric_ok = isinstance(data.get("metric"), str) and bool(data["metric"]) and is_finite_number(data.get("value"))
    if kind == "reading" and not metric_ok:
        raise Refused(R.MALFORMED, "a reading needs data.metric and a numeric data.value")
    if kind in ("event", "clear") and (not isinstance(data.get("code"), str) or not 0 < len(data["code"]) <= 40):
        raise Refused(R.MALFORMED, f"an {kind} needs data.code")


def parse_payload(body: bytes) -> tuple[str, dt.datetime, str, str | None, dict[str, Any]]:
    """(id, ts, type, device, data) of a payload, or Refused(MALFORMED)."""
    if len(body) > MAX_BYTES:
        raise Refused(R.MALFORMED, f"payload over {MAX_BYTES} bytes")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(R.MALFORMED, "not JSON") from exc
    if not isinstance(payload, dict):
        raise Refused(R.MALFORMED, "not a JSON object")
    message_id, kind, data = payload.get("id"), payload.get("type"), payload.get("data", {})
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 64:
        raise Refused(R.MALFORMED, "id must be a string of 1 to 64 characters")
    if kind not in TYPES:
        raise Refused(R.MALFORMED, f"type must be one of {', '.join(TYPES)}")
    if not isinstance(data, dict):
        raise Refused(R.MALFORMED, "data must be an object")
    device = payload.get("device")
    if device is not None and not isinstance(device, str):
        raise Refused(R.MALFORMED, "device must be a string")
    _check_data(kind, data)
    return message_id, _moment(payload.get("ts")), kind, device, data


def _check_device(item: Incoming, device: Device | None, named: str | None, kind: str) -> Device:
    if device is None:
        raise Refused(R.UNKNOWN_DEVICE, f"no device {item.code[:40]}")
    if not device.active:
        raise Refused(R.INACTIVE, "device taken out of service")
    if named is not None and named != device.code:
        raise Refused(R.TOPIC_MISMATCH, f"payload names device {named[:40]}")
    if item.county and item.county != device.county_code:
        raise Refused(R.TOPIC_MISMATCH, f"device is not in county {item.county[:12]}")
    if item.type and item.type != kind:
        raise Refused(R.TOPIC_MISMATCH, f"topic type {item.type[:20]} but payload type {kind}")
    return device


def _check_time(at: dt.datetime, now: dt.datetime) -> None:
    if at < now - dt.timedelta(seconds=settings.HEMEI_DEVICE_MAX_AGE):
        raise Refused(R.STALE, f"ts {at.isoformat()} is older than {settings.HEMEI_DEVICE_MAX_AGE}s")
    if at > now + dt.timedelta(seconds=settings.HEMEI_DEVICE_MAX_AHEAD):
        raise Refused(R.FUTURE, f"ts {at.isoformat()} is ahead of the server")


def _signals(device: Device, event: DeviceEvent, book: RuleBook) -> list[AlarmSignal]:
    handler = handler_for(device.kind)
    if handler is None:
        return default_signals(device, event, book)
    try:
        signal = handler(device, event)
    except NotHandled:
        return default_signals(device, event, book)
    return [dataclasses.replace(signal, handled=True)] if signal is not None else []


def _accept(item: Incoming, device: Device, parsed: tuple[Any, ...], *, now: dt.datetime, book: RuleBook,
            limiter: RateLimiter) -> Outcome:
    """Inside the message's savepoint: a Refused raised here rolls back all of it."""
    message_id, at, kind, _named, data = parsed
    try:
        # The unique (device, message id) is the replay check: no SELECT before each insert.
        DeviceMessage.objects.create(county_id=device.county_id, device=device, message_id=message_id, type=kind,
                                     at=at, received_at=now, channel=item.channel, data=data)
    except IntegrityError as exc:
        raise Refused(R.REPLAY, f"message id {message_id} seen before") from exc
    if not limiter.allow(device.pk):
        raise Refused(R.FLOOD, f"more than {limiter.limit} messages in {limiter.window:g}s")
    event = DeviceEvent(message_id=message_id, at=at, type=kind, data=data)
    touched = alarms.device_spoke(device, now=now)
    try:
        for signal in _signals(device, event, book):
            alarm = alarms.fold(device, signal, now=now, book=book)
            if alarm is not None:
                touched.append(alarm)
    except DB_ERRORS as exc:
        if isinstance(exc, IntegrityError):
            raise Refused(R.HANDLER_ERROR, f"{type(exc).__name__}: {exc}"[:300]) from exc
        raise
    except Exception as exc:  # a faulty handler must not stop the listener or lose the message's record
        logger.exception("device handler failed for %s", device.code)
        raise Refused(R.HANDLER_ERROR, f"{type(exc).__name__}: {exc}"[:300]) from exc
    return Outcome(True, device=device, alarms=touched)


def dead_letter(item: Incoming, reason: str, detail: str, device: Device | None = None,
                now: dt.datetime | None = None) -> DeadLetter:
    logger.info("refused %s message on %s: %s (%s)", item.channel, item.topic, reason, detail)
    return DeadLetter.objects.create(
        received_at=now or timezone.now(), channel=item.channel, topic=item.topic[:200],
        device_code=item.code[:64], device=device, reason=reason, detail=detail[:300],
        payload=item.body[:4096].decode("utf-8", errors="replace"),
    )


def _one(item: Incoming, devices: dict[str, Device], *, now: dt.datetime, book: RuleBook,
         limiter: RateLimiter) -> Outcome:
    """One message in its own savepoint: the per-message path."""
    device = devices.get(item.code)
    try:
        parsed = parse_payload(item.body)
        device = _check_device(item, device, parsed[3], parsed[2])
        _check_time(parsed[1], now)
    except Refused as refused:
        dead_letter(item, refused.reason, refused.detail, device, now)
        return Outcome(False, refused.reason, refused.detail, device)
    return _one_checked(item, device, parsed, now=now, book=book, limiter=limiter)


def _one_checked(item: Incoming, device: Device, parsed: tuple[Any, ...], *, now: dt.datetime, book: RuleBook,
                 limiter: RateLimiter) -> Outcome:
    try:
        with transaction.atomic():
            return _accept(item, device, parsed, now=now, book=book, limiter=limiter)
    except Refused as refused:
        dead_letter(item, refused.reason, refused.detail, device, now)
        return Outcome(False, refused.reason, refused.detail, device)


def _plain(device: Device, kind: str, data: dict[str, Any], book: RuleBook) -> bool:
    """Whether accepting the message is only its row: the device is online (nothing to clear)
    and its handler, or the default rules, cannot raise or clear anything for it."""
    if not device.online:
        return False
    if handler_for(device.kind) is not None:
        return passes(device.kind, kind)
    if kind == "heartbeat":
        return True
    return kind == "reading" and not book.thresholds(device, str(data["metric"]))


class _BulkReplay(Exception):
    """A bulk insert met a (device, message id) already stored: the batch goes message by message."""


def _bulk(items: list[Incoming], devices: dict[str, Device], *, now: dt.datetime, book: RuleBook,
          limiter: RateLimiter) -> list[Outcome]:
    """The batch's fast path, with the same outcomes as `_one` on each item in turn: the plain
    messages (`_plain`) are stored with one multi-row INSERT and no savepoint of their own; the
    others go through `_one_checked`, after the plain ones before them are stored, so the
    order of the rows and of the rate limiter's arrivals is the messages' order. A plain
    message whose id repeats one in the batch, or that the rate limiter refuses, takes the
    per-message path too (so a replay during a flood is still called a replay). A replay of a
    stored message shows only as the INSERT's IntegrityError: `_BulkReplay`."""
    outcomes: list[Outcome | None] = [None] * len(items)
    pending: list[tuple[int, DeviceMessage]] = []
    keys: set[tuple[int, str]] = set()

    def flush() -> None:
        if not pending:
            return
        try:
            DeviceMessage.objects.bulk_create([row for _i, row in pending])
        except IntegrityError as exc:
            raise _BulkReplay from exc
        for i, row in pending:
            outcomes[i] = Outcome(True, device=row.device)
        pending.clear()

    for i, item in enumerate(items):
        device = devices.get(item.code)
        try:
            parsed = parse_payload(item.body)
            device = _check_device(item, device, parsed[3], parsed[2])
            _check_time(parsed[1], now)
        except Refused as refused:
            dead_letter(item, refused.reason, refused.detail, device, now)
            outcomes[i] = Outcome(False, refused.reason, refused.detail, device)
            continue
        message_id, at, kind, _named, data = parsed
        key = (device.pk, message_id)
        if key not in keys and _plain(device, kind, data, book) and limiter.allow(device.pk):
            keys.add(key)
            pending.append((i, DeviceMessage(county_id=device.county_id, device=device, message_id=message_id,
                                             type=kind, at=at, received_at=now, channel=item.channel, data=data)))
            continue
        keys.add(key)
        flush()
        outcomes[i] = _one_checked(item, device, parsed, now=now, book=book, limiter=limiter)
    flush()
    return [o for o in outcomes if o is not None]


def _load(items: list[Incoming]) -> tuple[dict[str, Device], RuleBook]:
    devices = {d.code: d for d in Device.objects.select_related("region").filter(code__in={i.code for i in items})}
    return devices, RuleBook.load()


def ingest_batch(items: list[Incoming], *, now: dt.datetime | None = None,
                 limiter: RateLimiter | None = None) -> list[Outcome]:
    """Handle `items` in one transaction (see the module's docstring); one Outcome each.

    First in one savepoint by `_bulk`; when that meets a replay of a stored message, the
    savepoint is rolled back, the rate limiter and the devices are restored to the batch's
    start and every message goes through `_one`, each in its own savepoint."""
    if not items:
        return []
    limiter = limiter or _limiter()
    with transaction.atomic():
        now = now or timezone.now()
        devices, book = _load(items)
        before = limiter.snapshot(d.pk for d in devices.values())
        try:
            with transaction.atomic():
                outcomes = _bulk(items, devices, now=now, book=book, limiter=limiter)
        except _BulkReplay:
            limiter.restore(before)
            devices = _load(items)[0]  # `_bulk` may have changed them (a device back online)
            outcomes = [_one(item, devices, now=now, book=book, limiter=limiter) for item in items]
        spoke = {o.device.pk for o in outcomes if o.accepted and o.device is not None}
        if spoke:  # one update for the batch, not one per message
            Device.objects.filter(pk__in=spoke).update(last_seen_at=now)
    return outcomes


def ingest(item: Incoming, **kwargs: Any) -> Outcome:
    return ingest_batch([item], **kwargs)[0]

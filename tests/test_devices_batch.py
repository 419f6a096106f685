"""A batch through ingestion's fast path (plain messages in one multi-row INSERT) ends exactly
as the per-message path ends: the same outcomes, rows, dead letters, alarms and rate limits,
including a replay that makes the batch fall back to one savepoint per message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hemei.devices import alarms, ingest
from hemei.devices.ingest import Incoming, RateLimiter, ingest_batch
from hemei.devices.models import Alarm, DeadLetter, Device, DeviceMessage
from tests.devicekit import make_device, payload, seed_rules

R = DeadLetter.Reason


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def _item(device: Device | str, kind: str = "heartbeat", body: bytes | None = None, **kw: Any) -> Incoming:
    code = device if isinstance(device, str) else device.code
    return Incoming("mqtt", f"hemei/140110/{code}/up/{kind}", body if body is not None else payload(device, kind, **kw),
                    code, "140110", kind)


class _Undo(Exception):
    pass


def _state() -> dict[str, Any]:
    return {
        "messages": list(DeviceMessage.objects.order_by("id").values_list("device__code", "message_id", "type")),
        "letters": list(DeadLetter.objects.order_by("id").values_list("device_code", "reason")),
        "alarms": sorted(Alarm.objects.values_list("device__code", "code", "state", "count")),
        "devices": sorted(Device.objects.values_list("code", "online", "last_seen_at")),
    }


def _both(items: list[Incoming], now: dt.datetime, rate: str, monkeypatch: pytest.MonkeyPatch
          ) -> tuple[list[tuple[bool, str]], dict[str, Any], list[tuple[bool, str]], dict[str, Any]]:
    """The batch message by message (the fast path refused at once), undone; then as it runs."""

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise ingest._BulkReplay

    got: dict[str, Any] = {}
    try:
        with transaction.atomic(), monkeypatch.context() as patched:
            patched.setattr(ingest, "_bulk", refuse)
            outcomes = ingest_batch(items, now=now, limiter=RateLimiter(rate, clock=Clock()))
            got["outcomes"], got["state"] = [(o.accepted, o.reason) for o in outcomes], _state()
            raise _Undo
    except _Undo:
        pass
    outcomes = ingest_batch(items, now=now, limiter=RateLimiter(rate, clock=Clock()))
    return got["outcomes"], got["state"], [(o.accepted, o.reason) for o in outcomes], _state()


@pytest.fixture
def devices(world: Any, db: Any) -> dict[str, Device]:
    seed_rules()
    made = {
        "smoke": make_device(world.village, "smoke", "b-smoke")[0],
        "smoke2": make_device(world.village, "smoke", "b-smoke2")[0],
        "farm": make_device(world.grid_a, "temp_humidity", "b-farm", profile="scorpion_house")[0],
        "camera": make_device(world.village, "camera", "b-cam")[0],
        "box": make_device(world.grid_a, "call_box", "b-box")[0],  # no elder: a press is the devices app's
        "band": make_device(world.grid_a, "health_band", "b-band")[0],
        "gone": make_device(world.village, "smoke", "b-gone")[0],
    }
    Device.objects.filter(pk=made["gone"].pk).update(active=False)
    return made


def test_a_mixed_batch_ends_as_message_by_message(devices, monkeypatch):
    now = timezone.now()
    smoke, smoke2, farm, camera, box = (devices[k] for k in ("smoke", "smoke2", "farm", "camera", "box"))
    alarms.raise_offline(smoke2, now=now - dt.timedelta(minutes=5))  # back online with this batch
    Device.objects.filter(pk=smoke2.pk).update(online=False)
    ingest_batch([_item(smoke, id="stored")], now=now - dt.timedelta(seconds=1))
    old = (now - dt.timedelta(days=1)).timestamp()
    items = [
        _item(smoke), _item(smoke, id="twice"), _item(box), _item(smoke2), _item(smoke2),
        _item(farm, "reading", metric="temperature", value=45), _item(farm, "reading", metric="pressure", value=1),
        _item(smoke, id="twice"),  # a replay within the batch
        _item(camera, "event", code="intrusion"), _item(camera, "event", code="intrusion"),
        _item(box, "press"), _item(devices["band"]),  # a band's heartbeat: accepted, stored
        _item(devices["band"], "reading", metric="temperature", value=37),  # the band's handler refuses it
        _item(devices["gone"]), _item("nobody"), _item(smoke, body=b"not json"), _item(smoke, ts=old),
        *[_item(farm) for _ in range(6)],  # over the limit of 5 after the two readings
        _item(farm, "reading", metric="temperature", value=37),
    ]
    by_one, one_state, batched, batch_state = _both(items, now, "5/60", monkeypatch)
    assert batched == by_one and batch_state == one_state
    reasons = [r for ok, r in batched if not ok]
    assert sorted(reasons) == sorted([R.REPLAY, R.HANDLER_ERROR, R.INACTIVE, R.UNKNOWN_DEVICE, R.MALFORMED,
                                      R.STALE, R.FLOOD, R.FLOOD, R.FLOOD, R.FLOOD])
    assert ("b-smoke2", "offline", Alarm.State.CLEARED, 1) in batch_state["alarms"]
    assert ("b-cam", "intrusion", Alarm.State.ACTIVE, 2) in batch_state["alarms"]


def test_a_replay_of_a_stored_message_falls_back_and_restores_the_rate_limit(devices, monkeypatch):
    now = timezone.now()
    smoke = devices["smoke"]
    ingest_batch([_item(smoke, id="stored")], now=now - dt.timedelta(seconds=1))
    items = [_item(smoke), _item(smoke, id="stored"), *[_item(smoke) for _ in range(5)]]
    by_one, one_state, batched, batch_state = _both(items, now, "5/60", monkeypatch)
    assert batched == by_one and batch_state == one_state
    # The replay takes none of the five: the fast path's arrivals were taken back.
    assert batched == [(True, "")] + [(False, R.REPLAY)] + [(True, "")] * 4 + [(False, R.FLOOD)]


def test_a_batch_of_heartbeats_is_a_few_statements(devices):
    smoke, smoke2 = devices["smoke"], devices["smoke2"]
    items = [_item(smoke if i % 2 else smoke2) for i in range(200)]
    with CaptureQueriesContext(connection) as queries:
        outcomes = ingest_batch(items, limiter=RateLimiter("1000/60"))
    assert all(o.accepted for o in outcomes) and DeviceMessage.objects.count() == 200
    assert len(queries) <= 10, [q["sql"][:80] for q in queries]

"""Device ingestion in process: accepted messages, alarms folded, flapping, rules → cases,
offline sweep, and each kind of bad input recorded as a dead letter that changes nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from hemei.cases.models import Case
from hemei.core.scope import SYSTEM
from hemei.core.sweeps import sweep_all
from hemei.devices import events
from hemei.devices.events import AlarmSignal, DeviceEvent
from hemei.devices.ingest import Incoming, ingest
from hemei.devices.models import Alarm, AlarmEvent, DeadLetter, Device, DeviceMessage
from hemei.devices.services import alarm_acknowledge, alarm_clear, device_register
from tests.devicekit import make_device, payload, seed_rules, send

R = DeadLetter.Reason


@pytest.fixture
def rules(db):
    seed_rules()


@pytest.fixture
def farm(world, rules):
    device, _secret = make_device(world.grid_a, "temp_humidity", "farm-t1", profile="scorpion_house")
    return device


@pytest.fixture
def camera(world, rules):
    device, _secret = make_device(world.village, "camera", "cam-entrance")
    return device


def _nothing_changed(before: int) -> None:
    assert DeviceMessage.objects.count() == before
    assert not Alarm.objects.exists()


def test_a_heartbeat_is_recorded_and_raises_nothing(farm):
    outcome = send(farm)
    assert outcome.accepted
    assert DeviceMessage.objects.filter(device=farm).count() == 1
    assert not Alarm.objects.exists()
    assert Device.objects.get(pk=farm.pk).last_seen_at is not None


def test_scorpion_house_thresholds_raise_fold_and_clear(farm):
    send(farm, "reading", metric="temperature", value=37.0)
    assert not Alarm.objects.exists()  # inside 35–40 °C
    send(farm, "reading", metric="temperature", value=41.5)
    send(farm, "reading", metric="temperature", value=42.0)
    alarm = Alarm.objects.get(device=farm, code="temperature_high")
    assert alarm.state == Alarm.State.ACTIVE and alarm.count == 2 and alarm.severity == "major"
    send(farm, "reading", metric="humidity", value=50)
    assert Alarm.objects.get(device=farm, code="humidity_low").state == Alarm.State.ACTIVE
    send(farm, "reading", metric="temperature", value=38.0)
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.CLEARED and alarm.cleared_at is not None
    assert list(alarm.events.values_list("kind", flat=True)) == ["raised", "cleared"]


def test_a_sensor_without_the_profile_has_no_thresholds(world, rules):
    plain, _ = make_device(world.grid_a, "temp_humidity", "room-t1")
    send(plain, "reading", metric="temperature", value=45.0)
    assert not Alarm.objects.exists()


def test_a_camera_alarm_opens_a_case_that_climbs_the_tiers(camera, world):
    outcome = send(camera, "event", code="intrusion")
    alarm = outcome.alarms[0]
    case = Case.objects.get(pk=alarm.case_id)
    assert case.source == Case.Source.DEVICE and case.region == world.village and case.tier == "village"
    assert case.category.name == "治安隐患"
    send(camera, "event", code="intrusion")  # folded: no second case
    assert Case.objects.count() == 1 and Alarm.objects.get(pk=alarm.pk).count == 2
    sweep_all(case.accept_by + dt.timedelta(minutes=1), only=["cases"])
    assert Case.objects.get(pk=case.pk).tier == "township"


def test_flapping_stays_one_alarm_and_its_clears_are_suppressed(camera, settings):
    settings.HEMEI_ALARM_FLAP_LIMIT = 3
    for _ in range(4):
        send(camera, "event", code="intrusion")
        send(camera, "clear", code="intrusion")
    alarm = Alarm.objects.get()  # one alarm, one case
    assert alarm.reraised == 3 and alarm.flapping and alarm.state == Alarm.State.ACTIVE
    assert Case.objects.count() == 1
    # The sweeper clears it once it is quiet for the window.
    sweep_all(timezone.now() + dt.timedelta(minutes=settings.HEMEI_ALARM_FLAP_MINUTES + 1), only=["devices"])
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.CLEARED and not alarm.flapping


def test_a_raise_after_the_flap_window_is_a_new_alarm(camera, settings):
    send(camera, "event", code="intrusion")
    send(camera, "clear", code="intrusion")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=settings.HEMEI_ALARM_FLAP_MINUTES + 1)):
        send(camera, "event", code="intrusion")
    assert Alarm.objects.count() == 2 and Case.objects.count() == 2


def test_a_silent_device_goes_offline_and_back(camera, settings):
    later = timezone.now() + dt.timedelta(seconds=settings.HEMEI_DEVICE_HEARTBEAT["camera"] * 3 + 5)
    done = sweep_all(later, only=["devices"])
    assert [e.ref for e in done] == [camera.code]
    alarm = Alarm.objects.get(device=camera, code="offline")
    assert alarm.state == Alarm.State.ACTIVE and not Device.objects.get(pk=camera.pk).online
    assert sweep_all(later, only=["devices"]) == []  # a second sweep does nothing
    with time_machine.travel(later):
        send(camera)
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.CLEARED and Device.objects.get(pk=camera.pk).online


def test_a_registered_handler_gets_the_event_and_its_signal_is_folded(world, rules):
    seen: list[DeviceEvent] = []

    def handler(device, event):
        seen.append(event)
        return AlarmSignal("call", "critical", "一键呼叫") if event.type == "press" else None

    box, _ = make_device(world.grid_a, "call_box", "box-1", resident=world.head_a)
    old = events.HANDLERS.get("call_box")
    events.register_handler("call_box", handler)
    try:
        send(box, "press")
        send(box, "heartbeat")
    finally:
        if old is None:
            events.HANDLERS.pop("call_box")
        else:
            events.HANDLERS["call_box"] = old
    assert [e.type for e in seen] == ["press", "heartbeat"]
    alarm = Alarm.objects.get(device=box)
    assert alarm.code == "call" and alarm.severity == "critical"
    assert not Case.objects.exists()  # the handling app opens its own work orders


def test_a_failing_handler_is_a_dead_letter_and_changes_nothing(world, rules):
    box, _ = make_device(world.grid_a, "call_box", "box-2")
    old = events.HANDLERS.get("call_box")
    events.register_handler("call_box", lambda d, e: 1 / 0)
    try:
        outcome = send(box, "press")
    finally:
        events.HANDLERS.pop("call_box") if old is None else events.HANDLERS.__setitem__("call_box", old)
    assert not outcome.accepted and outcome.reason == R.HANDLER_ERROR
    assert not DeviceMessage.objects.exists()
    assert DeadLetter.objects.get().reason == R.HANDLER_ERROR


def test_a_press_in_a_home_without_a_care_profile_still_raises_an_alarm(world, rules):
    """The care app's handler owns call boxes, but a box whose resident has no care profile
    (yet) must not lose the press: the devices app's own alarm and rule take it."""
    assert events.handler_for("call_box") is not None  # the care app's, registered in ready()
    box, _ = make_device(world.grid_a, "call_box", "box-3", resident=world.head_a)
    outcome = send(box, "press")
    assert outcome.accepted, outcome
    alarm = Alarm.objects.get(device=box)
    assert alarm.code == "press" and alarm.state == Alarm.State.ACTIVE
    assert not DeadLetter.objects.exists()


@pytest.mark.parametrize(("body", "reason"), [
    (b"not json", R.MALFORMED),
    (b"[1, 2]", R.MALFORMED),
    (json.dumps({"id": "x", "ts": 1, "type": "bogus"}).encode(), R.MALFORMED),
    (json.dumps({"id": "", "ts": 1, "type": "heartbeat"}).encode(), R.MALFORMED),
    (json.dumps({"id": "x", "ts": "yesterday", "type": "heartbeat"}).encode(), R.MALFORMED),
    (json.dumps({"id": "x", "ts": 1e300, "type": "heartbeat"}).encode(), R.MALFORMED),
    (json.dumps({"id": "x", "ts": 1, "type": "reading", "data": {"metric": "t", "value": "hot"}}).encode(),
     R.MALFORMED),
    (b"{" + b" " * 9000 + b"}", R.MALFORMED),
])
def test_malformed_payloads_are_dead_letters(farm, body, reason):
    outcome = send(farm, body=body)
    assert not outcome.accepted and outcome.reason == reason
    letter = DeadLetter.objects.get()
    assert letter.reason == reason and letter.device_code == farm.code and letter.detail
    _nothing_changed(0)


def test_unknown_devices_wrong_topics_and_inactive_devices_are_refused(farm, world):
    outcome = ingest(Incoming("mqtt", "hemei/140110/nobody/up/heartbeat", payload("nobody"), "nobody", "140110",
                              "heartbeat"))
    assert outcome.reason == R.UNKNOWN_DEVICE
    assert send(farm, body=payload("someone-else")).reason == R.TOPIC_MISMATCH
    wrong_county = ingest(Incoming("mqtt", "t", payload(farm), farm.code, "999999", "heartbeat"))
    assert wrong_county.reason == R.TOPIC_MISMATCH
    wrong_type = ingest(Incoming("mqtt", "t", payload(farm, "heartbeat"), farm.code, farm.county_code, "reading"))
    assert wrong_type.reason == R.TOPIC_MISMATCH
    Device.objects.filter(pk=farm.pk).update(active=False)
    assert send(Device.objects.get(pk=farm.pk)).reason == R.INACTIVE
    assert DeadLetter.objects.count() == 5
    _nothing_changed(0)


def test_replays_and_clock_skew_are_refused(farm, settings):
    assert send(farm, id="m-1").accepted
    assert send(farm, "reading", id="m-1", metric="temperature", value=50).reason == R.REPLAY
    old = timezone.now().timestamp() - settings.HEMEI_DEVICE_MAX_AGE - 60
    assert send(farm, ts=old).reason == R.STALE
    ahead = (timezone.now() + dt.timedelta(seconds=settings.HEMEI_DEVICE_MAX_AHEAD + 60)).isoformat()
    assert send(farm, ts=ahead).reason == R.FUTURE
    assert DeviceMessage.objects.count() == 1 and not Alarm.objects.exists()


def test_a_flood_is_cut_at_the_rate_limit(farm, settings):
    settings.HEMEI_DEVICE_RATE = "5/60"
    from hemei.devices.ingest import RateLimiter

    limiter = RateLimiter()
    outcomes = [ingest(Incoming("mqtt", "t", payload(farm), farm.code, farm.county_code, "heartbeat"),
                       limiter=limiter) for _ in range(8)]
    assert [o.accepted for o in outcomes] == [True] * 5 + [False] * 3
    assert DeadLetter.objects.filter(reason=R.FLOOD).count() == 3
    assert DeviceMessage.objects.count() == 5


def test_acknowledge_is_audited_and_needs_a_post_over_the_device(camera, world):
    alarm = send(camera, "event", code="intrusion").alarms[0]
    for persona in ("outsider", "grid_a", "shop"):  # the camera is at the village, not at grid A
        with pytest.raises(PermissionDenied):
            alarm_acknowledge(actor=world.user(persona), alarm=alarm)
    with pytest.raises(PermissionDenied):
        alarm_acknowledge(actor=SYSTEM, alarm=alarm)  # a person acknowledges
    alarm = alarm_acknowledge(actor=world.user("secretary"), alarm=alarm, note="到场查看")
    assert alarm.state == Alarm.State.ACKNOWLEDGED and alarm.acknowledged_by == world.user("secretary")
    event = AlarmEvent.objects.filter(alarm=alarm, kind="acknowledged").get()
    assert event.actor == world.user("secretary") and event.note == "到场查看"
    from hemei.core.models import AuditEntry

    assert AuditEntry.objects.filter(object_type="devices.alarm", note="acknowledged").exists()
    with pytest.raises(ValidationError):
        alarm_acknowledge(actor=world.user("secretary"), alarm=alarm)
    alarm = alarm_clear(actor=world.user("township"), alarm=alarm)
    assert alarm.state == Alarm.State.CLEARED


def test_device_register_refuses_bad_input_and_outsiders(world):
    with pytest.raises(ValidationError):
        device_register(actor=SYSTEM, region=world.township, kind="camera", code="cam-x", name="x")
    with pytest.raises(ValidationError):
        device_register(actor=SYSTEM, region=world.village, kind="toaster", code="cam-x", name="x")
    with pytest.raises(ValidationError):
        device_register(actor=SYSTEM, region=world.village, kind="camera", code="a/b", name="x")
    with pytest.raises(ValidationError):
        device_register(actor=SYSTEM, region=world.village, kind="call_box", code="box-x", name="x",
                        resident=world.head_c)
    with pytest.raises(PermissionDenied):
        device_register(actor=world.user("grid_a"), region=world.grid_a, kind="camera", code="cam-y", name="y")
    device, secret = device_register(actor=world.user("secretary"), region=world.grid_a, kind="camera",
                                     code="cam-y", name="y")
    assert secret not in device.secret_hash and device.secret_hash.startswith("$7$")
    with pytest.raises(ValidationError):
        device_register(actor=SYSTEM, region=world.village, kind="camera", code="cam-y", name="again")

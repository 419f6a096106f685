"""The listener against the real broker (127.0.0.1:1883, a topic prefix of its own per test),
and `hemei mqtt acl` against a Mosquitto of our own started with the written files.

Every kind of bad input goes through the broker and the listener: each lands in the dead
letters and changes nothing, and the listener keeps going (the last good message after all
of them is still ingested)."""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from django.utils import timezone

from hemei.devices.ingest import RateLimiter
from hemei.devices.models import Alarm, DeadLetter, DeviceMessage
from hemei.devices.mqtt import Broker, Listener, write_broker_files
from tests.conftest import require
from tests.devicekit import broker_up, listen_until, make_device, payload, publish, seed_rules

R = DeadLetter.Reason


@pytest.fixture
def prefix() -> str:
    require(broker_up(), "Mosquitto on 127.0.0.1:1883")
    return f"test-{uuid.uuid4().hex[:10]}"


def _listener(prefix: str, **kw) -> Listener:
    return Listener(Broker(), prefix=prefix, client_id=f"listener-{prefix}", log=io.StringIO(), **kw)


# The listener runs `close_old_connections()` before each batch, which closes a connection held
# inside a test's transaction on PostgreSQL: the tests that run it commit for real.
def test_messages_through_the_broker_become_rows_and_bad_ones_dead_letters(transactional_db, world, prefix,
                                                                           settings):
    seed_rules()
    farm, _ = make_device(world.grid_a, "temp_humidity", f"farm-{prefix[-6:]}", profile="scorpion_house")
    other, _ = make_device(world.grid_b, "camera", f"cam-{prefix[-6:]}")
    up = f"{prefix}/{farm.county_code}/{farm.code}/up"
    old = timezone.now().timestamp() - settings.HEMEI_DEVICE_MAX_AGE - 60
    ahead = timezone.now().timestamp() + settings.HEMEI_DEVICE_MAX_AHEAD + 60
    messages = [
        (f"{up}/heartbeat", payload(farm, id="hb-1")),
        (f"{up}/reading", payload(farm, "reading", metric="temperature", value=41.2)),
        (f"{up}/heartbeat", b"{not json"),  # malformed
        (f"{prefix}/{farm.county_code}/ghost/up/heartbeat", payload("ghost")),  # unknown device
        (f"{up}/heartbeat", payload(other)),  # topic names farm, payload names the camera
        (f"{up}/reading", payload(farm, "heartbeat")),  # topic type differs from the payload's
        (f"{up}/heartbeat", payload(farm, id="hb-1")),  # replay
        (f"{up}/heartbeat", payload(farm, ts=old)),
        (f"{up}/heartbeat", payload(farm, ts=ahead)),
        *[(f"{up}/heartbeat", payload(farm)) for _ in range(4)],  # 2 accepted so far: 3 fit under 5, 1 floods
        (f"{prefix}/{other.county_code}/{other.code}/up/event", payload(other, "event", code="intrusion")),
    ]
    listener = _listener(prefix, limiter=RateLimiter("5/60"))
    listen_until(listener, lambda: publish(messages), expect=len(messages))
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert reasons == sorted([R.MALFORMED, R.UNKNOWN_DEVICE, R.TOPIC_MISMATCH, R.TOPIC_MISMATCH, R.REPLAY,
                              R.STALE, R.FUTURE, R.FLOOD])
    assert DeviceMessage.objects.filter(device=farm).count() == 5
    assert Alarm.objects.get(device=farm).code == "temperature_high"
    # the last message, after every refusal, still went through: nothing stopped the listener
    assert Alarm.objects.get(device=other).code == "intrusion"
    assert listener.stats.accepted == 6 and listener.stats.refused == 8


def test_a_listener_without_a_broker_says_so_and_keeps_trying(db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    log = io.StringIO()
    listener = Listener(Broker(port=port), prefix="nobody", log=log, backoff_first=0.05)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    listener.run(stop)
    said = log.getvalue()
    assert said.count(f"no broker answers at 127.0.0.1:{port}") >= 2


# --- a broker of our own with the files `hemei mqtt acl` writes --------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnBroker:
    def __init__(self, tmp: Path, password_file: Path, acl_file: Path) -> None:
        self.port, self.tmp = _free_port(), tmp
        self.pid_file = tmp / "mosquitto.pid"
        self.conf = tmp / "mosquitto.conf"
        self.conf.write_text(
            # user root: as root, Mosquitto would switch to its own user, which cannot read tmp_path
            f"user root\nlistener {self.port} 127.0.0.1\nallow_anonymous false\npassword_file {password_file}\n"
            f"acl_file {acl_file}\npid_file {self.pid_file}\npersistence false\n"
            f"log_dest file {tmp / 'mosquitto.log'}\n", encoding="utf-8")

    def start(self) -> OwnBroker:
        subprocess.run(["mosquitto", "-c", str(self.conf), "-d"], check=True, timeout=10)
        for _ in range(50):
            if Broker(port=self.port).answers(0.2):
                return self
            time.sleep(0.1)
        raise AssertionError("the test broker did not start")

    def stop(self) -> None:
        import os
        import signal

        if self.pid_file.exists():
            os.kill(int(self.pid_file.read_text().strip()), signal.SIGTERM)
            for _ in range(50):
                if not Broker(port=self.port).answers(0.1):
                    return
                time.sleep(0.1)


def _connect_result(port: int, user: str, password: str) -> str:
    """The CONNACK's reason for these credentials ("Success" or why not)."""
    got: list[str] = []
    done = threading.Event()
    cl = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"c-{uuid.uuid4().hex[:6]}")
    cl.username_pw_set(user, password)

    def on_connect(_c, _u, _f, reason, _p):
        got.append(str(reason))
        done.set()

    cl.on_connect = on_connect
    cl.connect("127.0.0.1", port)
    cl.loop_start()
    done.wait(5)
    cl.disconnect()
    cl.loop_stop()
    return got[0] if got else "no answer"


@pytest.fixture
def own_broker(transactional_db, world, tmp_path):
    require(shutil.which("mosquitto") is not None, "the mosquitto binary")
    seed_rules()
    box, box_secret = make_device(world.grid_a, "camera", "cam-own-1")
    other, other_secret = make_device(world.grid_b, "camera", "cam-own-2")
    password_file, acl_file = tmp_path / "passwd", tmp_path / "acl"
    assert write_broker_files(password_file, acl_file, listener_user="hemei", listener_password="listen-pw",
                              prefix="hemei") == 2
    broker = OwnBroker(tmp_path, password_file, acl_file).start()
    try:
        yield broker, (box, box_secret), (other, other_secret)
    finally:
        broker.stop()


def test_the_written_files_let_each_device_publish_only_to_its_own_topics(own_broker):
    broker, (box, secret), (other, _other_secret) = own_broker
    assert _connect_result(broker.port, box.code, secret) == "Success"
    assert _connect_result(broker.port, box.code, "wrong") != "Success"  # wrong credentials: refused
    assert _connect_result(broker.port, "cam-nobody", secret) != "Success"
    listener = Listener(Broker(port=broker.port, username="hemei", password="listen-pw"), prefix="hemei",
                        client_id="acl-listener", log=io.StringIO())
    own = f"hemei/{box.county_code}/{box.code}/up/event"
    foreign = f"hemei/{other.county_code}/{other.code}/up/event"

    def send_all() -> None:
        # the first device writes to the second's topic: the broker drops it (ACL)
        publish([(foreign, payload(other, "event", code="intrusion"))], port=broker.port, username=box.code,
                password=secret)
        publish([(own, payload(box, "event", code="fire"))], port=broker.port, username=box.code, password=secret)

    listen_until(listener, send_all, expect=1, timeout=10)
    time.sleep(0.3)
    assert listener.stats.received == 1
    assert list(Alarm.objects.values_list("device__code", "code")) == [(box.code, "fire")]
    assert not DeadLetter.objects.exists()


def test_the_listener_comes_back_after_the_broker_restarts(own_broker):
    broker, (box, secret), _other = own_broker
    listener = Listener(Broker(port=broker.port, username="hemei", password="listen-pw"), prefix="hemei",
                        client_id="restart-listener", log=io.StringIO())
    topic = f"hemei/{box.county_code}/{box.code}/up/heartbeat"

    def send_all() -> None:
        publish([(topic, payload(box))], port=broker.port, username=box.code, password=secret)
        while listener.stats.received < 1:
            time.sleep(0.05)
        broker.stop()
        broker.start()
        if not listener.stats.connected.wait(15):  # paho reconnects by itself (1 s, doubling)
            raise TimeoutError("no reconnect")
        time.sleep(0.2)
        publish([(topic, payload(box))], port=broker.port, username=box.code, password=secret)

    listen_until(listener, send_all, expect=2, timeout=30)
    assert DeviceMessage.objects.filter(device=box).count() == 2
    assert "lost the broker" in listener.log.getvalue()


def test_the_password_file_format_is_what_mosquitto_passwd_writes(tmp_path):
    require(shutil.which("mosquitto_passwd") is not None, "mosquitto_passwd")
    from hemei.devices.credentials import check_secret

    path = tmp_path / "p"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(path), "someone", "s3cret"], check=True, timeout=10)
    stored = path.read_text().strip().split(":", 1)[1]
    assert stored.startswith("$7$") and check_secret("s3cret", stored) and not check_secret("other", stored)
    assert json.dumps(stored)


def test_serve_starts_the_listener_only_with_a_broker_url_and_says_when_none_answers(settings):
    from hemei.core.management.commands.serve import Command

    settings.HEMEI_MQTT_URL = ""
    assert Command()._mqtt() is False
    settings.HEMEI_MQTT_URL = f"mqtt://127.0.0.1:{_free_port()}"
    err = io.StringIO()
    command = Command(stdout=io.StringIO(), stderr=err)
    assert command._mqtt() is True  # the listener runs (in `hemei background`) and keeps retrying
    assert "no MQTT broker answers" in err.getvalue()


def test_mqtt_acl_needs_its_files(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("mqtt", "acl")
    with pytest.raises(CommandError):
        call_command("mqtt", "acl", "--password-file", "/nonexistent-dir/p", "--acl-file", "/nonexistent-dir/a")

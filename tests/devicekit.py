"""Helpers for the device tests: devices in the conftest world, payloads, a real broker."""

from __future__ import annotations

import importlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.apps import apps as django_apps
from django.utils import timezone

from hemei.core.scope import SYSTEM
from hemei.devices.ingest import Incoming, Outcome, ingest
from hemei.devices.models import Device
from hemei.devices.services import device_register

BROKER = ("127.0.0.1", 1883)


def seed_rules() -> None:
    """The default rules (and the case categories they name), re-applied idempotently: a
    transactional test elsewhere may have flushed the migrations' rows."""
    for module in ("hemei.cases.migrations.0002_default_categories", "hemei.devices.migrations.0002_default_rules"):
        importlib.import_module(module).forwards(django_apps, None)


def make_device(region: Any, kind: str, code: str | None = None, **kw: Any) -> tuple[Device, str]:
    return device_register(actor=SYSTEM, region=region, kind=kind, code=code or f"d-{uuid.uuid4().hex[:10]}",
                           name=kw.pop("name", f"{kind} test"), **kw)


def payload(device: Device | str, kind: str = "heartbeat", *, id: str | None = None, ts: Any = None,
            **data: Any) -> bytes:
    code = device if isinstance(device, str) else device.code
    body: dict[str, Any] = {"id": id or uuid.uuid4().hex, "ts": timezone.now().timestamp() if ts is None else ts,
                            "type": kind, "device": code}
    if data:
        body["data"] = data
    return json.dumps(body).encode()


def send(device: Device, kind: str = "heartbeat", *, body: bytes | None = None, **kw: Any) -> Outcome:
    """Ingest one message as the MQTT listener would (topic from the device)."""
    item = Incoming("mqtt", f"hemei/{device.county_code}/{device.code}/up/{kind}",
                    body if body is not None else payload(device, kind, **kw), device.code, device.county_code, kind)
    return ingest(item)


def broker_up() -> bool:
    import socket

    try:
        with socket.create_connection(BROKER, timeout=1):
            return True
    except OSError:
        return False


def publish(messages: list[tuple[str, bytes]], *, host: str = BROKER[0], port: int = BROKER[1],
            username: str = "", password: str = "") -> None:
    """Publish with QoS 1 and wait until the broker has each message."""
    import paho.mqtt.client as paho

    cl = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    if username:
        cl.username_pw_set(username, password)
    cl.connect(host, port)
    cl.loop_start()
    try:
        for topic, body in messages:
            cl.publish(topic, body, qos=1).wait_for_publish(5)
    finally:
        cl.disconnect()
        cl.loop_stop()


def listen_until(listener: Any, send_all: Callable[[], None], *, expect: int, timeout: float = 15.0) -> None:
    """Run `listener` in this thread (the database belongs to it) until it has handled
    `expect` messages; `send_all` runs in another thread once the listener is subscribed."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def publisher() -> None:
        try:
            if not listener.stats.connected.wait(10):
                raise TimeoutError("the listener never connected")
            time.sleep(0.1)  # the SUBACK follows the CONNACK
            send_all()
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    def on_batch() -> None:
        if listener.stats.received >= expect:
            stop.set()

    thread = threading.Thread(target=publisher, daemon=True)
    timer = threading.Timer(timeout, stop.set)
    thread.start()
    timer.start()
    try:
        listener.run(stop, on_batch=on_batch)
    finally:
        timer.cancel()
        thread.join(5)
    if errors:
        raise errors[0]

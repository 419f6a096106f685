"""`hemei simulate-devices`: realistic traffic of the demo devices, published to the broker with
each device's own credentials (the demo's derived secrets), as the devices would.

Each round: every device sends a heartbeat, the scorpion farm's sensors send temperature and
humidity inside the band; in the first round a call box is pressed and a farm sensor reports
an out-of-band temperature (which raises an alarm), in the next the temperature is back in
the band (which clears it).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from django.conf import settings
from django.utils import timezone

from hemei.devices.demo import DEMO_PREFIX, demo_secret
from hemei.devices.models import Device, Kind
from hemei.devices.mqtt import Broker


def _body(device: Device, kind: str, **data: Any) -> bytes:
    return json.dumps({"id": uuid.uuid4().hex, "ts": timezone.now().timestamp(), "type": kind,
                       "device": device.code, "data": data}).encode()


def _round(device: Device, n: int, rng: random.Random) -> list[tuple[str, bytes]]:
    out = [("heartbeat", _body(device, "heartbeat"))]
    if device.kind == Kind.TEMP_HUMIDITY:
        hot = n == 0 and device.code.endswith("farm-1")
        temperature = 41.8 if hot else round(rng.uniform(36.0, 39.0), 1)
        out += [("reading", _body(device, "reading", metric="temperature", value=temperature)),
                ("reading", _body(device, "reading", metric="humidity", value=round(rng.uniform(66, 74), 1)))]
    if device.kind == Kind.CALL_BOX and n == 0 and device.code.endswith("box-01"):
        out.append(("press", _body(device, "press")))
    return out


def demo_devices_list() -> list[Device]:
    return list(Device.objects.filter(code__startswith=DEMO_PREFIX, active=True).select_related("region")
                .order_by("code"))


class Publisher:
    """One MQTT connection per device, logged in as the device."""

    def __init__(self, broker: Broker, prefix: str) -> None:
        self.broker, self.prefix = broker, prefix
        self.clients: dict[str, paho.Client] = {}

    def _client(self, device: Device) -> paho.Client:
        if device.code not in self.clients:
            cl = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"sim-{device.code}")
            cl.username_pw_set(device.code, demo_secret(device.code))
            cl.connect(self.broker.host, self.broker.port)
            cl.loop_start()
            self.clients[device.code] = cl
        return self.clients[device.code]

    def send(self, device: Device, kind: str, body: bytes) -> None:
        topic = f"{self.prefix}/{device.county_code}/{device.code}/up/{kind}"
        self._client(device).publish(topic, body, qos=1).wait_for_publish(10)

    def close(self) -> None:
        for cl in self.clients.values():
            cl.disconnect()
            cl.loop_stop()


def simulate(broker: Broker, *, rounds: int = 1, every: float = 30.0, prefix: str | None = None,
             say: Callable[[str], None] = print, seed: int = 2026, devices: list[Device] | None = None) -> int:
    """Publish `rounds` rounds, `every` seconds apart; returns the messages published."""
    if devices is None:
        devices = demo_devices_list()
    if not devices:
        say("no demo devices (run `hemei demo` first)")
        return 0
    rng = random.Random(seed)
    publisher = Publisher(broker, settings.HEMEI_MQTT_PREFIX if prefix is None else prefix)
    sent = 0
    try:
        for n in range(rounds):
            if n:
                time.sleep(every)
            for device in devices:
                for kind, body in _round(device, n, rng):
                    publisher.send(device, kind, body)
                    sent += 1
                    if kind != "heartbeat":
                        say(f"{device.code}: {kind} {body.decode()[:120]}")
            say(f"round {n + 1}: {sent} messages so far")
    finally:
        publisher.close()
    return sent

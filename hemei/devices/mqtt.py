"""The MQTT side: the listener behind `hemei mqtt`, and the broker's password and ACL files
behind `hemei mqtt acl` (topic scheme and payloads: docs/devices.md).

The listener subscribes to `<prefix>/+/+/up/+` with QoS 1 and a persistent session, so the
broker keeps what arrives while the listener is away. paho's network thread only queues each
message; the main loop takes them in batches and hands each batch to `ingest_batch` inside
`run_pass`: on a database error the connections are closed, the same batch is tried again
after the back-off (nothing of it was committed), and no message is lost. A lost broker is
paho's to reconnect (1 s doubling to a minute); a broker that is not there at start is retried
the same way, saying so each time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import paho.mqtt.client as paho
from django.conf import settings

from hemei.core.resilience import Backoff, run_pass
from hemei.devices import credentials
from hemei.devices.ingest import Incoming, RateLimiter, ingest_batch, parse_topic

logger = logging.getLogger("hemei.devices.mqtt")


@dataclass(frozen=True)
class Broker:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """`mqtt://user:password@host:port` (port 1883 by default)."""
        parts = urllib.parse.urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"not an mqtt:// URL: {url}")
        return cls(parts.hostname or "127.0.0.1", parts.port or 1883,
                   urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or ""))

    def answers(self, timeout: float = 1.0) -> bool:
        """Whether something accepts TCP connections at the broker's address."""
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout):
                return True
        except OSError:
            return False

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def client(broker: Broker, client_id: str = "", *, clean: bool = True) -> paho.Client:
    made = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean,
                       protocol=paho.MQTTv311)
    if broker.username:
        made.username_pw_set(broker.username, broker.password or None)
    made.reconnect_delay_set(1, 60)
    return made


@dataclass
class Stats:
    received: int = 0
    accepted: int = 0
    refused: int = 0
    batches: int = 0
    connected: threading.Event = field(default_factory=threading.Event)


class Listener:
    """`run(stop)` until `stop` is set (see the module's docstring)."""

    def __init__(self, broker: Broker, *, prefix: str | None = None, client_id: str = "hemei-listener",
                 batch: int = 200, log: TextIO | None = None, limiter: RateLimiter | None = None,
                 backoff_first: float = 1.0) -> None:
        self.broker, self.batch = broker, batch
        self.prefix = settings.HEMEI_MQTT_PREFIX if prefix is None else prefix
        self.topic = f"{self.prefix}/+/+/up/+" if self.prefix else "+/+/up/+"
        self.client_id, self.log = client_id, log or sys.stderr
        self.limiter = limiter or RateLimiter()
        self.inbox: queue.Queue[Incoming] = queue.Queue()
        self.stats = Stats()
        self.backoff_first = backoff_first

    def say(self, text: str) -> None:
        self.log.write(f"hemei mqtt: {text}\n")
        self.log.flush()

    # --- paho's network thread: only queue ------------------------------------------------
    def _on_connect(self, cl: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.say(f"broker {self.broker} refused the listener: {reason}")
            return
        cl.subscribe(self.topic, qos=1)
        self.stats.connected.set()
        self.say(f"connected to {self.broker}, subscribed to {self.topic}")

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.stats.connected.clear()
        self.say(f"lost the broker at {self.broker} ({reason}); reconnecting")

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        parsed = parse_topic(msg.topic, self.prefix)
        county, code, kind = parsed if parsed is not None else ("", "", "")
        self.inbox.put(Incoming("mqtt", msg.topic, bytes(msg.payload), code, county, kind))

    # --- the main thread: batches into the database ----------------------------------------
    def _connect(self, cl: paho.Client, stop: threading.Event) -> bool:
        backoff = Backoff(first=self.backoff_first, ceiling=60.0)

        def pause(seconds: float) -> None:
            stop.wait(seconds)

        while not stop.is_set():
            try:
                cl.connect(self.broker.host, self.broker.port, keepalive=30)
                return True
            except OSError as exc:
                self.say(f"no broker answers at {self.broker} ({exc}); retrying in {backoff.next:.0f}s")
                backoff.wait(pause)
        return False

    def _take(self, pending: list[Incoming], stop: threading.Event) -> list[Incoming]:
        if pending:
            return pending
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        taken = [first]
        while len(taken) < self.batch:
            try:
                taken.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return taken

    def _handle(self, items: list[Incoming]) -> None:
        outcomes = ingest_batch(items, limiter=self.limiter)
        self.stats.batches += 1
        self.stats.received += len(items)
        self.stats.accepted += sum(1 for o in outcomes if o.accepted)
        self.stats.refused += sum(1 for o in outcomes if not o.accepted)

    def run(self, stop: threading.Event, *, on_batch: Callable[[], None] | None = None) -> None:
        cl = client(self.broker, self.client_id, clean=False)
        cl.on_connect, cl.on_disconnect, cl.on_message = self._on_connect, self._on_disconnect, self._on_message
        if not self._connect(cl, stop):
            return
        cl.loop_start()
        backoff = Backoff(first=self.backoff_first, ceiling=60.0)

        def pause(seconds: float) -> None:  # a back-off that a stop request cuts short
            stop.wait(seconds)

        pending: list[Incoming] = []
        try:
            while not stop.is_set():
                pending = self._take(pending, stop)
                if pending and run_pass("hemei mqtt", partial(self._handle, pending), backoff, sleep=pause):
                    pending = []
                    if on_batch is not None:
                        on_batch()
        finally:
            cl.disconnect()
            cl.loop_stop()


# --- the broker's files (hemei mqtt acl) ------------------------------------------------------


def _write(path: Path, text: str) -> None:
    """Replace `path` only once the new file is complete (the broker may read it any time)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o640)
    tmp.replace(path)


def write_broker_files(password_file: Path, acl_file: Path, *, listener_user: str, listener_password: str,
                       prefix: str | None = None) -> int:
    """Write Mosquitto's password file (every active device, and the listener) and its ACL:
    a device may publish only under `<prefix>/<its county>/<its code>/up/` and read only its
    own `down/` topics; the listener reads everything under the prefix. Returns the devices."""
    from hemei.devices.models import Device

    prefix = settings.HEMEI_MQTT_PREFIX if prefix is None else prefix
    if not listener_user or ":" in listener_user or not listener_password:
        raise ValueError("the listener needs a user name (without ':') and a password")
    lines = [f"{listener_user}:{credentials.mosquitto_hash(listener_password)}"]
    counties: set[str] = set()
    count = 0
    for code, secret_hash, region_code in (Device.objects.filter(active=True).order_by("code")
                                           .values_list("code", "secret_hash", "region__code")):
        lines.append(f"{code}:{secret_hash}")
        counties.add(region_code[:6])
        count += 1
    acl = [
        "# Written by `hemei mqtt acl`; do not edit (it is rewritten from the device register).",
        f"user {listener_user}",
        f"topic read {prefix}/#",
        f"topic write {prefix}/+/+/down/#",
        "",
        "# Every device (its user name is its code) publishes only to its own topics.",
    ]
    for county in sorted(counties):
        acl += [f"pattern write {prefix}/{county}/%u/up/+", f"pattern read {prefix}/{county}/%u/down/#"]
    _write(password_file, "\n".join(lines) + "\n")
    _write(acl_file, "\n".join(acl) + "\n")
    return count


def reload_broker(pid_file: Path) -> bool:
    """Ask a running Mosquitto to re-read its files (SIGHUP); False when none is running."""
    import signal

    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
        time.sleep(0.2)
        return True
    return False

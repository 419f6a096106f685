"""`hemei mqtt` as an operator runs it, on PostgreSQL: its database connections are terminated
under it (a failover, `pg_terminate_backend`), and the next message is still ingested, after
the back-off, without the listener stopping and without losing the message."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import pytest

from tests.conftest import require
from tests.devicekit import broker_up, publish
from tests.faultkit import ROOT, child_env, count, pg_admin, python, seeded, seeds

__all__ = ["seeded", "seeds"]  # fixtures

REGISTER = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
django.setup()
from hemei.core.scope import SYSTEM
from hemei.devices.services import device_register
from hemei.regions.models import Region
device, _ = device_register(actor=SYSTEM, region=Region.objects.get(code="140110101201"), kind="smoke",
                            code="smoke-fault", name="fault test")
print(device.county_code)
"""


def _body(n: int) -> bytes:
    return (b'{"id": "fault-%d", "ts": %d, "type": "heartbeat", "device": "smoke-fault"}' % (n, int(time.time())))


def _wait(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


@pytest.mark.postgres_only
@pytest.mark.parametrize("seeded", ["postgresql"], indirect=True)
def test_the_listener_outlives_its_database_connections(seeded, tmp_path):
    require(broker_up(), "Mosquitto on 127.0.0.1:1883")
    db = seeded.copy(tmp_path)
    county = python(REGISTER, db=db).strip().splitlines()[-1]
    prefix = f"fault-{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}/{county}/smoke-fault/up/heartbeat"
    proc = subprocess.Popen([sys.executable, "-m", "hemei.cli", "mqtt", "--prefix", prefix, "--client-id", prefix],
                            cwd=ROOT, env=child_env(db), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    messages = "SELECT count(*) FROM devices_devicemessage"
    try:
        _wait(lambda: any("subscribed" in line for line in said), 120, "the listener subscribed")
        publish([(topic, _body(1))])
        _wait(lambda: count(db, messages) == 1, 30, "the first message ingested")
        name = db.rsplit("/", 1)[1]
        killed = pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "  # noqa: S608
                          "AND pid <> pg_backend_pid()")
        assert killed, "the listener held a connection"
        publish([(topic, _body(2))])
        _wait(lambda: count(db, messages) == 2, 60, "the message after the lost connection ingested")
        assert proc.poll() is None  # still running
        assert count(db, "SELECT count(*) FROM devices_deadletter") == 0
    finally:
        proc.terminate()
        proc.wait(30)
    # Whether the break showed as a database error (run_pass waits and retries) or was noticed by
    # close_old_connections before the query, the message after it was ingested exactly once.

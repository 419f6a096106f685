"""The fault suite (issue 12, item 6): `hemei serve` as an operator runs it, on SQLite and on
PostgreSQL, under writes through the API, while it is backed up, killed with SIGKILL,
restarted, its children killed and (PostgreSQL) its database connections terminated.

What must hold: every acknowledged write is there exactly once after any of it, a replay of
any key (acknowledged or not) creates nothing twice, /healthz answers again within seconds,
a dead child is restarted without the web tier stopping, SIGTERM stops everything with exit
code 0, and a killed sweeper escalates each deadline exactly once when run again."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.faultkit import (
    ROOT,
    VENDORS,
    CaseWriter,
    Server,
    category_id,
    child_env,
    count,
    hemei,
    pg_admin,
    python,
    seeded,
    seeds,
    serving,
    static_dir,
)

__all__ = ["seeded", "seeds", "static_dir"]  # fixtures


def wait_for(predicate, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


class HealthWatch(threading.Thread):
    """Polls /healthz and keeps the longest stretch without a 200."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.running, self.longest_gap, self.polls = server, True, 0.0, 0

    def run(self) -> None:
        last_ok = time.monotonic()
        while self.running:
            self.polls += 1
            if self.server.healthy(timeout=5):
                last_ok = time.monotonic()
            self.longest_gap = max(self.longest_gap, time.monotonic() - last_ok)
            time.sleep(0.2)

    def stop(self) -> float:
        self.running = False
        self.join(timeout=10)
        return self.longest_gap


def cases_of(db: str, key: str) -> int:
    return count(db, f"SELECT count(*) FROM cases_case WHERE description = 'fault test {key}'")  # noqa: S608


def check_acknowledged(db: str, writer: CaseWriter) -> None:
    """Every acknowledged key is one case; replaying every key ever sent creates nothing twice."""
    for key in writer.acked:
        assert cases_of(db, key) == 1, key


def replay_everything(server: Server, writer: CaseWriter, db: str) -> None:
    replayer = CaseWriter(server, writer.token)
    replayer.category = writer.category
    keys = list(writer.acked) + [key for key, _why in writer.failed]
    for key in keys:
        status, data = replayer.post(key, timeout=30)
        assert status in (200, 201), (key, status, data)
        if key in writer.acked:
            assert (status, data["number"]) == (200, writer.acked[key]), key
    assert count(db, "SELECT count(*) FROM cases_case WHERE description LIKE 'fault test %'") == len(set(keys))


@pytest.mark.parametrize("seeded", VENDORS, indirect=True)
def test_writes_survive_backup_kill_and_lost_connections(seeded, tmp_path, static_dir):
    db = seeded.copy(tmp_path)
    server = Server(db, tmp_path, static_dir=static_dir).start()
    writer = CaseWriter(server, seeded.token)
    writer.category = category_id(db)
    try:
        writer.start()
        wait_for(lambda: len(writer.acked) >= 5, 60, "first writes")

        # 1. A backup while serving: /healthz answers and no write fails or waits on it.
        health = HealthWatch(server)
        health.start()
        # (tests/test_backup.py restores a backup taken under writes and verifies it.)
        hemei("backup", str(tmp_path / "during.json.gz"), db=db)
        time.sleep(1)
        assert health.stop() < 5
        assert writer.failed == [], writer.failed[:3]  # nothing refused or failed while the backup ran
        assert writer.slowest < 10, writer.slowest
        children = server.children()
        assert set(children) == {"gunicorn", "background"}, children

        # 2. (PostgreSQL) every connection of the application terminated, twice: the web tier
        #    answers again, and the sweeper and the task worker reconnect instead of dying.
        if seeded.vendor == "postgresql":
            name = db.rsplit("/", 1)[1]
            for _ in range(2):
                terminate = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608
                killed = pg_admin(f"{terminate} AND pid <> pg_backend_pid()")
                assert killed
                server.wait_healthy(timeout=15)
                time.sleep(3)  # the sweeper (every second here) meets its dead connection
            acked = len(writer.acked)
            wait_for(lambda: len(writer.acked) > acked + 3, 30, "writes after the connections were terminated")
            assert server.children() == children  # nobody died: each loop reconnected

        # 3. SIGKILL to serve and all its children at once, mid-stream.
        acked = len(writer.acked)
        wait_for(lambda: len(writer.acked) > acked + 3, 30, "writes before the kill")
        server.kill9()
        writer.stop()
        check_acknowledged(db, writer)
        restarted = Server(db, tmp_path, static_dir=static_dir).start()
        try:
            replay_everything(restarted, writer, db)
            assert restarted.stop() == 0
        finally:
            if restarted.proc and restarted.proc.poll() is None:
                restarted.proc.kill()
        assert "all invariants hold" in hemei("verify", db=db).stdout
    finally:
        writer.running = False
        if server.proc and server.proc.poll() is None:
            server.kill9()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


@pytest.mark.parametrize("seeded", [VENDORS[0]], indirect=True)
@pytest.mark.parametrize("separate", [False, True], ids=["background", "separate"])
def test_serve_restarts_a_dead_child_and_stops_cleanly_on_sigterm(seeded, tmp_path, static_dir, separate):
    """The background work in one process (the default) or as separate processes: a killed one
    is started again, the web tier never stops, and SIGTERM leaves no process behind."""
    db = seeded.copy(tmp_path)
    roles, names = (("sweep", "task_worker"), ("sweep", "task worker")) if separate else (("background",),
                                                                                          ("background",))
    with serving(db, tmp_path, static_dir=static_dir, separate=separate) as server:
        first = server.children()
        assert set(first) == {"gunicorn", *roles}, first
        health = HealthWatch(server)
        health.start()
        for role in roles:
            os.kill(first[role], signal.SIGKILL)
        wait_for(lambda: all(server.children().get(r) not in (None, first[r]) for r in roles),
                 30, "the killed children restarted")
        assert server.children()["gunicorn"] == first["gunicorn"]  # the web tier never stopped
        assert health.stop() < 3
        log = server.log.read_text()
        assert all(f"{name} exited with code -9" in log for name in names), log[-2000:]
        # The gunicorn master itself: its workers become serve's orphans and are killed, so the
        # new master can bind the port at once (it failed with "Address already in use" for
        # 20-40 s while they lived on).
        os.kill(first["gunicorn"], signal.SIGKILL)
        wait_for(lambda: "web restarted" in server.log.read_text() and server.healthy(), 60, "the web tier back")
        assert "Address already in use" not in server.log.read_text()
        time.sleep(1)  # the dead master's orphaned workers are killed within a tick
        now = server.children()
        assert now["gunicorn"] != first["gunicorn"], now
        assert server.stop() == 0
        assert not any(alive(pid) for pid in now.values()), now


@pytest.mark.parametrize("seeded", VENDORS, indirect=True)
def test_a_sweeper_killed_mid_run_escalates_each_deadline_once(seeded, tmp_path):
    """Cases past their accept-by: `hemei sweep` is SIGKILLed after its first escalation, run
    again, and each case has exactly one escalation."""
    db = seeded.copy(tmp_path)
    subprocess.run([sys.executable, "-c", MAKE_CASES], cwd=ROOT, env=child_env(db), check=True, timeout=300)
    total = count(db, "SELECT count(*) FROM cases_case")
    argv = [sys.executable, "-m", "hemei.cli", "sweep", "--now", "2027-06-01T09:00+08:00"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=child_env(db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    escalations = "SELECT count(*) FROM cases_caseevent WHERE kind = 'escalated'"
    wait_for(lambda: count(db, escalations) > 0 or proc.poll() is not None, 120, "the first escalation")
    proc.kill()
    proc.wait()
    at_kill = count(db, escalations)
    hemei("sweep", "--now", "2027-06-01T09:00+08:00", db=db)
    hemei("sweep", "--now", "2027-06-01T09:00+08:00", db=db)  # and once more: nothing left to do
    per_case = "SELECT count(*) FROM (SELECT case_id FROM cases_caseevent WHERE kind = 'escalated' " \
               "GROUP BY case_id HAVING count(*) <> 1) AS x"
    assert count(db, escalations) == total, (at_kill, total)
    assert count(db, per_case) == 0
    assert "all invariants hold" in hemei("verify", db=db).stdout


MAKE_CASES = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
django.setup()
from tests.faultkit import make_cases
make_cases(60)
"""


MAKE_NOTICES = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
django.setup()
from hemei.accounts.models import User
from hemei.notify.services import INBOX, SMS, notify
User.objects.filter(username="grid2").update(phone="13912345678")
user = User.objects.get(username="grid2")
for i in range({n}):
    notify(recipients=[user], kind="test", title=f"worker fault {{i:03d}}", channels=(INBOX, SMS))
"""


@pytest.mark.parametrize("seeded", VENDORS, indirect=True)
def test_a_task_worker_killed_mid_stream_loses_no_notice(seeded, tmp_path):
    """Forty SMS notices, one queued task each: the task worker is SIGKILLed mid-stream, a new
    worker drains the queue and the retry sweep picks up what the dead one held. Every notice
    goes out; the only one that may go out twice is the one in the gateway at the kill (sent
    but not yet marked), and nothing is left pending or sending."""
    db = seeded.copy(tmp_path)
    n = 40
    python(MAKE_NOTICES.format(n=n), db=db)
    assert count(db, "SELECT count(*) FROM notify_delivery WHERE channel = 'sms' AND status = 'pending'") == n
    outbox = tmp_path / "sms.txt"
    env = child_env(db, HEMEI_SMS_BACKEND="tests.faultkit.SlowFileSmsBackend", HEMEI_TEST_SMS_FILE=str(outbox))
    worker = subprocess.Popen([sys.executable, "manage.py", "task_worker", "--interval", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sent_lines() -> list[str]:
        return outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []

    try:
        wait_for(lambda: len(sent_lines()) >= 8 or worker.poll() is not None, 120, "the worker sending")
    finally:
        worker.kill()
        worker.wait()
    at_kill = len(sent_lines())
    assert at_kill < n, "the worker finished before it could be killed: make the gateway slower"
    in_flight = count(db, "SELECT count(*) FROM notify_delivery WHERE status = 'sending'")
    assert in_flight <= 1
    drain = [sys.executable, "manage.py", "task_worker", "--batch", "--interval", "0.1"]
    subprocess.run(drain, cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)).isoformat(timespec="minutes")
    subprocess.run([sys.executable, "-m", "hemei.cli", "sweep", "--now", later], cwd=ROOT, env=env, check=True,
                   timeout=300, capture_output=True)
    lines = sent_lines()
    titles = {f"worker fault {i:03d}" for i in range(n)}
    times_sent = {t: sum(t in line for line in lines) for t in titles}
    assert min(times_sent.values()) >= 1, [t for t, k in times_sent.items() if k == 0]
    assert sum(k - 1 for k in times_sent.values()) <= in_flight, times_sent
    assert count(db, "SELECT count(*) FROM notify_delivery WHERE status <> 'sent'") == 0


OVERDUE_CASES = """
import django, os, datetime as dt
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
django.setup()
from django.utils import timezone
from hemei.cases.models import Case
from tests.faultkit import make_cases
make_cases(3)
Case.objects.update(accept_by=timezone.now() - dt.timedelta(hours=1))
"""


@pytest.mark.parametrize("seeded", [VENDORS[0]], indirect=True)
def test_background_runs_the_tasks_and_the_sweeps_in_one_process(seeded, tmp_path):
    """`hemei background` (what serve runs by default): queued notices go out through the task
    worker and cases past their accept-by are escalated by the sweeper thread, in one process;
    SIGTERM stops both and the process exits 0."""
    db = seeded.copy(tmp_path)
    python(MAKE_NOTICES.format(n=5), db=db)
    python(OVERDUE_CASES, db=db)
    outbox = tmp_path / "sms.txt"
    env = child_env(db, HEMEI_SMS_BACKEND="tests.faultkit.SlowFileSmsBackend", HEMEI_TEST_SMS_FILE=str(outbox))
    proc = subprocess.Popen([sys.executable, "manage.py", "background", "--every", "1", "--interval", "0.2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    escalated = "SELECT count(DISTINCT case_id) FROM cases_caseevent WHERE kind = 'escalated'"
    try:
        wait_for(lambda: (outbox.exists() and len(outbox.read_text(encoding="utf-8").splitlines()) >= 5
                          and count(db, escalated) >= 3) or proc.poll() is not None, 120,
                 "the notices sent and the cases escalated")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
    assert code == 0
    lines = outbox.read_text(encoding="utf-8")
    assert all(f"worker fault {i:03d}" in lines for i in range(5))  # (the escalations' own notices follow)

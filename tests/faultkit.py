"""Real processes on real databases for the backup and fault tests: seeded databases (one
seed per test session, copied per test), `hemei` subprocesses, a served instance on a free
port, and a client that writes cases with idempotency keys and remembers what was
acknowledged."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

SEED_SCRIPT = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
django.setup()
from hemei.cli import migrate
migrate()
from rest_framework.authtoken.models import Token
from tests.conftest import build_world
world = build_world()
print(Token.objects.get_or_create(user=world.user("grid_b"))[0].key)
"""


def child_env(db: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": db, **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def hemei(*args: str, db: str, check: bool = True, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "hemei.cli", *args], cwd=ROOT, env=child_env(db, **extra),
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"hemei {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def python(script: str, *, db: str, timeout: float = 300) -> str:
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=child_env(db), capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"script failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# --- databases -----------------------------------------------------------------------------


def postgres_base() -> str:
    """The server of the PostgreSQL pass (or HEMEI_TEST_POSTGRES), without a database name."""
    url = os.environ.get("HEMEI_TEST_POSTGRES") or os.environ["DATABASE_URL"]
    return url.rsplit("/", 1)[0]


def pg_admin(sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(f"{postgres_base()}/postgres", autocommit=True) as con:
        cur = con.execute(sql)  # type: ignore[arg-type]
        return list(cur.fetchall()) if cur.description else []


@dataclass
class Seed:
    """A migrated database with the test world; `copy()` gives each test its own."""

    vendor: str
    where: Path | str  # the SQLite file, or the PostgreSQL database name
    token: str  # grid2's API token (grid B of 西邵村)
    copies: list[str] = field(default_factory=list)

    def copy(self, tmp: Path) -> str:
        if self.vendor == "sqlite":
            path = tmp / f"db-{uuid.uuid4().hex[:6]}.sqlite3"
            source, target = sqlite3.connect(self.where), sqlite3.connect(path)
            source.backup(target)
            source.close()
            target.close()
            return f"sqlite:///{path}"
        name = f"{self.where}_{len(self.copies)}"
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.where}"')
        self.copies.append(name)
        return f"{postgres_base()}/{name}"

    def drop(self) -> None:
        if self.vendor == "postgresql":
            for name in [*self.copies, str(self.where)]:
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(vendor: str, tmp: Path) -> Seed:
    if vendor == "sqlite":
        path = tmp / "seed.sqlite3"
        token = python(SEED_SCRIPT, db=f"sqlite:///{path}").strip().splitlines()[-1]
        return Seed("sqlite", path, token)
    name = f"hemei_faults_{os.getpid()}"
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{name}"')
    token = python(SEED_SCRIPT, db=f"{postgres_base()}/{name}").strip().splitlines()[-1]
    return Seed("postgresql", name, token)


def fresh_database(vendor: str, tmp: Path) -> str:
    """An empty database (for a restore)."""
    if vendor == "sqlite":
        return f"sqlite:///{tmp / f'empty-{uuid.uuid4().hex[:6]}.sqlite3'}"
    name = f"hemei_faults_{os.getpid()}_restore_{uuid.uuid4().hex[:6]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    return f"{postgres_base()}/{name}"


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def count(db: str, sql: str) -> int:
    if db.startswith("sqlite"):
        con = sqlite3.connect(db.removeprefix("sqlite:///"))
        try:
            return int(con.execute(sql).fetchone()[0])
        finally:
            con.close()
    import psycopg

    with psycopg.connect(db) as con:
        row = con.execute(sql).fetchone()  # type: ignore[arg-type]
        assert row is not None
        return int(row[0])


# --- a served instance -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, *, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
         timeout: float = 10) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - a local test server
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}


class Server:
    """`hemei serve` as a child process (its own process group) on a free port."""

    def __init__(self, db: str, tmp: Path, *, static_dir: Path, no_worker: bool = False, separate: bool = False
                 ) -> None:
        self.db, self.tmp, self.static_dir, self.no_worker = db, tmp, static_dir, no_worker
        self.separate = separate
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"serve-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, *, timeout: float = 90) -> Server:
        argv = [sys.executable, "-m", "hemei.cli", "serve", "--port", str(self.port), "--workers", "1"]
        if self.no_worker:
            argv.append("--no-worker")
        if self.separate:
            argv.append("--separate")
        # The writer files a case every few milliseconds from one account: far past the
        # per-account case limit (20/hour), which the fault tests are not about. Every other
        # limit stays on, as in production.
        env = child_env(self.db, HEMEI_DATA_DIR=str(self.static_dir), HEMEI_SERVE_BACKOFF="0.5", HEMEI_SWEEP_EVERY="1",
                        HEMEI_LOG_LEVEL="INFO", HEMEI_RATE_CASE_CREATE="1000000/hour",
                        HEMEI_RATE_API_USER="1000000/min")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.wait_healthy(timeout)
        return self

    def healthy(self, timeout: float = 3) -> bool:
        try:
            return http("GET", f"{self.url}/healthz", timeout=timeout)[0] == 200
        except OSError:
            return False

    def wait_healthy(self, timeout: float = 60) -> float:
        """Seconds until /healthz answers 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.2)
        raise AssertionError(f"/healthz did not answer within {timeout}s:\n{self.log.read_text()[-3000:]}")

    def children(self) -> dict[str, int]:
        """The pids of serve's direct children by role (gunicorn, background; with --separate
        task_worker and sweep instead of background)."""
        assert self.proc is not None
        out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(self.proc.pid)], capture_output=True,
                             text=True).stdout
        roles = {}
        for line in out.splitlines():
            pid, args = line.strip().split(" ", 1)
            for role, marks in (("gunicorn", ("gunicorn",)), ("task_worker", ("task_worker", "db_worker")),
                                ("sweep", ("sweep",)), ("background", ("django background",))):
                if any(mark in args for mark in marks):
                    roles[role] = int(pid)
        return roles

    def kill9(self) -> None:
        """Power cut: SIGKILL to the whole process group at once."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._wait_port_free()

    def stop(self) -> int:
        """SIGTERM, as systemd or Ctrl-C would; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=40)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def _wait_port_free(self, timeout: float = 30) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.2)


@contextlib.contextmanager
def serving(db: str, tmp: Path, *, static_dir: Path, no_worker: bool = False, separate: bool = False
            ) -> Iterator[Server]:
    server = Server(db, tmp, static_dir=static_dir, no_worker=no_worker, separate=separate).start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()


class CaseWriter(threading.Thread):
    """Reports cases through the API, one idempotency key each, as fast as answers come, and
    keeps the keys that were acknowledged (201/200) and those that were not."""

    def __init__(self, server: Server, token: str, *, grid_code: str = "140110101201002", pause: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.server, self.token, self.grid_code, self.pause = server, token, grid_code, pause
        self.acked: dict[str, str] = {}  # key → case number
        self.failed: list[tuple[str, str]] = []  # (key, why)
        self.slowest = 0.0
        self.running = True
        self.category = 0

    def body(self, key: str) -> dict[str, Any]:
        return {"category": self.category, "title": "路灯坏了", "description": f"fault test {key}",
                "region": self.grid_code}

    def post(self, key: str, timeout: float = 15) -> tuple[int, dict[str, Any]]:
        return http("POST", f"{self.server.url}/api/v1/cases/", body=self.body(key), timeout=timeout,
                    headers={"Authorization": f"Token {self.token}", "Idempotency-Key": key})

    def run(self) -> None:
        while self.running:
            key = f"fault-{uuid.uuid4().hex[:16]}"
            started = time.monotonic()
            try:
                status, data = self.post(key)
            except Exception as exc:  # refused, reset, cut mid-answer (IncompleteRead): not acknowledged
                self.failed.append((key, type(exc).__name__))
                time.sleep(0.1)
                continue
            self.slowest = max(self.slowest, time.monotonic() - started)
            if status in (200, 201):
                self.acked[key] = data["number"]
            else:
                self.failed.append((key, f"HTTP {status} {data}"))
            if self.pause:
                time.sleep(self.pause)

    def stop(self) -> None:
        self.running = False
        self.join(timeout=30)


def category_id(db: str) -> int:
    return count(db, "SELECT min(id) FROM cases_category WHERE county_id IS NULL")


class SlowFileSmsBackend:
    """The SMS gateway of the task-worker fault test: each message becomes one line of
    HEMEI_TEST_SMS_FILE, flushed to disk after a short pause (a slow operator bridge), so the
    test can count what went out even after the worker was killed."""

    def send(self, phone: str, text: str) -> str:
        time.sleep(float(os.environ.get("HEMEI_TEST_SMS_PAUSE", "0.1")))
        with open(os.environ["HEMEI_TEST_SMS_FILE"], "a", encoding="utf-8") as out:
            out.write(text.replace("\n", " ") + "\n")
            out.flush()
            os.fsync(out.fileno())
        return f"file-{uuid.uuid4().hex[:12]}"


# --- fixtures (imported by the test modules that use them) ---------------------------------------

import pytest  # noqa: E402 - fixtures below, helpers above

VENDORS = [pytest.param("sqlite", marks=pytest.mark.slow), pytest.param("postgresql", marks=pytest.mark.postgres_only)]


_SEEDS: dict[str, Seed] = {}  # one seed per vendor and process, whichever module asks first


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: Any) -> Iterator[dict[str, Seed]]:
    yield _SEEDS
    for s in _SEEDS.values():
        s.drop()


@pytest.fixture
def seeded(request: Any, seeds: dict[str, Seed], tmp_path_factory: Any) -> Seed:
    vendor = request.param
    if vendor not in seeds:
        seeds[vendor] = seed(vendor, tmp_path_factory.mktemp(f"seed-{vendor}"))
    return seeds[vendor]


@pytest.fixture(scope="session")
def static_dir(tmp_path_factory: Any) -> Path:
    """One HEMEI_DATA_DIR for every served instance: collectstatic copies once."""
    return Path(tmp_path_factory.mktemp("data"))


def make_cases(n: int) -> None:
    """n cases reported today in grid B (run inside a Django process)."""
    from hemei.accounts.models import User
    from hemei.cases.models import Category
    from hemei.cases.services import case_submit
    from hemei.regions.models import Region

    grid2 = User.objects.get(username="grid2")
    region = Region.objects.get(code="140110101201002")
    category = Category.objects.filter(county__isnull=True).order_by("pk").first()
    assert category is not None
    for i in range(n):
        case_submit(actor=grid2, region=region, category=category, title=f"积水 {i}", description=f"sweep test {i}",
                    source="phone", reporter_name="张志强")

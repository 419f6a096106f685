"""`hemei serve`: the web server, the task worker, the deadline sweeper and (with HEMEI_MQTT_URL)
the device listener, supervised.

`serve` is the parent of three children: gunicorn, the task worker and the sweeper. A child
that dies (a crash, an OOM kill, an operator's kill) is logged and started again after a
back-off (1 s, 2 s, 4 s … up to a minute; back to 1 s once a child has run for a minute), so
one failing part never takes the others down: the web tier keeps serving while the sweeper
waits for its database. SIGTERM or SIGINT stops every child (SIGTERM, then SIGKILL after 10 s)
and `serve` exits 0. On Linux the children are also told to stop if `serve` itself is killed
(prctl PR_SET_PDEATHSIG), so no orphan keeps the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.error import URLError
from urllib.request import urlopen

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from hemei.core.resilience import Backoff

STEADY_AFTER = 60.0  # seconds a child must run before its back-off starts again from the first wait
STOP_GRACE = 10.0
ANY_ADDRESS = frozenset({"0.0.0.0", "", "::"})  # noqa: S104 (compared with, never bound here)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    argv: list[str]
    backoff: Backoff
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    start_at: float = 0.0  # when to (re)start it
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # exit codes


class Supervisor:
    def __init__(self, children: list[Child], *, env: dict[str, str], log: TextIO,
                 ready: Callable[[], bool] | None = None, on_ready: Callable[[], None] | None = None) -> None:
        self.children, self.env, self.log = children, env, log
        self.stopping = False
        # "Serving" is said once the site answers (the first start migrates, collects static
        # files and imports Django: tens of seconds on a slow laptop), not when gunicorn starts.
        self.ready, self.on_ready = ready, on_ready
        self.next_probe = 0.0

    def probe(self) -> None:
        if self.ready is None or time.monotonic() < self.next_probe:
            return
        self.next_probe = time.monotonic() + 0.5
        if self.ready():
            self.ready = None
            if self.on_ready is not None:
                self.on_ready()

    def say(self, text: str) -> None:
        stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        self.log.write(f"{stamp} hemei serve: {text}\n")
        self.log.flush()

    def start(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv, env=self.env, preexec_fn=_die_with_parent)  # noqa: S603
        child.started_at = time.monotonic()
        if child.restarts:
            self.say(f"{child.name} restarted (pid {child.proc.pid}, restart #{child.restarts})")

    def tick(self) -> None:
        """Start what is due; notice what died and schedule its restart."""
        now = time.monotonic()
        for child in self.children:
            if child.proc is None:
                if now >= child.start_at:
                    self.start(child)
                continue
            code = child.proc.poll()
            if code is None:
                continue
            ran = now - child.started_at
            if ran >= STEADY_AFTER:
                child.backoff.reset()
            delay = child.backoff.next
            child.backoff.next = min(child.backoff.next * 2, child.backoff.ceiling)
            child.history.append(code)
            child.restarts += 1
            child.proc = None
            child.start_at = now + delay
            self.say(f"{child.name} exited with code {code} after {ran:.0f}s; restarting in {delay:.1f}s")

    def stop(self) -> None:
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for proc in running:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def run(self) -> None:
        def on_signal(signum: int, _frame: Any) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            while not self.stopping:
                self.tick()
                self.probe()
                time.sleep(0.25)
        finally:
            self.say("stopping")
            self.stop()


class Command(BaseCommand):
    help = "Serve Hemei with gunicorn, with the background task worker and the deadline sweeper beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--no-worker", action="store_true",
                            help="do not start the task worker and the deadline sweeper")
        parser.add_argument("--access-log", default=os.environ.get("HEMEI_ACCESS_LOG", ""),
                            help="file for the request log (default var/log/access.log; '-' for the console)")

    def handle(self, *args: Any, **options: Any) -> None:
        """1. Collect static files (whitenoise serves them). 2. Start gunicorn, the task worker
        and the sweeper as supervised children. 3. On SIGTERM or Ctrl-C stop them all."""
        call_command("collectstatic", interactive=False, verbosity=0)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="hemei.settings")
        first = float(os.environ.get("HEMEI_SERVE_BACKOFF", "1"))
        bind = f"{options['host']}:{options['port']}"
        access_log = options["access_log"] or str(_default_access_log())
        specs = [("web", [sys.executable, "-m", "gunicorn", "hemei.wsgi:application", "--bind", bind,
                          "--workers", str(options["workers"]), "--threads", "4", "--access-logfile", access_log])]
        if not options["no_worker"]:
            specs.append(("task worker", [sys.executable, "-m", "django", "task_worker", "--queue-name", "default",
                                          "--interval", "1"]))
            # Deadlines pass with no one acting: escalation within a minute of a deadline.
            every = os.environ.get("HEMEI_SWEEP_EVERY", "30")
            specs.append(("sweep", [sys.executable, "-m", "django", "sweep", "--every", every, "--verbosity", "0"]))
        specs += self._mqtt()
        children = [Child(name, argv, Backoff(first=first, ceiling=60.0)) for name, argv in specs]
        where = "the console" if access_log == "-" else access_log
        self.stdout.write(f"Hemei is starting on http://{bind}/ (request log: {where}) …")
        self.stdout.flush()

        def serving() -> None:
            self.stdout.write(f"Hemei is serving on http://{bind}/ (Ctrl-C to stop)")
            self.stdout.flush()

        # A wildcard bind is probed on the loopback address.
        probe_host = "127.0.0.1" if options["host"] in ANY_ADDRESS else options["host"]
        health = f"http://{probe_host}:{options['port']}/healthz"
        Supervisor(children, env=env, log=sys.stderr, ready=lambda: _answers(health), on_ready=serving).run()

    def _mqtt(self) -> list[tuple[str, list[str]]]:
        """The device listener, when HEMEI_MQTT_URL names a broker (docs/devices.md). A broker
        that does not answer yet is said once here; the listener keeps retrying on its own."""
        from django.conf import settings

        if not settings.HEMEI_MQTT_URL:
            return []
        from hemei.devices.mqtt import Broker

        try:
            broker = Broker.from_url(settings.HEMEI_MQTT_URL)
        except ValueError as exc:
            self.stderr.write(f"hemei serve: HEMEI_MQTT_URL is not usable ({exc}); no device listener")
            return []
        if broker.answers():
            self.stdout.write(f"Device listener: MQTT broker at {broker}")
        else:
            self.stderr.write(f"hemei serve: no MQTT broker answers at {broker}; the device listener keeps retrying")
        return [("mqtt", [sys.executable, "-m", "django", "mqtt"])]


def _default_access_log() -> Any:
    """var/log/access.log beside the database: requests (static files too) stay off the console."""
    folder = settings.BASE_DIR / "var" / "log"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "access.log"


def _answers(url: str) -> bool:
    """Whether /healthz answers 200 (the database is reachable too)."""
    try:
        with urlopen(url, timeout=1) as response:  # noqa: S310 (our own address)
            return bool(response.status == 200)
    except (URLError, OSError, ValueError):
        return False

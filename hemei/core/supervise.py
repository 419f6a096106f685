"""`hemei serve`'s supervisor: the small parent process that keeps its children running.

`hemei serve` prepares (collects static files, decides the children) and then replaces itself
with this module (`os.execve`, the same pid), so the parent that watches the web server and
the background process for hours holds no Django, no settings and no database connection:
about 15 MB instead of 170 on a village laptop. Only the standard library is imported here.

A child that dies (a crash, an OOM kill, an operator's kill) is logged and started again after
a back-off (1 s, 2 s, 4 s … up to a minute; back to 1 s once a child has run for a minute), so
one failing part never takes the others down. SIGTERM or SIGINT stops every child (SIGTERM,
then SIGKILL after 10 s) and the supervisor exits 0. On Linux the children are also told to
stop if the supervisor itself is killed (prctl PR_SET_PDEATHSIG), so no orphan keeps the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
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

from hemei.core.backoff import Backoff

STEADY_AFTER = 60.0  # seconds a child must run before its back-off starts again from the first wait
STOP_GRACE = 10.0
ANY_ADDRESS = frozenset({"0.0.0.0", "", "::"})  # noqa: S104 (compared with, never bound here)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _become_subreaper() -> None:
    """Orphans of our children (a dead gunicorn master's workers) become ours, not init's."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def _own_children() -> set[int]:
    """The pids whose parent is this process (from /proc; empty elsewhere)."""
    found = set()
    me = os.getpid()
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                    fields = stat.read().rsplit(") ", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == me:
                found.add(int(entry.name))
    return found


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

    def reap_orphans(self) -> None:
        """Kill and reap processes handed to us as orphans (Linux, we are a child subreaper):
        the workers of a gunicorn master that was killed keep the listening port until they
        notice, and the new master cannot bind it ("Address already in use") meanwhile."""
        known = {c.proc.pid for c in self.children if c.proc is not None}
        for pid in _own_children() - known:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)

    def tick(self) -> None:
        """Start what is due; notice what died and schedule its restart."""
        self.reap_orphans()
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
        self.reap_orphans()  # none may outlive us holding the port
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
        _become_subreaper()
        try:
            while not self.stopping:
                self.tick()
                self.probe()
                time.sleep(0.25)
        finally:
            self.say("stopping")
            self.stop()


def _answers(url: str) -> bool:
    """Whether /healthz answers 200 (the database is reachable too)."""
    try:
        with urlopen(url, timeout=1) as response:  # noqa: S310 (our own address)
            return bool(response.status == 200)
    except (URLError, OSError, ValueError):
        return False


def exec_supervisor(children: list[tuple[str, list[str]]], *, env: dict[str, str], first: float, health: str,
                    ready_text: str) -> None:
    """Replace this process with the supervisor of `children` (it never returns)."""
    spec = json.dumps({"children": children, "first": first, "health": health, "ready_text": ready_text})
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "hemei.core.supervise", spec], env)  # noqa: S606


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    children = [Child(name, list(args), Backoff(first=spec["first"], ceiling=60.0)) for name, args in spec["children"]]

    def serving() -> None:
        print(spec["ready_text"], flush=True)

    Supervisor(children, env=dict(os.environ), log=sys.stderr, ready=lambda: _answers(spec["health"]),
               on_ready=serving).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

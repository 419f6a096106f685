"""The fault probes of issue 12, by hand, against `hemei serve` on a demo database
(`hemei demo`), SQLite or PostgreSQL. docs/operations.md ("Fault probes") has the figures.

    DATABASE_URL=… .tools/bin/uv run --frozen python scripts/probe_faults.py race   --port 18601
    DATABASE_URL=… .tools/bin/uv run --frozen python scripts/probe_faults.py kill   --port 18602
    DATABASE_URL=… .tools/bin/uv run --frozen python scripts/probe_faults.py soak   --port 18603 --seconds 300
    DATABASE_URL=… .tools/bin/uv run --frozen python scripts/probe_faults.py backup --dir SOMEWHERE

race    48 pairs, at the same instant, of a counter redemption of (available − 5) points and a
        −10 deduction proposal (K2) for the same household, through the API: how many pairs had
        both accepted (must be 0), then `hemei verify`.
kill    writers of cases and points proposals with idempotency keys; SIGKILL to a gunicorn worker,
        the gunicorn master, the sweeper and the task worker, one at a time, mid-stream; then
        every acknowledged write is in the database once, a replay of every key ever sent
        creates nothing, and `serve` restarted each dead child.
soak    mixed reads and writes for a while: requests, errors, p50/p99, RSS at start and end.
backup  `hemei backup FILE` over a good FILE, SIGKILLed half-way: FILE is unchanged;
        `hemei restore` refuses FILE cut in half.

The probes write into the database they are given (a demo copy, not production). `serve`
runs with the case and API rate limits lifted, which these probes are not about.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VILLAGE = "140110101201"  # 西邵村, the demo's points village
PY = sys.executable

Json = dict[str, Any]


def say(text: str) -> None:
    print(f"{dt.datetime.now().strftime('%H:%M:%S')} {text}", flush=True)


def db_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("DATABASE_URL must name the (demo) database to probe")
    return url


def hemei(*args: str, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([PY, "-m", "hemei.cli", *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                            timeout=timeout)
    if check and result.returncode != 0:
        raise SystemExit(f"hemei {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def django(script: str) -> str:
    """Run a snippet inside Django (setup work the API does not offer, e.g. creating a reward)."""
    prelude = "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hemei.settings')\ndjango.setup()\n"
    result = subprocess.run([PY, "-c", prelude + script], cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                            timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"setup failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def scalar(sql: str, params: tuple[Any, ...] = ()) -> int:
    """One number from the database, read directly (not through the server under test)."""
    url = db_url()
    if url.startswith("sqlite"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return int(con.execute(sql.replace("%s", "?"), params).fetchone()[0] or 0)
        finally:
            con.close()
    import psycopg

    with psycopg.connect(url) as pg:
        row = pg.execute(sql, params).fetchone()
        return int(row[0] or 0) if row else 0


def token(username: str) -> str:
    return hemei("token", username).stdout.strip().splitlines()[-1]


# --- HTTP ----------------------------------------------------------------------------------


def http(method: str, url: str, *, tok: str = "", body: Json | None = None, key: str = "",
         timeout: float = 30) -> tuple[int, Json]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if tok:
        headers["Authorization"] = f"Token {tok}"
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - our server
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            return response.status, _json(raw)
    except urllib.error.HTTPError as exc:
        return exc.code, _json(exc.read())


def _json(raw: bytes) -> Json:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"results": value}


# --- a served instance -----------------------------------------------------------------------


class Serve:
    """`hemei serve` in its own process group, logging into a file."""

    def __init__(self, port: int, logdir: Path, *, workers: int = 2) -> None:
        self.port, self.logdir, self.workers = port, logdir, workers
        self.url = f"http://127.0.0.1:{port}"
        self.log = logdir / f"serve-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> Serve:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"port {self.port} is taken")
        env = {**os.environ, "HEMEI_RATE_CASE_CREATE": "1000000/hour", "HEMEI_RATE_API_USER": "1000000/min",
               "HEMEI_SWEEP_EVERY": os.environ.get("HEMEI_SWEEP_EVERY", "5"), "HEMEI_LOG_LEVEL": "INFO"}
        env.pop("HEMEI_MQTT_URL", None)
        argv = [PY, "-m", "hemei.cli", "serve", "--port", str(self.port), "--workers", str(self.workers),
                "--access-log", str(self.logdir / f"access-{self.port}.log")]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                                         start_new_session=True)
        started = time.monotonic()
        while not self.healthy():
            if self.proc.poll() is not None:
                raise SystemExit(f"serve exited with {self.proc.returncode}; see {self.log}")
            if time.monotonic() - started > timeout:
                raise SystemExit(f"/healthz did not answer in {timeout}s; see {self.log}")
            time.sleep(0.5)
        say(f"serve up on {self.url} in {time.monotonic() - started:.1f}s (pid {self.proc.pid})")
        return self

    def healthy(self, timeout: float = 3) -> bool:
        try:
            return http("GET", f"{self.url}/healthz", timeout=timeout)[0] == 200
        except OSError:
            return False

    def children(self) -> dict[str, int]:
        """serve's children by role, and gunicorn's first worker."""
        assert self.proc is not None
        roles: dict[str, int] = {}
        for pid, args in _ps(self.proc.pid):
            if "gunicorn" in args:
                roles["gunicorn master"] = pid
                workers = _ps(pid)
                if workers:
                    roles["gunicorn worker"] = workers[0][0]
            elif "task_worker" in args:
                roles["task worker"] = pid
            elif " sweep" in args:
                roles["sweep"] = pid
        return roles

    def rss_kb(self) -> dict[str, int]:
        """Resident memory (kB) of serve and of each child with its own children."""
        assert self.proc is not None
        out = {"serve": _rss(self.proc.pid)}
        for pid, args in _ps(self.proc.pid):
            role = "gunicorn" if "gunicorn" in args else "task worker" if "task_worker" in args else "sweep"
            out[role] = _rss(pid) + sum(_rss(p) for p, _ in _ps(pid))
        return out

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=40)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def _ps(ppid: int) -> list[tuple[int, str]]:
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(ppid)], capture_output=True,  # noqa: S603,S607
                         text=True).stdout
    rows = []
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        rows.append((int(pid), args))
    return rows


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def serving(port: int, logdir: Path, workers: int = 2) -> Iterator[Serve]:
    server = Serve(port, logdir, workers=workers).start()
    try:
        yield server
    finally:
        code = server.stop()
        say(f"serve stopped with SIGTERM: exit code {code}")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"not within {timeout}s: {what}")


# --- the demo's actors -----------------------------------------------------------------------


class Demo:
    """Tokens, a case category and grid, points households of 西邵村."""

    def __init__(self) -> None:
        self.grid1, self.director, self.shop = token("grid1"), token("director"), token("shop")
        self.category = scalar("SELECT min(id) FROM cases_category WHERE county_id IS NULL")
        self.grid = django("from hemei.accounts.models import User\n"
                           "from hemei.regions.models import Post\n"
                           "u = User.objects.get(username='grid1')\n"
                           "print(Post.objects.filter(user=u).select_related('region').first().region.code)")

    def accounts(self, url: str) -> list[Json]:
        rows: list[Json] = []
        next_url: str | None = f"{url}/api/v1/points/accounts/?village={VILLAGE}&page_size=200"
        while next_url:
            status, page = http("GET", next_url, tok=self.director)
            if status != 200:
                raise SystemExit(f"accounts: {status} {page}")
            rows += page["results"]
            next_url = page.get("next")
        return rows


# --- (a) the redemption/deduction race ---------------------------------------------------------

REWARD = """
from hemei.accounts.models import User
from hemei.points import shop
from hemei.regions.models import Region
keeper = User.objects.get(username="shop")
village = Region.objects.get(code="{village}")
reward = shop.reward_create(actor=keeper, village=village, name="探针积分券 {tag}", price=1)
shop.reward_restock(actor=keeper, reward=reward, quantity=100000, idempotency_key="probe-stock-{tag}")
print(reward.pk)
"""


def probe_race(args: argparse.Namespace) -> int:
    logdir = Path(args.logdir)
    demo = Demo()
    tag = uuid.uuid4().hex[:6]
    reward = int(django(REWARD.format(village=VILLAGE, tag=tag)))
    with serving(args.port, logdir, workers=args.workers) as server:
        eligible = [a for a in demo.accounts(server.url) if a["lives_in_village"] and a["available"] >= 15]
        say(f"{len(eligible)} households of {VILLAGE} with at least 15 available points")
        if len(eligible) < args.pairs:
            raise SystemExit(f"only {len(eligible)} households can take part; give more points first")
        houses = random.Random(args.seed).sample(eligible, args.pairs)
        outcome: dict[int, list[str]] = {h["id"]: [] for h in houses}
        lock = threading.Lock()
        today = dt.date.today().isoformat()

        def redeem(house: Json, barrier: threading.Barrier) -> None:
            body = {"household": house["id"], "reward": reward, "quantity": house["available"] - 5,
                    "channel": "counter"}
            barrier.wait()
            status, data = http("POST", f"{server.url}/api/v1/points/redemptions/", tok=demo.shop, body=body,
                                key=f"probe-redeem-{tag}-{house['id']}")
            with lock:
                outcome[house["id"]].append("redeemed" if status == 201 else f"redeem {status} {data.get('code')}")

        def deduct(house: Json, barrier: threading.Barrier) -> None:
            body = {"household": house["id"], "item": "K2", "deed_date": today, "evidence": f"probe race {tag}"}
            barrier.wait()
            status, data = http("POST", f"{server.url}/api/v1/points/entries/", tok=demo.director, body=body,
                                key=f"probe-deduct-{tag}-{house['id']}")
            with lock:
                outcome[house["id"]].append("deducted" if status == 201 else f"deduct {status} {data.get('code')}")

        started = time.monotonic()
        for start in range(0, len(houses), args.batch):
            batch = houses[start:start + args.batch]
            barrier = threading.Barrier(2 * len(batch))
            threads = [threading.Thread(target=fn, args=(h, barrier)) for h in batch for fn in (redeem, deduct)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        took = time.monotonic() - started
    both = [pk for pk, got in outcome.items() if {"redeemed", "deducted"} <= set(got)]
    kinds: dict[str, int] = {}
    for got in outcome.values():
        for o in got:
            kinds[o] = kinds.get(o, 0) + 1
    say(f"{len(houses)} pairs in {took:.1f}s ({args.batch} pairs at a time): outcomes {kinds}")
    say(f"pairs with both accepted: {len(both)} {both}")
    neither = [pk for pk, got in outcome.items() if not {"redeemed", "deducted"} & set(got)]
    say(f"pairs with neither accepted: {len(neither)}")
    verify = hemei("verify", check=False)
    tail = [line for line in verify.stdout.splitlines() if "reservation" in line or "invariants" in line]
    say(f"hemei verify: exit {verify.returncode}; {' | '.join(tail)}")
    return 0 if not both and verify.returncode == 0 else 1


# --- (b) kill -9 mid-stream --------------------------------------------------------------------


def ident(data: Json) -> Any:
    return data.get("id", data.get("number"))


class Writer(threading.Thread):
    """Writes one kind of record through the API, one idempotency key each; remembers what was
    acknowledged (201/200 → id) and what was not."""

    def __init__(self, server: Serve, kind: str, make: Callable[[str], tuple[str, str, Json]]) -> None:
        super().__init__(daemon=True)
        self.server, self.kind, self.make = server, kind, make
        self.acked: dict[str, Any] = {}  # key → id (an entry) or number (a case)
        self.failed: dict[str, str] = {}
        self.running = True

    def send(self, key: str, timeout: float = 20) -> tuple[int, Json]:
        path, tok, body = self.make(key)
        return http("POST", f"{self.server.url}{path}", tok=tok, body=body, key=key, timeout=timeout)

    def run(self) -> None:
        while self.running:
            key = f"probe-{self.kind}-{uuid.uuid4().hex[:16]}"
            try:
                status, data = self.send(key)
            except Exception as exc:  # refused, reset, cut mid-answer: not acknowledged
                self.failed[key] = type(exc).__name__
                time.sleep(0.1)
                continue
            if status in (200, 201):
                self.acked[key] = ident(data)
            else:
                self.failed[key] = f"HTTP {status}"
            time.sleep(0.05)


def probe_kill(args: argparse.Namespace) -> int:
    logdir = Path(args.logdir)
    demo = Demo()
    tag = uuid.uuid4().hex[:6]
    failures = 0
    with serving(args.port, logdir, workers=args.workers) as server:
        houses = [a["id"] for a in demo.accounts(server.url) if a["lives_in_village"]]
        today = dt.date.today().isoformat()

        def case(key: str) -> tuple[str, str, Json]:
            return "/api/v1/cases/", demo.grid1, {"category": demo.category, "title": "路灯坏了",
                                                   "description": f"probe {key}", "region": demo.grid}

        def entry(key: str) -> tuple[str, str, Json]:
            return "/api/v1/points/entries/", demo.director, {
                "household": houses[hash(key) % len(houses)], "item": "G2", "deed_date": today,
                "evidence": f"probe {key}"}

        writers = [Writer(server, "case", case), Writer(server, "entry", entry)]
        for w in writers:
            w.start()

        def acked() -> int:
            return sum(len(w.acked) for w in writers)

        wait_for(lambda: acked() >= 20, 60, "first writes")
        for role in ("gunicorn worker", "gunicorn master", "sweep", "task worker"):
            before = server.children()
            victim = before[role]
            n = acked()
            wait_for(lambda n=n: acked() >= n + 10, 60, "writes before the kill")  # type: ignore[misc]
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            say(f"SIGKILL {role} pid {victim} ({acked()} writes acknowledged so far)")
            back = wait_for(lambda role=role, victim=victim: server.children().get(role, victim) != victim
                            and server.healthy(), 180, f"{role} restarted")  # type: ignore[misc]
            n = acked()
            wait_for(lambda n=n: acked() >= n + 10, 60, "writes after the restart")  # type: ignore[misc]
            say(f"  {role} back as pid {server.children()[role]} after {back:.1f}s; "
                f"writes flowing again {time.monotonic() - killed_at:.1f}s after the kill")
            if role != "gunicorn worker":
                unchanged = {r: p for r, p in before.items() if r != role and not r.startswith(role.split()[0])}
                now = server.children()
                moved = [r for r, p in unchanged.items() if now.get(r) != p]
                say(f"  other children kept their pids: {not moved} {moved or ''}")
        for w in writers:
            w.running = False
        for w in writers:
            w.join(timeout=60)
        lines = [line for line in server.log.read_text(errors="replace").splitlines()
                 if "exited with code" in line or " restarted (pid" in line]
        for line in lines:
            say(f"  log: {line}")

        for w in writers:
            table, field = ("cases_case", "description") if w.kind == "case" else ("points_entry", "evidence")
            missing = doubled = 0
            for key in w.acked:
                n = scalar(f"SELECT count(*) FROM {table} WHERE {field} = %s", (f"probe {key}",))  # noqa: S608
                missing += n == 0
                doubled += n > 1
            sent = list(w.acked) + list(w.failed)
            bad_replays = 0
            for key in sent:
                status, data = w.send(key, timeout=60)
                if status not in (200, 201) or (key in w.acked and (status, ident(data)) != (200, w.acked[key])):
                    bad_replays += 1
            rows = scalar(f"SELECT count(*) FROM {table} WHERE {field} LIKE %s", ("probe probe-%",))  # noqa: S608
            why: dict[str, int] = {}
            for reason in w.failed.values():
                why[reason] = why.get(reason, 0) + 1
            say(f"{w.kind}s: {len(w.acked)} acknowledged, {len(w.failed)} not {why}; acknowledged missing "
                f"{missing}, doubled {doubled}; replay of all {len(sent)} keys: {bad_replays} bad; rows with a "
                f"probe key now {rows} (distinct keys sent {len(set(sent))}, all probe runs)")
            failures += missing + doubled + bad_replays
        del tag
    verify = hemei("verify", check=False)
    say(f"hemei verify: exit {verify.returncode}; {verify.stdout.strip().splitlines()[-1]}")
    return 1 if failures or verify.returncode else 0


# --- (c) soak ------------------------------------------------------------------------------------


def probe_soak(args: argparse.Namespace) -> int:
    logdir = Path(args.logdir)
    demo = Demo()
    with serving(args.port, logdir, workers=args.workers) as server:
        houses = [a["id"] for a in demo.accounts(server.url) if a["lives_in_village"]]
        today = dt.date.today().isoformat()
        base = server.url
        reads: list[tuple[str, str]] = [
            (f"{base}/healthz", ""),
            (f"{base}/api/v1/cases/?page_size=20", demo.grid1),
            (f"{base}/api/v1/points/accounts/?village={VILLAGE}&page_size=50", demo.director),
            (f"{base}/api/v1/points/entries/?village={VILLAGE}&page_size=50", demo.director),
            (f"{base}/api/v1/points/entries/publicity/", demo.director),
        ]
        times: list[float] = []
        errors: dict[str, int] = {}
        counts = {"read": 0, "write": 0}
        lock = threading.Lock()
        until = time.monotonic() + args.seconds

        def client(n: int) -> None:
            rng = random.Random(n)
            while time.monotonic() < until:
                key = f"probe-soak-{uuid.uuid4().hex[:16]}"
                roll = rng.random()
                kind = "write" if roll < args.writes else "read"
                started = time.monotonic()
                try:
                    if kind == "read":
                        url, tok = rng.choice(reads)
                        status, _ = http("GET", url, tok=tok)
                    elif rng.random() < 0.5:
                        status, _ = http("POST", f"{base}/api/v1/cases/", tok=demo.grid1, key=key,
                                         body={"category": demo.category, "title": "垃圾未清运",
                                               "description": f"probe {key}", "region": demo.grid})
                    else:
                        status, _ = http("POST", f"{base}/api/v1/points/entries/", tok=demo.director, key=key,
                                         body={"household": rng.choice(houses), "item": "G2", "deed_date": today,
                                               "evidence": f"probe {key}"})
                    why = "" if 200 <= status < 300 else f"HTTP {status}"
                except Exception as exc:
                    why = type(exc).__name__
                took = time.monotonic() - started
                with lock:
                    times.append(took)
                    counts[kind] += 1
                    if why:
                        errors[why] = errors.get(why, 0) + 1

        time.sleep(5)  # the first requests warm the workers up
        rss_start = server.rss_kb()
        pids_start = server.children()
        say(f"soak: {args.clients} clients for {args.seconds}s, {args.writes:.0%} writes; RSS kB at start {rss_start}")
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss_end = server.rss_kb()
        pids_same = server.children() == pids_start
    total = len(times)
    qs = statistics.quantiles(times, n=100) if total > 1 else [0.0] * 99
    say(f"soak: {total} requests ({counts['read']} reads, {counts['write']} writes), {total / args.seconds:.1f}/s; "
        f"errors {sum(errors.values())} {errors}; p50 {qs[49] * 1000:.0f} ms, p99 {qs[98] * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms")
    say(f"soak: RSS kB at end {rss_end}; children kept their pids: {pids_same}")
    return 1 if errors else 0


# --- (d) atomic backup -----------------------------------------------------------------------------


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def probe_backup(args: argparse.Namespace) -> int:
    where = Path(args.dir)
    where.mkdir(parents=True, exist_ok=True)
    good = where / "good.json.gz"
    started = time.monotonic()
    hemei("backup", str(good))
    whole = time.monotonic() - started
    before = sha256(good)
    size = good.stat().st_size
    say(f"backup: {good.name} written in {whole:.0f}s, {size} bytes, sha256 {before[:16]}…")

    # The same command again over it, SIGKILLed half-way (by the first run's time).
    proc = subprocess.Popen([PY, "-m", "hemei.cli", "backup", str(good)], cwd=ROOT,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(whole / 2)
    others = [p for p in where.iterdir() if p != good]
    partial = sum(p.stat().st_size for p in others)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    after = sha256(good)
    say(f"backup: second run SIGKILLed after {whole / 2:.0f}s (exit {proc.returncode}); beside FILE then: "
        f"{[p.name for p in others]} ({partial} bytes); FILE unchanged: {after == before}, size {good.stat().st_size}")
    left = [p.name for p in where.iterdir() if p != good]
    say(f"backup: left beside FILE after the kill: {left}")

    # A fragment: FILE cut in half is refused, and the empty database stays empty.
    cut = where / "cut.json.gz"
    with open(good, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(size // 2))
    with tempfile.TemporaryDirectory() as scratch:
        empty = f"sqlite:///{Path(scratch) / 'restore.sqlite3'}"
        result = subprocess.run([PY, "-m", "hemei.cli", "restore", str(cut)], cwd=ROOT,  # noqa: S603
                                env={**os.environ, "DATABASE_URL": empty}, capture_output=True, text=True,
                                timeout=1800)
        message = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
        con = sqlite3.connect(empty.removeprefix("sqlite:///"))
        try:
            households = con.execute("SELECT count(*) FROM regions_household").fetchone()[0]
        except sqlite3.Error:
            households = 0
        finally:
            con.close()
    say(f"restore of FILE cut to {size // 2} bytes: exit {result.returncode}, {message}; households loaded "
        f"{households}")
    cut.unlink()
    return 0 if after == before and result.returncode != 0 and households == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="probe", required=True)
    for name in ("race", "kill", "soak"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--workers", type=int, default=2, help="gunicorn workers (4 threads each)")
        p.add_argument("--logdir", default=tempfile.gettempdir(), help="serve's log and request log")
    race = sub.choices["race"]
    race.add_argument("--pairs", type=int, default=48)
    race.add_argument("--batch", type=int, default=4, help="pairs fired at the same instant")
    race.add_argument("--seed", type=int, default=12)
    soak = sub.choices["soak"]
    soak.add_argument("--seconds", type=int, default=300)
    soak.add_argument("--clients", type=int, default=4)
    soak.add_argument("--writes", type=float, default=0.3, help="share of requests that write")
    backup = sub.add_parser("backup")
    backup.add_argument("--dir", required=True, help="a scratch directory for the backup files")
    args = parser.parse_args()
    db_url()
    probe = {"race": probe_race, "kill": probe_kill, "soak": probe_soak, "backup": probe_backup}[args.probe]
    return probe(args)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmarks run by `hemei bench` (see docs/benchmarks.md).

Each module here exposes `run(scale, out) -> dict` and is named on the command line by its
file name with dashes (`roster_import.py` → `roster-import`). A result has:

- `checks`: ratios against a floor measured in the same run, each with its goal, so a
  slower or faster machine does not change the verdict;
- `figures`: absolute numbers (rows/s, ms, queries) for the record;
- `details`: the raw measurements.

Work that needs its own database (a county of a million households, an import into a
throwaway region) runs in a child process (`hemei bench --internal module:function`) with
DATABASE_URL pointing at an SQLite file, because one Django process cannot cleanly switch
databases; the child prints its result as one JSON line. The benches that also run on
PostgreSQL (`mqtt`, `pages`) give the child a database of its own beside the one a PostgreSQL
DATABASE_URL names, on the same server (`postgres_database`).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
RESULT_MARKER = "BENCH-RESULT "
SCALES = ("tiny", "small", "full")  # tiny: the test suite's smoke run


def bench_dir() -> Path:
    """Where results and reusable benchmark databases go (`hemei bench --out`)."""
    return Path(os.environ.get("HEMEI_BENCH_DIR", ROOT / "var" / "bench"))


def check(what: str, value: float, goal: str, ok: bool | None) -> dict[str, Any]:
    """One verdict line; ok=None marks a figure reported against a floor without a goal."""
    return {
        "what": what,
        "value": round(value, 3),
        "goal": goal,
        "ok": None if ok is None else bool(ok),
    }


def median_seconds(fn: Callable[[], object], *, repeat: int, warmup: int = 2) -> float:
    """Median wall time of `fn` over `repeat` calls after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_child(
    target: str,
    kwargs: dict[str, Any],
    *,
    database: Path,
    out: TextIO,
    prefix: str = "    ",
    database_url: str | None = None,
) -> dict[str, Any]:
    """Run `target` ("bench.module:function") in a child `hemei bench --internal` process on
    the SQLite file `database` (created and migrated when missing), or on `database_url`
    when given (a PostgreSQL database the caller made); return its result.

    The child's output is passed through line by line, so a long build shows progress.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{database}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "hemei.cli",
        "bench",
        "--internal",
        target,
        "--internal-args",
        json.dumps(kwargs),
    ]
    result: dict[str, Any] | None = None
    tail: list[str] = []
    with subprocess.Popen(  # noqa: S603 - our own CLI with our own arguments
        cmd,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(RESULT_MARKER):
                result = json.loads(line[len(RESULT_MARKER) :])
                continue
            tail = [*tail[-30:], line]
            if line.strip() and "UserWarning" not in line and "mw_instance" not in line:
                out.write(prefix + line)
                out.flush()
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"{target} failed (exit {proc.returncode}):\n{''.join(tail)}")
    return result


def postgres_url() -> str | None:
    """DATABASE_URL when it names a PostgreSQL server (the bench then runs there), else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextlib.contextmanager
def postgres_database(url: str, label: str, *, keep: bool = False) -> Iterator[tuple[str, bool]]:
    """The database `<url's database>_<label>` on the server of `url`, as its user: made when
    missing; yields its URL and whether it was there already. Dropped on exit unless `keep`
    (a county kept for reuse, as the SQLite files under bench_dir() are). Its child migrates
    it, as every `hemei` command does (from HEMEI_PG_TEMPLATE when set: hemei.cli.from_template).
    """
    import urllib.parse

    import dj_database_url
    import psycopg
    from psycopg import sql

    from hemei.cli import pg_admin_conninfo

    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'hemei'}_{label}"
    if len(name.encode()) > 63:  # PostgreSQL would cut the name silently: two labels could meet
        raise ValueError(f"database name too long for PostgreSQL: {name}")
    with psycopg.connect(pg_admin_conninfo(dict(dj_database_url.parse(url))), autocommit=True) as admin:
        existed = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if not existed:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), existed
        finally:
            if not keep:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import django

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": f"{platform.system()} {platform.release()}",
    }

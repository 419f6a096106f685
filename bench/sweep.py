"""sweep: the escalation sweep's cost must follow the overdue cases, not the table.

Two SQLite databases hold the same number of overdue cases (past their resolve-by or
accept-by) among many more open cases that are not due yet: full 10k overdue among 100k and
among 1M open cases; small 1k among 10k and 100k; tiny 100 among 1k and 5k. Each base database
is built once under var/bench/ (bulk inserts, not timed) and copied before every measured
run, because a sweep changes the rows it escalates.

Measured in a child process per size: one `sweep_all(now)` that escalates every overdue
case (each in its own transaction: conditional update, event, audit row), and the floor: the
same number of raw-SQL single-row UPDATE transactions on the same table, the least work
that acting on each overdue case one by one could cost. Goal: the big table's sweep ≤ 1.5×
the small table's. A second sweep right after (nothing left to do) is recorded too: it must
cost next to nothing whatever the table size.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bench import bench_dir, check, run_child
from hemei.core.scope import SYSTEM

SIZES = {"tiny": (1_000, 5_000, 100), "small": (10_000, 100_000, 1_000), "full": (100_000, 1_000_000, 10_000)}
GOAL_GROWTH = 1.5
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=SH)


def base_database(open_cases: int, overdue: int) -> Any:
    return bench_dir() / f"sweep-{open_cases}-{overdue}.sqlite3"


def run(scale: str, out: TextIO) -> dict[str, Any]:
    small, big, overdue = SIZES[scale]
    results: dict[str, Any] = {}
    for size in (small, big):
        base = base_database(size, overdue)
        if not base.exists():
            out.write(f"  building {size:,} open cases with {overdue:,} overdue ({base.name}) …\n")
            run_child("bench.sweep:build", {"open_cases": size, "overdue": overdue}, database=base, out=out)
        work = base.with_name(base.stem + "-work.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            work.with_name(work.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(base, work)
        out.write(f"  sweeping {size:,} open cases …\n")
        results[str(size)] = run_child("bench.sweep:measure", {"overdue": overdue}, database=work, out=out)
        work.unlink(missing_ok=True)
    s, b = results[str(small)], results[str(big)]
    growth = b["sweep_s"] / s["sweep_s"]
    checks = [
        check(f"escalated: {b['escalated']:,} of {big:,} and {s['escalated']:,} of {small:,}",
              b["escalated"] - s["escalated"], "= 0 (the same overdue cases)",
              b["escalated"] == s["escalated"] == overdue),
        check(f"sweep time, {big:,} / {small:,} open cases", growth, f"≤ {GOAL_GROWTH:g}", growth <= GOAL_GROWTH),
    ]
    for size, r in ((small, s), (big, b)):
        checks.append(check(f"sweep / raw single-row update transactions ({size:,})",
                            r["sweep_s"] / r["floor_s"], "floor ratio", None))
    figures = {}
    for size, r in ((small, s), (big, b)):
        figures[f"sweep of {overdue:,} overdue among {size:,}"] = (
            f"{r['sweep_s']:.2f} s ({r['escalated'] / r['sweep_s']:,.0f} cases/s)")
        figures[f"idle sweep ms ({size:,})"] = round(r["idle_ms"], 2)
        figures[f"floor: {overdue:,} raw update transactions ({size:,})"] = f"{r['floor_s']:.2f} s"
    return {"checks": checks, "figures": figures, "details": results}


def build(*, open_cases: int, overdue: int) -> dict[str, Any]:
    """Regions, the default categories (from the migrations) and `open_cases` open cases, of
    which `overdue` are past a deadline at NOW. Bulk inserts: this is set-up, not measured."""
    from hemei.cases.models import Case, CaseCounter, Category
    from hemei.regions import services

    county = services.region_create(actor=SYSTEM, name="晋源区", level="county", code="140110")
    township = services.region_create(actor=SYSTEM, name="姚村镇", level="township", code="140110101", parent=county)
    village = services.region_create(actor=SYSTEM, name="西邵村", level="village", code="140110101201", parent=township)
    grid = services.region_create(actor=SYSTEM, name="第一网格", level="grid", code="140110101201001", parent=village)
    category = Category.objects.get(county__isnull=True, name="环境卫生")
    created = NOW - dt.timedelta(days=200)
    late = NOW - dt.timedelta(days=10)
    future = NOW + dt.timedelta(days=3650)
    batch: list[Case] = []
    for i in range(open_cases):
        # Every 1 in 3 still waits to be accepted; the rest are being worked on.
        submitted = i % 3 == 0
        is_late = i < overdue
        batch.append(Case(
            number=f"140110-2026-{i + 1:07d}", county=county, region=grid, source=Case.Source.PHONE,
            category=category, title="路灯坏了", description="村东路灯不亮",
            status=Case.Status.SUBMITTED if submitted else Case.Status.IN_PROGRESS,
            accept_by=late if (submitted and is_late) else (created if not submitted else future),
            resolve_by=late if (is_late and not submitted) else future,
            created_at=created, updated_at=created,
        ))
        if len(batch) == 10_000:
            Case.objects.bulk_create(batch)
            batch = []
            print(f"{i + 1:,} cases", flush=True)
    Case.objects.bulk_create(batch)
    CaseCounter.objects.create(county=county, year=2026, last=open_cases)
    return {"open_cases": open_cases, "overdue": overdue}


def measure(*, overdue: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.urls import reverse

    from hemei.cases.models import Case
    from hemei.core.sweeps import sweep_all

    reverse("healthz")  # import the URL conf (and with it every app) before anything is timed

    # The floor first, on rows the sweep will not touch (not due), and undone afterwards.
    ids = list(Case.objects.filter(resolve_by__gt=NOW, status=Case.Status.IN_PROGRESS)
               .values_list("pk", flat=True)[:overdue])
    table = Case._meta.db_table
    started = time.perf_counter()
    for pk in ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET tier = %s WHERE id = %s AND tier = %s",  # noqa: S608
                           ["township", pk, "village"])
    floor = time.perf_counter() - started
    Case.objects.filter(pk__in=ids).update(tier="village")
    started = time.perf_counter()
    done = sweep_all(NOW, only=("cases",))
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = sweep_all(NOW, only=("cases",))
    idle = time.perf_counter() - started
    if again:
        raise RuntimeError(f"a second sweep escalated {len(again)} cases again")
    return {"escalated": len(done), "sweep_s": round(seconds, 3), "floor_s": round(floor, 3),
            "idle_ms": round(idle * 1000, 2)}

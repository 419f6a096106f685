"""points: posting to the hash-chained ledger must keep up with plain inserts; concurrent redemptions stay exact.

(a) Postings, SQLite. Two databases hold one village whose chain already has many effective
entries (tiny 300 and 1.5k, small 10k and 100k, full 100k and 1M, with valid hashes, accounts
and chain head; bulk inserts, built once under var/bench/ and copied before every run) plus
entries in publicity that are due. In a child process per size:

- the floor: raw single-row INSERT transactions into the same `points_entry` table (one
  prepared row, the same columns Django writes), undone afterwards;
- posting one entry per transaction (`ledger.entry_post`), the path every scored entry
  takes (`posting.post_due`, which the sweep runs too): lock the chain head, re-read the
  entry under lock, raise the household's balance (checked in the same statement), link the
  entry (hash over the canonical content and the previous hash), move the head, and its
  audit row;
- the publicity sweep (`ledger.publicity_sweep`) over as many due entries again: one
  transaction per village, which is how scored entries normally become effective;
- `hemei verify`'s points invariants afterwards (chains re-derived, balances = sums, stock).

Goal: postings per second ≥ 0.3 × the raw insert transactions per second, at both sizes;
the growth from the small to the big chain is reported.

(b) Redemptions, PostgreSQL. In a throwaway database (created and dropped with psycopg;
HEMEI_BENCH_POSTGRES names the server, default postgres://postgres@127.0.0.1:5432/postgres;
reported as skipped when the server cannot be reached; the tiny scale runs it only when
that variable is set): households with 100 points each, one
scarce reward (30 points, limit 4 per household, stock for half of the attempts), and 8
client threads redeeming at the counter through `shop.redemption_create`, each household
asked 5 times. Exactly min(stock, Σ per-household min(attempts, limit, affordable)) succeed;
redemptions per second are recorded, then the points invariants of `hemei verify`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bench import RESULT_MARKER, ROOT, bench_dir, check, run_child
from hemei.core.scope import SYSTEM

SIZES = {"tiny": (300, 1_500), "small": (10_000, 100_000), "full": (100_000, 1_000_000)}
POSTINGS = {"tiny": 50, "small": 2_000, "full": 5_000}
HOUSEHOLDS = 500
CLIENTS = 8
ATTEMPTS = {"tiny": 10, "small": 50, "full": 250}  # per client
GOAL_RATIO = 0.3
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 10, 28, 9, 0, tzinfo=SH)
POSTGRES = os.environ.get("HEMEI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
# Migrating a fresh PostgreSQL database takes about a minute: the tiny scale (the test suite's
# smoke run) does it only when HEMEI_BENCH_POSTGRES is set explicitly.
PG_AT_TINY = "HEMEI_BENCH_POSTGRES" in os.environ


def base_database(existing: int, due: int) -> Path:
    return bench_dir() / f"points-{existing}-{due}.sqlite3"


def run(scale: str, out: TextIO) -> dict[str, Any]:
    small, big = SIZES[scale]
    postings = POSTINGS[scale]
    results: dict[str, Any] = {}
    for size in (small, big):
        base = base_database(size, postings)
        if not base.exists():
            out.write(f"  building a chain of {size:,} effective entries ({base.name}) …\n")
            run_child("bench.points:build", {"existing": size, "due": 2 * postings}, database=base, out=out)
        work = base.with_name(base.stem + "-work.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            work.with_name(work.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(base, work)
        out.write(f"  posting {postings:,} entries onto {size:,} …\n")
        results[str(size)] = run_child("bench.points:measure", {"postings": postings}, database=work, out=out)
        work.unlink(missing_ok=True)
    if scale == "tiny" and not PG_AT_TINY:
        results["postgres"] = {"skipped": "not at the tiny scale unless HEMEI_BENCH_POSTGRES is set"}
    else:
        out.write(f"  redemptions: {CLIENTS} clients on PostgreSQL …\n")
        results["postgres"] = redemptions_on_postgres(ATTEMPTS[scale], out)

    checks = []
    figures: dict[str, Any] = {}
    for size in (small, big):
        r = results[str(size)]
        ratio = r["floor_s"] / r["post_s"]  # throughput ratio = inverse time ratio
        checks.append(check(f"postings / raw insert transactions per second ({size:,} entries)", ratio,
                            f"≥ {GOAL_RATIO:g}", ratio >= GOAL_RATIO))
        checks.append(check(f"publicity sweep / raw insert transactions per second ({size:,} entries)",
                            r["floor_s"] / r["sweep_s"], "floor ratio", None))
        checks.append(check(f"hemei verify (points) problems after posting ({size:,} entries)",
                            len(r["problems"]), "= 0", not r["problems"]))
        figures[f"postings/s, one per transaction ({size:,})"] = round(postings / r["post_s"])
        figures[f"postings/s, publicity sweep ({size:,})"] = round(postings / r["sweep_s"])
        figures[f"floor: raw insert transactions/s ({size:,})"] = round(postings / r["floor_s"])
        figures[f"verify points invariants s ({size:,})"] = r["verify_s"]
    growth = results[str(big)]["post_s"] / results[str(small)]["post_s"]
    checks.append(check(f"posting time, {big:,} / {small:,} existing entries", growth, "growth", None))
    pg = results["postgres"]
    if pg.get("skipped"):
        figures["redemptions on PostgreSQL"] = f"skipped: {pg['skipped']}"
    else:
        checks.append(check(f"redemptions that succeeded, of {pg['attempts']:,} attempts (expected {pg['expected']:,})",
                            pg["succeeded"] - pg["expected"], "= 0", pg["succeeded"] == pg["expected"]))
        checks.append(check("hemei verify (points) problems after the redemptions (PostgreSQL)",
                            len(pg["problems"]), "= 0", not pg["problems"]))
        figures[f"redemptions/s, {CLIENTS} clients (PostgreSQL)"] = round(pg["succeeded"] / pg["seconds"], 1)
        figures[f"attempts/s incl. refusals, {CLIENTS} clients (PostgreSQL)"] = round(pg["attempts"] / pg["seconds"], 1)
        figures["refusals by code (PostgreSQL)"] = ", ".join(f"{k} {v}" for k, v in sorted(pg["refused"].items()))
    return {"checks": checks, "figures": figures, "details": results}


# --- (a) postings, in a child process on an SQLite file ---------------------------------------


def _village() -> Any:
    from hemei.regions import services

    county = services.region_create(actor=SYSTEM, name="晋源区", level="county", code="140110")
    township = services.region_create(actor=SYSTEM, name="姚村镇", level="township", code="140110101", parent=county)
    village = services.region_create(actor=SYSTEM, name="西邵村", level="village", code="140110101201", parent=township)
    grid = services.region_create(actor=SYSTEM, name="第一网格", level="grid", code="140110101201001", parent=village)
    return county, village, grid


def _households(county: Any, village: Any, grid: Any, n: int) -> list[Any]:
    from hemei.regions.models import Household

    Household.objects.bulk_create(
        [Household(county=county, region=grid, village=village, number=f"{i + 1:04d}") for i in range(n)],
        batch_size=2000,
    )
    return list(Household.objects.filter(village=village).order_by("pk"))


def build(*, existing: int, due: int) -> dict[str, Any]:
    """A village with `existing` effective entries (a valid chain) and `due` entries in
    publicity that are due at NOW. Bulk inserts: set-up, not measured."""
    from hemei.core.chain import link_hash
    from hemei.core.models import GENESIS_HASH, ChainHead
    from hemei.core.scope import SYSTEM
    from hemei.points import posting
    from hemei.points.models import Account, Entry
    from hemei.points.testing import adopted_rules

    county, village, grid = _village()
    houses = _households(county, village, grid, HOUSEHOLDS)
    pts = adopted_rules(actor=SYSTEM, village=village, held_at=dt.datetime(2020, 1, 6, 10, tzinfo=SH))
    item = pts.rule("J1")
    effective_at = dt.datetime(2026, 1, 1, 9, tzinfo=SH)
    prev = GENESIS_HASH
    balances: dict[int, tuple[int, int, int]] = {}
    batch: list[Entry] = []
    for i in range(existing):
        house = houses[i % len(houses)]
        entry = Entry(
            pk=i + 1, county=county, village=village, household=house, item=item, version=pts.version,
            points=item.points, deed_date=dt.date(2025, 12, 1), period="2025-12", state=Entry.State.EFFECTIVE,
            proposed_at=effective_at, reviewed_at=effective_at, effective_at=effective_at, sequence=i + 1,
            prev_hash=prev,
        )
        entry.entry_hash = link_hash({**posting.entry_fields(entry, effective_at=effective_at), "sequence": i + 1,
                                      "prev_hash": prev})
        prev = entry.entry_hash
        balance, count, _last = balances.get(house.pk, (0, 0, 0))
        balances[house.pk] = (balance + entry.points, count + 1, i + 1)
        batch.append(entry)
        if len(batch) == 10_000:
            Entry.objects.bulk_create(batch)
            batch = []
            print(f"{i + 1:,} entries", flush=True)
    Entry.objects.bulk_create(batch)
    ChainHead.objects.create(chain="points", village=village, length=existing, head_hash=prev)
    Account.objects.bulk_create([
        Account(household_id=pk, county=county, village=village, balance=b, entries_count=n, last_sequence=last,
                updated_at=effective_at)
        for pk, (b, n, last) in balances.items()
    ])
    approved = NOW - dt.timedelta(days=10)
    Entry.objects.bulk_create([
        Entry(
            county=county, village=village, household=houses[i % len(houses)], item=item, version=pts.version,
            points=item.points, deed_date=dt.date(2026, 10, 1), period="2026-10", state=Entry.State.PUBLICITY,
            proposed_at=approved, reviewed_at=approved, publicity_until=approved + dt.timedelta(days=7),
        )
        for i in range(due)
    ], batch_size=5000)
    return {"existing": existing, "due": due}


def measure(*, postings: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.urls import reverse

    from hemei.points.ledger import entry_post, publicity_sweep
    from hemei.points.models import Entry

    reverse("healthz")  # import the URL conf (and with it every app) before anything is timed
    due = list(Entry.objects.filter(state=Entry.State.PUBLICITY).order_by("pk").values_list("pk", flat=True))
    if len(due) < 2 * postings:
        raise RuntimeError(f"{len(due)} due entries, {2 * postings} needed")

    # The floor: a prepared row of the same table, inserted with raw SQL one per transaction.
    proto = Entry.objects.get(pk=due[0])
    fields = [f for f in Entry._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    values = [f.get_db_prep_save(getattr(proto, f.attname), connection) for f in fields]
    sql = f"INSERT INTO points_entry ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
    top = Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.perf_counter()
    for _ in range(postings):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, values)
    floor = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM points_entry WHERE id > %s AND state = %s", [top, Entry.State.PUBLICITY])

    # Chosen before the clock starts, as a caller holds the entry it posts; `entry_post`
    # re-reads it under the head lock.
    chosen = list(Entry.objects.filter(pk__in=due[:postings]).select_related("village").order_by("pk"))
    started = time.perf_counter()
    for entry in chosen:
        if not entry_post(entry=entry, at=NOW):
            raise RuntimeError(f"entry {entry.pk} was not posted")
    posted = time.perf_counter() - started

    started = time.perf_counter()
    swept = publicity_sweep(NOW + dt.timedelta(minutes=1))
    sweep = time.perf_counter() - started
    if swept != len(due) - postings:
        raise RuntimeError(f"the sweep made {swept} entries effective, {len(due) - postings} expected")

    started = time.perf_counter()
    problems = points_problems()
    verify = time.perf_counter() - started
    return {"floor_s": round(floor, 3), "post_s": round(posted, 3), "sweep_s": round(sweep, 3),
            "swept": swept, "verify_s": round(verify, 2), "problems": problems}


def points_problems() -> list[str]:
    """What `hemei verify` reports for the points invariants (empty: clean)."""
    import hemei.points.checks  # noqa: F401  (registers the invariants)
    from hemei.core.verify import CHECKS

    problems: list[str] = []
    for name, fn in CHECKS.items():
        if name.startswith("points-"):
            problems.extend(f"{name}: {p}" for p in fn())
    return problems


# --- (b) redemptions on PostgreSQL -----------------------------------------------------------


def redemptions_on_postgres(attempts_per_client: int, out: TextIO) -> dict[str, Any]:
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except Exception as exc:  # any failure to reach the server: skipped
        return {"skipped": f"PostgreSQL not reachable ({type(exc).__name__})"}
    name = f"hemei_bench_points_{os.getpid()}"
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    try:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        return _child(url, "bench.points:redeem", {"attempts_per_client": attempts_per_client}, out)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _child(url: str, target: str, kwargs: dict[str, Any], out: TextIO) -> dict[str, Any]:
    """`hemei bench --internal` on the database at `url` (bench.run_child is for SQLite files);
    the child migrates it first, as every `hemei` command does."""
    import json

    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "hemei.cli", "bench", "--internal", target, "--internal-args", json.dumps(kwargs)]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARKER):])
            return result
        if line.strip():
            out.write(f"    {line}\n")
    raise RuntimeError(f"{target} failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def redeem(*, attempts_per_client: int) -> dict[str, Any]:
    """Households with 100 points, one scarce reward, CLIENTS threads redeeming at once."""
    from django.core.exceptions import ValidationError
    from django.db import connection

    from hemei.core.scope import SYSTEM
    from hemei.points import ledger, shop
    from hemei.points.models import Account, Redemption, Reward
    from hemei.points.testing import adopted_rules

    attempts = CLIENTS * attempts_per_client
    asks, limit, price, balance = 5, 4, 30, 100
    county, village, grid = _village()
    houses = _households(county, village, grid, max(attempts // asks, 1))
    pts = adopted_rules(actor=SYSTEM, village=village, held_at=dt.datetime(2026, 9, 1, 10, tzinfo=SH),
                        items=[("B1", "contribution", "bench", balance, None, "committee")])
    entries, _ = ledger.entry_propose_batch(
        actor=SYSTEM, rule_set=pts.rule_set, idempotency_key="bench", at=NOW - dt.timedelta(days=10),
        proposals=[ledger.Proposal(h, pts.rule("B1"), dt.date(2026, 10, 1)) for h in houses],
    )
    for e in entries:
        ledger.entry_review(actor=SYSTEM, entry=e, approve=True, idempotency_key=f"r{e.pk}",
                            at=NOW - dt.timedelta(days=10))
    ledger.publicity_sweep(NOW - dt.timedelta(days=1))
    stock = attempts // 2
    reward = shop.reward_create(actor=SYSTEM, village=village, name="洗衣粉", price=price, limit_per_period=limit)
    shop.reward_restock(actor=SYSTEM, reward=reward, quantity=stock, idempotency_key="stock")
    per_house = [0] * len(houses)
    for n in range(attempts):
        per_house[n % len(houses)] += 1
    affordable = sum(min(k, limit, balance // price) for k in per_house)
    expected = min(stock, affordable)

    ok: list[int] = []
    refused: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(c: int) -> None:
        try:
            barrier.wait()
            for i in range(attempts_per_client):
                n = c + i * CLIENTS
                try:
                    shop.redemption_create(actor=SYSTEM, household=houses[n % len(houses)], reward=reward,
                                           idempotency_key=f"t{n}")
                    with lock:
                        ok.append(n)
                except ValidationError as exc:
                    with lock:
                        refused[str(exc.code)] = refused.get(str(exc.code), 0) + 1
        except Exception as exc:  # reported: the result then fails its check
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    problems = points_problems() + errors
    if Reward.objects.get(pk=reward.pk).stock != stock - len(ok):
        problems.append("stock does not match the successful redemptions")
    if Redemption.objects.count() != len(ok) or Account.objects.filter(balance__lt=0).exists():
        problems.append("redemption rows or balances do not match")
    return {"households": len(houses), "attempts": attempts, "stock": stock, "expected": expected,
            "succeeded": len(ok), "refused": refused, "seconds": round(seconds, 3), "problems": problems[:20],
            "vendor": connection.vendor}

"""case-api: the case list API must keep up with a trivial JSON view on the same server.

Two databases (tiny: 300 and 3,000 cases; small: 10k and 100k; full: 100k and 1M) are built
into SQLite files under var/bench/ (kept and reused, keyed by size and seed): the demo
county's regions and users (`demo_build(households=600)`), then the cases spread over its
grids with bulk inserts (a benchmark fixture, not application data, so no services here).

In a child process per database, through the whole Django stack (middleware, DRF, token
authentication as an API client sends it) with the test client:

- `GET /api/v1/cases/` as the county administrator (the newest page of every case in the
  county) and as the grid worker `grid1` (the cases of one grid), and with a filter;
- the floor: `GET /api/v1/whoami/`, a trivial JSON view with the same token authentication and
  scope look-up as every API call and nothing else. `/healthz` (no authentication at all) is
  measured too and reported as a figure.

Throughput is 1 / median request time. Goal: case list throughput / floor throughput ≥ 0.5
(the grid worker's list, the common call); the county list, the ratio to /healthz and the
growth from the small to the big database are reported as figures.
"""

from __future__ import annotations

from typing import Any, TextIO

from bench import bench_dir, check, median_seconds, run_child

SIZES = {"tiny": (300, 3_000), "small": (10_000, 100_000), "full": (100_000, 1_000_000)}
REPEAT = {"tiny": 5, "small": 30, "full": 40}
HOUSEHOLDS = 600
SEED = 2026
GOAL_RATIO = 0.5
PAGES = {
    "grid_list": ("grid1", "/api/v1/cases/"),
    "grid_filtered": ("grid1", "/api/v1/cases/?status=submitted"),
    "county_list": ("county", "/api/v1/cases/"),
    "whoami": ("grid1", "/api/v1/whoami/"),
    "healthz": ("grid1", "/healthz"),
}


def database_for(cases: int, seed: int = SEED) -> Any:
    return bench_dir() / f"cases-{cases}-seed{seed}.sqlite3"


def run(scale: str, out: TextIO) -> dict[str, Any]:
    small, big = SIZES[scale]
    results: dict[str, Any] = {}
    for size in (small, big):
        db = database_for(size)
        out.write(f"  {size:,} cases ({'reuse' if db.exists() else 'build'} {db.name}) …\n")
        results[str(size)] = run_child(
            "bench.case_api:measure", {"cases": size, "seed": SEED, "repeat": REPEAT[scale]}, database=db, out=out
        )
    checks = []
    figures: dict[str, Any] = {}
    for size in (small, big):
        r = results[str(size)]
        ratio = r["whoami"]["ms"] / r["grid_list"]["ms"]  # throughput ratio = inverse time ratio
        checks.append(
            check(
                f"grid case list / whoami throughput ({size:,} cases)", ratio, f"≥ {GOAL_RATIO:g}", ratio >= GOAL_RATIO
            )
        )
        checks.append(
            check(
                f"county case list / whoami throughput ({size:,} cases)",
                r["whoami"]["ms"] / r["county_list"]["ms"],
                "floor ratio",
                None,
            )
        )
        checks.append(
            check(
                f"grid case list / healthz throughput ({size:,} cases)",
                r["healthz"]["ms"] / r["grid_list"]["ms"],
                "floor ratio",
                None,
            )
        )
        checks.append(
            check(
                f"county case list / healthz throughput ({size:,} cases)",
                r["healthz"]["ms"] / r["county_list"]["ms"],
                "floor ratio",
                None,
            )
        )
        for page in PAGES:
            figures[f"{page} req/s ({size:,} cases)"] = round(1000 / r[page]["ms"], 1)
        figures[f"queries grid / county list ({size:,} cases)"] = (
            f"{r['grid_list']['queries']} / {r['county_list']['queries']}"
        )
        if r.get("build"):
            figures[f"build ({size:,} cases)"] = f"{r['build']['seconds']:.0f} s"
    growth = results[str(big)]["grid_list"]["ms"] / results[str(small)]["grid_list"]["ms"]
    checks.append(check(f"grid case list time, {big:,} / {small:,} cases", growth, "floor ratio", None))
    return {"checks": checks, "figures": figures, "details": results}


def _build(cases: int, seed: int) -> dict[str, Any]:
    import datetime as dt
    import random
    import time

    from django.utils import timezone

    from hemei.cases.models import Case, CaseCounter, Category
    from hemei.regions.demo import demo_build
    from hemei.regions.models import Level, Region

    started = time.perf_counter()
    demo_build(households=HOUSEHOLDS, seed=seed, stdout=_Stdout(), activity=False)
    rng = random.Random(seed)
    county = Region.objects.get(level=Level.COUNTY)
    grids = list(Region.objects.filter(level=Level.GRID, path__startswith=county.path).order_by("path"))
    categories = list(Category.objects.filter(county__isnull=True))
    statuses = [Case.Status.SUBMITTED, Case.Status.ACCEPTED, Case.Status.IN_PROGRESS, Case.Status.CLOSED]
    now = timezone.now()
    year = timezone.localtime(now).year
    batch: list[Case] = []
    for n in range(1, cases + 1):
        created = now - dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        batch.append(
            Case(
                number=f"{county.code}-{year}-{n:07d}",
                county=county,
                region=grids[n % len(grids)],
                category=categories[n % len(categories)],
                title=f"问题 {n}",
                description="路灯坏了，晚上看不见路。",
                source=Case.Source.VILLAGER,
                status=statuses[n % len(statuses)],
                reporter_name="王建国",
                accept_by=created + dt.timedelta(hours=8),
                resolve_by=created + dt.timedelta(days=14),
                created_at=created,
                updated_at=created,
            )
        )
        if len(batch) == 5_000:
            Case.objects.bulk_create(batch)
            batch = []
            if n % 100_000 == 0:
                print(f"    {n:,} cases", flush=True)
    Case.objects.bulk_create(batch)
    CaseCounter.objects.update_or_create(county=county, year=year, defaults={"last": cases})
    return {"seconds": round(time.perf_counter() - started, 1)}


def measure(*, cases: int, seed: int, repeat: int) -> dict[str, Any]:
    """In the child process (DATABASE_URL = this size's file): build if needed, then time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from hemei.accounts.models import User
    from hemei.accounts.services import token_issue
    from hemei.cases.models import Case
    from hemei.core.scope import system

    setup_test_environment()
    build = _build(cases, seed) if not Case.objects.exists() else None
    result: dict[str, Any] = {"cases": cases, "build": build}
    clients: dict[str, Client] = {}
    for page, (username, url) in PAGES.items():
        client = clients.get(username)
        if client is None:
            token = token_issue(user=User.objects.get(username=username), actor=system("bench"))
            client = clients[username] = Client(HTTP_AUTHORIZATION=f"Token {token}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        query_count = len(queries)
        if response.status_code != 200:
            raise RuntimeError(f"{username} GET {url}: HTTP {response.status_code}")
        seconds = median_seconds(lambda c=client, u=url: c.get(u), repeat=repeat)
        result[page] = {"ms": round(seconds * 1000, 2), "queries": query_count, "bytes": len(response.content)}
    return result


class _Stdout:
    def write(self, text: str) -> None:
        print(text, end="", flush=True)

    def flush(self) -> None:
        pass

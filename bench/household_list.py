"""household-list: a grid worker's household list must not slow down as the county grows.

Two demo counties (full: 100k and 1M households; small: 10k and 100k) are built with
`demo_build(households=N)` into SQLite files under var/bench/ (kept and reused: keyed by
size and seed, since a million households take minutes). In a child process per county,
the grid worker `grid1` (90 households in 西邵村 第一网格) requests

- the workbench list `/w/households/` (URL name `household-list`), with `?region=<grid>&sub=1`
  and with a search `?q=王`, and the API `/api/v1/households/`;
- the floor: `/healthz`, a trivial view through the same middleware and session.

Each page is timed as the median of repeated Django test-client requests, and its queries
are counted with CaptureQueriesContext. Goals: the same number of queries per page on both
counties, and the big county's list time ≤ 1.5× the small one's. The county administrator's
list (which pages through every household) is recorded for comparison, without a goal.
"""

from __future__ import annotations

from typing import Any, TextIO

from bench import bench_dir, check, median_seconds, run_child

SIZES = {"tiny": (600, 2_000), "small": (10_000, 100_000), "full": (100_000, 1_000_000)}
REPEAT = {"tiny": 3, "small": 15, "full": 25}
SEED = 2026
GOAL_GROWTH = 1.5
GRID1 = "140110101201001"
PAGES = {
    "list": "/w/households/",
    "list_grid": f"/w/households/?region={GRID1}&sub=1",
    "search": "/w/households/?q=%E7%8E%8B",  # 王
    "api": "/api/v1/households/",
    "healthz": "/healthz",
}


def database_for(households: int, seed: int = SEED) -> Any:
    return bench_dir() / f"households-{households}-seed{seed}.sqlite3"


def run(scale: str, out: TextIO) -> dict[str, Any]:
    small, big = SIZES[scale]
    results: dict[str, Any] = {}
    for size in (small, big):
        db = database_for(size)
        out.write(f"  county of {size:,} households ({'reuse' if db.exists() else 'build'} {db.name}) …\n")
        results[str(size)] = run_child(
            "bench.household_list:measure",
            {"households": size, "seed": SEED, "repeat": REPEAT[scale]},
            database=db,
            out=out,
        )
    s, b = results[str(small)]["grid_worker"], results[str(big)]["grid_worker"]
    checks = []
    for page in ("list", "list_grid", "search", "api"):
        diff = b[page]["queries"] - s[page]["queries"]
        checks.append(
            check(
                f"queries {PAGES[page]}: {b[page]['queries']} vs {s[page]['queries']}",
                diff,
                "= 0 (same on both)",
                diff == 0,
            )
        )
    for page in ("list", "list_grid", "search", "api"):
        growth = b[page]["ms"] / s[page]["ms"]
        checks.append(
            check(
                f"time {PAGES[page]}, {big:,} / {small:,}",
                growth,
                f"≤ {GOAL_GROWTH:g}",
                growth <= GOAL_GROWTH,
            )
        )
    for size, label in ((small, "small"), (big, "big")):
        g = results[str(size)]["grid_worker"]
        checks.append(
            check(
                f"list / healthz ({label}, {size:,})",
                g["list"]["ms"] / g["healthz"]["ms"],
                "floor ratio",
                None,
            )
        )
    figures: dict[str, Any] = {}
    for size in (small, big):
        r = results[str(size)]
        g, c = r["grid_worker"], r["county_admin"]
        figures[f"grid list ms ({size:,})"] = g["list"]["ms"]
        figures[f"grid api ms ({size:,})"] = g["api"]["ms"]
        figures[f"healthz ms ({size:,})"] = g["healthz"]["ms"]
        figures[f"county list ms / queries ({size:,})"] = f"{c['list']['ms']} / {c['list']['queries']}"
        if r.get("build"):
            figures[f"demo build ({size:,})"] = (
                f"{r['build']['seconds']:.0f} s, {r['build']['households_per_s']:,.0f} households/s"
            )
    return {"checks": checks, "figures": figures, "details": results}


def measure(*, households: int, seed: int, repeat: int) -> dict[str, Any]:
    """In the child process (DATABASE_URL = the county's file): build if needed, then time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from hemei.accounts.models import User
    from hemei.regions.demo import demo_build, demo_exists

    setup_test_environment()  # the test client's host name and response instrumentation
    build = None
    if not demo_exists():
        summary = demo_build(households=households, seed=seed, stdout=_Stdout(), activity=False)
        build = {
            "seconds": round(summary.seconds, 1),
            "households_per_s": round(summary.households_per_second),
            "residents": summary.counts.residents,
        }
    result: dict[str, Any] = {"households": households, "build": build}
    for persona, username, pages in (
        ("grid_worker", "grid1", PAGES),
        ("county_admin", "county", {"list": PAGES["list"], "api": PAGES["api"]}),
    ):
        client = Client()
        client.force_login(User.objects.get(username=username))
        measured: dict[str, Any] = {}
        for page, url in pages.items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            # Count now: the context reads the connection's query log lazily, and the
            # timed requests below reset that log.
            query_count = len(queries)
            if response.status_code != 200:
                raise RuntimeError(f"{username} GET {url}: HTTP {response.status_code}")
            seconds = median_seconds(lambda c=client, u=url: c.get(u), repeat=repeat)
            measured[page] = {
                "ms": round(seconds * 1000, 2),
                "queries": query_count,
                "bytes": len(response.content),
            }
        result[persona] = measured
    return result


class _Stdout:
    """demo_build's progress lines, straight to the parent's console."""

    def write(self, text: str) -> None:
        print(text, end="", flush=True)

    def flush(self) -> None:
        pass

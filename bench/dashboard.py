"""dashboard: the county dashboard and its API must not slow down as the county grows.

Two demo counties (full: 100k and 1M households; small: 10k and 100k; tiny: 600 and 2,000)
are built with `demo_build(households=N, activity=False)` into SQLite files under var/bench/
(kept and reused), given map places and one month of 千万工程 reports for every village
(`hemei.indicators.demo.plan`), and rolled up (`rollup.rebuild`, a window of three months).
In a child process per county, the county administrator requests

- `/w/dashboard/` (URL name `dashboards:home`) and `/api/v1/dashboard/`;
- the floor: a single indexed-lookup page, the household page `/w/households/<pk>/` of one
  household (a primary-key lookup and its residents), through the same middleware.

Goals: the same number of queries on both counties, the big county's dashboard and API
time ≤ 1.2× the small one's, and dashboard throughput ≥ 0.5× the household page's in the
same run. The map's JSON (every village of the county, so it grows with the county on
purpose) and the rebuild's time are figures.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from bench import bench_dir, check, median_seconds, run_child

SIZES = {"tiny": (600, 2_000), "small": (10_000, 100_000), "full": (100_000, 1_000_000)}
REPEAT = {"tiny": 3, "small": 15, "full": 25}
SEED = 2026
GOAL_GROWTH = 1.2
GOAL_FLOOR = 0.5
PAGES = {"dashboard": "/w/dashboard/", "api": "/api/v1/dashboard/", "map": "/w/dashboard/map.json"}


def database_for(households: int, seed: int = SEED) -> Any:
    return bench_dir() / f"dashboard-{households}-seed{seed}.sqlite3"


def run(scale: str, out: TextIO) -> dict[str, Any]:
    small, big = SIZES[scale]
    results: dict[str, Any] = {}
    for size in (small, big):
        db = database_for(size)
        out.write(f"  county of {size:,} households ({'reuse' if db.exists() else 'build'} {db.name}) …\n")
        results[str(size)] = run_child("bench.dashboard:measure", {"households": size, "seed": SEED,
                                                                   "repeat": REPEAT[scale]}, database=db, out=out)
    s, b = results[str(small)], results[str(big)]
    checks = []
    for page in ("dashboard", "api"):
        diff = b[page]["queries"] - s[page]["queries"]
        checks.append(check(f"queries {PAGES[page]}: {b[page]['queries']} vs {s[page]['queries']}", diff,
                            "= 0 (same on both)", diff == 0))
    for page in ("dashboard", "api"):
        growth = b[page]["ms"] / s[page]["ms"]
        checks.append(check(f"time {PAGES[page]}, {big:,} / {small:,}", growth, f"≤ {GOAL_GROWTH:g}",
                            growth <= GOAL_GROWTH))
    for size in (small, big):
        r = results[str(size)]
        for page in ("dashboard", "api"):
            ratio = r["household"]["ms"] / r[page]["ms"]  # throughput ratio = inverse time ratio
            checks.append(check(f"{PAGES[page]} / household page throughput ({size:,})", ratio,
                                f"≥ {GOAL_FLOOR:g}", ratio >= GOAL_FLOOR))
    figures: dict[str, Any] = {}
    for size in (small, big):
        r = results[str(size)]
        for page in ("dashboard", "api", "map", "household"):
            figures[f"{page} ms / queries ({size:,})"] = f"{r[page]['ms']} / {r[page]['queries']}"
        figures[f"villages / summary rows ({size:,})"] = f"{r['villages']:,} / {r['summaries']:,}"
        if r.get("rebuild_s") is not None:
            figures[f"rollup rebuild ({size:,})"] = f"{r['rebuild_s']:.1f} s"
        if r.get("build"):
            figures[f"demo build ({size:,})"] = f"{r['build']['seconds']:.0f} s"
    return {"checks": checks, "figures": figures, "details": results}


def _prepare(seed: int) -> float | None:
    """Places, one month of reports, the rollup (once per database file)."""
    import random

    from django.conf import settings
    from django.utils import timezone

    from hemei.indicators import rollup
    from hemei.indicators.demo import plan
    from hemei.indicators.models import Report, ReportValue, RollupState
    from hemei.indicators.periods import month_of
    from hemei.indicators.places import place_villages
    from hemei.regions.models import Household, Level, Region

    settings.HEMEI_ROLLUP_FROM = month_of(timezone.localdate()).previous().previous().code
    if RollupState.objects.filter(rebuilt_at__isnull=False).exists():
        return None
    county = Region.objects.get(code="140110")
    place_villages(county)
    villages = list(Region.objects.filter(level=Level.VILLAGE, path__startswith=county.path).order_by("code"))
    counts: dict[int, int] = {}
    for village_id in Household.objects.values_list("village_id", flat=True).iterator():
        counts[village_id] = counts.get(village_id, 0) + 1
    final = plan(villages, counts, random.Random(seed))
    month = month_of(timezone.localdate()).previous().code
    reports = Report.objects.bulk_create([Report(county=county, village=v, period=month,
                                                 status=Report.Status.APPROVED) for v in villages], batch_size=1000)
    ReportValue.objects.bulk_create([ReportValue(report=r, element=k, value=x) for r in reports
                                     for k, x in final[r.village_id].items() if x], batch_size=5000)
    started = time.perf_counter()
    rollup.rebuild()
    return time.perf_counter() - started


def measure(*, households: int, seed: int, repeat: int) -> dict[str, Any]:
    """In the child process (DATABASE_URL = the county's file): build if needed, then time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from hemei.accounts.models import User
    from hemei.indicators.models import Summary
    from hemei.regions.demo import demo_build, demo_exists
    from hemei.regions.models import Household, Level, Region

    setup_test_environment()
    build = None
    if not demo_exists():
        summary = demo_build(households=households, seed=seed, stdout=_Stdout(), activity=False)
        build = {"seconds": round(summary.seconds, 1)}
    rebuild_s = _prepare(seed)
    household = Household.objects.filter(village__code="140110101201").order_by("pk").first()
    assert household is not None
    pages = {**PAGES, "household": f"/w/households/{household.pk}/"}
    client = Client()
    client.force_login(User.objects.get(username="county"))
    result: dict[str, Any] = {"households": households, "build": build, "rebuild_s": rebuild_s,
                              "villages": Region.objects.filter(level=Level.VILLAGE).count(),
                              "summaries": Summary.objects.count()}
    for page, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        query_count = len(queries)
        if response.status_code != 200:
            raise RuntimeError(f"county GET {url}: HTTP {response.status_code}")
        seconds = median_seconds(lambda u=url: client.get(u), repeat=repeat)
        result[page] = {"ms": round(seconds * 1000, 2), "queries": query_count, "bytes": len(response.content)}
    return result


class _Stdout:
    def write(self, text: str) -> None:
        print(text, end="", flush=True)

    def flush(self) -> None:
        pass

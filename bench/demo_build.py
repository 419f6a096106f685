"""demo-build: households per second of `demo_build`, and what the database adds.

For each size (full: 20k and 200k households; small: 2k and 20k) a child process with a
fresh SQLite file first runs the floor, generating the same rows in memory without writing
them (`generate_batches` over the same plan and seed), then the real `demo_build`. Reports
households/s, the ratio build / generate (what inserting and indexing cost on top of making
the data) and how time per household grows from the small to the big county (goal ≤ 1.5:
linear). A million households: see docs/benchmarks.md (`hemei demo --households 1000000`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from bench import check, run_child

SIZES = {"tiny": (500, 1_500), "small": (2_000, 20_000), "full": (20_000, 200_000)}
GOAL_GROWTH = 1.5


def run(scale: str, out: TextIO) -> dict[str, Any]:
    small, big = SIZES[scale]
    details: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hemei-bench-demo-") as tmp:
        for size in (small, big):
            out.write(f"  demo county of {size:,} households …\n")
            details[str(size)] = run_child(
                "bench.demo_build:measure",
                {"households": size},
                database=Path(tmp) / f"demo-{size}.sqlite3",
                out=out,
            )
    s, b = details[str(small)], details[str(big)]
    growth = (b["build_s"] / big) / (s["build_s"] / small)
    return {
        "checks": [
            check(
                f"build / generate only, {big:,}",
                b["build_s"] / b["generate_s"],
                "floor ratio",
                None,
            ),
            check(
                f"time per household, {big:,} / {small:,}",
                growth,
                f"≤ {GOAL_GROWTH:g}",
                growth <= GOAL_GROWTH,
            ),
        ],
        "figures": {
            f"households/s ({big:,})": round(big / b["build_s"]),
            f"residents/s ({big:,})": round(b["residents"] / b["build_s"]),
            f"households/s ({small:,})": round(small / s["build_s"]),
            f"generate only, households/s ({big:,})": round(big / b["generate_s"]),
        },
        "details": details,
    }


def measure(*, households: int, seed: int = 2026) -> dict[str, Any]:
    """In the child process: the in-memory floor, then the real build."""
    import random
    from collections import defaultdict
    from itertools import count

    from hemei.regions.demo import demo_build
    from hemei.regions.demo.people import PeopleFactory
    from hemei.regions.demo.plan import plan_county
    from hemei.regions.demo.rows import RowGenerator, generate_batches
    from hemei.regions.models import Tag

    started = time.perf_counter()
    rng = random.Random(seed)
    plan = plan_county(rng, households)
    ids = count(1)
    fake_ids: defaultdict[str, int] = defaultdict(lambda: next(ids))
    generator = RowGenerator(
        rng=rng,
        people=PeopleFactory(rng),
        county_id=1,
        region_ids=fake_ids,
        tag_ids=dict(Tag.objects.values_list("name", "id")),
        household_base=0,
        resident_base=0,
    )
    for _batch in generate_batches(plan, generator):
        pass
    generate_s = time.perf_counter() - started
    summary = demo_build(households=households, seed=seed, activity=False)
    return {
        "households": summary.counts.households,
        "residents": summary.counts.residents,
        "generate_s": round(generate_s, 3),
        "build_s": round(summary.seconds, 3),
    }

"""The benchmark machinery, at a tiny scale: discovery, child processes, results on disk.

No timing is asserted (machines differ); only that every benchmark runs, reports its
checks and figures with positive ratios, and writes its JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def test_it_lists_the_benchmarks() -> None:
    from hemei.core.management.commands.bench import discover

    names = {"roster-import", "household-list", "demo-build", "sweep", "case-api", "points", "dashboard", "mqtt"}
    assert names <= set(discover())


@pytest.mark.parametrize(
    "name", ["roster-import", "household-list", "demo-build", "sweep", "case-api", "points", "dashboard", "mqtt"]
)
def test_each_benchmark_runs_at_a_tiny_scale(name: str, tmp_path: Path) -> None:
    # A separate process, as an operator runs it: `hemei bench` migrates its own database,
    # and the benchmark's children get their own SQLite files under --out.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'main.sqlite3'}"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hemei.cli",
            "bench",
            name,
            "--scale",
            "tiny",
            "--out",
            str(tmp_path),
        ],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
    assert record["name"] == name
    assert record["scale"] == "tiny"
    assert record["machine"]["cpus"] >= 1
    assert record["checks"]
    for check in record["checks"]:
        assert {"what", "value", "goal", "ok"} <= set(check)
    # Ratios are the checks with a "≤" goal or reported against the floor (not the query
    # count differences, which are 0 when all is well).
    ratios = [c["value"] for c in record["checks"] if c["goal"][0] == "≤" or c["ok"] is None]
    assert ratios
    assert all(value > 0 for value in ratios)
    assert record["figures"]
    if name == "household-list":
        # The query counts come from real requests (zero would mean nothing was captured),
        # and the county databases are kept for reuse, keyed by size and seed.
        for size, result in record["details"].items():
            assert all(page["queries"] > 0 for page in result["grid_worker"].values()), size
        assert (tmp_path / "households-600-seed2026.sqlite3").exists()

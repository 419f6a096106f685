"""roster-import: how much a full roster import costs over just reading the xlsx.

For each size (full: 10k and 100k residents; small: 1k and 10k) a child process gets a
fresh SQLite database with a throwaway county (晋源区 › one township › villages of about 400
households in 3 grids), writes a roster xlsx of synthetic residents with openpyxl
write_only, then times

(a) the floor: a bare openpyxl read_only pass touching every value of every row, and
(b) `hemei.regions.roster.roster_import(source=path, region=county, actor=system("bench"))`, which
    reads, checks every row, resolves against the database and writes in one transaction.

Goals: import ≤ 3× the bare parse on the big file; time per row on the big file ≤ 1.5× the
small file's (cost grows linearly with rows).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from bench import check, run_child

SIZES = {"tiny": (100, 500), "small": (1_000, 10_000), "full": (10_000, 100_000)}
GOAL_RATIO = 3.0
GOAL_GROWTH = 1.5
HOUSEHOLDS_PER_VILLAGE = 400
GRIDS_PER_VILLAGE = 3

HEADERS = [
    "户号",
    "姓名",
    "与户主关系",
    "公民身份号码",
    "联系电话",
    "网格编码",
    "户类型",
    "是否党员",
]
RELATION_WORDS = {
    "head": ("户主", "户主"),
    "spouse": ("配偶", "配偶"),
    "child": ("子", "女"),
    "parent": ("父亲", "母亲"),
    "grandchild": ("孙子", "孙女"),
    "child_in_law": ("女婿", "儿媳"),
}
TAGS = ("脱贫户", "低保户", "监测户")


def run(scale: str, out: TextIO) -> dict[str, Any]:
    small, big = SIZES[scale]
    details: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hemei-bench-roster-") as tmp:
        for rows in (small, big):
            out.write(f"  roster of {rows:,} residents …\n")
            details[str(rows)] = run_child(
                "bench.roster_import:measure",
                {"rows": rows, "path": str(Path(tmp) / f"roster-{rows}.xlsx")},
                database=Path(tmp) / f"roster-{rows}.sqlite3",
                out=out,
            )
    s, b = details[str(small)], details[str(big)]
    ratio = b["import_s"] / b["bare_s"]
    growth = (b["import_s"] / big) / (s["import_s"] / small)
    return {
        "checks": [
            check(
                f"import / bare parse, {big:,} rows",
                ratio,
                f"≤ {GOAL_RATIO:g}",
                ratio <= GOAL_RATIO,
            ),
            check(
                f"time per row, {big:,} / {small:,} rows",
                growth,
                f"≤ {GOAL_GROWTH:g}",
                growth <= GOAL_GROWTH,
            ),
        ],
        "figures": {
            f"import rows/s ({big:,})": round(big / b["import_s"]),
            f"bare parse rows/s ({big:,})": round(big / b["bare_s"]),
            f"import rows/s ({small:,})": round(small / s["import_s"]),
            f"import / bare parse ({small:,})": round(s["import_s"] / s["bare_s"], 2),
            f"xlsx size ({big:,})": f"{b['bytes'] / 1048576:.1f} MB",
        },
        "details": details,
    }


def measure(*, rows: int, path: str, seed: int = 2026) -> dict[str, Any]:
    """In the child process: set up the region, write the file, time both passes."""
    from openpyxl import load_workbook

    from hemei.core.scope import system
    from hemei.regions.roster import roster_import

    county, grids = _regions(rows)
    started = time.perf_counter()
    written = _write_roster(Path(path), rows, grids, random.Random(seed))
    write_s = time.perf_counter() - started
    Path(path).read_bytes()  # warm the page cache so neither pass pays for the disk

    def bare() -> int:
        workbook = load_workbook(path, read_only=True)
        cells = 0
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            for value in row:
                if value is not None:
                    cells += 1
        workbook.close()
        return cells

    bare_times = []
    for _ in range(2):
        started = time.perf_counter()
        cells = bare()
        bare_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    report = roster_import(source=path, region=county, actor=system("bench"))
    import_s = time.perf_counter() - started
    if not report.ok or report.created_residents != written:
        raise RuntimeError(f"import failed: {report.error_count} errors, first: {report.errors[:3]}")
    return {
        "rows": written,
        "cells": cells,
        "bytes": Path(path).stat().st_size,
        "write_s": round(write_s, 3),
        "bare_s": round(min(bare_times), 3),
        "import_s": round(import_s, 3),
        "created_households": report.created_households,
        "created_residents": report.created_residents,
        "warnings": len(report.warnings),
    }


def _regions(rows: int) -> tuple[Any, list[str]]:
    """晋源区 › 姚村镇 › enough villages (3 grids each) for `rows` residents."""
    from hemei.core.scope import system
    from hemei.regions import services
    from hemei.regions.models import Region

    bench = system("bench")
    county = services.region_create(name="晋源区", level="county", code="140110", actor=bench)
    township = services.region_create(name="姚村镇", level="township", code="140110101", parent=county, actor=bench)
    villages = max(1, -(-rows // (HOUSEHOLDS_PER_VILLAGE * 3)))
    grids: list[str] = []
    for v in range(villages):
        parent = Region.objects.get(pk=township.pk)
        village = services.region_create(
            name=f"第{v + 1}村",
            level="village",
            code=f"140110101{201 + v:03d}",
            parent=parent,
            actor=system("bench"),
        )
        for g in range(1, GRIDS_PER_VILLAGE + 1):
            village = Region.objects.get(pk=village.pk)
            grid = services.region_create(
                name=f"第{g}网格",
                level="grid",
                code=f"{village.code}{g:03d}",
                parent=village,
                actor=system("bench"),
            )
            grids.append(grid.code)
    return Region.objects.get(pk=county.pk), grids


def _write_roster(path: Path, rows: int, grids: list[str], rng: random.Random) -> int:
    """A roster sheet of `rows` residents in whole households (2–5 people), written with
    openpyxl write_only (constant memory)."""
    from openpyxl import Workbook

    from hemei.regions.demo.people import PeopleFactory

    people = PeopleFactory(rng)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名册")
    sheet.append(HEADERS)
    written = 0
    household = 0
    while written < rows:
        household += 1
        village, within = divmod(household - 1, HOUSEHOLDS_PER_VILLAGE)
        grid = grids[village * GRIDS_PER_VILLAGE + within % GRIDS_PER_VILLAGE]
        members, _alone = people.household()
        tag = rng.choice(TAGS) if rng.random() < 0.08 else ""
        for m in members[: rows - written]:
            number, birth = people.id_number(people.birth_date(m.age), m.sex)
            name = m.surname + people.given(m.sex, birth.year)
            phone = people.phone() if people.wants_phone(m.age) else ""
            word = RELATION_WORDS[m.relation][0 if m.sex == "M" else 1]
            party = "是" if m.age >= 18 and rng.random() < 0.05 else "否"
            # The household type is repeated on every member's row, as exports write it.
            sheet.append([f"{within + 1:03d}", name, word, number, phone, grid, tag, party])
            written += 1
    workbook.save(path)
    return written

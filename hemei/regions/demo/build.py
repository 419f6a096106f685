"""`demo_build`: the whole demo county in one transaction."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from hemei.cases.demo import demo_cases
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.disclosure.demo import demo_disclosure
from hemei.meetings.demo import demo_meetings
from hemei.points.demo import demo_points
from hemei.regions import services
from hemei.regions.demo.data import (
    AREA_CODE,
    CITY,
    COUNTY,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DEMO_ACTOR,
    PROVINCE,
)
from hemei.regions.demo.people import PeopleFactory
from hemei.regions.demo.personas import DemoLogin, create_personas
from hemei.regions.demo.plan import TownshipPlan, plan_county
from hemei.regions.demo.rows import BatchWriter, Counts, RowGenerator, generate_batches
from hemei.regions.models import Household, Level, Region, Resident, Tag
from hemei.visits.demo import demo_visits


class Output(Protocol):
    """Where progress lines go: a text stream or a management command's stdout."""

    def write(self, text: str, /) -> object: ...


@dataclass
class DemoSummary:
    created: bool
    seed: int
    password: str
    counts: Counts = field(default_factory=Counts)
    seconds: float = 0.0
    logins: list[DemoLogin] = field(default_factory=list)

    @property
    def households_per_second(self) -> float:
        return self.counts.households / self.seconds if self.seconds else 0.0


def extra_demos() -> list[Callable[..., object]]:
    """Demos of apps that build on points and disclosure, in order: stars, courtyard
    reviews, collective assets, contracts, care, devices (after care: a call box's press is
    then an elder's work order, hemei.care.handlers); then the work that falls due on the day of the
    build (cases for grid1, the visits and monthly scoring of the months since the simulated year,
    points to review, the villager's reservation at the counter: issue 15);
    last, indicators (千万工程 and the rollup). Imported here so each app owns its demo module."""
    from hemei.assets.demo import demo_assets
    from hemei.care.demo import demo_care
    from hemei.cases.demo import demo_today_cases
    from hemei.contracts.demo import demo_contracts
    from hemei.courtyard.demo import demo_courtyard
    from hemei.devices.demo import demo_devices
    from hemei.indicators.demo import demo_indicators
    from hemei.party.demo import demo_party
    from hemei.points.demo import demo_recent_points, demo_today_points
    from hemei.policies.demo import demo_policies
    from hemei.services.demo import demo_services
    from hemei.stars.demo import demo_stars
    from hemei.visits.demo import demo_recent_visits

    # Indicators last: their rollup rebuild reads what every other demo made.
    return [demo_stars, demo_courtyard, demo_assets, demo_contracts, demo_care, demo_devices, demo_today_cases,
            demo_recent_visits, demo_recent_points, demo_today_points, demo_party, demo_services, demo_policies,
            demo_indicators]


def demo_exists() -> bool:
    return Region.objects.filter(code=COUNTY[0]).exists()


def demo_build(
    *,
    seed: int = DEFAULT_SEED,
    households: int | None = None,
    password: str = DEFAULT_PASSWORD,
    stdout: Output | None = None,
    activity: bool = True,
) -> DemoSummary:
    """Build the demo county, or report that it exists. `activity=False` builds the people
    only (benchmarks that measure the register and bring their own cases).

    1. If region 140110 exists, change nothing and return `created=False`.
    2. Plan townships, villages and grids from `random.Random(seed)` (`plan_county`).
    3. In one transaction (a failed build leaves nothing behind, so "140110 exists" means
       "complete"): create 山西省 › 太原市 › 晋源区 through the region service, reusing a
       province or city another county made; bulk-create the tree below the county with
       precomputed materialized paths; stream households, residents, tags and party links
       in batches of whole villages.
    4. Create the persona accounts and posts (post service, audited) and the 两委 members'
       household links in 西邵村.
    5. Unless the county is benchmark-sized (over 100,000 households), add a year of cases
       (`hemei.cases.demo.demo_cases`, prints "cases: N").
    6. Write one "import" audit row describing the build.
    """
    started = time.perf_counter()
    summary = DemoSummary(created=False, seed=seed, password=password)
    if demo_exists():
        return summary
    rng = random.Random(seed)
    plan = plan_county(rng, households)
    total = sum(v.households for t in plan for v in t.villages)
    _say(stdout, f"Building 晋源区 (seed {seed}): {len(plan)} townships, {total:,} households …")
    with transaction.atomic(), _sqlite_build_pragmas():
        county = _ensure_county()
        region_ids = _bulk_regions(county, plan)
        existing_ids = set(Resident.objects.filter(id_number__startswith=AREA_CODE).values_list("id_number", flat=True))
        generator = RowGenerator(
            rng=rng,
            people=PeopleFactory(rng, existing_ids),
            county_id=county.pk,
            region_ids=region_ids,
            tag_ids=dict(Tag.objects.values_list("name", "id")),
            household_base=Household.objects.aggregate(m=Max("id"))["m"] or 0,
            resident_base=Resident.objects.aggregate(m=Max("id"))["m"] or 0,
        )
        writer = BatchWriter()
        links = 0
        next_report = 100_000
        for batch in generate_batches(plan, generator):
            writer.write(batch)
            links += len(batch.links)
            done = generator.counts.households
            if done >= next_report:
                rate = done / (time.perf_counter() - started)
                _say(
                    stdout,
                    f"  {done:,}/{total:,} households, {generator.counts.residents:,} "
                    f"residents ({rate:,.0f} households/s)",
                )
                next_report = (done // 100_000 + 1) * 100_000
        _reset_sequences()
        counts = generator.counts
        counts.townships = len(plan)
        summary.logins, cadre_links = create_personas(
            county=county, plan=plan, xishao=generator.xishao, password=password, rng=rng
        )
        counts.links = links + cadre_links
        summary.counts = counts
        # A year of cases in every state (issue 3); benchmark-sized builds stay as they were.
        with_activity = activity and (households is None or households <= 100_000)
        cases = demo_cases(seed=seed, stdout=stdout) if with_activity else 0
        if cases:  # a year of visits, patrols and households under monitoring beside them
            demo_visits(seed=seed, stdout=stdout)
        meetings = demo_meetings(stdout=stdout) if cases else 0  # 民主议事 on some of those cases
        if cases:  # 三务公开 and finances of 西邵村, one schedule overdue (issue 5)
            demo_disclosure(stdout=stdout)
        if cases:  # 积分制 of 西邵村: adopted and amended rules, monthly scoring, objections, the shop (issue 4)
            demo_points(stdout=stdout)
        if cases:  # the rest of issues 4 and 5; each app's demo adds to what the ones before made
            for demo in extra_demos():
                demo(stdout=stdout)
        audit_record(
            actor=DEMO_ACTOR,
            action=AuditEntry.Action.IMPORT,
            obj=county,
            changes={
                "seed": seed,
                "townships": counts.townships,
                "villages": counts.villages,
                "grids": counts.grids,
                "households": counts.households,
                "residents": counts.residents,
                "party_members": counts.party_members,
                "links": counts.links,
                "cases": cases,
                "meetings": meetings,
            },
            note="demo county built by `hemei demo`",
        )
    _analyze()
    summary.created = True
    summary.seconds = time.perf_counter() - started
    return summary


def _say(stdout: Output | None, line: str) -> None:
    if stdout is not None:
        stdout.write(line + "\n")
        flush = getattr(stdout, "flush", None)
        if flush is not None:
            flush()


@contextmanager
def _sqlite_build_pragmas() -> Iterator[None]:
    """A large page cache while the build runs: index inserts into millions of rows stay in
    memory instead of re-reading pages. Restored afterwards (the setting is per connection)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -524288")  # KiB when negative: 512 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous:d}")


def _analyze() -> None:
    """Planner statistics after a bulk load. SQLite has none until ANALYZE runs, and without
    them it may pick a poor index on million-row tables; a sampled ANALYZE (analysis_limit)
    takes seconds. PostgreSQL's autovacuum analyzes on its own."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")


def _ensure_county() -> Region:
    """山西省 › 太原市 › 晋源区, reusing the province and city if another county made them."""
    parent: Region | None = None
    for (code, name), level in (
        (PROVINCE, Level.PROVINCE),
        (CITY, Level.CITY),
        (COUNTY, Level.COUNTY),
    ):
        region = Region.objects.filter(code=code).first()
        if region is None:
            region = services.region_create(name=name, level=level, code=code, parent=parent, actor=DEMO_ACTOR)
        # Re-read: treebeard's add_child leaves a stale numchild on the in-memory parent.
        parent = Region.objects.get(pk=region.pk)
    assert parent is not None
    return parent


def _bulk_regions(county: Region, plan: list[TownshipPlan]) -> dict[str, int]:
    """Create townships, villages and grids below the new, childless county in one pass.

    Paths are computed exactly as treebeard would (children ordered by code, the model's
    `node_order_by`), so later add_child, move and find_problems work on this tree. A few
    thousand add_child calls would cost three queries each.
    """
    rows: list[Region] = []

    def node(parent_path: str, step: int, *, name: str, level: str, code: str, children: int) -> str:
        depth = len(parent_path) // Region.steplen + 1
        path = Region._get_path(parent_path, depth, step)
        rows.append(Region(path=path, depth=depth, numchild=children, name=name, level=level, code=code))
        return path

    for t_step, township in enumerate(sorted(plan, key=lambda t: t.code), start=1):
        t_path = node(
            county.path,
            t_step,
            name=township.name,
            level=Level.TOWNSHIP,
            code=township.code,
            children=len(township.villages),
        )
        for v_step, village in enumerate(sorted(township.villages, key=lambda v: v.code), 1):
            v_path = node(
                t_path,
                v_step,
                name=village.name,
                level=Level.VILLAGE,
                code=village.code,
                children=len(village.grids),
            )
            for g_step, grid in enumerate(village.grids, start=1):
                node(v_path, g_step, name=grid.name, level=Level.GRID, code=grid.code, children=0)
    Region.objects.bulk_create(rows, batch_size=2000)
    Region.objects.filter(pk=county.pk).update(numchild=len(plan))
    return dict(Region.objects.filter(path__startswith=county.path).values_list("code", "id"))


def _reset_sequences() -> None:
    """Explicit primary keys bypass PostgreSQL sequences; move them past the new rows."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Household, Resident]):
            cursor.execute(sql)


def resident_digest(county_code: str = COUNTY[0]) -> str:
    """sha256 over (name, ID number) of a county's residents in id order: equal digests
    mean two builds produced the same people."""
    digest = hashlib.sha256()
    rows = Resident.objects.filter(county__code=county_code).order_by("id").values_list("name", "id_number")
    for name, number in rows.iterator(chunk_size=10_000):
        digest.update(f"{name}\t{number}\n".encode())
    return digest.hexdigest()

"""A year of visits, patrols and monitoring for `hemei demo` (issue 3, "Demo").

`demo_visits(seed=…)` runs after the cases demo and writes, for the grids of 西邵村, relative to
the fixed reference time `DEMO_NOW` (never the wall clock):
- one visit per household per quarter for the four quarters before the current one (a few
  missed), and about 70 % of households in the current quarter (the rest are the coverage
  page's missing list); a few absent households were phoned;
- demo cases with source "visit" in 西邵村 get the visit that found them (linked), cases with
  source "patrol" the patrol that found them;
- two patrols a week per grid;
- 10 households under monitoring in every step, one overdue and escalated to the township.
Everything is drawn from `random.Random(seed)` in a fixed order and bulk-inserted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal
from typing import Any

from hemei.cases.demo import DEMO_NOW, XISHAO_CODE, Output
from hemei.cases.models import Case
from hemei.core.calendar import add_working_days
from hemei.regions.models import Household, Level, Post, Region, Role
from hemei.visits.models import (
    AssistanceMeasure,
    IncomeCheck,
    Monitoring,
    MonitoringEvent,
    Patrol,
    PatrolFinding,
    Visit,
    VisitProblem,
)
from hemei.visits.monitoring import DEFAULT_STEP_DAYS

St = Monitoring.Step
ROUTES = ["村委会—东街—村口", "西街—小学—卫生室", "河堤—农田—养殖区", "南巷—北巷—广场", "村道全线"]
FINDINGS = ["垃圾堆放", "路灯不亮", "河堤护栏松动", "占道堆放柴草", "电线私拉乱接", "一切正常"]
NEEDS = ["", "", "", "希望硬化门前小路", "想了解小额信贷政策", "老人需要定期体检", "希望村里安排公益岗位"]
# (step, days before DEMO_NOW it entered, kind, risks, has_labour)
MONITORING_PLAN: list[tuple[str, int, str, list[str], bool]] = [
    (St.VERIFY, 1, "sudden", ["accident"], True),
    (St.VERIFY, 12, "edge", ["illness"], True),  # overdue: escalated to the township
    (St.REVIEW, 4, "unstable", ["employment"], True),
    (St.NOTICE, 6, "edge", ["schooling"], True),
    (St.TOWNSHIP, 12, "sudden", ["disaster"], True),
    (St.COUNTY, 14, "edge", ["business"], True),
    (St.MONITORED, 120, "unstable", ["illness", "labour"], False),
    (St.MONITORED, 260, "edge", ["schooling"], True),
    (St.REMOVED, 330, "sudden", ["disaster"], True),
    (St.NOT_INCLUDED, 40, "edge", ["other"], True),
]


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), tzinfo=DEMO_NOW.tzinfo)


def demo_visits(*, seed: int, stdout: Output | None = None) -> int:
    """Create the demo visits, patrols and monitoring records; returns the number of visits."""
    rng = random.Random(seed * 104729 + 11)
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None:
        return 0
    grids = list(Region.objects.filter(path__startswith=village.path, level=Level.GRID).order_by("code"))
    county = village.county_ancestor()
    if county is None or not grids:
        return 0
    workers: dict[int, Any] = {}
    for post in (
        Post.objects.current()
        .filter(region__in=grids, role__in=[Role.GRID_WORKER, Role.GRID_LEADER])
        .select_related("user")
        .order_by("role", "pk")
    ):
        workers.setdefault(post.region_id, post.user)
    households = list(Household.objects.filter(village=village).select_related("head").order_by("region_id", "number"))
    today = DEMO_NOW.date()
    current = _quarter_start(today)
    quarters: list[dt.date] = []
    start = current
    for _ in range(4):
        start = _quarter_start(start - dt.timedelta(days=1))
        quarters.append(start)
    visits: list[Visit] = []
    for household in households:
        for q in (*reversed(quarters), current):
            last = (min(today, _quarter_end(q)) - q).days
            if (q == current and rng.random() > 0.7) or rng.random() < 0.04:
                continue
            when = _at(q + dt.timedelta(days=rng.randint(0, max(last - 1, 0))), rng)
            present = rng.random() > 0.08
            income = Decimal(rng.randint(9000, 30000))
            visits.append(
                Visit(
                    household=household,
                    county=county,
                    region_id=household.region_id,
                    visitor=workers.get(household.region_id),
                    visited_at=when,
                    created_at=when,
                    present=present,
                    phone_contact="" if present else (household.head.name if household.head else "户主"),
                    phone_outcome="" if present else "在外务工，电话回访，家中情况正常",
                    income_per_capita=income if present else None,
                    needs=rng.choice(NEEDS),
                    jobs_note=rng.choice(["", "外出务工", "在本村合作社务工", "务农"]),
                )
            )
    Visit.objects.bulk_create(visits, batch_size=1000)
    # Demo cases found on visits and patrols get the visit or patrol that found them.
    problems: list[VisitProblem] = []
    patrols: list[Patrol] = []
    patrol_cases: list[Case] = []
    grid_ids = {g.pk for g in grids}
    found = Case.objects.filter(
        region__path__startswith=village.path, source__in=[Case.Source.VISIT, Case.Source.PATROL]
    ).order_by("created_at", "pk")
    linked_visits: list[tuple[Visit, Case]] = []
    for case in found:
        grid_id = (
            case.region_id
            if case.region_id in grid_ids
            else (case.household.region_id if case.household_id and case.household else grids[0].pk)
        )
        when = case.created_at - dt.timedelta(minutes=rng.randint(5, 60))
        if case.source == Case.Source.VISIT and case.household_id:
            linked_visits.append(
                (
                    Visit(
                        household_id=case.household_id,
                        county=county,
                        region_id=grid_id,
                        visitor=case.created_by or workers.get(grid_id),
                        visited_at=when,
                        created_at=case.created_at,
                        present=True,
                        needs=case.title,
                        income_per_capita=Decimal(rng.randint(9000, 30000)),
                    ),
                    case,
                )
            )
        else:
            patrols.append(
                Patrol(
                    county=county,
                    region_id=grid_id,
                    patroller=case.created_by or workers.get(grid_id),
                    route=rng.choice(ROUTES),
                    started_at=when,
                    ended_at=when + dt.timedelta(minutes=50),
                    created_at=case.created_at,
                )
            )
            patrol_cases.append(case)
    Visit.objects.bulk_create([v for v, _ in linked_visits])
    problems = [VisitProblem(visit=v, case=c) for v, c in linked_visits]
    VisitProblem.objects.bulk_create(problems)
    # Two patrols a week per grid over the year.
    day = today - dt.timedelta(days=364)
    routine: list[Patrol] = []
    while day < today:
        for grid in grids:
            if rng.random() < 2 / 7:
                begin = _at(day, rng)
                routine.append(
                    Patrol(
                        county=county,
                        region=grid,
                        patroller=workers.get(grid.pk),
                        route=rng.choice(ROUTES),
                        started_at=begin,
                        ended_at=begin + dt.timedelta(minutes=rng.randint(30, 90)),
                        created_at=begin,
                        summary="例行巡查",
                    )
                )
        day += dt.timedelta(days=1)
    Patrol.objects.bulk_create(patrols + routine, batch_size=1000)
    findings = [PatrolFinding(patrol=p, text=c.title, case=c) for p, c in zip(patrols, patrol_cases, strict=True)]
    findings += [PatrolFinding(patrol=p, text=rng.choice(FINDINGS)) for p in routine if rng.random() < 0.3]
    PatrolFinding.objects.bulk_create(findings, batch_size=1000)
    monitored = _demo_monitoring(rng, households, county)
    if stdout is not None:
        stdout.write(
            f"visits: {len(visits) + len(linked_visits)}, patrols: {len(patrols) + len(routine)}, "
            f"monitoring: {monitored}\n"
        )
    return len(visits) + len(linked_visits)


def _quarter_end(q: dt.date) -> dt.date:
    month = q.month + 3
    return dt.date(q.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _demo_monitoring(rng: random.Random, households: list[Household], county: Region) -> int:
    """Ten records, each walked through its steps at demo times, with the events they would have."""
    if len(households) < len(MONITORING_PLAN):
        return 0
    chosen = rng.sample(households, len(MONITORING_PLAN))
    order: list[str] = [St.VERIFY, St.REVIEW, St.NOTICE, St.TOWNSHIP, St.COUNTY, St.MONITORED]
    for household, (step, days_ago, kind, risks, labour) in zip(chosen, MONITORING_PLAN, strict=True):
        entered = DEMO_NOW - dt.timedelta(days=days_ago)
        m = Monitoring.objects.create(
            household=household,
            county=county,
            region_id=household.region_id,
            kind=kind,
            risks=risks,
            source=rng.choice([Monitoring.Source.VISIT, Monitoring.Source.SELF, Monitoring.Source.DEPARTMENT]),
            has_labour=labour,
            detail="入户核实家庭收支情况",
            created_at=entered,
            updated_at=entered,
            step_started_at=entered,
        )
        events = [MonitoringEvent(monitoring=m, at=entered, kind="entered", to_state=St.VERIFY)]
        moment = entered
        final = St.MONITORED if step == St.REMOVED else step
        path = order[: order.index(final) + 1] if final in order else [St.VERIFY, St.NOT_INCLUDED]
        for prev, nxt in itertools.pairwise(path):
            moment = moment + dt.timedelta(days=2 if nxt != St.TOWNSHIP else 6)
            if nxt == St.NOTICE:
                m.notice_from = moment.date()
                m.notice_until = moment.date() + dt.timedelta(days=4)
            events.append(MonitoringEvent(monitoring=m, at=moment, kind="moved", from_state=prev, to_state=nxt))
        m.step = step
        m.step_started_at = moment
        m.step_due = (
            add_working_days(moment, DEFAULT_STEP_DAYS[step], county_code=county.code)
            if step in DEFAULT_STEP_DAYS
            else None
        )
        if step == St.NOTICE and m.notice_until is not None:
            m.step_due = add_working_days(
                dt.datetime.combine(m.notice_until, dt.time(23, 59), tzinfo=DEMO_NOW.tzinfo), 1, county_code=county.code
            )
        if step == St.VERIFY and days_ago > 5 and m.step_due is not None:
            # Missed: the sweep moved it to the township with a fresh deadline.
            missed = m.step_due
            m.tier, m.was_overdue, m.escalated_at = Monitoring.Tier.TOWNSHIP, True, missed
            m.step_due = add_working_days(missed, DEFAULT_STEP_DAYS[step], county_code=county.code)
            events.append(
                MonitoringEvent(
                    monitoring=m,
                    at=missed,
                    kind="escalated",
                    from_state=step,
                    to_state=step,
                    data={"from_tier": "village", "to_tier": "township"},
                )
            )
        if step in (St.MONITORED, St.REMOVED, St.NOT_INCLUDED):
            m.decided_at = moment
        if step in (St.MONITORED, St.REMOVED):
            AssistanceMeasure.objects.create(
                monitoring=m, measure="申请临时救助", department="民政局", date=(moment + dt.timedelta(days=3)).date()
            )
            AssistanceMeasure.objects.create(
                monitoring=m,
                measure="安排公益性岗位",
                department="人社局",
                date=(moment + dt.timedelta(days=20)).date(),
            )
            check = moment.date() + dt.timedelta(days=30)
            while check < DEMO_NOW.date():
                IncomeCheck.objects.create(
                    monitoring=m, checked_on=check, stable=True, income_per_capita=Decimal(rng.randint(9000, 14000))
                )
                check += dt.timedelta(days=60)
        if step == St.REMOVED:
            m.removed_at = DEMO_NOW - dt.timedelta(days=3)
            events.append(
                MonitoringEvent(
                    monitoring=m, at=m.removed_at, kind="removed", from_state=St.MONITORED, to_state=St.REMOVED
                )
            )
        m.save()
        MonitoringEvent.objects.bulk_create(events)
    return len(MONITORING_PLAN)


def demo_recent_visits(*, stdout: Output | None = None, now: dt.datetime | None = None, seed: int = 7) -> int:
    """Visits from the reference time up to the day of the build (issue 15): the simulated year
    ends on `DEMO_NOW`, and a demo built weeks later would show an empty last month on the
    dashboards (走访覆盖率 0 %). Each household keeps its rhythm of one visit a quarter: a visit
    in a month with probability 1/3, scaled by the part of the month already past; none after
    `now`. Returns the number of visits written."""
    from django.utils import timezone

    now = now or timezone.now()
    village = Region.objects.filter(code=XISHAO_CODE).first()
    county = village.county_ancestor() if village is not None else None
    if village is None or county is None or now <= DEMO_NOW:
        return 0
    rng = random.Random(seed)
    workers: dict[int, Any] = {}
    for post in (Post.objects.current().filter(region__path__startswith=village.path,
                                               role__in=[Role.GRID_WORKER, Role.GRID_LEADER])
                 .select_related("user").order_by("role", "pk")):
        workers.setdefault(post.region_id, post.user)
    households = list(Household.objects.filter(village=village).order_by("region_id", "number"))
    today = timezone.localtime(now, DEMO_NOW.tzinfo).date()
    month = DEMO_NOW.date().replace(day=1)
    visits: list[Visit] = []
    while month <= today:
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        first = max(month, DEMO_NOW.date() + dt.timedelta(days=1))
        last = min(following - dt.timedelta(days=1), today - dt.timedelta(days=1))
        if last >= first:
            share = ((last - first).days + 1) / (following - month).days
            for household in households:
                if rng.random() < share / 3:
                    when = _at(first + dt.timedelta(days=rng.randint(0, (last - first).days)), rng)
                    visits.append(Visit(household=household, county=county, region_id=household.region_id,
                                        visitor=workers.get(household.region_id), visited_at=when,
                                        created_at=when, present=True,
                                        income_per_capita=Decimal(rng.randint(9000, 30000)),
                                        needs=rng.choice(NEEDS)))
        month = following
    Visit.objects.bulk_create(visits, batch_size=1000)
    if stdout is not None:
        stdout.write(f"visits since the demo year: {len(visits)}\n")
    return len(visits)

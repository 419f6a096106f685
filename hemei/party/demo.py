"""Party building for `hemei demo` (deterministic; the year ends at the cases' `DEMO_NOW`).

1. 西邵村党支部 at the village with one 党小组 per grid; every living resident of 西邵村 marked
   a party member in the roster (the seeds' 63) is entered in the register (a few 预备党员,
   a few transferred in), in their grid's 党小组. Their 联户 links are the roster's own.
2. October 2025 up to DEMO_NOW (or today, when later): 支委会 and 主题党日 monthly, 党员大会
   and 党课 quarterly, each group's 党小组会 monthly (the last group skipped October 2026),
   微党课 weekly and the 学习会 twice a week (seed 002/003: "members study together twice a
   week"). Sessions go through the services;
   attendance rows are bulk-inserted as sign-ins and roll calls would have written them
   (about nine in ten present, leave with reasons, a few absent), some absences made up.
3. A 党小组会 of the first group planned for two days after that, and a `member` login (a
   party member of grid 1, same password as the other personas) to sign in on the phone.
4. The schedule sweep as of then: the skipped October group meeting is escalated.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from hemei.accounts.models import User
from hemei.cases.demo import DEMO_NOW
from hemei.core.scope import system
from hemei.party import services
from hemei.party.models import Attendance, Branch, Member, Session, Standing
from hemei.party.sweep import sweep_schedule
from hemei.regions.models import Level, Post, Region, Resident, Role

DEMO = system("demo")
SEED = 17
REASONS = ("外出务工", "生病住院", "照顾老人", "农忙", "外出就医", "参加培训")
TOPICS = {
    "committee": "研究本月党建和村务工作",
    "theme_day": "主题党日：志愿服务与人居环境整治",
    "assembly": "支部党员大会：通报工作、民主评议",
    "lecture": "书记讲党课：学习党的二十届四中全会精神",
    "group": "党小组会：学习交流、联户情况汇报",
    "micro": "微党课：党员身边的榜样",
    "study": "集中学习（一学一议）",
}


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=DEMO_NOW.tzinfo)


def _now() -> dt.datetime:
    """The demo's party "now": the cases' DEMO_NOW, or today when the demo is built later, so
    the months between are held too and the first real sweep of `hemei serve` does not find
    them all missed."""
    return max(DEMO_NOW, timezone.now())


def _calendar(groups: list[Branch], branch: Branch, now: dt.datetime) -> list[tuple[Branch, str, dt.datetime]]:
    """October 2025 to the last whole month before `now`: the sweep looks back a year."""
    start, end = dt.date(2025, 10, 1), timezone.localtime(now, DEMO_NOW.tzinfo).date()
    plan: list[tuple[Branch, str, dt.datetime]] = []
    first = start
    while first < end.replace(day=1):
        month = first.month
        plan.append((branch, "committee", _at(first + dt.timedelta(days=2), 9)))
        plan.append((branch, "theme_day", _at(first + dt.timedelta(days=14), 9)))
        if month % 3 == 2:
            plan.append((branch, "assembly", _at(first + dt.timedelta(days=9), 14)))
            plan.append((branch, "lecture", _at(first + dt.timedelta(days=9), 16)))
        for i, group in enumerate(groups):
            if not (first == dt.date(2026, 10, 1) and i == len(groups) - 1):  # the last group missed October
                plan.append((group, "group", _at(first + dt.timedelta(days=19 + i % 5), 19)))
        first = (first + dt.timedelta(days=32)).replace(day=1)
    # The weekly micro-class and the twice-weekly study (seed 002) for the last eight weeks
    # only: a year of them would be ~170 more sessions and a quarter of the demo's build time.
    day = end - dt.timedelta(weeks=8)
    while day < end:
        if day.weekday() == 2:
            plan.append((branch, "micro", _at(day, 19)))
        if day.weekday() in (1, 4):
            plan.append((branch, "study", _at(day, 20)))
        day += dt.timedelta(days=1)
    return sorted(plan, key=lambda row: row[2])


def _name(user: User) -> str:
    return str(user)  # the display name the menus show (刘涛), else the login


def _members(branch: Branch, groups: dict[int, Branch], village: Region, rng: random.Random) -> list[Member]:
    residents = list(Resident.objects.filter(region__path__startswith=village.path, is_party_member=True,
                                             status=Resident.Status.LIVING).select_related("region")
                     .order_by("region__path", "pk"))
    members = []
    for i, r in enumerate(residents):
        probationary = i % 21 == 7
        joined = (dt.date(2025, 3, 1) + dt.timedelta(days=rng.randint(0, 200)) if probationary
                  else dt.date(rng.randint(1972, 2023), rng.choice((1, 7, 10)), 1))
        members.append(services.member_add(
            actor=DEMO, branch=branch, resident=r, joined_party_on=joined, group=groups.get(r.region_id),
            standing=Standing.PROBATIONARY if probationary else Standing.FULL, on=dt.date(2025, 9, 15),
            transferred_from="晋源区某街道党工委" if i % 17 == 3 else ""))
    return members


def _attendance(session: Session, expected: list[Member], rng: random.Random) -> list[Attendance]:
    rows = []
    at = session.held_at or session.planned_at
    for m in expected:
        roll = rng.random()
        status, reason = ((Attendance.Status.PRESENT, "") if roll < 0.88 else
                          (Attendance.Status.EXCUSED, rng.choice(REASONS)) if roll < 0.97 else
                          (Attendance.Status.ABSENT, ""))
        how = Attendance.How.CODE if status == Attendance.Status.PRESENT and rng.random() < 0.8 else \
            Attendance.How.ROLL_CALL
        rows.append(Attendance(county=session.county, region=m.region, session=session, member=m, status=status,
                               how=how, reason=reason, at=at))
    return rows


def _member_login(members: list[Member], grid1: Region | None) -> User | None:
    """A villager login for one party member of grid 1, with the personas' password."""
    villager = User.objects.filter(username="villager").first()
    if villager is None or grid1 is None or User.objects.filter(username="member").exists():
        return None
    member = next((m for m in members if m.region_id == grid1.pk), None)
    if member is None:
        return None
    from hemei.accounts.services import user_create
    from hemei.regions.services import post_assign

    user = user_create(actor=DEMO, username="member", password=secrets.token_urlsafe(16), validate=False)
    User.objects.filter(pk=user.pk).update(password=villager.password)  # the personas' one shared hash
    post_assign(actor=DEMO, user=user, region=member.resident.household.village, role=Role.VILLAGER,
                resident=member.resident)
    return user


@transaction.atomic
def demo_party(*, stdout: Any = None) -> int:
    """Returns the number of sessions written (0 when 西邵村 is missing or done already)."""
    from hemei.regions.demo import XISHAO_CODE

    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or Branch.objects.filter(region=village).exists():
        return 0
    rng = random.Random(SEED)
    secretary = Post.objects.current().filter(region=village, role=Role.SECRETARY).select_related("user").first()
    branch = services.branch_create(actor=DEMO, region=village, kind="branch", name="中共西邵村支部委员会",
                                    secretary_name=_name(secretary.user) if secretary else "",
                                    founded_on=dt.date(1956, 7, 1))
    grids = list(Region.objects.get_children(village).filter(level=Level.GRID).order_by("path"))
    numerals = "一二三四五六七八九十"
    by_grid = {g.pk: services.branch_create(actor=DEMO, region=g, kind="group", parent=branch,
                                            name=f"第{numerals[i] if i < 10 else i + 1}党小组",
                                            founded_on=dt.date(2018, 3, 1))
               for i, g in enumerate(grids)}
    members = _members(branch, by_grid, village, rng)
    rows: list[Attendance] = []
    sessions = 0
    now = _now()
    for owner, kind, when in _calendar(list(by_grid.values()), branch, now):
        hours = "1.0" if kind in ("micro", "study") else "2.0"
        session = services.session_plan(actor=DEMO, branch=owner, kind=kind, title=TOPICS[kind], planned_at=when,
                                        place="西邵村党群服务中心", hours=hours)
        session = services.session_open(actor=DEMO, session=session, at=when)
        expected = list(services.expected_members(session).select_related("region"))
        batch = _attendance(session, expected, rng)
        Attendance.objects.bulk_create(batch)
        rows.extend(b for b in batch if b.status != Attendance.Status.PRESENT)
        services.session_record(actor=DEMO, session=session, minutes=f"{TOPICS[kind]}。应到{len(expected)}人。")
        sessions += 1
    # Some absences made up (补学) within a fortnight.
    for row in rows[::3]:
        studied = min(row.at.date() + dt.timedelta(days=rng.randint(2, 14)), now.date())
        services.study_record(actor=DEMO, member=row.member, hours=Decimal("1.0"), content="观看会议录像并交心得",
                              studied_on=studied, absence=row)
    if by_grid:
        first = next(iter(by_grid.values()))
        evening = _at(timezone.localtime(now, DEMO_NOW.tzinfo).date() + dt.timedelta(days=2), 19)
        services.session_plan(actor=DEMO, branch=first, kind="group", title="党小组会：学习交流、联户情况汇报",
                              planned_at=evening, place="第一网格活动室")  # two days on, when members are home
    _member_login(members, grids[0] if grids else None)
    missed = sweep_schedule(now)
    if stdout is not None:
        stdout.write(f"party: {len(members)} members, {sessions} sessions, {len(missed)} missed periods\n")
    return sessions

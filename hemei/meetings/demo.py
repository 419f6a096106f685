"""A year of village meetings in 西邵村 for `hemei demo` (网格听事—民主议事—群众评事).

`demo_meetings()` records, through the services and with explicit timestamps (never the wall
clock; the reference time is the cases demo's `DEMO_NOW`, 2026-11-01 09:00):

1. five meetings over the year (村民代表会议, a 村民会议 with the quorum counted from the
   roster, 民主议事会), each with items decided by vote, one of them failed;
2. a 民主议事会 on 2026-10-31 to which 3–5 open cases of 西邵村 (from `demo_cases`) are put:
   all but the last pass and resolve their case, which then waits for the reporter's rating;
   the last fails, so its case stays open with the outcome on its timeline.

Deterministic: the same database state gives the same meetings, items and cases.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Protocol

from hemei.cases.deliberation import TABLEABLE, case_table
from hemei.cases.demo import DEMO_NOW, SH, XISHAO_CODE
from hemei.cases.models import Case
from hemei.core.scope import system
from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.services import agenda_item_add, agenda_item_decide, meeting_attendance, meeting_record
from hemei.regions.models import Household, Post, Region, Resident, Role

DEMO_ACTOR = system("demo")
K = Meeting.Kind


class Output(Protocol):
    def write(self, text: str, /) -> object: ...


def _t(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH)


# (held at, kind, members or None for the 村民会议, place, items: (title, description, share for, decision))
PLAN: list[tuple[dt.datetime, str, int | None, str, list[tuple[str, str, float, str]]]] = [
    (
        _t(1, 16, 9, 30),
        K.REPRESENTATIVES,
        45,
        "村委会二楼会议室",
        [
            (
                "2026年村级重点工作计划",
                "村两委提出的全年工作计划（人居环境、道路、集体经济）。",
                0.93,
                "通过2026年村级重点工作计划，按季度向村民公开进展。",
            ),
            (
                "修订村规民约（移风易俗条款）",
                "红白事简办、禁止高价彩礼，列入村规民约。",
                0.88,
                "通过修订后的村规民约，张贴公示并入户宣传。",
            ),
        ],
    ),
    (
        _t(3, 20, 9, 0),
        K.VILLAGERS,
        None,
        "村文化广场",
        [
            ("美丽庭院评比办法", "每季度评比一次，结果计入积分。", 0.86, "通过美丽庭院评比办法，自二季度起实施。"),
            (
                "积分制管理办法（试行）",
                "基础积分、贡献积分、扣分项目及积分超市兑换规则。",
                0.81,
                "通过积分制管理办法（试行），试行一年后评估修订。",
            ),
        ],
    ),
    (
        _t(5, 22, 15, 0),
        K.DELIBERATION,
        15,
        "党群服务中心",
        [
            ("村东广场停车管理", "广场夜间停车占用健身场地。", 0.8, "划定停车区，晚七点后广场中央禁止停车。"),
            ("红白理事会服务收费", "提议理事会服务按桌收费。", 0.33, "未获通过，继续免费服务，由理事会另提方案。"),
        ],
    ),
    (
        _t(7, 17, 9, 30),
        K.REPRESENTATIVES,
        45,
        "村委会二楼会议室",
        [
            (
                "村东路硬化工程",
                "硬化村东路1.2公里，申请上级补助，村集体配套。",
                0.9,
                "同意实施村东路硬化工程，工程招标结果和资金使用按月公开。",
            ),
            (
                "集体机动地对外发包",
                "集体机动地58亩公开发包，期限五年。",
                0.85,
                "同意公开发包，发包方案报镇农经站审核后实施。",
            ),
        ],
    ),
    (
        _t(9, 18, 15, 0),
        K.DELIBERATION,
        15,
        "党群服务中心",
        [
            ("秋收晾晒占道问题", "秋收期间玉米晾晒占用主路。", 0.87, "统一安排村北空地晾晒，主路禁止晾晒。"),
        ],
    ),
]
CASE_MEETING_AT = _t(10, 31, 9, 30)
CASE_TABLED_AT = _t(10, 30, 16, 0)
CASE_DECIDED_AT = _t(10, 31, 11, 0)
CASES_MAX = 5
CASE_DECISIONS: dict[str, str] = {
    "环境卫生": "议定由保洁员每日清运，网格员每周巡查一次，费用由村集体承担。",
    "道路交通": "议定由村集体出资修补，下周内完工，完工后网格员回访。",
    "供水供暖": "议定联系供水站和供热单位限期检修，村委会跟进落实。",
    "矛盾纠纷": "经议事会调解，双方同意按现场测量的边界各让半米，签订书面协议。",
    "养老服务": "议定纳入村老年食堂送餐和每周探访名单。",
}
DEFAULT_DECISION = "议定由村委会牵头在两周内落实，结果向反映人回复。"


def _votes(attendees: int, share: float) -> tuple[int, int, int]:
    votes_for = min(attendees, round(attendees * share))
    rest = attendees - votes_for
    against = math.ceil(rest * 0.6)
    return votes_for, against, max(0, rest - against - 1)  # one present without voting


def _secretary(village: Region) -> Any:
    post = (
        Post.objects.current(on=DEMO_NOW.date())
        .filter(region=village, role=Role.SECRETARY)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return post.user if post is not None else DEMO_ACTOR


def demo_meetings(*, stdout: Output | None = None) -> int:
    """Record the demo meetings; returns how many. Call once, after `demo_cases`."""
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None:
        return 0
    actor = _secretary(village)
    adult = DEMO_NOW.date().replace(year=DEMO_NOW.year - 18)
    adults = Resident.objects.filter(
        household__village=village, status=Resident.Status.LIVING, birth_date__lte=adult
    ).count()
    households = Household.objects.filter(village=village).count()
    count = 0
    for held_at, kind, members, place, items in PLAN:
        recorded = held_at + dt.timedelta(hours=3)
        if kind == K.VILLAGERS:
            if not households or not adults:
                continue
            present = math.ceil(households * 0.72)  # over two thirds of the households
            attendees = min(present, adults)
            meeting = meeting_record(
                actor=actor,
                region=village,
                kind=kind,
                held_at=held_at,
                place=place,
                convened_by="村民委员会",
                attendees=attendees,
                eligible=adults,
                households_total=households,
                households_present=present,
                at=recorded,
                minutes="到会户代表过三分之二，会议有效。逐项表决。",
            )
        else:
            assert members is not None
            attendees = members - 2 - count % 3
            meeting = meeting_record(
                actor=actor,
                region=village,
                kind=kind,
                held_at=held_at,
                place=place,
                convened_by="村党支部",
                attendees=attendees,
                eligible=members,
                at=recorded,
                minutes="会议由村党支部书记主持，逐项讨论后举手表决。",
            )
        for title, description, share, decision in items:
            item = agenda_item_add(actor=actor, meeting=meeting, title=title, description=description, at=recorded)
            votes = _votes(attendees, share)
            agenda_item_decide(
                actor=actor,
                item=item,
                votes_for=votes[0],
                votes_against=votes[1],
                votes_abstain=votes[2],
                decision=decision,
                at=recorded + dt.timedelta(minutes=5),
            )
        count += 1
    count += _case_meeting(village, actor)
    if stdout is not None:
        stdout.write(f"meetings: {count}\n")
    return count


def _case_meeting(village: Region, actor: Any) -> int:
    """The 民主议事会 that decides open cases: cases taken on before the agenda was set, whose
    timeline has nothing after it and whose deadline lies after the vote (so the sweep would
    not have escalated them in between)."""
    cases = list(
        Case.objects.filter(
            region__path__startswith=village.path,
            status__in=TABLEABLE,
            updated_at__lt=CASE_TABLED_AT,
            resolve_by__gt=CASE_DECIDED_AT,
        )
        .exclude(pk__in=AgendaItem.objects.filter(case__isnull=False).values("case_id"))
        .select_related("category", "region")
        .order_by("created_at", "number")[:CASES_MAX]
    )
    if not cases:
        return 0
    meeting = meeting_record(
        actor=actor,
        region=village,
        kind=K.DELIBERATION,
        held_at=CASE_MEETING_AT,
        place="党群服务中心",
        convened_by="村党支部",
        eligible=15,
        at=CASE_TABLED_AT,
        minutes="",
    )
    items = [
        case_table(actor=actor, case=c, meeting=meeting, at=CASE_TABLED_AT + dt.timedelta(minutes=i))
        for i, c in enumerate(cases)
    ]
    meeting_attendance(
        actor=actor,
        meeting=meeting,
        attendees=13,
        eligible=15,
        at=CASE_DECIDED_AT,
        minutes="网格员汇报群众反映的问题，议事会成员逐件讨论后举手表决，结果交反映人评价。",
    )
    for i, (item, case) in enumerate(zip(items, cases, strict=True)):
        last = i == len(items) - 1 and len(items) > 1
        decision = (
            "方案未获多数同意，由网格员再听取双方意见后重新提交。"
            if last
            else CASE_DECISIONS.get(case.category.name, DEFAULT_DECISION)
        )
        votes = (5, 6, 1) if last else (11, 1, 1)
        agenda_item_decide(
            actor=actor,
            item=item,
            votes_for=votes[0],
            votes_against=votes[1],
            votes_abstain=votes[2],
            decision=decision,
            at=CASE_DECIDED_AT + dt.timedelta(minutes=3 * i),
        )
    return 1

"""Builders shared by the points tests and the demo: a rule set adopted by a meeting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.services import agenda_item_add, agenda_item_decide, meeting_record
from hemei.points import rules
from hemei.points.models import RuleItem, RuleSet, RuleVersion
from hemei.regions.models import Region

DEFAULT_ITEMS: list[tuple[str, str, str, int, int | None, str]] = [
    # code, kind, description, points, cap per month, who may propose
    ("J1", "basic", "庭院整洁、门前三包", 5, 5, "grid"),
    ("J2", "basic", "按时缴纳医保、参加村民会议", 3, 6, "grid"),
    ("G1", "contribution", "志愿服务、义务劳动（每次）", 10, 30, "grid"),
    ("G2", "contribution", "见义勇为、好人好事", 20, None, "committee"),
    ("K1", "deduction", "乱堆乱放、垃圾不入桶", -5, 10, "grid"),
    ("K2", "deduction", "违反村规民约", -10, None, "committee"),
]


@dataclass
class Adopted:
    rule_set: RuleSet
    version: RuleVersion
    meeting: Meeting
    item: AgendaItem

    def rule(self, code: str) -> RuleItem:
        return self.version.items.get(code=code)


def adopt_version(
    *,
    actor: Any,
    version: RuleVersion,
    held_at: dt.datetime,
    attendees: int = 30,
    eligible: int = 40,
    votes_for: int = 24,
    votes_against: int = 3,
    votes_abstain: int = 3,
    kind: str = Meeting.Kind.REPRESENTATIVES,
) -> tuple[Meeting, AgendaItem]:
    village = version.rule_set.village
    meeting = meeting_record(
        actor=actor,
        region=village,
        kind=kind,
        held_at=held_at,
        attendees=attendees,
        eligible=eligible,
        at=held_at + dt.timedelta(hours=2),
        minutes="审议积分制管理办法",
    )
    item = agenda_item_add(
        actor=actor,
        meeting=meeting,
        title=f"积分制管理办法 第{version.number}版",
        subject_type=rules.SUBJECT_TYPE,
        subject_id=str(version.pk),
        at=held_at,
    )
    item = agenda_item_decide(
        actor=actor,
        item=item,
        votes_for=votes_for,
        votes_against=votes_against,
        votes_abstain=votes_abstain,
        decision="通过",
        at=held_at + dt.timedelta(hours=2),
    )
    return meeting, item


def adopted_rules(
    *,
    actor: Any,
    village: Region,
    held_at: dt.datetime,
    publicity_days: int = 7,
    items: list[tuple[str, str, str, int, int | None, str]] | None = None,
    **settings: Any,
) -> Adopted:
    rule_set = rules.rule_set_create(
        actor=actor,
        village=village,
        name=f"{village.name}积分制管理办法",
        publicity_days=publicity_days,
        at=held_at,
        **settings,
    )
    version = rules.rule_version_create(actor=actor, rule_set=rule_set, title="试行", at=held_at)
    for code, kind, description, points, cap, proposer in items or DEFAULT_ITEMS:
        rules.rule_item_add(
            actor=actor,
            version=version,
            code=code,
            kind=kind,
            description=description,
            points=points,
            cap_per_period=cap,
            proposer=proposer,
        )
    meeting, item = adopt_version(actor=actor, version=version, held_at=held_at)
    version.refresh_from_db()
    return Adopted(rule_set, version, meeting, item)

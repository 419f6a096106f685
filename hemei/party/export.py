"""The member register and the attendance ledger as xlsx (core.xlsx: text cells neutralised
against formula injection). Chinese headers whatever the page language; names of members in
the user's scope only; ID numbers and phones masked; each export leaves an audit row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import write_book
from hemei.party import selectors
from hemei.party.models import Attendance, Branch, MemberEvent

MEMBER_HEADERS = ("序号", "姓名", "身份证号", "电话", "网格", "户号", "党组织", "党小组", "党员类别", "入党日期",
                  "转入本支部日期", "转入自", "联系户数")
ATTENDANCE_HEADERS = ("序号", "日期", "类别", "主题", "党组织", "姓名", "网格", "出勤", "方式", "缺席原因", "补学日期",
                      "补学学时", "学时")
SUMMARY_HEADERS = ("姓名", "网格", "应到", "实到", "请假", "缺席", "已补学", "出勤率%", "含补学出勤率%", "学时")


def _audit(actor: Any, branch: Branch, what: str, count: int) -> None:
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=branch, changes={"what": what, "rows": count})


def members_export(*, actor: Any, branch: Branch) -> bytes:
    require_actor(actor)
    members = list(selectors.branch_members(actor, branch).filter(left_on__isnull=True)
                   .prefetch_related("events", "resident__linked_households")
                   .order_by("region__path", "resident__name_initials", "pk"))

    def rows() -> Iterable[list[Any]]:
        for i, m in enumerate(members, start=1):
            came = next((e.other for e in m.events.all() if e.kind == MemberEvent.Kind.TRANSFER_IN), "")
            yield [i, m.resident.name, m.resident.id_masked, m.resident.phone_masked, m.region.name,
                   m.resident.household.number, m.branch.name, m.group.name if m.group else "",
                   m.get_standing_display(), m.joined_party_on, m.joined_branch_on, came,
                   len(m.resident.linked_households.all())]

    data, count = write_book([("党员名册", MEMBER_HEADERS, rows())])
    _audit(actor, branch, "party member register", count)
    return data


def attendance_export(*, actor: Any, branch: Branch, year: int) -> bytes:
    require_actor(actor)
    members = selectors.branch_members(actor, branch)
    start, end = selectors.year_bounds(year)
    records = (selectors.access_attendance(actor)
               .filter(member__in=members, session__branch_id__in=selectors.branch_ids(branch),
                       session__held_at__gte=start, session__held_at__lt=end,
                       session__status__in=selectors.HELD)
               .select_related("session__branch", "member__resident", "region", "make_up")
               .order_by("session__held_at", "session_id", "member__resident__name_initials"))

    def detail() -> Iterable[list[Any]]:
        for i, a in enumerate(records, start=1):
            make_up = getattr(a, "make_up", None)
            s = a.session
            yield [i, timezone.localtime(s.held_at).strftime("%Y-%m-%d %H:%M") if s.held_at else "",
                   s.get_kind_display(), s.title, s.branch.name, a.member.resident.name, a.region.name,
                   a.get_status_display(), a.get_how_display() if a.how else "", a.reason,
                   make_up.studied_on if make_up else "", make_up.hours if make_up else "",
                   s.hours if a.status == Attendance.Status.PRESENT else 0]

    per_member, _total = selectors.branch_figures(actor, branch, year)
    people = {m.pk: m for m in members.select_related("resident", "region")}

    def summary() -> Iterable[list[Any]]:
        for pk, f in sorted(per_member.items(), key=lambda kv: people[kv[0]].resident.name_initials
                            if kv[0] in people else ""):
            m = people.get(pk)
            if m is None:
                continue
            yield [m.resident.name, m.region.name, f.expected, f.present, f.excused, f.absent, f.made_up,
                   f.rate if f.rate is not None else "", f.rate_with_make_up if f.rate_with_make_up is not None else "",
                   f.hours]

    data, count = write_book([(f"{year}年出勤明细", ATTENDANCE_HEADERS, detail()),
                         (f"{year}年出勤汇总", SUMMARY_HEADERS, summary())])
    _audit(actor, branch, f"party attendance {year}", count)
    return data

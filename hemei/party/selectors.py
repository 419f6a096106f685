"""Scoped reads of party data: attendance figures per member and per organisation per year.

The arithmetic (tested in tests/test_party_rates.py):
- expected (应到) = a member's attendance rows at sessions held in the year; every member
  expected at a recorded session has one (`session_record` adds the absent), and a member
  signed in at a session still being held has one;
- present (实到) = rows marked present; excused (请假) and absent both count as not present;
- rate = present / expected, and "with make-up" = (present + absences made up) / expected,
  each a percentage to one decimal, None when nothing was expected;
- hours = the hours of the sessions attended + every study record's hours in the year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from hemei.party.access import access_attendance, access_members, access_sessions
from hemei.party.models import Attendance, Branch, BranchKind, Member, Session, StudyRecord

HELD = (Session.Status.HELD, Session.Status.RECORDED)


def rate(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    expected: int = 0
    present: int = 0
    excused: int = 0
    absent: int = 0
    made_up: int = 0
    session_hours: Decimal = Decimal("0")
    study_hours: Decimal = Decimal("0")

    @property
    def rate(self) -> Decimal | None:
        return rate(self.present, self.expected)

    @property
    def rate_with_make_up(self) -> Decimal | None:
        return rate(self.present + self.made_up, self.expected)

    @property
    def hours(self) -> Decimal:
        return self.session_hours + self.study_hours


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def _in_year(year: int, prefix: str = "session__") -> Q:
    start, end = year_bounds(year)
    return Q(**{f"{prefix}held_at__gte": start, f"{prefix}held_at__lt": end, f"{prefix}status__in": HELD})


def figures_by_member(rows: QuerySet[Attendance], studies: QuerySet[StudyRecord], year: int) -> dict[int, Figures]:
    """member id → Figures, from the given (already scoped) rows."""
    out: dict[int, Figures] = {}
    counted = (rows.filter(_in_year(year)).values("member_id")
               .annotate(n=Count("pk"), present=Count("pk", filter=Q(status=Attendance.Status.PRESENT)),
                         excused=Count("pk", filter=Q(status=Attendance.Status.EXCUSED)),
                         absent=Count("pk", filter=Q(status=Attendance.Status.ABSENT)),
                         made_up=Count("make_up", filter=~Q(status=Attendance.Status.PRESENT)),
                         hours=Sum("session__hours", filter=Q(status=Attendance.Status.PRESENT))))
    for row in counted:
        out[row["member_id"]] = Figures(expected=row["n"], present=row["present"], excused=row["excused"],
                                        absent=row["absent"], made_up=row["made_up"],
                                        session_hours=row["hours"] or Decimal("0"))
    for member_id, hours in studies.filter(studied_on__year=year).values("member_id").annotate(
            h=Sum("hours")).values_list("member_id", "h"):
        out.setdefault(member_id, Figures()).study_hours = hours or Decimal("0")
    return out


def total(figures: dict[int, Figures]) -> Figures:
    result = Figures()
    for f in figures.values():
        result.expected += f.expected
        result.present += f.present
        result.excused += f.excused
        result.absent += f.absent
        result.made_up += f.made_up
        result.session_hours += f.session_hours
        result.study_hours += f.study_hours
    return result


def branch_ids(branch: Branch) -> list[int]:
    """The organisation and those under it (a 党支部's groups; a 党总支's branches and groups)."""
    ids = [branch.pk]
    children = list(Branch.objects.filter(parent=branch).values_list("pk", flat=True))
    ids += children
    if branch.kind == BranchKind.GENERAL:
        ids += list(Branch.objects.filter(parent_id__in=children).values_list("pk", flat=True))
    return ids


def branch_members(user: Any, branch: Branch) -> QuerySet[Member]:
    """The register of a 党支部 (or of the branches under a 党总支, or a group's members), as
    far as the user's scope reaches (a grid worker: their grid's members only)."""
    if branch.kind == BranchKind.GROUP:
        q = Q(group=branch)
    elif branch.kind == BranchKind.BRANCH:
        q = Q(branch=branch)
    else:
        q = Q(branch__parent=branch)
    return access_members(user).filter(q)


def branch_figures(user: Any, branch: Branch, year: int) -> tuple[dict[int, Figures], Figures]:
    """Per member and in total for `year`, over the sessions of the organisation and those
    under it, counting only the members the user may see."""
    ids = branch_ids(branch)
    members = branch_members(user, branch)
    rows = access_attendance(user).filter(session__branch_id__in=ids, member__in=members)
    studies = StudyRecord.objects.filter(member__in=members)
    per_member = figures_by_member(rows, studies, year)
    return per_member, total(per_member)


def member_figures(member: Member, year: int) -> Figures:
    """A member's own year (their phone page reads it for themselves, the staff in scope)."""
    rows = Attendance.objects.filter(member=member)
    studies = StudyRecord.objects.filter(member=member)
    return figures_by_member(rows, studies, year).get(member.pk, Figures())


def branch_sessions(user: Any, branch: Branch, year: int) -> QuerySet[Session]:
    start, end = year_bounds(year)
    return (access_sessions(user).filter(branch_id__in=branch_ids(branch), planned_at__gte=start, planned_at__lt=end)
            .annotate(n_present=Count("attendance", filter=Q(attendance__status=Attendance.Status.PRESENT)),
                      n_rows=Count("attendance"))
            .order_by("-planned_at", "-pk"))


def years_with_data(branch: Branch) -> list[int]:
    today = timezone.localdate()
    first = Session.objects.filter(branch_id__in=branch_ids(branch)).order_by("planned_at").first()
    start = timezone.localdate(first.planned_at).year if first else today.year
    return list(range(today.year, min(start, today.year) - 1, -1))

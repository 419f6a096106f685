"""Who reads and changes party data (declared once, read through `hemei.core.scope`).

- Organisations and sessions belong to the place they are attached to; like meetings they are
  the village's shared life, so the staff of its grids read them (`village_wide`).
- The member register, attendance and study records are personal data: they follow the
  member's grid. A grid worker reads their own grid's members only; the village secretary the
  village's; township staff the township's. Out of scope is 404.
- Changes (organisations, members, sessions, roll call) are the village party secretary's, and
  the township's and county's above them (`PARTY_MANAGE_ROLES`).
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import UPPER_LEVEL_ROLES, register_scoped
from hemei.party.models import Attendance, Branch, Member, PeriodCheck, Session, StudyRecord
from hemei.regions.models import Role

#: Who keeps the party register and runs sessions: the village party secretary (the branch
#: secretary in the village's 两委), and the township and county staff above.
PARTY_MANAGE_ROLES: Final = frozenset({Role.SECRETARY}) | UPPER_LEVEL_ROLES

BRANCHES = register_scoped(Branch, via="region__", village_wide=True, actions={"manage": PARTY_MANAGE_ROLES})
MEMBERS = register_scoped(Member, via="region__", actions={"manage": PARTY_MANAGE_ROLES})
SESSIONS = register_scoped(Session, via="branch__region__", village_wide=True,
                           actions={"manage": PARTY_MANAGE_ROLES})
ATTENDANCE = register_scoped(Attendance, via="region__")
STUDIES = register_scoped(StudyRecord, via="region__")
PERIODS = register_scoped(PeriodCheck, via="branch__region__", village_wide=True)


def _get[M: Any](queryset: QuerySet[M], pk: Any) -> M:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_branches(user: Any) -> QuerySet[Branch]:
    return BRANCHES.queryset(user).select_related("region", "parent")


def access_branch(user: Any, pk: Any) -> Branch:
    return _get(access_branches(user), pk)


def access_members(user: Any) -> QuerySet[Member]:
    return MEMBERS.queryset(user).select_related("resident__household", "branch", "group", "region")


def access_member(user: Any, pk: Any) -> Member:
    return _get(access_members(user), pk)


def access_sessions(user: Any) -> QuerySet[Session]:
    return SESSIONS.queryset(user).select_related("branch__region")


def access_session(user: Any, pk: Any) -> Session:
    return _get(access_sessions(user), pk)


def access_attendance(user: Any) -> QuerySet[Attendance]:
    return ATTENDANCE.queryset(user).select_related("session__branch", "member__resident")


def access_periods(user: Any) -> QuerySet[PeriodCheck]:
    return PERIODS.queryset(user).select_related("branch")

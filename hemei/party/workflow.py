"""The party's lifecycles as data (`hemei.core.workflow`).

A membership (`party.member`) is current until it is transferred out; while current, a
probationary member is confirmed (转正) and the member may change party group, each a move
that keeps the state and sets its field, so the conditional update refuses a move on a
membership another request has just closed.

An attendance (`party.attendance`) is one member's record at one session, created in its
first state (signed in, marked at the roll call, or recorded absent when the minutes are
written; creation is not a move). Signing in by code makes an absent or excused member
present; the roll call may set any of the three again (a re-mark with a new reason is a move
to the same state). A schedule check (`party.period`) is due until the sweep settles it: met by
a session held in the period, or missed and escalated to the township.

A session (`party.session`): planned → held (the sign-in code can be shown, the roll can be
called) → recorded (minutes and hours written, everyone expected and not present is recorded
absent); a planned session may be cancelled."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hemei.core.workflow import Move, Workflow, holds, register
from hemei.party.access import PARTY_MANAGE_ROLES
from hemei.party.models import (
    Attendance,
    AttendanceEvent,
    Member,
    MemberEvent,
    PeriodCheck,
    PeriodCheckEvent,
    Session,
    SessionEvent,
)

S = Session.Status
WHO = "the village party secretary, township staff or the county administrator over the branch"
_manage = holds(PARTY_MANAGE_ROLES, over="region")


def _guard(actor: object, obj: object) -> bool:
    return _manage(actor, obj.branch)  # type: ignore[attr-defined]


M = Member.Status

MEMBER = register(Workflow(
    name="party.member",
    model=Member,
    field="status",
    states=M,
    initial=M.CURRENT,
    event=MemberEvent,
    subject="member",
    conflict=_("This membership has ended or changed meanwhile; reload the page."),
    doc="A resident's membership of a 党支部: entered as joined or transferred in (an event, not a "
        "move); confirmed as a full member and moved between party groups while current; "
        "transferred out to another branch in the system (which opens a new membership there) "
        "or elsewhere.",
    moves=(
        Move("confirmed", (M.CURRENT,), M.CURRENT, WHO + " (预备党员转正)", guard=_guard, sets=("standing",)),
        Move("group", (M.CURRENT,), M.CURRENT, WHO, guard=_guard, sets=("group",)),
        Move("transfer_out", (M.CURRENT,), M.LEFT, WHO, guard=_guard, sets=("left_on",)),
    ),
))


SESSION = register(Workflow(
    name="party.session",
    model=Session,
    field="status",
    states=S,
    initial=S.PLANNED,
    event=SessionEvent,
    subject="session",
    touch=("updated_at",),
    doc="A 三会一课 session or study: opened when it begins (a short-lived sign-in code is shown "
        "as a QR code; the roll can be called), recorded with minutes and hours afterwards (the "
        "members expected and not present are recorded absent).",
    moves=(
        Move("opened", (S.PLANNED,), S.HELD, WHO, guard=_guard, sets=("held_at", "code", "code_expires_at")),
        Move("recorded", (S.HELD,), S.RECORDED, WHO, guard=_guard,
             sets=("minutes", "hours", "materials", "code", "code_expires_at")),
        Move("cancelled", (S.PLANNED,), S.CANCELLED, WHO, guard=_guard),
    ),
))


AT = Attendance.Status
MARK = ("how", "reason", "recorded_by")  # what each mark overwrites (and `at`, the moment)


def _roll_call(actor: object, obj: object) -> bool:
    return _manage(actor, obj.session.branch)  # type: ignore[attr-defined]


def _the_member(actor: object, obj: object) -> bool:
    """Only the member signs themself in: the actor's posts name the member's resident."""
    from hemei.party.services import residents_of

    return obj.member.resident_id in residents_of(actor)  # type: ignore[attr-defined]


ATTENDANCE = register(Workflow(
    name="party.attendance",
    model=Attendance,
    field="status",
    states=AT,
    initial=AT.ABSENT,
    event=AttendanceEvent,
    subject="attendance",
    touch=("at",),
    doc="One member's attendance at one session: signed in by the code shown in the room, or set "
        "at the roll call (an excused absence gives its reason).",
    moves=(
        Move("signed_in", (AT.ABSENT, AT.EXCUSED), AT.PRESENT, "the member, on their own phone",
             guard=_the_member, sets=MARK),
        *(Move("roll_call", tuple(AT.values), target, WHO, guard=_roll_call, sets=MARK)
          for target in AT.values),
    ),
))


PC = PeriodCheck.Status


def _sweep_only(actor: object, obj: object) -> bool:
    return False  # no person settles a check: only the system actor (the sweep) passes

PERIOD = register(Workflow(
    name="party.period",
    model=PeriodCheck,
    field="status",
    states=PC,
    initial=PC.DUE,
    event=PeriodCheckEvent,
    subject="period",
    doc="A period in which the schedule rule asks a branch for a session of one kind; settled by "
        "the sweep once the period has ended.",
    moves=(
        Move("met", (PC.DUE,), PC.MET, "the sweep, a session of the kind held in the period",
             guard=_sweep_only, sets=("session", "checked_at")),
        Move("missed", (PC.DUE,), PC.MISSED, "the sweep, at the period's end (escalated to the township)",
             guard=_sweep_only, sets=("tier", "checked_at")),
    ),
))

"""Every write to party data (ARCHITECTURE rule 1): pages, the API, the sweep and the demo call
these. Each begins with `require_actor(actor)`, checks the actor's role over the row's region
(`hemei.core.scope.require`), works in one transaction and writes its audit row. Session
states change only through the workflow table (`hemei.party.workflow`)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import may, require, require_actor, user_of
from hemei.core.workflow import check, record, transition
from hemei.party import rules
from hemei.party.access import PARTY_MANAGE_ROLES
from hemei.party.models import (
    Attendance,
    Branch,
    BranchKind,
    Member,
    MemberEvent,
    Session,
    SessionKind,
    Standing,
    StudyRecord,
)
from hemei.regions.models import Level, Post, Region, Resident

# Unambiguous letters and digits (no 0/O, 1/I/L): the code can be read aloud or typed too.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_HOURS = Decimal("24")


def _manage(actor: Any, region: Region) -> None:
    require_actor(actor)
    require(actor, PARTY_MANAGE_ROLES, region)


def _hours(value: Any, *, allow_zero: bool = False) -> Decimal:
    try:
        hours = Decimal(str(value))
        hours = hours.quantize(Decimal("0.1")) if hours.is_finite() else hours
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(_("Hours are a number such as 1.5."), code="hours") from None
    if not hours.is_finite() or not (hours >= 0 if allow_zero else hours > 0) or hours > MAX_HOURS:
        raise ValidationError(_("Hours are more than 0 and at most 24."), code="hours")
    return hours


# --- organisations ---------------------------------------------------------------------------


@transaction.atomic
def branch_create(
    *, actor: Any, region: Region, kind: str, name: str, parent: Branch | None = None, secretary_name: str = "",
    founded_on: dt.date | None = None,
) -> Branch:
    """A 党总支, 党支部 or 党小组 at `region`. A 党小组 hangs under a 党支部 and lies in its
    subtree; a 党支部 may hang under a 党总支; a 党总支 under nothing."""
    _manage(actor, region)
    if kind not in BranchKind.values:
        raise ValidationError(_("Unknown kind of party organisation."), code="kind")
    if region.level not in (Level.TOWNSHIP, Level.VILLAGE, Level.GRID):
        raise ValidationError(_("A party organisation belongs to a township, a village or a grid."), code="region")
    name = clean_text(name, _("Name"), 100, required=True)
    parents: dict[str, str] = {BranchKind.GROUP: BranchKind.BRANCH, BranchKind.BRANCH: BranchKind.GENERAL}
    expected_parent = parents.get(kind)
    if kind == BranchKind.GROUP and parent is None:
        raise ValidationError(_("A party group belongs to a party branch."), code="parent")
    if parent is not None:
        if parent.kind != expected_parent:
            raise ValidationError(_("This organisation cannot belong to that one."), code="parent")
        if not region.path.startswith(parent.region.path):
            raise ValidationError(_("The organisation must lie within its parent's area."), code="parent")
    if Branch.objects.filter(region=region, name=name).exists():
        raise ValidationError(_("An organisation of that name exists here."), code="duplicate")
    branch = Branch.objects.create(
        county=county_of(region), region=region, parent=parent, kind=kind, name=name,
        secretary_name=clean_text(secretary_name, _("Secretary"), 50), founded_on=founded_on,
    )
    audit_record(actor=actor, action="create", obj=branch,
                 changes={"kind": [None, kind], "region": [None, region.code], "parent": [None, parent]})
    return branch


# --- the member register ---------------------------------------------------------------------


def _entered(member: Member, kind: str, on: dt.date, actor: Any, *, other: str = "", note: str = "") -> None:
    """The entry of a membership in the register (joined or transferred in): the workflow's
    first event, written through its one recorder (`hemei.core.workflow.record`)."""
    record(member, kind=kind, actor=actor, to_state=Member.Status.CURRENT, note=note, on=on, other=other)


def _check_group(branch: Branch, group: Branch | None) -> None:
    if group is not None and (group.kind != BranchKind.GROUP or group.parent_id != branch.pk):
        raise ValidationError(_("Choose a party group of this branch."), code="group")


@transaction.atomic
def member_add(
    *, actor: Any, branch: Branch, resident: Resident, joined_party_on: dt.date, standing: str = Standing.FULL,
    group: Branch | None = None, on: dt.date | None = None, transferred_from: str = "", note: str = "",
) -> Member:
    """Enter a resident in a 党支部's register: newly joined, or transferred in from elsewhere
    (`transferred_from` names the organisation the relationship came from)."""
    _manage(actor, branch.region)
    if branch.kind != BranchKind.BRANCH:
        raise ValidationError(_("Members are registered with a party branch (党支部)."), code="branch")
    if not resident.region.path.startswith(_village_path(branch.region)):
        raise ValidationError(_("The resident does not live in this branch's area."), code="resident")
    if resident.status != Resident.Status.LIVING:
        raise ValidationError(_("Only residents living here can be registered."), code="resident")
    if standing not in (Standing.FULL, Standing.PROBATIONARY):
        raise ValidationError(_("Unknown standing."), code="standing")
    _check_group(branch, group)
    on = on or timezone.localdate()
    if joined_party_on > on or on > timezone.localdate():
        raise ValidationError(_("The dates cannot lie in the future, nor the joining after the entry."), code="date")
    if Member.objects.filter(resident=resident, status=Member.Status.CURRENT).exists():
        raise ValidationError(_("This resident is already in a branch's register; transfer them instead."),
                              code="duplicate")
    member = Member.objects.create(
        county=county_of(resident.region), region=resident.region, branch=branch, group=group, resident=resident,
        standing=standing, joined_party_on=joined_party_on, joined_branch_on=on,
    )
    from_text = clean_text(transferred_from, _("Transferred from"), 100)
    kind = MemberEvent.Kind.TRANSFER_IN if from_text else MemberEvent.Kind.JOINED
    _entered(member, kind, on, actor, other=from_text, note=clean_text(note, _("Note"), 300))
    audit_record(actor=actor, action="create", obj=member,
                 changes={"branch": [None, branch.pk], "standing": [None, standing], "event": [None, kind]})
    return member


def _village_path(region: Region) -> str:
    """The path of the village a region lies in (itself for a village or above)."""
    if region.level == Level.GRID:
        return region.path[: len(region.path) - Region.steplen]
    return region.path


def _current(member: Member) -> Member:
    member = Member.objects.select_related("branch__region", "resident").get(pk=member.pk)
    if member.status != Member.Status.CURRENT:
        raise ValidationError(_("This membership has ended."), code="ended")
    return member


@transaction.atomic
def member_confirm(*, actor: Any, member: Member, on: dt.date) -> Member:
    """预备党员转正: a probationary member becomes a full member."""
    _manage(actor, member.branch.region)
    member = _current(member)
    if member.standing != Standing.PROBATIONARY:
        raise ValidationError(_("Only a probationary member can be confirmed."), code="standing")
    if on < member.joined_party_on or on > timezone.localdate():
        raise ValidationError(_("Choose a date between joining and today."), code="date")
    return transition(member, Member.Status.CURRENT, actor=actor, move=MemberEvent.Kind.CONFIRMED,
                      standing=Standing.FULL, expect={"standing": Standing.PROBATIONARY}, event={"on": on})


@transaction.atomic
def member_set_group(*, actor: Any, member: Member, group: Branch | None) -> Member:
    _manage(actor, member.branch.region)
    member = _current(member)
    _check_group(member.branch, group)
    return transition(member, Member.Status.CURRENT, actor=actor, move=MemberEvent.Kind.GROUP, group=group,
                      expect={"group": member.group_id}, event={"on": timezone.localdate(),
                                                              "other": group.name if group else ""},
                      changes={"group": [member.group_id, group.pk if group else None]})


@transaction.atomic
def member_transfer_out(
    *, actor: Any, member: Member, on: dt.date, to: str = "", to_branch: Branch | None = None, note: str = "",
) -> Member | None:
    """组织关系转出. To a branch in this system (`to_branch`, also in the actor's scope): the
    old row closes and a new one opens there with a transfer-in event; elsewhere (`to`, the
    receiving organisation's name): the row closes. Returns the new membership, if any."""
    _manage(actor, member.branch.region)
    member = _current(member)
    if on < member.joined_branch_on or on > timezone.localdate():
        raise ValidationError(_("Choose a date between joining the branch and today."), code="date")
    to = clean_text(to, _("Transferred to"), 100)
    if to_branch is None and not to:
        raise ValidationError(_("Say where the membership goes."), code="to")
    if to_branch is not None and to_branch.pk == member.branch_id:
        raise ValidationError(_("The member is already in this branch."), code="to")
    transition(member, Member.Status.LEFT, actor=actor, move=MemberEvent.Kind.TRANSFER_OUT, left_on=on,
               note=clean_text(note, _("Note"), 300),
               event={"on": on, "other": to or (to_branch.name if to_branch else "")},
               changes={"status": [Member.Status.CURRENT, Member.Status.LEFT], "left_on": [None, on], "to": [None, to]})
    if to_branch is None:
        return None
    return member_add(actor=actor, branch=to_branch, resident=member.resident, joined_party_on=member.joined_party_on,
                      standing=member.standing, on=on, transferred_from=member.branch.name)


# --- sessions ----------------------------------------------------------------------------------


def expected_members(session: Session, *, on: dt.date | None = None) -> QuerySet[Member]:
    """Who is expected at a session: a 党小组's members at its group meeting, a 党支部's at its
    sessions, the branches' members under a 党总支; each a member on the session's day."""
    day = on or timezone.localdate(session.held_at or session.planned_at)
    branch = session.branch
    if branch.kind == BranchKind.GROUP:
        q = Q(group=branch)
    elif branch.kind == BranchKind.BRANCH:
        q = Q(branch=branch)
    else:
        q = Q(branch__parent=branch)
    current = Q(joined_branch_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gt=day))
    return Member.objects.filter(q & current)


@transaction.atomic
def session_plan(
    *, actor: Any, branch: Branch, kind: str, title: str, planned_at: dt.datetime, place: str = "",
    hours: Any = "1.0", materials: str = "",
) -> Session:
    _manage(actor, branch.region)
    if kind not in SessionKind.values:
        raise ValidationError(_("Unknown kind of session."), code="kind")
    if not rules.may_hold(branch.kind, kind):
        raise ValidationError(_("This organisation does not hold that kind of session."), code="kind")
    if timezone.is_naive(planned_at):
        raise ValidationError(_("Give the time of the session."), code="time")
    session = Session.objects.create(
        county=branch.county, branch=branch, kind=kind, title=clean_text(title, _("Topic"), 150, required=True),
        planned_at=planned_at, place=clean_text(place, _("Place"), 100), hours=_hours(hours),
        materials=clean_text(materials, _("Materials"), 2000), created_by=user_of(actor),
    )
    audit_record(actor=actor, action="create", obj=session, changes={"kind": [None, kind], "branch": [None, branch.pk]})
    return session


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_minutes() -> int:
    return int(getattr(settings, "HEMEI_PARTY_CODE_MINUTES", 10))


def session_open(*, actor: Any, session: Session, at: dt.datetime | None = None) -> Session:
    """The session begins (planned → held): a fresh sign-in code valid for
    `HEMEI_PARTY_CODE_MINUTES` is shown in the room. `at` records a session held earlier."""
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise ValidationError(_("A session cannot be opened for a later time."), code="time")
    return transition(session, Session.Status.HELD, actor=actor, at=now, held_at=at, code=_new_code(),
                      code_expires_at=now + dt.timedelta(minutes=code_minutes()))


@transaction.atomic
def session_code_refresh(*, actor: Any, session: Session) -> Session:
    """Show a new code (the old one stops working at once)."""
    _manage(actor, session.branch.region)
    if session.status != Session.Status.HELD:
        raise ValidationError(_("Sign-in is open only while the session is being held."), code="state")
    now = timezone.now()
    code, expires = _new_code(), now + dt.timedelta(minutes=code_minutes())
    if Session.objects.filter(pk=session.pk, status=Session.Status.HELD).update(
            code=code, code_expires_at=expires, updated_at=now) != 1:
        raise ValidationError(_("Someone else changed this meanwhile; reload the page."), code="conflict")
    record(session, kind="code", actor=actor, at=now, data={"expires": expires.isoformat()})
    session.refresh_from_db()
    return session


@transaction.atomic
def session_record(
    *, actor: Any, session: Session, minutes: str, hours: Any = None, materials: str | None = None,
) -> Session:
    """The session is written up (held → recorded): minutes and hours; everyone expected who
    has no attendance row yet is recorded absent (no reason known)."""
    check(session, Session.Status.RECORDED, actor=actor)
    text = clean_text(minutes, _("Minutes"), 20000, required=True)
    value = session.hours if hours in (None, "") else _hours(hours)
    links = session.materials if materials is None else clean_text(materials, _("Materials"), 2000)
    now = timezone.now()
    present = set(session.attendance.values_list("member_id", flat=True))
    missing = [m for m in expected_members(session).select_related("region") if m.pk not in present]
    Attendance.objects.bulk_create([
        Attendance(county=session.county, region=m.region, session=session, member=m,
                   status=Attendance.Status.ABSENT, how=Attendance.How.ROLL_CALL, at=now,
                   recorded_by=user_of(actor))
        for m in missing
    ])
    return transition(session, Session.Status.RECORDED, actor=actor, at=now, minutes=text, hours=value,
                      materials=links, code="", code_expires_at=None, data={"absent_added": len(missing)})


def session_cancel(*, actor: Any, session: Session, note: str) -> Session:
    return transition(session, Session.Status.CANCELLED, actor=actor,
                      note=clean_text(note, _("Reason"), 300, required=True))


# --- attendance --------------------------------------------------------------------------------


def residents_of(user: Any) -> list[int]:
    """The residents a signed-in user is (their posts' `resident`: a villager account, or a
    cadre whose post names them)."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return []
    return list(Post.objects.current().filter(user=user, resident__isnull=False)
                .values_list("resident_id", flat=True).distinct())


def memberships_of(user: Any) -> QuerySet[Member]:
    """The user's own current party memberships (their phone page)."""
    return Member.objects.filter(resident_id__in=residents_of(user), left_on__isnull=True)


@transaction.atomic
def attendance_sign_in(*, actor: Any, code: str, now: dt.datetime | None = None) -> Attendance:
    """A member scans the code shown in the room on their own phone.

    1. The code must belong to a session being held and not have expired.
    2. The signed-in user must be (through their post) a member expected at that session: a
       member of another branch, or nobody's member, is refused with a clear message.
    3. Signing in twice is harmless: the second time returns the same row. A member the
       roll call marked absent earlier becomes present.
    """
    require_actor(actor)
    now = now or timezone.now()
    code = (code or "").strip().upper()
    session = None
    if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code):
        session = Session.objects.select_related("branch").filter(code=code, status=Session.Status.HELD).first()
    if session is None:
        raise ValidationError(_("This sign-in code is not valid. Scan the code shown in the room."), code="code")
    if session.code_expires_at is None or session.code_expires_at <= now:
        raise ValidationError(_("This sign-in code has expired. Ask for a new one."), code="expired")
    residents = residents_of(actor)
    member = expected_members(session).filter(resident_id__in=residents).select_related("region").first()
    if member is None:
        if Member.objects.filter(resident_id__in=residents, left_on__isnull=True).exists():
            raise ValidationError(_("You are not a member of the organisation holding this session."),
                                  code="branch")
        raise ValidationError(_("Only party members in the register can sign in."), code="member")
    existing = Attendance.objects.select_for_update().filter(session=session, member=member).first()
    if existing is not None and existing.status == Attendance.Status.PRESENT:
        return existing
    if existing is not None:
        # The roll call marked this member absent or excused earlier: the code makes them present.
        return transition(existing, Attendance.Status.PRESENT, actor=actor, move="signed_in", at=now,
                          how=Attendance.How.CODE, reason="", recorded_by=user_of(actor), audit_note="signed in",
                          changes={"session": [None, session.pk],
                                   "status": [existing.status, Attendance.Status.PRESENT]})
    try:
        with transaction.atomic():
            row = Attendance.objects.create(county=session.county, region=member.region, session=session,
                                            member=member, status=Attendance.Status.PRESENT,
                                            how=Attendance.How.CODE, at=now, recorded_by=user_of(actor))
    except IntegrityError:  # the same member's other tap won the race: same result
        return Attendance.objects.get(session=session, member=member)
    audit_record(actor=actor, action="create", obj=row, note="signed in",
                 changes={"session": [None, session.pk], "status": [None, row.status]})
    return row


@transaction.atomic
def attendance_mark(*, actor: Any, session: Session, member: Member, status: str, reason: str = "") -> Attendance:
    """Roll call by the branch secretary: present, absent, or excused (a reason is required)."""
    _manage(actor, session.branch.region)
    if session.status not in (Session.Status.HELD, Session.Status.RECORDED):
        raise ValidationError(_("Attendance is taken once the session is being held."), code="state")
    if status not in Attendance.Status.values:
        raise ValidationError(_("Unknown attendance."), code="status")
    reason = clean_text(reason, _("Reason for absence"), 200)
    if status == Attendance.Status.PRESENT:
        reason = ""
    elif status == Attendance.Status.EXCUSED and not reason:
        raise ValidationError(_("Give the reason for the leave of absence."), code="reason")
    if not expected_members(session).filter(pk=member.pk).exists():
        raise ValidationError(_("This member is not expected at this session."), code="member")
    now = timezone.now()
    row = Attendance.objects.select_for_update().filter(session=session, member=member).first()
    old = row.status if row else None
    if row is not None:
        if hasattr(row, "make_up") and status == Attendance.Status.PRESENT:
            raise ValidationError(_("This absence has been made up; it cannot become present."), code="made_up")
        # The audit row keeps whether a reason was given, not the reason (it may be personal).
        return transition(row, status, actor=actor, move="roll_call", at=now, reason=reason,
                          how=Attendance.How.ROLL_CALL, recorded_by=user_of(actor), audit_note="",
                          changes={"status": [old, status], "reason": [None, bool(reason)]})
    row = Attendance.objects.create(county=session.county, region=member.region, session=session, member=member,
                                    status=status, how=Attendance.How.ROLL_CALL, reason=reason, at=now,
                                    recorded_by=user_of(actor))
    audit_record(actor=actor, action="create", obj=row,
                 changes={"status": [old, status], "reason": [None, bool(reason)]})
    return row


def attendance_roll_call(*, actor: Any, session: Session, marks: Iterable[tuple[Member, str, str]]) -> int:
    """Several marks at once, all or nothing."""
    with transaction.atomic():
        count = 0
        for member, status, reason in marks:
            attendance_mark(actor=actor, session=session, member=member, status=status, reason=reason)
            count += 1
    return count


@transaction.atomic
def study_record(
    *, actor: Any, member: Member, hours: Any, content: str, studied_on: dt.date, absence: Attendance | None = None,
) -> StudyRecord:
    """Hours of study: a make-up (补学) of one absence, or the member's own study."""
    _manage(actor, member.branch.region)
    if studied_on > timezone.localdate():
        raise ValidationError(_("A study cannot be dated in the future."), code="date")
    kind = StudyRecord.Kind.SELF
    if absence is not None:
        if absence.member_id != member.pk or absence.status == Attendance.Status.PRESENT:
            raise ValidationError(_("Choose an absence of this member."), code="absence")
        if StudyRecord.objects.filter(attendance=absence).exists():
            raise ValidationError(_("This absence is already made up."), code="duplicate")
        if studied_on < timezone.localdate(absence.session.held_at or absence.session.planned_at):
            raise ValidationError(_("A make-up study comes after the session."), code="date")
        kind = StudyRecord.Kind.MAKE_UP
    row = StudyRecord.objects.create(
        county=member.county, region=member.region, member=member, kind=kind, attendance=absence,
        studied_on=studied_on, hours=_hours(hours), content=clean_text(content, _("What was studied"), 300,
                                                                       required=True),
        recorded_by=user_of(actor),
    )
    audit_record(actor=actor, action="create", obj=row, changes={"kind": [None, kind], "hours": [None, row.hours]})
    return row


def may_manage(user: Any, region: Region) -> bool:
    """Whether the pages offer the manage forms (the services check again)."""
    return may(user, PARTY_MANAGE_ROLES, region)

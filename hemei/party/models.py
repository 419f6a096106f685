"""智慧党建: party organisations, the member register, 三会一课 sessions and attendance.

- `Branch`: a 党总支, 党支部 or 党小组 attached to a region (a 党小组 lives under a 党支部, a
  党支部 may live under a 党总支). The region gives the scope, like every other row.
- `Member`: a resident's membership of a 党支部 (and optionally one of its 党小组), with the
  join date and 正式/预备 standing. A transfer out closes the row (`left_on`); a transfer in
  opens a new one. Its lifecycle (current → transferred out; 转正 and group changes while
  current) is the workflow `party.member`, its history `MemberEvent` rows.
- `Session`: one 三会一课 meeting or study; its lifecycle (planned → held → recorded,
  or cancelled) is the workflow `party.session` (hemei.party.workflow).
- `Attendance`: one member at one session (present by sign-in code or roll call, absent
  with a reason, excused), and `StudyRecord`: hours of make-up study (补学) or own study.
- `PeriodCheck`: one (branch, kind, period) the schedule rule asks for; the sweep marks it
  met or missed (and so escalated to the township tier).

Membership is personal data: names of members are shown only to staff whose scope covers the
member's grid; ID numbers and phones are never shown in clear here.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hemei.core.models import WorkflowEvent
from hemei.core.sweeps import Tier
from hemei.regions.models import Region, Resident


class BranchKind(models.TextChoices):
    GENERAL = "general", _("general party branch")  # 党总支
    BRANCH = "branch", _("party branch")  # 党支部
    GROUP = "group", _("party group")  # 党小组


class SessionKind(models.TextChoices):
    ASSEMBLY = "assembly", _("branch members' assembly")  # 支部党员大会
    COMMITTEE = "committee", _("branch committee meeting")  # 支委会
    GROUP = "group", _("party group meeting")  # 党小组会
    LECTURE = "lecture", _("party lecture")  # 党课
    THEME_DAY = "theme_day", _("themed party day")  # 主题党日
    MICRO = "micro", _("micro party class")  # 微党课
    STUDY = "study", _("study session")  # 学习会


class Branch(models.Model):
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="party_branches")
    parent = models.ForeignKey("self", verbose_name=_("parent organisation"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(_("kind"), max_length=10, choices=BranchKind.choices)
    name = models.CharField(_("name"), max_length=100)
    secretary_name = models.CharField(_("secretary"), max_length=50, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["region__path", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="party_branch_name_per_region"),
            # A 党小组 always belongs to a 党支部 (checked for the parent's kind in the service).
            models.CheckConstraint(condition=~models.Q(kind="group") | models.Q(parent__isnull=False),
                                   name="party_group_has_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class Standing(models.TextChoices):
    FULL = "full", _("full member")  # 正式党员
    PROBATIONARY = "probationary", _("probationary member")  # 预备党员


class Member(models.Model):
    class Status(models.TextChoices):
        CURRENT = "current", _("current")
        LEFT = "left", _("transferred out")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    # The member's grid (the resident's region when the membership began): the scope of the row.
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Branch, verbose_name=_("party branch"), on_delete=models.PROTECT,
                               related_name="members")
    group = models.ForeignKey(Branch, verbose_name=_("party group"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="group_members")
    resident = models.ForeignKey(Resident, verbose_name=_("resident"), on_delete=models.PROTECT,
                                 related_name="party_memberships")
    standing = models.CharField(_("standing"), max_length=12, choices=Standing.choices, default=Standing.FULL)
    joined_party_on = models.DateField(_("joined the party on"))
    joined_branch_on = models.DateField(_("joined the branch on"))
    left_on = models.DateField(_("left the branch on"), null=True, blank=True)
    # The workflow's state (`hemei.party.workflow.MEMBER`): a membership is current until it is
    # transferred out; `left_on` is the date that took effect.
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CURRENT)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["branch", "resident__name_initials", "pk"]
        constraints = [
            # One current membership per resident: a transfer closes the old row first.
            models.UniqueConstraint(fields=["resident"], condition=models.Q(left_on__isnull=True),
                                    name="party_member_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.branch_id}: {self.resident_id}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def is_current(self) -> bool:
        return self.left_on is None


class MemberEvent(WorkflowEvent):
    """One thing that happened to a membership (append-only), in the shape of every workflow's
    history (`hemei.party.workflow.MEMBER`): `on` is the date it took effect (a transfer is
    often recorded days later), `other` the organisation it came from or went to."""

    class Kind(models.TextChoices):
        JOINED = "joined", _("joined")  # 入党 / first entry in the register
        TRANSFER_IN = "transfer_in", _("transferred in")  # 组织关系转入
        TRANSFER_OUT = "transfer_out", _("transferred out")  # 组织关系转出
        CONFIRMED = "confirmed", _("confirmed as full member")  # 预备党员转正
        GROUP = "group", _("party group changed")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    on = models.DateField(_("date"))
    other = models.CharField(_("from or to"), max_length=100, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("membership event")
        verbose_name_plural = _("membership events")
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.on}"


class Session(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("being held")
        RECORDED = "recorded", pgettext_lazy("session status", "recorded")
        CANCELLED = "cancelled", _("cancelled")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Branch, verbose_name=_("party organisation"), on_delete=models.PROTECT,
                               related_name="sessions")
    kind = models.CharField(_("kind"), max_length=12, choices=SessionKind.choices)
    title = models.CharField(_("topic"), max_length=150)
    planned_at = models.DateTimeField(_("planned for"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, default=Decimal("1.0"))
    minutes = models.TextField(_("minutes"), max_length=20000, blank=True)
    materials = models.TextField(_("materials (links)"), max_length=2000, blank=True)
    # The current sign-in code (short-lived, shown as a QR code in the room); blank when none.
    code = models.CharField(_("sign-in code"), max_length=16, blank=True, db_index=True)
    code_expires_at = models.DateTimeField(_("sign-in code expires"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("party session")
        verbose_name_plural = _("party sessions")
        ordering = ["-planned_at", "-pk"]
        indexes = [models.Index(fields=["branch", "kind", "held_at"], name="party_session_branch_kind")]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gte=0) & models.Q(hours__lte=24),
                                   name="party_session_hours_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.planned_at):%Y-%m-%d}"

    @property
    def county_code(self) -> str:
        return self.county.code[:6] if self.county_id else ""

    @property
    def counts(self) -> bool:
        """Held sessions count for attendance and for the schedule rule."""
        return self.status in (self.Status.HELD, self.Status.RECORDED)


class SessionEvent(WorkflowEvent):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("session event")
        verbose_name_plural = _("session events")


class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", _("present")
        ABSENT = "absent", _("absent")
        EXCUSED = "excused", _("excused")  # 请假 with a reason

    class How(models.TextChoices):
        CODE = "code", _("signed in by code")
        ROLL_CALL = "roll_call", _("roll call")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(Session, verbose_name=_("session"), on_delete=models.PROTECT,
                                related_name="attendance")
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT,
                               related_name="attendance")
    status = models.CharField(_("attendance"), max_length=10, choices=Status.choices)
    how = models.CharField(_("recorded by"), max_length=10, choices=How.choices, blank=True)
    reason = models.CharField(_("reason for absence"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["session", "member"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="party_attendance_once"),
            models.CheckConstraint(condition=~models.Q(status="present") | models.Q(reason=""),
                                   name="party_attendance_present_no_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.member_id}: {self.status}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class AttendanceEvent(WorkflowEvent):
    """A change of one member's attendance at a session (`party.attendance` workflow): signed in
    by code, or marked at the roll call. The row's creation in its first state is not a move."""

    attendance = models.ForeignKey(Attendance, verbose_name=_("attendance"), on_delete=models.PROTECT,
                                   related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("attendance event")
        verbose_name_plural = _("attendance events")

    def __str__(self) -> str:
        return f"{self.attendance_id} {self.kind}"


class StudyRecord(models.Model):
    """Hours of study outside a session: 补学 of a missed session, or own study."""

    class Kind(models.TextChoices):
        SELF = "self", _("own study")  # 自学
        MAKE_UP = "make_up", _("make-up study")  # 补学

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT,
                               related_name="studies")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The absence a make-up study makes up (one make-up per absence).
    attendance = models.OneToOneField(Attendance, verbose_name=_("absence made up"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="make_up")
    studied_on = models.DateField(_("studied on"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1)
    content = models.CharField(_("what was studied"), max_length=300)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("study record")
        verbose_name_plural = _("study records")
        ordering = ["-studied_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gt=0) & models.Q(hours__lte=24),
                                   name="party_study_hours_range"),
            models.CheckConstraint(condition=~models.Q(kind="make_up") | models.Q(attendance__isnull=False),
                                   name="party_make_up_has_absence"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.studied_on} {self.hours}h"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class PeriodCheck(models.Model):
    """One period in which the schedule rule asks a branch for a session of one kind."""

    class Status(models.TextChoices):
        DUE = "due", _("due")
        MET = "met", _("held")
        MISSED = "missed", _("missed")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Branch, verbose_name=_("party organisation"), on_delete=models.PROTECT,
                               related_name="period_checks")
    kind = models.CharField(_("kind"), max_length=12, choices=SessionKind.choices)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))  # inclusive
    due_by = models.DateTimeField(_("due by"))  # the end of period_end, local time
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DUE)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.VILLAGE)
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        verbose_name = _("schedule check")
        verbose_name_plural = _("schedule checks")
        ordering = ["-period_start", "branch", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "kind", "period_start"], name="party_period_once"),
        ]
        indexes = [models.Index(fields=["status", "due_by"], name="party_period_due")]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.kind} {self.period_start}"

    @property
    def county_code(self) -> str:
        return self.county.code[:6] if self.county_id else ""


class PeriodCheckEvent(WorkflowEvent):
    """The settling of a schedule check by the sweep (`party.period` workflow)."""

    period = models.ForeignKey(PeriodCheck, verbose_name=_("schedule check"), on_delete=models.PROTECT,
                               related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("schedule check event")
        verbose_name_plural = _("schedule check events")

    def __str__(self) -> str:
        return f"{self.period_id} {self.kind}"

"""Village meetings (民主议事) and their agenda items with recorded votes.

A meeting is recorded by `hemei.meetings.services` (rule 1). An agenda item is decided once:
the votes, the decision and the outcome are written in one conditional update and never
change again (rule 3); a correction is a new item whose `corrects` points at the old one.

Other apps refer to a decision by a foreign key to `AgendaItem` on their side (a rule
version's adoption, a contract's decision record); `subject_type` / `subject_id` say, on this
side, what an item is about, so a page can link back without this app knowing every model.
Cases have a real foreign key (`case`) because deliberation of cases lives next to them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.regions.models import Region, Resident


class DecidedItemError(Exception):
    """Raised when code tries to change an agenda item whose decision is recorded."""


class Meeting(models.Model):
    class Kind(models.TextChoices):
        VILLAGERS = "villagers", _("villagers' assembly")  # 村民会议
        REPRESENTATIVES = "representatives", _("villagers' representatives meeting")  # 村民代表会议
        COMMITTEES = "committees", _("two committees meeting")  # 村两委会议
        PARTY = "party", _("party members' assembly")  # 党员大会
        DELIBERATION = "deliberation", _("democratic deliberation council")  # 民主议事会
        OTHER = "other", _("other meeting")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="meetings")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    convened_by = models.CharField(_("convened by"), max_length=100, blank=True)
    # Blank until the meeting has taken place (a meeting may be planned and cases tabled first).
    attendees = models.PositiveIntegerField(_("attendees"), null=True, blank=True)
    # Quorum figures (村民委员会组织法 art. 22 and 25): for a villagers' assembly the adult
    # villagers and the households; for a representatives' meeting its members.
    eligible = models.PositiveIntegerField(
        _("eligible"),
        null=True,
        blank=True,
        help_text=_("Adult villagers (villagers' assembly) or members (other meetings)."),
    )
    households_total = models.PositiveIntegerField(_("households in the village"), null=True, blank=True)
    households_present = models.PositiveIntegerField(_("households represented"), null=True, blank=True)
    minutes = models.TextField(_("minutes"), max_length=20000, blank=True)
    named_attendees = models.ManyToManyField(
        Resident, verbose_name=_("named attendees"), blank=True, through="MeetingAttendee", related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_at", "-id"]
        indexes = [models.Index(fields=["region", "held_at"], name="meetings_region_held")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.held_at):%Y-%m-%d}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    def quorum_met(self) -> bool | None:
        """None while attendance is not recorded. See `hemei.meetings.rules.quorum_met`."""
        from hemei.meetings.rules import quorum_met

        if self.attendees is None:
            return None
        return quorum_met(
            self.kind,
            attendees=self.attendees,
            eligible=self.eligible,
            households_total=self.households_total,
            households_present=self.households_present,
        )


class MeetingAttendee(models.Model):
    """A named attendee (optional: most meetings record only the count)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendee_rows")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "resident"], name="meetings_attendee_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.resident_id}"


class AgendaItem(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("not yet decided")
        PASSED = "passed", _("passed")
        FAILED = "failed", _("not passed")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
    )
    # What else the item is about, for later apps: e.g. ("points.ruleversion", "12").
    subject_type = models.CharField(_("subject type"), max_length=60, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=40, blank=True)
    corrects = models.ForeignKey(
        "self", verbose_name=_("corrects"), null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    votes_for = models.PositiveIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("votes against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    decision = models.TextField(_("decision"), max_length=4000, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "order"], name="meetings_item_order"),
            # A decision is whole: votes, text and time together, or none of them.
            models.CheckConstraint(
                condition=(
                    models.Q(outcome="pending", votes_for__isnull=True, decided_at__isnull=True)
                    | (
                        ~models.Q(outcome="pending")
                        & models.Q(
                            votes_for__isnull=False,
                            votes_against__isnull=False,
                            votes_abstain__isnull=False,
                            decided_at__isnull=False,
                        )
                    )
                ),
                name="meetings_item_decision_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A recorded decision is immutable: refuse any save of a row decided in the database.
        if self.pk is not None and AgendaItem.objects.filter(pk=self.pk).exclude(outcome="pending").exists():
            raise DecidedItemError(f"agenda item {self.pk} is decided and cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_decided:
            raise DecidedItemError(f"agenda item {self.pk} is decided and cannot be removed")
        return super().delete(*args, **kwargs)

    @property
    def county_code(self) -> str:
        return self.meeting.county_code if self.meeting_id else ""

    @property
    def is_decided(self) -> bool:
        return self.outcome != self.Outcome.PENDING

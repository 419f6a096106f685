"""三务公开 (party, village and finance disclosure), its schedules, and village finance entries.

A `Disclosure` is one item a village publishes (title, kind, period covered); its text lives in
`DisclosureVersion` rows. A version goes draft → submitted → approved (or returned) → published.
A published version never changes (services refuse; on PostgreSQL a trigger refuses too,
migration 0002); a correction is a new version with a reason, and every version stays visible.
Published versions of a village form a hash chain (`hemei.disclosure.integrity`), checked by
`hemei verify`. Workflow steps are append-only `DisclosureEvent` rows (ARCHITECTURE rule 3).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core import sweeps
from hemei.core.models import VillageScoped, WorkflowEvent
from hemei.regions.models import Region


class Kind(models.TextChoices):
    PARTY = "party", _("party affairs")
    VILLAGE = "village", _("village affairs")
    FINANCE = "finance", _("finances")


class Disclosure(VillageScoped):
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="disclosures")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    # 重大事项: published "at once" (within a few working days), not on the periodic schedule.
    major = models.BooleanField(_("major item"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["village", "kind", "period_start"], name="disclosure_village_kind")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="disclosure_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.title}"


class DisclosureVersion(VillageScoped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted for review")
        RETURNED = "returned", _("returned with comments")
        APPROVED = "approved", _("approved")
        PUBLISHED = "published", _("published")

    disclosure = models.ForeignKey(
        Disclosure, verbose_name=_("disclosure"), on_delete=models.PROTECT, related_name="versions"
    )
    # Denormalised from the disclosure: the chain is per village and the board reads by village.
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    # Figures behind a finance statement (subject totals, balances); part of the hashed content.
    data = models.JSONField(_("data"), default=dict, blank=True)
    reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    # Personal-data warnings the author saw and confirmed when submitting.
    warnings = models.JSONField(_("personal data warnings"), default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.CharField(_("review comments"), max_length=1000, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # The village chain: set once, at publication.
    sequence = models.PositiveIntegerField(_("chain sequence"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("disclosure version")
        verbose_name_plural = _("disclosure versions")
        ordering = ["disclosure_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "number"], name="disclosure_version_number"),
            models.UniqueConstraint(fields=["village", "sequence"], name="disclosure_chain_sequence"),
            models.CheckConstraint(
                condition=~models.Q(status="published")
                | models.Q(sequence__isnull=False, published_at__isnull=False, reviewed_by__isnull=False),
                name="disclosure_published_is_chained_and_reviewed",
            ),
        ]
        indexes = [models.Index(fields=["village", "status", "published_at"], name="disclosure_v_board")]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)


class DisclosureAttachment(models.Model):
    """A PDF or image attached to a version. Its SHA-256 is part of the version's hashed content,
    so swapping a file after publication breaks the chain."""

    version = models.ForeignKey(
        DisclosureVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="disclosure/%Y/%m/", max_length=255)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["version_id", "id"]

    def __str__(self) -> str:
        return self.name


class DisclosureEvent(WorkflowEvent):
    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        EDITED = "edited", _("edited")
        SUBMITTED = "submitted", _("submitted for review")
        APPROVED = "approved", _("approved")
        RETURNED = "returned", _("returned with comments")
        PUBLISHED = "published", _("published")
        CORRECTION = "correction", _("correction started")

    version = models.ForeignKey(
        DisclosureVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)

    class Meta:
        verbose_name = _("disclosure event")
        verbose_name_plural = _("disclosure events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class ScheduleSettings(models.Model):
    """How often a village must publish (村民委员会组织法 art. 30): defaults are the law's
    minimum — finances monthly, village and party affairs quarterly, major items at once."""

    village = models.OneToOneField(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="disclosure_schedule"
    )
    tracked_from = models.DateField(
        _("schedule starts"), help_text=_("The first period that must be published (its first day).")
    )
    finance_months = models.PositiveSmallIntegerField(_("finances every (months)"), default=1)
    village_months = models.PositiveSmallIntegerField(_("village affairs every (months)"), default=3)
    party_months = models.PositiveSmallIntegerField(_("party affairs every (months)"), default=3)
    due_working_days = models.PositiveSmallIntegerField(
        _("working days after the period"),
        default=10,
        help_text=_("A period must be published by the end of this working day of the following month."),
    )
    major_working_days = models.PositiveSmallIntegerField(_("working days for a major item"), default=5)

    class Meta:
        verbose_name = _("disclosure schedule")
        verbose_name_plural = _("disclosure schedules")

    def __str__(self) -> str:
        return f"{self.village_id}"

    def months_for(self, kind: str) -> int:
        return {Kind.FINANCE: self.finance_months, Kind.VILLAGE: self.village_months, Kind.PARTY: self.party_months}[
            Kind(kind)
        ]


class ScheduleDue(VillageScoped):
    """One period a village owes the public (or one major item), with its deadline. Missed → the
    shared sweep moves it up a tier exactly once per deadline (`hemei.disclosure.schedules`)."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="disclosure_dues"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    major = models.BooleanField(_("major item"), default=False)
    disclosure = models.ForeignKey(
        Disclosure, verbose_name=_("disclosure"), null=True, blank=True, on_delete=models.PROTECT, related_name="dues"
    )
    # A publication the township ordered on a villager's complaint (村民委员会组织法 art. 31).
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("complaint"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="publication_orders",
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    due_at = models.DateTimeField(_("due"))
    tier = models.CharField(_("tier"), max_length=10, choices=sweeps.Tier.choices, default=sweeps.Tier.VILLAGE)
    was_overdue = models.BooleanField(_("was overdue"), default=False)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("disclosure due")
        verbose_name_plural = _("disclosure dues")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "kind", "period_start"],
                condition=models.Q(major=False, case__isnull=True),
                name="disclosure_due_period",
            ),
            models.UniqueConstraint(fields=["disclosure"], condition=models.Q(major=True), name="disclosure_due_major"),
        ]
        indexes = [models.Index(fields=["fulfilled_at", "due_at"], name="disclosure_due_open")]

    def __str__(self) -> str:
        return f"{self.village_id} {self.kind} {self.period_start}"


class FinanceEntry(VillageScoped):
    """One income or expense line of the village collective's accounts."""

    class Direction(models.TextChoices):
        INCOME = "income", _("income")
        EXPENSE = "expense", _("expense")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="finance_entries"
    )
    date = models.DateField(_("date"))
    year = models.PositiveSmallIntegerField(_("year"))  # = date.year; voucher numbers restart yearly
    subject = models.CharField(_("accounting subject"), max_length=6)
    direction = models.CharField(_("direction"), max_length=7, choices=Direction.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    counterparty = models.CharField(_("counterparty"), max_length=100, blank=True)
    voucher = models.CharField(_("voucher number"), max_length=30)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    attachment = models.FileField(_("attachment"), upload_to="finance/%Y/%m/", blank=True, max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        verbose_name = _("finance entry")
        verbose_name_plural = _("finance entries")
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year", "voucher"], name="finance_voucher_per_village_year"),
        ]
        indexes = [models.Index(fields=["village", "date"], name="finance_village_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.voucher} {self.amount}"


class AnnualIncome(models.Model):
    """A village's collective income for a whole year as audited (年度集体经济收入), for years
    before the entries were kept in Hemei. The chart prefers this figure for its year."""

    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="annual_incomes"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("annual collective income")
        verbose_name_plural = _("annual collective income")
        ordering = ["village_id", "year"]
        constraints = [models.UniqueConstraint(fields=["village", "year"], name="annual_income_per_year")]

    def __str__(self) -> str:
        return f"{self.year}: {self.amount}"

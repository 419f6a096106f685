"""Core models: the append-only audit log and the working-day calendar."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a row that is history."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    """History rows (audit entries, case events): inserted once, never changed or removed by
    the application. Corrections are new rows that point at what they correct."""

    objects: ClassVar[AppendOnlyQuerySet] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class AuditEntry(AppendOnlyModel):
    """Who did what to which object, when, with old and new values.

    Written only by `hemei.core.audit`. The application refuses updates and deletes
    (AppendOnlyModel); the database refuses them too (triggers, migration 0002).
    """

    class Action(models.TextChoices):
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        DELETE = "delete", _("delete")
        REVEAL = "reveal", _("reveal personal data")
        EXPORT = "export", _("export")
        IMPORT = "import", _("import")
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOGOUT = "logout", _("logout")
        LOCKOUT = "lockout", _("account locked")
        TOKEN = "token", _("API token issued")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # No FK constraint: deleting a user must never require touching audit rows.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    county_code = models.CharField(_("county code"), max_length=6, blank=True, db_index=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"



class WorkflowEvent(AppendOnlyModel):
    """The shape of every history row a state change leaves (`hemei.core.workflow`): when,
    who, what kind of step, the state before and after, a note and structured detail.

    Each app's event table subclasses it and adds the foreign key to its subject (named in the
    workflow's `subject` attribute) and any columns of its own; a subclass may override a
    field (e.g. `kind` with its choices). Rows that record something other than a state change
    (a payment, a reminder, a photo) leave `from_state`/`to_state` blank."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    # No FK constraint, like the audit log: removing a user never touches history.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
        on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=30)
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    note = models.TextField(_("note"), max_length=4000, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class CalendarDay(models.Model):
    """An exception to the weekday rule (Mon–Fri work, Sat–Sun rest) for one date.

    `holiday` (休息日): no work that day, usually a public holiday on a weekday; `workday`
    (调休上班): a make-up working day on a weekend. Rows with a blank `county_code` are national
    (entered from each year's State Council notice); a county may add its own rows, which win
    over a national row on the same date for that county. Read by `hemei.core.calendar`.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("day off (holiday)")
        WORKDAY = "workday", _("make-up working day")

    date = models.DateField(_("date"))  # indexed by the unique (date, county_code) constraint
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=50, blank=True, help_text=_("For example 春节 or 国庆节."))
    county_code = models.CharField(
        _("county code"),
        max_length=6,
        blank=True,
        default="",
        help_text=_("Blank for a national day; a 6-digit county code for a day of that county only."),
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")
        ordering = ["date", "county_code"]
        constraints = [
            models.UniqueConstraint(fields=["date", "county_code"], name="core_calendarday_unique_date_scope"),
        ]

    def __str__(self) -> str:
        parts = [f"{self.date:%Y-%m-%d}", str(self.get_kind_display()), self.name, self.county_code]
        return " ".join(part for part in parts if part)

    def clean(self) -> None:
        super().clean()
        if self.county_code and not (len(self.county_code) == 6 and self.county_code.isdigit()):
            raise ValidationError({"county_code": _("A county code has 6 digits.")})
        # A national make-up working day on Monday–Friday changes nothing; it is a typo for a
        # weekend date. A county row may still say "workday" on a weekday to cancel a national
        # holiday for that county.
        if self.date and self.kind == self.Kind.WORKDAY and not self.county_code and self.date.weekday() < 5:
            raise ValidationError({"date": _("A make-up working day falls on a Saturday or Sunday.")})


class VillageScoped(models.Model):
    """For rows that belong to a village: the audit log's `county_code` comes from the
    village's code (the first six digits are the county), so no model repeats the property."""

    village_id: int | None

    class Meta:
        abstract = True

    @property
    def county_code(self) -> str:
        village = getattr(self, "village", None)
        return village.code[:6] if village is not None else ""


# The genesis value every hash chain starts from (`hemei.core.chain`): the first link's
# `prev_hash`, and the head hash of a chain without links.
GENESIS_HASH = "0" * 64


class ChainHead(models.Model):
    """The last link of one hash chain (`hemei.core.chain`): one row per chain kind ("points",
    "disclosure", …) and village. Locked (SELECT … FOR UPDATE) by every append, so two writers
    never fork a chain; `length` is the sequence number of the last link (0: no links)."""

    chain = models.CharField(_("chain"), max_length=30)
    village = models.ForeignKey("regions.Region", verbose_name=_("village"), on_delete=models.PROTECT,
                                related_name="+")
    length = models.PositiveIntegerField(_("length"), default=0)
    head_hash = models.CharField(_("head hash"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")
        constraints = [models.UniqueConstraint(fields=["chain", "village"], name="core_chainhead_chain_village")]

    def __str__(self) -> str:
        return f"{self.chain}:{self.village_id}#{self.length} {self.head_hash[:12]}"


class IdempotencyKey(models.Model):
    """A write's key (`hemei.core.idempotency`): the same key and payload return the first
    result, another payload is a conflict. Keys are per account (`owner`: "user:<id>", or
    "system" for the demo, imports and sweeps)."""

    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=100)
    operation = models.CharField(max_length=40)
    payload_hash = models.CharField(max_length=64)
    result_type = models.CharField(max_length=40, blank=True)
    result_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="core_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


class Freshness(models.Model):
    """A version number per topic and place (`hemei.core.freshness`): writers bump it in
    their transaction, cached public pages put it in their cache key, so a cached page is
    never older than the last committed write it shows. `place_id` is a region's id (a
    village, or a county for topics kept per county)."""

    topic = models.CharField(max_length=40)
    place_id = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["place_id", "topic"], name="core_freshness_place_topic")]

    def __str__(self) -> str:
        return f"{self.topic}:{self.place_id}#{self.n}"

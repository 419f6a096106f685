"""Cases (诉求/问题台账): categories with time limits, the case itself and its timeline.

Deadlines are stored timestamps computed by `hemei.core.calendar` from the category's limits
(ARCHITECTURE rule 5); the timeline (`CaseEvent`) is append-only history (rule 3); every write
goes through `hemei.cases.services` (rule 1) and the escalation sweep (`hemei.cases.sweep`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core import sweeps
from hemei.core.models import WorkflowEvent
from hemei.regions.models import Household, Region, Resident


class Category(models.Model):
    """A kind of request with its time limits. `county` blank = the default catalogue every
    county uses; a county may add its own rows (editable per county, issue 3)."""

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("consultation")
        HELP = "help", _("request for help")
        SUGGESTION = "suggestion", _("suggestion")
        COMPLAINT = "complaint", _("complaint")
        URGENT = "urgent", _("urgent")

    county = models.ForeignKey(
        Region, verbose_name=_("county"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Blank for the default catalogue of every county."),
    )
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # None = accept by the end of the same working day (12345 practice: 当日受理).
    accept_hours = models.PositiveSmallIntegerField(
        _("hours to accept"), null=True, blank=True, help_text=_("Blank: by the end of the same working day.")
    )
    # Clock minutes, for services that answer within minutes (care work orders: a call box
    # pressed must be taken on in 15 minutes); when set it wins over `accept_hours`.
    accept_minutes = models.PositiveSmallIntegerField(
        _("minutes to accept"), null=True, blank=True, help_text=_("For services that answer within minutes.")
    )
    resolve_working_days = models.PositiveSmallIntegerField(_("working days to resolve"), null=True, blank=True)
    resolve_hours = models.PositiveSmallIntegerField(
        _("hours to resolve"), null=True, blank=True, help_text=_("For urgent categories, in clock hours.")
    )
    active = models.BooleanField(_("active"), default=True)
    # Offered on the villager's 我要反映 form and in Open311's services. The eldercare categories
    # are not: a care call comes from a call box or the one-key button and opens a work order
    # with it (hemei.care), never a bare case.
    self_service = models.BooleanField(_("offered to villagers"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    # Where a case of this category starts: a complaint that the village did not publish
    # something goes to the township (村民委员会组织法 art. 31), not to the village it is about.
    start_tier = models.CharField(_("starts at tier"), max_length=10, choices=sweeps.Tier.choices,
                                  default=sweeps.Tier.VILLAGE)

    class Meta:
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        ordering = ["sort", "name"]
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="cases_category_name_per_county"),
            models.UniqueConstraint(fields=["name"], condition=models.Q(county__isnull=True),
                                    name="cases_category_default_name"),
            # Exactly one resolve limit: working days or clock hours.
            models.CheckConstraint(
                condition=(models.Q(resolve_working_days__isnull=False, resolve_hours__isnull=True)
                           | models.Q(resolve_working_days__isnull=True, resolve_hours__isnull=False)),
                name="cases_category_one_resolve_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(accept_minutes__isnull=True) | models.Q(accept_minutes__gt=0),
                name="cases_category_accept_minutes_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CaseCounter(models.Model):
    """The last sequence number used for a county and year (public case numbers)."""

    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="cases_counter_county_year")]

    def __str__(self) -> str:
        return f"{self.county_id}-{self.year}: {self.last}"


class Case(models.Model):
    class Source(models.TextChoices):
        VILLAGER = "villager", _("villager")
        VISIT = "visit", _("household visit")
        PATROL = "patrol", _("patrol")
        PHONE = "phone", _("phone call")
        DEVICE = "device", _("device alarm")
        API = "api", _("API")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        ACCEPTED = "accepted", _("accepted")
        IN_PROGRESS = "in_progress", _("in progress")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")
        REJECTED = "rejected", _("rejected")
        MERGED = "merged", _("merged")

    Tier = sweeps.Tier  # shared with every other escalating deadline

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASICALLY = "basically", _("basically satisfied")
        UNSATISFIED = "unsatisfied", _("unsatisfied")

    number = models.CharField(_("case number"), max_length=30, unique=True)
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="cases")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    reporter = models.ForeignKey(
        Resident, verbose_name=_("reporter"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    reporter_name = models.CharField(_("reporter name"), max_length=50, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=4000)
    # Where, as GeoReport v2 names it (Open311 POST, the villager's "use my position" button,
    # the case page's map). A reported point, not a home register: public answers round it.
    address_string = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible person"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="responsible_cases",
    )
    responsible_unit = models.CharField(_("responsible unit"), max_length=100, blank=True)
    measures = models.TextField(_("measures taken"), max_length=4000, blank=True)
    accept_by = models.DateTimeField(_("accept by"))
    resolve_by = models.DateTimeField(_("resolve by"))
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.VILLAGE)
    # Frozen once set (statistics: on-time rate per unit and period); a later fix never clears them.
    overdue_accept = models.BooleanField(_("accepted late"), default=False)
    overdue_resolve = models.BooleanField(_("resolved late"), default=False)
    # When it first became late (the first missed deadline), for "overdue for" on the board:
    # an escalation gives the case a new deadline, but the lateness started at the missed one.
    late_since = models.DateTimeField(_("late since"), null=True, blank=True)
    # Frozen once a reporter answers 不满意: a case only closes on a good rating, so the
    # satisfaction rate counts first answers, not the last one (hemei/dashboards/selectors.py).
    rated_unsatisfied = models.BooleanField(_("rated unsatisfied once"), default=False)
    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    created_at = models.DateTimeField(_("submitted"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="duplicates",
    )
    # A client-chosen key (form render, API header, Open311 token): the same submission sent
    # twice by the same account creates one case (the double tap on a slow phone network).
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep reads only overdue open cases: cost follows the overdue, not the table.
            models.Index(fields=["status", "accept_by"], name="cases_case_status_accept"),
            models.Index(fields=["status", "resolve_by"], name="cases_case_status_resolve"),
            models.Index(fields=["county", "created_at"], name="cases_case_county_created"),
            # A grid or village worklist, newest first (access_cases filters by region id).
            models.Index(fields=["region", "-created_at", "-id"], name="cases_case_region_created"),
            # A county's list, newest first (access_cases filters a whole county by county_id).
            models.Index(fields=["county", "-created_at", "-id"], name="cases_case_county_newest"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="cases_case_idempotency"),
        ]

    # Set on the instance `case_submit` returns when an idempotency key replayed an earlier case.
    replayed = False

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def county_code(self) -> str:
        return self.number[:6]


class CaseEvent(WorkflowEvent):
    """One step on a case's timeline. Append-only: the model and queryset refuse update/delete."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        ACCEPTED = "accepted", _("accepted")
        STARTED = "started", _("work started")
        RESOLVED = "resolved", _("resolved")
        RATED = "rated", _("rated")
        REOPENED = "reopened", _("reopened")
        CLOSED = "closed", _("closed")
        REJECTED = "rejected", _("rejected")
        ESCALATED = "escalated", _("escalated")
        REMINDED = "reminded", _("reminded")
        MERGED = "merged", _("merged into another case")
        TRANSFERRED = "transferred", _("transferred")
        EXTENSION_ASKED = "extension_asked", _("extension asked")
        EXTENSION_GRANTED = "extension_granted", _("extension granted")
        EXTENSION_REFUSED = "extension_refused", _("extension refused")
        PHOTO = "photo", _("photo added")
        TABLED = "tabled", _("put to a village meeting")
        DECIDED = "decided", _("decided by a village meeting")
        ORDERED = "ordered", _("publication ordered by the township")
        ARRIVED = "arrived", _("arrived on site")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    @property
    def from_status(self) -> str:  # the name the API and older code read
        return self.from_state

    @property
    def to_status(self) -> str:
        return self.to_state

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class DeadlineExtension(models.Model):
    """A request to move a case's resolve-by, decided by the tier above (history as rows: a
    decided request is never edited again; a second request is a new row)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        GRANTED = "granted", _("granted")
        REFUSED = "refused", _("refused")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="extensions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT,
                                 related_name="+")
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    old_resolve_by = models.DateTimeField(_("deadline before"))
    until = models.DateTimeField(_("new deadline asked"))
    reason = models.TextField(_("reason"), max_length=1000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        ordering = ["-asked_at", "-id"]
        constraints = [
            # At most one open request per case: a second ask waits for the first decision.
            models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"),
                                    name="cases_extension_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.until:%Y-%m-%d} ({self.status})"


class ExtensionEvent(WorkflowEvent):
    """An extension request decided (`hemei.cases.workflow.EXTENSION`); the case's own timeline
    shows the same decision as a case event."""

    extension = models.ForeignKey(DeadlineExtension, verbose_name=_("deadline extension"),
                                  on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("deadline extension event")
        verbose_name_plural = _("deadline extension events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.extension_id} {self.kind}"


def _photo_path(instance: CasePhoto, filename: str) -> str:
    # Never the uploader's file name (it can carry personal data); a random name per photo.
    import uuid

    return f"cases/{instance.case.county_code}/{uuid.uuid4().hex}.jpg"


class CasePhoto(models.Model):
    """A photo of the problem (from the reporter) or of the result (from the person resolving
    it). Stored re-encoded as JPEG without EXIF, so no GPS position or camera serial leaks."""

    class Stage(models.TextChoices):
        REPORTED = "reported", _("the problem")
        RESOLVED = "resolved", _("the result")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    image = models.ImageField(_("photo"), upload_to=_photo_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} {self.pk}"


class CaseHook(models.Model):
    """An outgoing webhook: every event of the cases `owner` submitted (the API account of a
    county's 12345 hotline, say) is POSTed to `url`, signed with `secret` (`hemei.core.signing`),
    in event order. `cursor` is the last event delivered; a failed delivery is retried with
    back-off (`retry_at`) and holds back the later ones, so the receiver sees the order."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account followed"), on_delete=models.PROTECT,
                              related_name="case_hooks")
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing key"), max_length=64)
    active = models.BooleanField(_("active"), default=True)
    cursor = models.BigIntegerField(_("last event delivered"), default=0)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    retry_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("case webhook")
        verbose_name_plural = _("case webhooks")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.pk} → {self.url}"


class CaseHookAttempt(models.Model):
    """One delivery attempt (history as rows): which event, the answer's status or the error."""

    hook = models.ForeignKey(CaseHook, on_delete=models.CASCADE, related_name="attempts")
    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # the HTTP status, None: no answer
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["hook", "-at"], name="cases_hookattempt_recent")]

    def __str__(self) -> str:
        return f"{self.hook_id}:{self.event_id} {self.status or self.error}"

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

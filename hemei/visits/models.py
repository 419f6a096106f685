"""Household visits (入户走访), patrols (巡查) and return-to-poverty monitoring (防返贫动态监测).

Every row that belongs to a place carries `region` (the grid) and `county` (the tenant key), so
scoping is a path filter like everywhere else. Writes go through `hemei.visits.services` and
`hemei.visits.monitoring`; step deadlines climb tiers through the shared sweep (`hemei.visits.sweep`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.cases.models import Case
from hemei.core import sweeps
from hemei.core.models import AppendOnlyModel
from hemei.regions.models import Household, Region


class Visit(models.Model):
    """One visit to a household, with the topics of the visit form (seed 002): 看病就医,
    住房饮水安全, 收入支出, 子女读书就业, needs. An absent household is phoned instead."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="visits"
    )
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="visits")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visited by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    visited_at = models.DateTimeField(_("visited at"), default=timezone.now)
    present = models.BooleanField(_("household present"), default=True)
    phone_contact = models.CharField(_("person phoned"), max_length=50, blank=True)
    phone_outcome = models.TextField(_("outcome of the phone call"), max_length=1000, blank=True)
    health_ok = models.BooleanField(_("health care covered"), default=True)
    health_note = models.TextField(_("health care"), max_length=1000, blank=True)
    housing_safe = models.BooleanField(_("housing safe"), default=True)
    housing_note = models.TextField(_("housing safety"), max_length=1000, blank=True)
    water_safe = models.BooleanField(_("drinking water safe"), default=True)
    water_note = models.TextField(_("drinking-water safety"), max_length=1000, blank=True)
    income_per_capita = models.DecimalField(
        _("per-capita yearly income (estimate)"), null=True, blank=True, max_digits=12, decimal_places=2
    )
    heavy_spending = models.BooleanField(_("heavy rigid spending"), default=False)
    heavy_spending_amount = models.DecimalField(
        _("rigid spending amount"), null=True, blank=True, max_digits=12, decimal_places=2
    )
    income_note = models.TextField(_("income and spending"), max_length=1000, blank=True)
    schooling_ok = models.BooleanField(_("children's schooling assured"), default=True)
    schooling_note = models.TextField(_("children's schooling"), max_length=1000, blank=True)
    jobs_note = models.TextField(_("jobs"), max_length=1000, blank=True)
    needs = models.TextField(_("needs"), max_length=2000, blank=True)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["region", "visited_at"], name="visits_visit_region_at"),
            models.Index(fields=["household", "visited_at"], name="visits_visit_household_at"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.visited_at:%Y-%m-%d}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class VisitProblem(models.Model):
    """A problem found on a visit, put on the ledger as a case (source: visit)."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="problems")
    case = models.OneToOneField(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="visit_problem")

    class Meta:
        verbose_name = _("problem found on a visit")
        verbose_name_plural = _("problems found on visits")

    def __str__(self) -> str:
        return f"{self.visit_id} → {self.case_id}"


class Patrol(models.Model):
    """A patrol of a grid: route, start and end, what was seen."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="patrols")
    patroller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("patrolled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    route = models.TextField(_("route"), max_length=1000)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["region", "started_at"], name="visits_patrol_region_at")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class PatrolFinding(models.Model):
    """One thing found on a patrol; a problem becomes a case (source: patrol)."""

    patrol = models.ForeignKey(Patrol, verbose_name=_("patrol"), on_delete=models.PROTECT, related_name="findings")
    text = models.TextField(_("finding"), max_length=1000)
    case = models.OneToOneField(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="patrol_finding"
    )

    class Meta:
        verbose_name = _("patrol finding")
        verbose_name_plural = _("patrol findings")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:50]


class PovertyThreshold(models.Model):
    """The yearly monitoring income line of a province (per capita, yuan a year). Keyed by the
    2-digit province code of the statistical region codes (14 = 山西): a county's tree need not
    contain its province as a region row."""

    province_code = models.CharField(_("province code"), max_length=2)
    province_name = models.CharField(_("province"), max_length=20, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("threshold (yuan per person a year)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("monitoring income threshold")
        verbose_name_plural = _("monitoring income thresholds")
        ordering = ["-year", "province_code"]
        constraints = [models.UniqueConstraint(fields=["province_code", "year"], name="visits_threshold_year")]

    def __str__(self) -> str:
        return f"{self.province_name or self.province_code} {self.year}: {self.amount}"


def new_public_id() -> str:
    return secrets.token_urlsafe(16)


class Monitoring(models.Model):
    """A household under return-to-poverty monitoring and the step it is at."""

    class Kind(models.TextChoices):
        UNSTABLE = "unstable", _("unstable out-of-poverty household")
        EDGE = "edge", _("marginal household at risk of poverty")
        SUDDEN = "sudden", _("household in sudden severe hardship")

    class Risk(models.TextChoices):
        ILLNESS = "illness", _("illness")
        SCHOOLING = "schooling", _("schooling")
        DISABILITY = "disability", _("disability")
        DISASTER = "disaster", _("disaster")
        ACCIDENT = "accident", _("accident")
        BUSINESS = "business", _("failed farming or business")
        EMPLOYMENT = "employment", _("unstable work")
        LABOUR = "labour", _("lack of labour")
        OTHER = "other", _("other")

    class Source(models.TextChoices):
        SELF = "self", _("self-declaration")
        VISIT = "visit", _("grid worker's visit")
        DEPARTMENT = "department", _("department list")
        STAFF = "staff", _("cadre check")

    class Step(models.TextChoices):
        VERIFY = "verify", _("home verification")
        REVIEW = "review", _("village review")
        NOTICE = "notice", _("public notice")
        TOWNSHIP = "township", _("township review")
        COUNTY = "county", _("county decision")
        MONITORED = "monitored", _("under monitoring")
        NOT_INCLUDED = "not_included", _("not included")
        REMOVED = "removed", _("risk removed")

    Tier = sweeps.Tier

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="monitorings"
    )
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="monitorings")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, blank=True)
    risks = models.JSONField(_("risk types"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    department = models.CharField(_("department"), max_length=100, blank=True)
    # Risk detail (illness, accident…): health details live here and never on the public notice.
    detail = models.TextField(_("situation"), max_length=2000, blank=True)
    income_per_capita = models.DecimalField(
        _("per-capita yearly income"), null=True, blank=True, max_digits=12, decimal_places=2
    )
    has_labour = models.BooleanField(_("has labour capacity"), default=True)
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), null=True, blank=True, on_delete=models.PROTECT, related_name="monitorings"
    )
    step = models.CharField(_("step"), max_length=12, choices=Step.choices, default=Step.VERIFY)
    step_started_at = models.DateTimeField(_("step started"), default=timezone.now)
    step_due = models.DateTimeField(_("step due"), null=True, blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.VILLAGE)
    was_overdue = models.BooleanField(_("was overdue"), default=False)  # frozen for statistics
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    notice_from = models.DateField(_("notice from"), null=True, blank=True)
    notice_until = models.DateField(_("notice until"), null=True, blank=True)
    notice_text = models.TextField(_("notice text"), max_length=1000, blank=True)
    # The notice's public address: random, so notices cannot be walked by counting ids.
    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=new_public_id, editable=False)
    # The whole procedure's clock (normally 15 days from the lead), escalated like a step's.
    procedure_due = models.DateTimeField(_("procedure due"), null=True, blank=True)
    procedure_tier = models.CharField(_("procedure tier"), max_length=10, choices=Tier.choices, default=Tier.VILLAGE)
    procedure_overdue = models.BooleanField(_("procedure was overdue"), default=False)  # frozen
    procedure_escalated_at = models.DateTimeField(_("procedure escalated"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    removed_at = models.DateTimeField(_("risk removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("monitored household")
        verbose_name_plural = _("monitored households")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["step", "step_due"], name="visits_monitoring_step_due"),
            models.Index(fields=["step", "procedure_due"], name="visits_monitoring_proc_due"),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        return f"M{self.pk:06d}" if self.pk else "M-new"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    def risk_labels(self) -> list[str]:
        return [str(Monitoring.Risk(r).label) for r in self.risks if r in Monitoring.Risk.values]


OPEN_STEPS = (
    Monitoring.Step.VERIFY,
    Monitoring.Step.REVIEW,
    Monitoring.Step.NOTICE,
    Monitoring.Step.TOWNSHIP,
    Monitoring.Step.COUNTY,
)


class MonitoringEvent(AppendOnlyModel):
    """One step on a monitoring record's timeline (append-only)."""

    monitoring = models.ForeignKey(
        Monitoring, verbose_name=_("monitored household"), on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20)
    from_step = models.CharField(_("from step"), max_length=12, blank=True)
    to_step = models.CharField(_("to step"), max_length=12, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("monitoring event")
        verbose_name_plural = _("monitoring events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.monitoring_id} {self.kind}"


class AssistanceMeasure(models.Model):
    monitoring = models.ForeignKey(
        Monitoring, verbose_name=_("monitored household"), on_delete=models.PROTECT, related_name="measures"
    )
    measure = models.CharField(_("measure"), max_length=200)
    department = models.CharField(_("department"), max_length=100)
    date = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assistance measure")
        verbose_name_plural = _("assistance measures")
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return self.measure


class IncomeCheck(models.Model):
    """A check of the household's income; risk removal needs ≥ 6 months of stable checks."""

    monitoring = models.ForeignKey(
        Monitoring, verbose_name=_("monitored household"), on_delete=models.PROTECT, related_name="income_checks"
    )
    checked_on = models.DateField(_("checked on"))
    income_per_capita = models.DecimalField(_("per-capita yearly income"), max_digits=12, decimal_places=2)
    stable = models.BooleanField(_("income stable"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("income check")
        verbose_name_plural = _("income checks")
        ordering = ["checked_on", "id"]

    def __str__(self) -> str:
        return f"{self.checked_on} {self.income_per_capita}"

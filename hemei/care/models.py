"""Elderly care (智慧养老): elders and their care profile, work orders, duty, visit plans,
health readings, institutions and their monthly ratings.

Every row that belongs to a place carries `region` (the elder's grid, an institution's
village) and `county` (the tenant key). A care work order *is* a `hemei.cases` Case (source
device or villager, an eldercare category with minute deadlines); `WorkOrder` only adds what
care needs beside it (the elder, the carer step before the case's own tiers, the arrival).
Writes go through `hemei.care.services`; deadlines climb through `hemei.care.sweep` and the
cases sweeper.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.cases.models import Case
from hemei.core import sweeps
from hemei.core.models import WorkflowEvent
from hemei.regions.models import Region, Resident


class Level(models.TextChoices):
    """GB/T 42195-2022 老年人能力评估规范: the level from the 90-point total score."""

    INTACT = "intact", _("intact (能力完好)")
    MILD = "mild", _("mildly impaired (轻度失能)")
    MODERATE = "moderate", _("moderately impaired (中度失能)")
    SEVERE = "severe", _("severely impaired (重度失能)")
    TOTAL = "total", _("totally impaired (完全失能)")


# (lowest score, level), highest first: 90 完好, 66–89 轻度, 46–65 中度, 30–45 重度, 0–29 完全丧失.
LEVEL_BANDS: tuple[tuple[int, str], ...] = (
    (90, Level.INTACT), (66, Level.MILD), (46, Level.MODERATE), (30, Level.SEVERE), (0, Level.TOTAL),
)
MAX_SCORE = 90


def level_for(score: int) -> str:
    """The GB/T 42195-2022 level of a total score 0–90 (ValueError outside)."""
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= MAX_SCORE:
        raise ValueError(f"an ability score is a whole number from 0 to {MAX_SCORE}")
    return next(level for low, level in LEVEL_BANDS if score >= low)


class Living(models.TextChoices):
    ALONE = "alone", _("living alone (独居)")
    EMPTY_NEST = "empty_nest", _("empty nest (空巢)")
    LEFT_BEHIND = "left_behind", _("left behind (留守)")
    WITH_FAMILY = "with_family", _("with family")


class ServiceItem(models.TextChoices):
    """GB/T 43153-2023 居家养老上门服务基本规范: the service items of a care agreement."""

    DAILY_CARE = "daily_care", _("daily living care (生活照料)")
    BASIC_NURSING = "basic_nursing", _("basic nursing (基础照护)")
    HEALTH = "health", _("health management (健康管理)")
    VISITS = "visits", _("visits and care (探访关爱)")
    COMFORT = "comfort", _("emotional comfort (精神慰藉)")
    ERRANDS = "errands", _("errands on behalf (委托代办)")
    ADAPTATION = "adaptation", _("home adaptation (适老化改造)")


class Elder(models.Model):
    """A resident with a care profile. The ability level follows the latest assessment;
    `health_notes` is sensitive: pages show it masked and reveal it with an audit row."""

    resident = models.OneToOneField(Resident, verbose_name=_("resident"), on_delete=models.PROTECT,
                                    related_name="elder")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="elders")
    living = models.CharField(_("living situation"), max_length=12, choices=Living.choices, default=Living.WITH_FAMILY)
    ability_score = models.PositiveSmallIntegerField(_("ability score"), null=True, blank=True)
    ability_level = models.CharField(_("ability level"), max_length=10, choices=Level.choices, blank=True)
    assessed_on = models.DateField(_("assessed on"), null=True, blank=True)
    reassess_on = models.DateField(_("reassess on"), null=True, blank=True)
    visits_per_week = models.PositiveSmallIntegerField(_("home visits a week"), default=0)
    monitored = models.BooleanField(_("24-hour health monitoring"), default=False)
    has_call_box = models.BooleanField(_("has a call box"), default=False)
    health_notes = models.TextField(_("health notes"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("elder")
        verbose_name_plural = _("elders")
        ordering = ["region", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ability_score__isnull=True) | models.Q(ability_score__lte=90),
                                   name="care_elder_score_range"),
        ]

    def __str__(self) -> str:
        return f"elder {self.pk}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class Assessment(models.Model):
    """One ability assessment (history as rows: a reassessment is a new row)."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.PROTECT, related_name="assessments")
    score = models.PositiveSmallIntegerField(_("total score"))
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    assessed_on = models.DateField(_("assessed on"))
    reassess_on = models.DateField(_("reassess on"))
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assessor"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("ability assessment")
        verbose_name_plural = _("ability assessments")
        ordering = ["-assessed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=90), name="care_assessment_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.assessed_on} {self.score}"


class EmergencyContact(models.Model):
    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=20)

    class Meta:
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")
        ordering = ["elder", "id"]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.relation}"


class Institution(models.Model):
    class Kind(models.TextChoices):
        HOME = "home", _("care home (养老机构)")
        DAY_CENTRE = "day_centre", _("day-care centre (日间照料中心)")
        WELLNESS = "wellness", _("care and wellness centre (康养服务中心)")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT,
                               related_name="care_institutions")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    area_m2 = models.PositiveIntegerField(_("floor area (m²)"), default=0)
    beds = models.PositiveIntegerField(_("beds"), default=0)
    occupied = models.PositiveIntegerField(_("beds occupied"), default=0)
    # GB/T 37276-2018 养老机构等级划分与评定: 一级 … 五级 (0: not rated).
    grade = models.PositiveSmallIntegerField(_("GB/T 37276 level"), default=0)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("care-centre lead"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("care institution")
        verbose_name_plural = _("care institutions")
        ordering = ["county", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(occupied__lte=models.F("beds")), name="care_inst_occupied_beds"),
            models.CheckConstraint(condition=models.Q(grade__lte=5), name="care_inst_grade_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def occupancy(self) -> float:
        return self.occupied / self.beds if self.beds else 0.0


class StaffMember(models.Model):
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="staff")
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=30, blank=True)
    certificate = models.CharField(_("certificate (养老护理员)"), max_length=50, blank=True)
    certified_until = models.DateField(_("certified until"), null=True, blank=True)

    class Meta:
        verbose_name = _("care staff member")
        verbose_name_plural = _("care staff")
        ordering = ["institution", "id"]

    def __str__(self) -> str:
        return self.name


class CareAgreement(models.Model):
    """The services agreed with an elder (or the family), GB/T 43153-2023 items."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.PROTECT, related_name="agreements")
    institution = models.ForeignKey(Institution, verbose_name=_("provider"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="agreements")
    items = models.JSONField(_("service items"), default=list)
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"))
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("care agreement")
        verbose_name_plural = _("care agreements")
        ordering = ["-signed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.signed_on}"

    def item_labels(self) -> list[str]:
        return [str(ServiceItem(i).label) for i in self.items if i in ServiceItem.values]


class DutyShift(models.Model):
    """A carer on duty for an area (a village or a township) from `starts_at` to `ends_at`;
    the duty roster covers 24 hours a day."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT, related_name="care_shifts")
    carer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("carer"), on_delete=models.PROTECT,
                              related_name="care_shifts")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="care_shift_ends_starts")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="care_shift_order"),
        ]

    def __str__(self) -> str:
        return f"{self.carer_id} {self.starts_at:%m-%d %H:%M}–{self.ends_at:%H:%M}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class WorkOrder(models.Model):
    """What care adds to its case: the elder, the step before the case's tiers (the carer on
    duty, then the care-centre lead: `hemei.care.sweep`) and the arrival on site."""

    class Step(models.TextChoices):
        CARER = "carer", _("carer on duty")
        LEAD = "lead", _("care-centre lead")
        TIERS = "tiers", _("township and county")  # the case's own escalation (hemei.cases.sweep)
        ANSWERED = "answered", _("answered")

    case = models.OneToOneField(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="care_order")
    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.PROTECT, related_name="orders")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="care_orders")
    step = models.CharField(_("step"), max_length=10, choices=Step.choices, default=Step.CARER)
    respond_by = models.DateTimeField(_("carer to respond by"))
    carer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("carer on duty"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    # The device's message id (or the phone page's submission key): the same press twice opens one order.
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("care work order")
        verbose_name_plural = _("care work orders")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["step", "respond_by"], name="care_order_step_respond")]
        constraints = [
            models.UniqueConstraint(fields=["elder", "source_ref"], condition=~models.Q(source_ref=""),
                                    name="care_order_source_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class Metric(models.TextChoices):
    HEART_RATE = "heart_rate", _("heart rate (/min)")
    SYSTOLIC = "systolic", _("systolic pressure (mmHg)")
    DIASTOLIC = "diastolic", _("diastolic pressure (mmHg)")
    GLUCOSE = "glucose", _("blood glucose (mmol/L)")
    SPO2 = "spo2", _("SpO₂ (%)")
    FALL = "fall", _("fall")
    DOOR_IDLE = "door_idle", _("door not opened (hours)")


class Reading(models.Model):
    """One health reading (or event: a fall, a door not opened for hours). Sensitive."""

    class Source(models.TextChoices):
        DEVICE = "device", _("device")
        HTTP = "http", _("form or API")

    class Flag(models.TextChoices):
        NORMAL = "", _("in range")
        LOW = "low", _("low")
        HIGH = "high", _("high")

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.PROTECT, related_name="readings")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(_("metric"), max_length=12, choices=Metric.choices)
    value = models.FloatField(_("value"))
    at = models.DateTimeField(_("measured at"))
    flag = models.CharField(_("out of range"), max_length=4, choices=Flag.choices, blank=True, default="")
    source = models.CharField(_("source"), max_length=6, choices=Source.choices)
    device_code = models.CharField(_("device"), max_length=64, blank=True)
    message_id = models.CharField(_("message id"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("health reading")
        verbose_name_plural = _("health readings")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["elder", "metric", "at"], name="care_reading_elder_metric_at")]
        constraints = [
            models.UniqueConstraint(fields=["elder", "message_id"], condition=~models.Q(message_id=""),
                                    name="care_reading_message_once"),
        ]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.metric} {self.at:%m-%d %H:%M}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class Threshold(models.Model):
    """An elder's own range for one metric (the defaults are HEMEI_CARE_THRESHOLDS)."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="thresholds")
    metric = models.CharField(_("metric"), max_length=12, choices=Metric.choices)
    low = models.FloatField(_("lowest normal"), null=True, blank=True)
    high = models.FloatField(_("highest normal"), null=True, blank=True)

    class Meta:
        verbose_name = _("health threshold")
        verbose_name_plural = _("health thresholds")
        constraints = [models.UniqueConstraint(fields=["elder", "metric"], name="care_threshold_once")]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.metric} {self.low}–{self.high}"


class CareVisit(models.Model):
    """A home visit due under an elder's visit plan; done by a carer, or missed and escalated."""

    class Status(models.TextChoices):
        DUE = "due", _("due")
        DONE = "done", _("done")
        MISSED = "missed", _("missed")

    Tier = sweeps.Tier

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.PROTECT, related_name="visits")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="care_visits")
    due_on = models.DateField(_("due on"))
    due_by = models.DateTimeField(_("due by"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DUE)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.VILLAGE)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("visited by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("care visit")
        verbose_name_plural = _("care visits")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_by"], name="care_visit_status_due")]
        constraints = [models.UniqueConstraint(fields=["elder", "due_on"], name="care_visit_once_a_day")]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.due_on}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class CareVisitEvent(WorkflowEvent):
    visit = models.ForeignKey(CareVisit, verbose_name=_("care visit"), on_delete=models.PROTECT,
                              related_name="events")

    class Meta:
        verbose_name = _("care visit event")
        verbose_name_plural = _("care visit events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.kind}"


class WorkOrderEvent(WorkflowEvent):
    """A work order's step before its case's tiers (`hemei.care.workflow.ORDER`)."""

    order = models.ForeignKey(WorkOrder, verbose_name=_("care work order"), on_delete=models.PROTECT,
                              related_name="events")

    class Meta:
        verbose_name = _("care work order event")
        verbose_name_plural = _("care work order events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class NormsCheck(models.Model):
    """One month's service-norms checklist of an institution: item → met."""

    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="norms_checks")
    month = models.DateField(_("month"))  # the first day
    items = models.JSONField(_("items met"), default=dict)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("checked by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("service-norms check")
        verbose_name_plural = _("service-norms checks")
        constraints = [models.UniqueConstraint(fields=["institution", "month"], name="care_norms_month_once")]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.month:%Y-%m}"

    @property
    def share_met(self) -> float:
        return sum(1 for v in self.items.values() if v) / len(self.items) if self.items else 0.0


class OperatorRating(models.Model):
    """A monthly performance rating of an operator paid by performance (a care institution, a
    sewage operator …), computed by `hemei.care.rating` from inputs in 0–1 and the weights of
    HEMEI_RATING_WEIGHTS[kind]; the reward follows the grade. A rerun is a new row."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("operator kind"), max_length=30)
    operator = models.CharField(_("operator"), max_length=100)
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="ratings")
    month = models.DateField(_("month"))
    inputs = models.JSONField(_("inputs"), default=dict)
    weights = models.JSONField(_("weights"), default=dict)
    score = models.FloatField(_("score"))
    grade = models.CharField(_("grade"), max_length=5)
    reward = models.DecimalField(_("reward (元)"), max_digits=12, decimal_places=2)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("operator rating")
        verbose_name_plural = _("operator ratings")
        ordering = ["-month", "-score", "id"]

    def __str__(self) -> str:
        return f"{self.operator} {self.month:%Y-%m} {self.grade}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

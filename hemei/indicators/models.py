"""Indicator data: the villages' period reports (entered figures, approved by the township),
the facts every figure is computed from, and the summary rows the dashboards read.

- `Report` + `ReportValue`: one village's form for one month. Approved reports are locked;
  a correction is a new version (`supersedes`), approved like the first, and the approved
  version it replaces becomes `superseded` — history is rows.
- `Fact`: one number per (lowest region, period, data element): a grid or a village. Computed
  elements come from the ledgers (`hemei.indicators.sources`), entered ones from the approved
  report. Only non-zero values are kept.
- `Summary`: the same numbers summed over every region's subtree, for each period the rollup
  keeps. Dashboards read these rows only; `hemei.indicators.rollup` keeps them equal to the
  sum of the facts (incrementally, and `hemei rollup --rebuild`; `hemei verify` compares).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import VillageScoped, WorkflowEvent
from hemei.regions.models import Region

VALUE_DIGITS, VALUE_PLACES = 20, 4


class Report(VillageScoped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        SUPERSEDED = "superseded", _("superseded by a correction")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT,
                                related_name="indicator_reports")
    period = models.CharField(_("period"), max_length=7)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    supersedes = models.ForeignKey("self", verbose_name=_("corrects"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="corrections")
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)

    class Meta:
        verbose_name = _("period report")
        verbose_name_plural = _("period reports")
        ordering = ["village", "period", "version"]
        constraints = [
            models.UniqueConstraint(fields=["village", "period", "version"], name="indicators_report_version"),
            # At most one version being worked on, and one in force, per village and month.
            models.UniqueConstraint(fields=["village", "period"], condition=models.Q(status__in=("draft", "submitted")),
                                    name="indicators_one_open_report"),
            models.UniqueConstraint(fields=["village", "period"], condition=models.Q(status="approved"),
                                    name="indicators_one_approved_report"),
        ]
        indexes = [models.Index(fields=["status", "village"])]

    def __str__(self) -> str:
        return f"{self.village_id} {self.period} v{self.version}"


class ReportValue(models.Model):
    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="values")
    element = models.CharField(_("data element"), max_length=40)
    value = models.DecimalField(_("value"), max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)

    class Meta:
        verbose_name = _("reported value")
        verbose_name_plural = _("reported values")
        constraints = [
            models.UniqueConstraint(fields=["report", "element"], name="indicators_one_value_per_element"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="indicators_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.element}={self.value}"


class ReportEvent(WorkflowEvent):
    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.PROTECT, related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("report event")
        verbose_name_plural = _("report events")


class Fact(models.Model):
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=7)
    element = models.CharField(_("data element"), max_length=40)
    value = models.DecimalField(_("value"), max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)

    class Meta:
        verbose_name = _("fact")
        verbose_name_plural = _("facts")
        constraints = [models.UniqueConstraint(fields=["region", "period", "element"], name="indicators_one_fact")]
        indexes = [models.Index(fields=["period", "element"])]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period} {self.element}={self.value}"


class Summary(models.Model):
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    # The region's path and depth, copied so that "a region and its children" is one indexed
    # range read without a join (regions do not move; `hemei rollup --rebuild` re-copies them).
    path = models.CharField(_("path"), max_length=255)
    depth = models.PositiveSmallIntegerField(_("depth"))
    period = models.CharField(_("period"), max_length=7)
    element = models.CharField(_("data element"), max_length=40)
    value = models.DecimalField(_("value"), max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        constraints = [models.UniqueConstraint(fields=["region", "period", "element"], name="indicators_one_summary")]
        indexes = [models.Index(fields=["period", "depth", "path"], name="indicators_summary_read")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period} {self.element}={self.value}"


class RollupState(models.Model):
    """One row: when the sweep last refreshed the open periods. Locked while a refresh runs,
    so two refreshes never apply the same difference twice."""

    name = models.CharField(max_length=20, unique=True, default="default")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return self.name


class Place(models.Model):
    """Where a village is on the map: a point and an outline (a list of [lat, lng]), shipped
    with the demo or entered by the county; the map never fetches anything at run time."""

    region = models.OneToOneField(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="place")
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    outline = models.JSONField(_("outline"), default=list, blank=True)

    class Meta:
        verbose_name = _("place on the map")
        verbose_name_plural = _("places on the map")

    def __str__(self) -> str:
        return f"{self.region_id} {self.latitude},{self.longitude}"

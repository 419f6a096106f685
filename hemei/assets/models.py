"""Collective assets of a village (村集体资产) and the township's idle-asset database.

An `Asset` is one thing the village collective owns: land, a building, equipment. Its
`status` says whether it is used, idle, leased, contributed as shares or being revitalised;
the township's idle-asset database is a scoped query over these rows, not a second table.
Money is `Decimal` (yuan, two places); areas and quantities are `Decimal` with their unit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import AppendOnlyModel, VillageScoped, WorkflowEvent
from hemei.regions.models import Region


class Asset(VillageScoped):
    class Category(models.TextChoices):
        # The three kinds of collective assets in the 2016 reform opinion (DOMAIN.md, system 11).
        RESOURCE = "resource", _("resource assets (资源性)")
        OPERATING = "operating", _("operating assets (经营性)")
        NON_OPERATING = "non_operating", _("non-operating assets (非经营性)")

    class Status(models.TextChoices):
        IN_USE = "in_use", _("in use")
        IDLE = "idle", _("idle")
        LEASED = "leased", _("leased")
        SHARES = "shares", _("contributed as shares")
        REVITALISING = "revitalising", _("being revitalised")

    class Unit(models.TextChoices):
        SQM = "sqm", _("m²")
        MU = "mu", _("mu (亩)")
        ROOM = "room", _("rooms")
        PIECE = "piece", _("pieces")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="assets")
    code = models.CharField(_("asset code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    kind = models.CharField(_("type"), max_length=40, blank=True)  # e.g. 校舍, 厂房, 耕地, 农机
    location = models.CharField(_("location"), max_length=200, blank=True)
    # WGS84, for the township map; optional because many assets are only known by address.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    area = models.DecimalField(_("area or quantity"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.SQM)
    original_value = models.DecimalField(_("original value (yuan)"), max_digits=14, decimal_places=2, default=0)
    net_value = models.DecimalField(_("net value (yuan)"), max_digits=14, decimal_places=2, default=0)
    ownership = models.CharField(_("ownership"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.IN_USE)
    acquired = models.DateField(_("acquired"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("collective asset")
        verbose_name_plural = _("collective assets")
        ordering = ["village", "code"]
        constraints = [
            models.UniqueConstraint(fields=["village", "code"], name="asset_code_per_village"),
            models.CheckConstraint(condition=models.Q(area__gte=0), name="asset_area_not_negative"),
            models.CheckConstraint(
                condition=models.Q(original_value__gte=0) & models.Q(net_value__gte=0), name="asset_values_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["county", "status", "category"], name="asset_county_status"),
            models.Index(fields=["village", "status"], name="asset_village_status"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def _photo_path(instance: AssetPhoto, filename: str) -> str:
    # Never the uploader's file name (it can carry personal data); a random name per photo.
    import uuid

    return f"assets/{instance.asset.county_code}/{uuid.uuid4().hex}.jpg"


class AssetPhoto(models.Model):
    """A photo of the asset, stored re-encoded as JPEG without EXIF (`hemei.cases.photos`):
    a phone photo's GPS tag would place the photographer, not the asset."""

    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=_photo_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("asset photo")
        verbose_name_plural = _("asset photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.asset_id} photo {self.pk}"


class AssetStatusChange(WorkflowEvent, VillageScoped):
    """One row per status change of an asset, the history of the `assets.asset` workflow
    (`hemei.assets.workflow`); the first row (kind `registered`, from "") is its registration.
    The asset's `status` field is the last row's `to_state`; `note` is the reason given."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="status_changes")
    # The base's state columns with the asset's choices, so a page shows their labels.
    from_state = models.CharField(_("previous status"), max_length=20, choices=Asset.Status.choices, blank=True)
    to_state = models.CharField(_("new status"), max_length=20, choices=Asset.Status.choices, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("asset status change")
        verbose_name_plural = _("asset status changes")

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.from_state or '-'} → {self.to_state}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The asset's county and village (the rows are scoped by them): `transition()` writes
        # the row knowing only the asset.
        if self.county_id is None or self.village_id is None:
            self.county_id, self.village_id = self.asset.county_id, self.asset.village_id
        super().save(*args, **kwargs)


class RevitalisationProject(models.Model):
    """A "1+3+N" revitalisation project (盘活项目): one or more idle assets put to use along a
    path, with a partner, the meeting decision behind it and its income.

    `region` is the village, or the township for a project across villages (the township's
    "1" platform); `county` is the tenant key."""

    class Path(models.TextChoices):
        # The three conversion paths of the seed (下栅乡 "1+3+N"), then the ordinary ones.
        TENGLONG = "tenglong", _("腾笼换鸟 (new use for old premises)")
        SCHOOL_ENTERPRISE = "school_enterprise", _("校企联姻 (school–enterprise partnership)")
        CROSSOVER = "crossover", _("跨界融合 (cross-sector integration)")
        LEASE = "lease", _("lease")
        SHARES = "shares", _("shares")
        COOPERATION = "cooperation", _("cooperation")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        RUNNING = "running", _("under way")
        ENDED = "ended", _("ended")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village or township"), on_delete=models.PROTECT,
                               related_name="revitalisation_projects")
    name = models.CharField(_("project"), max_length=120)
    path = models.CharField(_("path"), max_length=20, choices=Path.choices)
    partner = models.CharField(_("partner"), max_length=120, blank=True)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    assets = models.ManyToManyField(Asset, verbose_name=_("assets"), related_name="projects", blank=True)
    decision_item = models.ForeignKey(
        "meetings.AgendaItem", verbose_name=_("meeting decision"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    decision_summary = models.TextField(_("decision"), max_length=2000, blank=True)
    expected_annual_income = models.DecimalField(_("expected annual income (yuan)"), max_digits=14,
                                                 decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    started_on = models.DateField(_("started"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("revitalisation project")
        verbose_name_plural = _("revitalisation projects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(expected_annual_income__gte=0),
                                   name="project_expected_income_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class ProjectEvent(WorkflowEvent):
    """The history of a project's status (`assets.project` workflow)."""

    project = models.ForeignKey(RevitalisationProject, verbose_name=_("project"), on_delete=models.PROTECT,
                                related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("project event")
        verbose_name_plural = _("project events")

    def __str__(self) -> str:
        return f"{self.project_id} {self.kind}"


class ProjectIncome(AppendOnlyModel):
    """Actual income of a project in one year. Append-only: a correction is a new row for the
    same year that `corrects` the row it replaces; the year's figure is the row nobody corrects."""

    project = models.ForeignKey(RevitalisationProject, verbose_name=_("project"), on_delete=models.PROTECT,
                                related_name="incomes")
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("actual income (yuan)"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    corrects = models.OneToOneField("self", verbose_name=_("corrects"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="corrected_by")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("project income")
        verbose_name_plural = _("project incomes")
        ordering = ["year", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name="project_income_not_negative")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.year}: {self.amount}"

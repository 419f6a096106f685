"""Collective assets of a village (村集体资产) and the township's idle-asset database.

An `Asset` is one thing the village collective owns: land, a building, equipment. Its
`status` says whether it is used, idle, leased, contributed as shares or being revitalised;
the township's idle-asset database is a scoped query over these rows, not a second table.
Money is `Decimal` (yuan, two places); areas and quantities are `Decimal` with their unit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import VillageScoped
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

"""Policy matching (政策明白卡, seed 002): 南庄镇 works out which policies each household can get
and hands it a card that explains them (registry → eligibility → entitlement).

A `Policy` is issued for an area (a county or a township: its households are the ones it can
reach) with a code, a name, the issuing body, a summary, what it gives and how to apply. Its
rules are held as data in `PolicyVersion`s, one per year or effective date: a list of
conditions over the register (`hemei.policies.eligibility`), validated on every save against a
fixed whitelist of fields. The version in force on a day is the one with the latest
`effective_from` on or before it whose `effective_to` (if any) has not passed.

An `Application` records that a household (or one of its members, for a per-person policy)
applied for a policy under the version in force; its status moves applied → granted or
refused (with the reason) through `hemei.core.workflow`, history in `ApplicationEvent`.

`WorkAway` is the register's one addition: where a resident works (in the county, elsewhere in
the province, in another province) and since when — the register held no work place, and the
transport subsidy for work in another province and the job-retention subsidy cannot be matched
without it. One row per resident, kept by the grid worker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import WorkflowEvent
from hemei.regions.models import Household, Region, Resident


class Policy(models.Model):
    """A policy households can get, issued for an area (county or township)."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT, related_name="policies")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    issuer = models.CharField(_("issued by"), max_length=100)
    summary = models.TextField(_("summary"), max_length=2000)
    benefit = models.TextField(_("what it gives"), max_length=1000)
    how_to_apply = models.TextField(_("how to apply"), max_length=2000)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["region__path", "code", "id"]
        constraints = [models.UniqueConstraint(fields=["county", "code"], name="policies_policy_code_per_county")]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class PolicyVersion(models.Model):
    """The rules of a policy from `effective_from` (to `effective_to`, if it ends)."""

    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(_("version"), max_length=40)
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(_("in force until"), null=True, blank=True)
    conditions = models.JSONField(_("conditions"), default=list)
    benefit = models.CharField(_("amount or standard"), max_length=200, blank=True)
    basis = models.CharField(_("policy document"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["policy", "-effective_from", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "effective_from"], name="policies_version_start_unique"),
            models.CheckConstraint(condition=models.Q(effective_to__isnull=True)
                                   | models.Q(effective_to__gte=models.F("effective_from")),
                                   name="policies_version_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The whitelist is checked on every save, whoever saves: a rule the evaluator cannot
        # read never reaches the table (ValidationError, nothing written).
        from hemei.policies.eligibility import validate_conditions

        self.conditions = validate_conditions(self.conditions)
        super().save(*args, **kwargs)

    @property
    def county_code(self) -> str:
        return self.policy.county_code

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or self.effective_to >= on)


class WorkPlace(models.TextChoices):
    IN_COUNTY = "in_county", _("works in the county")
    IN_PROVINCE = "in_province", _("works in the province, outside the county")
    OUT_OF_PROVINCE = "out_of_province", _("works in another province")


class WorkAway(models.Model):
    """Where a resident works away from home (外出务工登记), one row per resident."""

    resident = models.OneToOneField(Resident, verbose_name=_("resident"), on_delete=models.PROTECT,
                                    related_name="work_away")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    place = models.CharField(_("works"), max_length=16, choices=WorkPlace.choices)
    province = models.CharField(_("province or city of work"), max_length=30, blank=True)
    since = models.DateField(_("working there since"))
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("work away from home")
        verbose_name_plural = _("work away from home")
        ordering = ["resident_id"]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.place}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class Application(models.Model):
    """A household's (or member's) application for a policy, under the version in force."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("applied")
        GRANTED = "granted", _("granted")
        REFUSED = "refused", _("refused")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.PROTECT,
                                  related_name="policy_applications")
    member = models.ForeignKey(Resident, verbose_name=_("member"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.PROTECT,
                               related_name="applications")
    version = models.ForeignKey(PolicyVersion, verbose_name=_("policy version"), on_delete=models.PROTECT,
                                related_name="applications")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.APPLIED)
    applied_on = models.DateField(_("applied on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("policy application")
        verbose_name_plural = _("policy applications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "status"])]
        constraints = [
            # One live application per household (or member) and version: a second tap, a second
            # worker or a resent form cannot file it twice; a refused one may be filed again.
            models.UniqueConstraint(fields=["household", "version"], condition=models.Q(member__isnull=True)
                                    & ~models.Q(status="refused"), name="policies_application_once"),
            models.UniqueConstraint(fields=["household", "version", "member"],
                                    condition=models.Q(member__isnull=False) & ~models.Q(status="refused"),
                                    name="policies_application_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.policy_id} {self.status}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class ApplicationEvent(WorkflowEvent):
    application = models.ForeignKey(Application, verbose_name=_("policy application"), on_delete=models.PROTECT,
                                    related_name="events")

    class Meta:
        verbose_name = _("policy application event")
        verbose_name_plural = _("policy application events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"

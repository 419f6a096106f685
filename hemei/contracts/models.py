"""Collective contracts (合同) and land trusteeship (土地托管).

A `Contract` is one lease, contracting or shares agreement of a village collective. Its
decision record is three steps, each a field set once by a service and an append-only
`ContractEvent`: the 两委 discussion, the decided agenda item of a 村民(代表)会议
(`meeting_item`, recorded by the meetings hook) and the township's review. Only then may it be
signed. The payment schedule is `PaymentDue` rows; money received is `Payment` rows
(append-only, each more than zero). The 清理 review of
an unfair contract is a `ContractReview`: flagged once, its outcome recorded once.

Land trusteeship: `TrustParcel` (a household's land entrusted to a provider), `TrustService`
(work done on a parcel, with its fee) and `TrustIncome` (a household's yield income in a year;
fees and net are derived, never stored).

Money is `Decimal` yuan with two places; areas are `Decimal` 亩 with two places.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.masking import mask_name, mask_phone
from hemei.core.models import AppendOnlyModel, VillageScoped, WorkflowEvent
from hemei.regions.models import Household, Region

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
AREA: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class Contract(VillageScoped):
    class Kind(models.TextChoices):
        LEASE = "lease", _("lease (租赁)")
        CONTRACTING = "contracting", _("contracting (承包)")
        SHARES = "shares", _("shares (入股)")
        COOPERATION = "cooperation", _("cooperation (合作经营)")
        OTHER = "other", _("other")

    class PartyKind(models.TextChoices):
        PERSON = "person", _("person")
        COMPANY = "company", _("company")
        COOPERATIVE = "cooperative", _("cooperative")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        DECIDING = "deciding", _("being decided")
        APPROVED = "approved", _("approved by the township")
        SIGNED = "signed", _("signed")
        ACTIVE = "active", _("in force")
        EXPIRED = "expired", _("expired")
        TERMINATED = "terminated", _("terminated")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("contract number"), max_length=40)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    asset = models.ForeignKey(
        "assets.Asset", verbose_name=_("asset"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="contracts",
    )
    subject = models.CharField(_("subject"), max_length=200, help_text=_("The asset or the land, in words."))
    area_mu = models.DecimalField(_("area (mu)"), null=True, blank=True, **AREA)
    party_name = models.CharField(_("party B"), max_length=100)
    party_kind = models.CharField(_("party B is a"), max_length=12, choices=PartyKind.choices)
    party_phone = models.CharField(_("party B phone"), max_length=20, blank=True)
    start = models.DateField(_("term start"))
    end = models.DateField(_("term end"))
    amount = models.DecimalField(_("total amount (yuan)"), **MONEY)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # The decision record: each step set once by its service (see the module docstring).
    discussed_on = models.DateField(_("two committees discussed"), null=True, blank=True)
    discussion = models.TextField(_("two committees' discussion"), max_length=2000, blank=True)
    meeting_item = models.ForeignKey(
        "meetings.AgendaItem", verbose_name=_("meeting decision"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    township_approved_at = models.DateTimeField(_("township approved"), null=True, blank=True)
    signed_on = models.DateField(_("signed"), null=True, blank=True)
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["village", "-start", "number"]
        constraints = [
            models.UniqueConstraint(fields=["village", "number"], name="contract_number_per_village"),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="contract_end_after_start"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="contract_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(area_mu__isnull=True) | models.Q(area_mu__gt=0), name="contract_area_positive"
            ),
            # Signed means the whole decision record is there, whatever code wrote the row.
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "deciding", "approved"])
                | models.Q(
                    discussed_on__isnull=False, meeting_item__isnull=False, township_approved_at__isnull=False,
                    signed_on__isnull=False,
                ),
                name="contract_signed_after_decision",
            ),
        ]
        indexes = [
            models.Index(fields=["county", "status"], name="contract_county_status"),
            models.Index(fields=["village", "status", "end"], name="contract_village_status_end"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.party_phone)

    @property
    def party_public(self) -> str:
        """The name the public board shows: a private person's name keeps only the surname."""
        return mask_name(self.party_name) if self.party_kind == self.PartyKind.PERSON else self.party_name

    @property
    def is_signed(self) -> bool:
        return self.status in (self.Status.SIGNED, self.Status.ACTIVE, self.Status.EXPIRED, self.Status.TERMINATED)


class ContractEvent(WorkflowEvent):
    """The contract's trail: every step, payment, flag and end, in order."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        DISCUSSED = "discussed", _("discussed by the two committees")
        TABLED = "tabled", _("tabled for a meeting")
        DECIDED = "decided", _("passed by the meeting")
        REJECTED = "rejected", _("not passed by the meeting")
        APPROVED = "approved", _("approved by the township")
        RETURNED = "returned", _("returned by the township")
        SIGNED = "signed", _("signed")
        ACTIVATED = "activated", _("in force")
        PAID = "paid", _("payment received")
        FLAGGED = "flagged", _("flagged for review (清理)")
        CLEARED = "cleared", _("review concluded")
        TERMINATED = "terminated", _("terminated")
        EXPIRED = "expired", _("expired")
        REMINDED = "reminded", _("reminder sent")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("what"), max_length=12, choices=Kind.choices)
    on = models.DateField(_("date"), null=True, blank=True)
    meeting_item = models.ForeignKey(
        "meetings.AgendaItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("contract event")
        verbose_name_plural = _("contract events")
        ordering = ["contract", "at", "id"]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.kind} {self.at:%Y-%m-%d}"

    @property
    def county_code(self) -> str:
        return self.contract.county_code


class PaymentDue(models.Model):
    """One row of the payment schedule: what is due when. Paid = sum of its payments."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="schedule")
    due_on = models.DateField(_("due"))
    amount = models.DecimalField(_("amount due (yuan)"), **MONEY)

    class Meta:
        verbose_name = _("payment due")
        verbose_name_plural = _("payment schedule")
        ordering = ["contract", "due_on", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="contract_due_positive")]
        indexes = [models.Index(fields=["due_on"], name="contract_due_on")]

    def __str__(self) -> str:
        return f"{self.due_on} {self.amount}"

    @property
    def county_code(self) -> str:
        return self.contract.county_code


class Payment(AppendOnlyModel):
    """Money received against a scheduled row."""

    due = models.ForeignKey(PaymentDue, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount paid (yuan)"), **MONEY)
    paid_on = models.DateField(_("paid on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["due", "paid_on", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="contract_payment_positive")]

    def __str__(self) -> str:
        return f"{self.paid_on} {self.amount}"

    @property
    def county_code(self) -> str:
        return self.due.contract.county_code


class ContractReview(models.Model):
    """A 清理 review: flagged once with a reason; its outcome recorded once (conditional update)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("under review")
        KEPT = "kept", _("kept as it is")
        RENEGOTIATED = "renegotiated", _("renegotiated")
        TERMINATED = "terminated", _("terminated")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="reviews")
    flagged_on = models.DateField(_("flagged"))
    reason = models.CharField(_("reason"), max_length=500)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_on = models.DateField(_("concluded"), null=True, blank=True)
    outcome_note = models.CharField(_("outcome note"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("contract review")
        verbose_name_plural = _("contract reviews (清理)")
        ordering = ["-flagged_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], condition=models.Q(outcome="pending"), name="contract_one_open_review"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="pending", outcome_on__isnull=True)
                | (~models.Q(outcome="pending") & models.Q(outcome_on__isnull=False)),
                name="contract_review_outcome_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.outcome}"

    @property
    def county_code(self) -> str:
        return self.contract.county_code


# --- land trusteeship (土地托管) ----------------------------------------------------------------


class TrustParcel(VillageScoped):
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="trust_parcels"
    )
    # The village's own parcel number (from its land register); optional, unique in the village.
    code = models.CharField(_("parcel code"), max_length=40, blank=True)
    area_mu = models.DecimalField(_("area (mu)"), **AREA)
    location = models.CharField(_("location"), max_length=100, blank=True)
    crop = models.CharField(_("crop"), max_length=40, blank=True)
    provider = models.CharField(_("service provider"), max_length=100)
    entrusted_from = models.DateField(_("entrusted from"))
    entrusted_to = models.DateField(_("entrusted until"))
    # Set once by `parcel_end` when the household takes the land back before the term is over.
    ended_on = models.DateField(_("entrustment ended"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("entrusted parcel")
        verbose_name_plural = _("entrusted parcels")
        ordering = ["village", "household", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(area_mu__gt=0), name="trust_parcel_area_positive"),
            models.CheckConstraint(
                condition=models.Q(entrusted_to__gt=models.F("entrusted_from")), name="trust_parcel_to_after_from"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("entrusted_from"), ended_on__lte=models.F("entrusted_to")),
                name="trust_parcel_ended_in_term",
            ),
            models.UniqueConstraint(fields=["village", "code"], condition=~models.Q(code=""),
                                    name="trust_parcel_code_per_village"),
        ]
        indexes = [models.Index(fields=["village", "household"], name="trust_parcel_village_house")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.area_mu}亩 {self.location}"


class TrustService(models.Model):
    class Kind(models.TextChoices):
        FERTILISING = "fertilising", _("soil-tested formula fertilising (测土配方施肥)")
        SPRAYING = "spraying", _("drone spraying (无人机飞防)")
        SOWING = "sowing", _("machine ploughing and sowing (机耕机播)")
        HARVEST = "harvest", _("unified harvest (统一收获)")
        OTHER = "other", _("other service")

    parcel = models.ForeignKey(TrustParcel, on_delete=models.PROTECT, related_name="services")
    kind = models.CharField(_("service"), max_length=12, choices=Kind.choices)
    on = models.DateField(_("date"))
    area_mu = models.DecimalField(_("area served (mu)"), **AREA)
    fee = models.DecimalField(_("fee (yuan)"), **MONEY)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("trusteeship service")
        verbose_name_plural = _("trusteeship services")
        ordering = ["parcel", "on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(area_mu__gt=0), name="trust_service_area_positive"),
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="trust_service_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.parcel_id} {self.kind} {self.on}"

    @property
    def county_code(self) -> str:
        return self.parcel.county_code


class TrustIncome(VillageScoped):
    """A household's yield income from its entrusted land in one year (fees are derived)."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="trust_incomes"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    yield_income = models.DecimalField(_("yield income (yuan)"), **MONEY)

    class Meta:
        verbose_name = _("trusteeship income")
        verbose_name_plural = _("trusteeship incomes")
        ordering = ["village", "year", "household"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="trust_income_once_a_year"),
            models.CheckConstraint(condition=models.Q(yield_income__gte=0), name="trust_income_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year} {self.yield_income}"

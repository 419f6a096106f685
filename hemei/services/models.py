"""The village's smaller services (DOMAIN.md system 18).

Study tours (研学): a `Venue` belongs to a village (its `region`); it offers `Slot`s, each
with a capacity; a group's `Booking` holds places on one slot from the moment it is made.
`Slot.booked` is the sum of the places held by the slot's live bookings (requested or
confirmed, and those already visited or marked no-show): it only changes under the slot's row
lock with a conditional update, and a check constraint keeps it within the capacity even if
code elsewhere forgot (ARCHITECTURE rule 6). Writes go through `hemei.services.services`.

Every row that belongs to a place carries `region` (the lowest region it belongs to) and
`county` (the tenant key).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import WorkflowEvent
from hemei.regions.models import Region


def new_booking_ref() -> str:
    """The booking's public reference: random, so receipts cannot be walked by counting."""
    return secrets.token_hex(6).upper()


class Venue(models.Model):
    """A study-tour venue (研学基地) of a village: a party-history room, a farm, a museum."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT,
                               related_name="study_venues")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    # The largest group one slot takes when a slot is added without its own capacity.
    default_capacity = models.PositiveIntegerField(_("default capacity"), default=50)
    active = models.BooleanField(_("open for bookings"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("study-tour venue")
        verbose_name_plural = _("study-tour venues")
        ordering = ["region", "name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class Slot(models.Model):
    """A time at a venue with a capacity in people; `booked` places are held by bookings."""

    venue = models.ForeignKey(Venue, verbose_name=_("venue"), on_delete=models.PROTECT, related_name="slots")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"))
    booked = models.PositiveIntegerField(_("places booked"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("study-tour slot")
        verbose_name_plural = _("study-tour slots")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["venue", "starts_at"])]
        constraints = [
            # The last line of defence of "never more people than capacity".
            models.CheckConstraint(condition=models.Q(booked__lte=models.F("capacity")),
                                   name="services_slot_booked_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.venue_id} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def fill(self) -> float:
        return self.booked / self.capacity if self.capacity else 0.0


class Booking(models.Model):
    """One group's booking of a slot. The contact's name and phone are personal data: staff
    pages show them masked unless the reader holds the reveal permission (audited)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        CONFIRMED = "confirmed", _("confirmed")
        VISITED = "visited", _("visited")
        NO_SHOW = "no_show", _("did not come")
        CANCELLED = "cancelled", _("cancelled")

    class GroupKind(models.TextChoices):
        SCHOOL = "school", _("school")
        COMPANY = "company", _("company or organisation")
        OTHER = "other", _("other group")

    slot = models.ForeignKey(Slot, verbose_name=_("slot"), on_delete=models.PROTECT, related_name="bookings")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    ref = models.CharField(_("reference"), max_length=12, unique=True, default=new_booking_ref, editable=False)
    group_kind = models.CharField(_("kind of group"), max_length=10, choices=GroupKind.choices,
                                  default=GroupKind.SCHOOL)
    organisation = models.CharField(_("school or company"), max_length=100)
    group_size = models.PositiveIntegerField(_("group size"))
    contact_name = models.CharField(_("contact name"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("booked"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("study-tour booking")
        verbose_name_plural = _("study-tour bookings")
        ordering = ["slot", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(group_size__gte=1), name="services_booking_size_positive"),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def holds_places(self) -> bool:
        return self.status != Booking.Status.CANCELLED


class BookingEvent(WorkflowEvent):
    booking = models.ForeignKey(Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("study-tour booking event")
        verbose_name_plural = _("study-tour booking events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.kind}"

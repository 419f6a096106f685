"""The village's smaller services (DOMAIN.md system 18).

Study tours (研学): a `Venue` belongs to a village (its `region`); it offers `Slot`s, each
with a capacity; a group's `Booking` holds places on one slot from the moment it is made.
`Slot.booked` is the sum of the places held by the slot's live bookings (requested or
confirmed, and those already visited or marked no-show): it only changes under the slot's row
lock with a conditional update, and a check constraint keeps it within the capacity even if
code elsewhere forgot (ARCHITECTURE rule 6). Writes go through `hemei.services.services`.

Emergency response (应急响应): a `Response` is a level (Ⅳ→Ⅰ) declared for an area, with its
history as `ResponseEvent` rows; each grid of the area has a `GridCheck` its grid staff check
in with the `HouseholdContact`s of the grid's vulnerable households.

Childcare places (托育): a `ChildcareProvider` of a village or township has places; families'
`ChildcareApplication`s wait in order of application until a place is offered, taken up
(enrolled) and later given up (left); `enrolled + offered` never exceeds the places, kept as
`Slot.booked` is. Writes go through `hemei.services.childcare`.

Every row that belongs to a place carries `region` (the lowest region it belongs to) and
`county` (the tenant key).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import WorkflowEvent
from hemei.core.sweeps import Tier
from hemei.regions.models import Household, Region


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


# --- emergency response levels (应急响应) ---------------------------------------------------


class Hazard(models.TextChoices):
    FLOOD = "flood", _("flood (防汛)")
    RAINSTORM = "rainstorm", _("rainstorm (暴雨)")
    GEOLOGICAL = "geological", _("landslide or debris flow (地质灾害)")
    FIRE = "fire", _("forest fire (森林火灾)")
    SNOW = "snow", _("snow and ice (雨雪冰冻)")
    HEAT = "heat", _("heat wave (高温)")
    OTHER = "other", _("other hazard")


class ResponseLevel(models.IntegerChoices):
    """The four levels of the national emergency plans: Ⅳ is the lowest, Ⅰ the highest."""

    IV = 4, _("level Ⅳ (四级)")
    III = 3, _("level Ⅲ (三级)")
    II = 2, _("level Ⅱ (二级)")
    I = 1, _("level Ⅰ (一级)")  # noqa: E741  (the level's name)


class Response(models.Model):
    """A response level declared by the county or a township for an area (a region and all
    below it). The current level is a column; every change is a `ResponseEvent` row with its
    reason (raise, lower, lift). Each grid of the area has a `GridCheck`."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("in force")
        LIFTED = "lifted", _("lifted")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT,
                               related_name="emergency_responses")
    hazard = models.CharField(_("hazard"), max_length=12, choices=Hazard.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=ResponseLevel.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    reason = models.TextField(_("reason"), max_length=1000)
    checkin_by = models.DateTimeField(_("grid check-in due"))
    declared_by = models.ForeignKey("accounts.User", verbose_name=_("declared by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        verbose_name = _("emergency response")
        verbose_name_plural = _("emergency responses")
        ordering = ["-declared_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=4), name="services_response_level"),
        ]

    def __str__(self) -> str:
        return f"{self.get_hazard_display()} {self.get_level_display()}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class ResponseEvent(WorkflowEvent):
    response = models.ForeignKey(Response, verbose_name=_("emergency response"), on_delete=models.PROTECT,
                                 related_name="events")
    from_level = models.PositiveSmallIntegerField(_("level before"), null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(_("level after"), null=True, blank=True)

    class Meta:
        verbose_name = _("emergency response event")
        verbose_name_plural = _("emergency response events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.response_id} {self.kind}"


class GridCheck(models.Model):
    """One grid's check-in under a response: its grid staff confirm they have contacted the
    grid's vulnerable households (a `HouseholdContact` row each). Not checked in by the
    response's `checkin_by`, it escalates to the township (`hemei.services.sweep`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("not checked in")
        DONE = "done", _("checked in")

    Tier = Tier

    response = models.ForeignKey(Response, verbose_name=_("emergency response"), on_delete=models.PROTECT,
                                 related_name="checks")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    households = models.PositiveIntegerField(_("vulnerable households"), default=0)
    reached = models.PositiveIntegerField(_("households reached"), default=0)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    checked_in_by = models.ForeignKey("accounts.User", verbose_name=_("checked in by"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.VILLAGE)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("grid check-in")
        verbose_name_plural = _("grid check-ins")
        ordering = ["response", "region__code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["response", "region"], name="services_gridcheck_one_per_grid"),
            models.CheckConstraint(condition=models.Q(reached__lte=models.F("households")),
                                   name="services_gridcheck_reached_within"),
        ]
        indexes = [models.Index(fields=["status", "tier"])]

    def __str__(self) -> str:
        return f"{self.response_id} {self.region_id}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""



class GridCheckEvent(WorkflowEvent):
    """A grid's check-in (`services.gridcheck` workflow)."""

    grid_check = models.ForeignKey(GridCheck, verbose_name=_("grid check-in"), on_delete=models.PROTECT,
                                   related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("grid check-in event")
        verbose_name_plural = _("grid check-in events")

    def __str__(self) -> str:
        return f"{self.grid_check_id} {self.kind}"


class HouseholdContact(models.Model):
    """A vulnerable household a grid's staff reached (or could not reach, with why) during a
    response; written once, at the grid's check-in."""

    grid_check = models.ForeignKey(GridCheck, verbose_name=_("grid check-in"), on_delete=models.PROTECT,
                              related_name="contacts")
    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(_("why vulnerable"), default=list, blank=True)
    reached = models.BooleanField(_("reached"), default=False)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("household contacted")
        verbose_name_plural = _("households contacted")
        ordering = ["grid_check", "household_id"]
        constraints = [
            models.UniqueConstraint(fields=["grid_check", "household"], name="services_contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.grid_check_id} {self.household_id}"


# --- childcare places (托育) -----------------------------------------------------------------


class ChildcareProvider(models.Model):
    """A childcare centre (托育机构) of a village or a township, with its number of places.

    `enrolled` and `offered` count the children enrolled and the places held by an offer not
    yet taken up; like `Slot.booked` they change only under the provider's row lock with a
    conditional update (`hemei.services.childcare`), and a check constraint keeps their sum
    within `capacity` even if code elsewhere forgot (ARCHITECTURE rule 6)."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village or township"), on_delete=models.PROTECT,
                               related_name="childcare_providers")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The centre's contact phone: shown masked on public pages and in the API.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    capacity = models.PositiveIntegerField(_("places"))
    enrolled = models.PositiveIntegerField(_("children enrolled"), default=0)
    offered = models.PositiveIntegerField(_("places offered"), default=0)
    # The seed's centre takes children from 6 months to 6 years (半托/全托).
    min_age_months = models.PositiveSmallIntegerField(_("youngest age (months)"), default=6)
    max_age_months = models.PositiveSmallIntegerField(_("oldest age (months)"), default=72)
    active = models.BooleanField(_("taking applications"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("childcare centre")
        verbose_name_plural = _("childcare centres")
        ordering = ["region__path", "name", "id"]
        constraints = [
            # The last line of defence of "never more children than places".
            models.CheckConstraint(condition=models.Q(enrolled__lte=models.F("capacity") - models.F("offered")),
                                   name="services_childcare_within_capacity"),
            models.CheckConstraint(condition=models.Q(min_age_months__lte=models.F("max_age_months")),
                                   name="services_childcare_age_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def held(self) -> int:
        """Places taken: children enrolled and places offered."""
        return self.enrolled + self.offered

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.held)

    @property
    def occupancy(self) -> float:
        """Enrolled children per place (the seed's 119 of 135 is 88 %)."""
        return self.enrolled / self.capacity if self.capacity else 0.0


class ChildcareApplication(models.Model):
    """A family's application for a place for one child. The waiting list of a provider is
    its applications still `applied`, in the order (applied_at, id). The child's name and
    birth date and the guardian's name and phone are personal data of a minor: staff pages
    show them masked, exports in clear only to readers who may reveal personal data."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("waiting")
        OFFERED = "offered", _("place offered")
        ENROLLED = "enrolled", _("enrolled")
        LEFT = "left", _("left")
        WITHDRAWN = "withdrawn", _("withdrawn")
        DECLINED = "declined", _("offer declined")

    provider = models.ForeignKey(ChildcareProvider, verbose_name=_("childcare centre"), on_delete=models.PROTECT,
                                 related_name="applications")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("village or township"), on_delete=models.PROTECT,
                               related_name="+")
    household = models.ForeignKey(Household, verbose_name=_("household"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    child_name = models.CharField(_("child's name"), max_length=50)
    child_birth_date = models.DateField(_("child's birth date"))
    guardian_name = models.CharField(_("guardian"), max_length=50)
    guardian_phone = models.CharField(_("guardian's phone"), max_length=20)
    desired_start = models.DateField(_("desired start"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPLIED)
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    offered_at = models.DateTimeField(_("offered"), null=True, blank=True)
    enrolled_on = models.DateField(_("enrolled on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", verbose_name=_("entered by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("childcare application")
        verbose_name_plural = _("childcare applications")
        ordering = ["provider", "applied_at", "id"]
        indexes = [models.Index(fields=["provider", "status", "applied_at"])]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.pk}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def holds_place(self) -> bool:
        return self.status in (self.Status.OFFERED, self.Status.ENROLLED)


class ChildcareEvent(WorkflowEvent):
    application = models.ForeignKey(ChildcareApplication, verbose_name=_("childcare application"),
                                    on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("childcare application event")
        verbose_name_plural = _("childcare application events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"

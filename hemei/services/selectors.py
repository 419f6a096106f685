"""Reads of the study-tour bookings: the public page's venues and open slots (no personal
data at all), and the staff pages' slots with their fill, scoped through `access`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from hemei.core.masking import mask_name, mask_phone
from hemei.core.scope import scope_for
from hemei.services.access import access_bookings
from hemei.services.models import Booking, Slot, Venue

PUBLIC_DAYS = 60  # how far ahead the public page shows slots


def public_venues() -> QuerySet[Venue]:
    return Venue.objects.filter(active=True).select_related("region").order_by("region__code", "name", "pk")


def public_venue(pk: Any) -> Venue:
    from django.http import Http404

    try:
        return public_venues().get(pk=pk)
    except (Venue.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def open_slots(venue: Venue, *, now: dt.datetime | None = None) -> QuerySet[Slot]:
    """The venue's slots that have not begun, for the next 60 days (full ones included: the
    page says so rather than hiding them)."""
    now = now or timezone.now()
    return venue.slots.filter(starts_at__gt=now, starts_at__lte=now + dt.timedelta(days=PUBLIC_DAYS)) \
        .order_by("starts_at", "pk")


def public_slot(pk: Any, *, now: dt.datetime | None = None) -> Slot:
    from django.http import Http404

    now = now or timezone.now()
    try:
        return Slot.objects.select_related("venue__region").get(pk=pk, venue__active=True, starts_at__gt=now)
    except (Slot.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def venue_slots(venue: Venue, *, date_from: dt.date | None = None, date_to: dt.date | None = None) -> QuerySet[Slot]:
    """A venue's slots with their number of live bookings (the venue is already in scope)."""
    slots = venue.slots.all()
    if date_from is not None:
        slots = slots.filter(starts_at__date__gte=date_from)
    if date_to is not None:
        slots = slots.filter(starts_at__date__lte=date_to)
    return slots.annotate(groups=Count("bookings", filter=~Q(bookings__status=Booking.Status.CANCELLED))) \
        .order_by("starts_at", "pk")


@dataclass
class BookingRow:
    booking: Booking
    contact_name: str
    contact_phone: str


def booking_rows(user: Any, slot: Slot) -> list[BookingRow]:
    """The slot's bookings as the user may see them: contacts masked unless the user may
    reveal personal data (then the page offers the audited reveal, it does not show them)."""
    rows = access_bookings(user).filter(slot=slot).order_by("created_at", "pk")
    return [BookingRow(b, mask_name(b.contact_name), mask_phone(b.contact_phone)) for b in rows]


def may_reveal(user: Any) -> bool:
    return scope_for(user).can_reveal


# --- emergency response: the vulnerable households of each grid -----------------------------

#: Why a household is on a grid's list (reasons are codes; `REASON_LABELS` names them).
ELDER_ALONE, DISABLED, MONITORED = "elder_alone", "disabled", "monitored"
_RESIDENT_TAGS = {"独居老人": ELDER_ALONE, "残疾人": DISABLED}
_HOUSEHOLD_TAGS = {"独居老人": ELDER_ALONE, "监测户": MONITORED}


def reason_labels() -> dict[str, str]:
    from django.utils.translation import gettext as _

    return {ELDER_ALONE: _("elder living alone"), DISABLED: _("disabled member"),
            MONITORED: _("under return-to-poverty monitoring")}


def vulnerable_households(grid_ids: list[int]) -> dict[int, dict[int, list[str]]]:
    """grid id → household id → reasons, for the grids' households living in the village, from
    what the other apps already record (a few queries for any number of grids):

    1. residents living here tagged 独居老人 or 残疾人 (the roster's tags);
    2. households tagged 独居老人 or 监测户;
    3. elders of the care register who live alone (`care.Elder.living`);
    4. households under return-to-poverty monitoring (`visits.Monitoring` at the monitored step).
    """
    from hemei.care.models import Elder, Living
    from hemei.regions.models import Household, Resident
    from hemei.visits.models import Monitoring

    found: dict[int, dict[int, set[str]]] = {}

    def add(grid: int, household: int, reason: str) -> None:
        found.setdefault(grid, {}).setdefault(household, set()).add(reason)

    living = Household.objects.filter(region_id__in=grid_ids, lives_in_village=True).values("pk")
    rows = (Resident.tags.through.objects
            .filter(resident__household__in=living, resident__status=Resident.Status.LIVING,
                    tag__name__in=list(_RESIDENT_TAGS))
            .values_list("resident__household__region_id", "resident__household_id", "tag__name"))
    for grid, household, tag in rows:
        add(grid, household, _RESIDENT_TAGS[tag])
    tagged = (Household.tags.through.objects.filter(household__in=living, tag__name__in=list(_HOUSEHOLD_TAGS))
              .values_list("household__region_id", "household_id", "tag__name"))
    for grid, household, tag in tagged:
        add(grid, household, _HOUSEHOLD_TAGS[tag])
    for grid, household in (Elder.objects.filter(living=Living.ALONE, resident__household__in=living,
                                                 resident__status=Resident.Status.LIVING)
                            .values_list("resident__household__region_id", "resident__household_id")):
        add(grid, household, ELDER_ALONE)
    for grid, household in (Monitoring.objects.filter(step=Monitoring.Step.MONITORED, household__in=living)
                            .values_list("household__region_id", "household_id")):
        add(grid, household, MONITORED)
    return {g: {h: sorted(r) for h, r in hs.items()} for g, hs in found.items()}


@dataclass
class GridProgress:
    check: Any
    village: str


def board(user: Any, response: Any) -> tuple[list[GridProgress], dict[str, int]]:
    """The response's grid check-ins in the user's scope, with the village of each, and the
    totals (grids, checked in, escalated, households, reached)."""
    from hemei.regions.models import Region
    from hemei.services.access import access_checks

    checks = list(access_checks(user).filter(response=response).select_related("region", "checked_in_by")
                  .order_by("region__path"))
    step = Region.steplen
    villages = dict(Region.objects.filter(path__in={c.region.path[:-step] for c in checks})
                    .values_list("path", "name"))
    rows = [GridProgress(c, villages.get(c.region.path[:-step], "")) for c in checks]
    totals = {
        "grids": len(checks),
        "done": sum(c.status == "done" for c in checks),
        "escalated": sum(c.tier != "village" for c in checks),
        "households": sum(c.households for c in checks),
        "reached": sum(c.reached for c in checks),
    }
    return rows, totals


# --- childcare places (托育) -------------------------------------------------------------------


def with_waiting(providers: QuerySet[Any]) -> QuerySet[Any]:
    """Centres with their waiting-list length (`waiting`), in one query."""
    from hemei.services.models import ChildcareApplication

    return providers.annotate(waiting=Count("applications",
                                            filter=Q(applications__status=ChildcareApplication.Status.APPLIED)))


def public_providers() -> QuerySet[Any]:
    """Every centre, for the public pages: figures only, never a child or a family."""
    from hemei.services.models import ChildcareProvider

    return with_waiting(ChildcareProvider.objects.select_related("region")).order_by("region__path", "name", "pk")


def public_provider(pk: Any) -> Any:
    from django.http import Http404

    from hemei.services.models import ChildcareProvider

    try:
        return public_providers().get(pk=pk)
    except (ChildcareProvider.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


@dataclass
class Occupancy:
    """Places and children of a set of centres: a township's, a county's."""

    region: Any
    providers: int = 0
    places: int = 0
    enrolled: int = 0
    offered: int = 0
    waiting: int = 0

    @property
    def free(self) -> int:
        return max(0, self.places - self.enrolled - self.offered)

    @property
    def rate(self) -> float:
        return self.enrolled / self.places if self.places else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.rate)


def occupancy_by_area(providers: list[Any]) -> tuple[list[Occupancy], list[Occupancy]]:
    """(townships, counties): the centres' places, enrolled, offered and waiting summed per
    township and per county, from centres already read in scope (with `waiting`); one query
    for the areas' names."""
    from hemei.regions.models import Region

    step = Region.steplen

    def township_path(p: Any) -> str:  # a township's own centre, or a village's township
        return str(p.region.path if p.region.level == "township" else p.region.path[:-step])

    township_paths = {township_path(p) for p in providers}
    county_ids = {p.county_id for p in providers}
    areas = {r.path: r for r in Region.objects.filter(path__in=township_paths, level="township")}
    counties = {r.pk: r for r in Region.objects.filter(pk__in=county_ids)}
    by_township: dict[str, Occupancy] = {}
    by_county: dict[int, Occupancy] = {}
    for p in providers:
        rows = [by_county.setdefault(p.county_id, Occupancy(counties.get(p.county_id)))]
        path = township_path(p)
        if path in areas:
            rows.append(by_township.setdefault(path, Occupancy(areas[path])))
        for row in rows:
            row.providers += 1
            row.places += p.capacity
            row.enrolled += p.enrolled
            row.offered += p.offered
            row.waiting += getattr(p, "waiting", 0)
    return ([by_township[k] for k in sorted(by_township)],
            [by_county[k] for k in sorted(by_county, key=lambda pk: counties[pk].path if pk in counties else "")])


@dataclass
class ChildRow:
    """An application as a staff page shows it: the child's and guardian's names and the phone
    masked, the age in months, and its place on the waiting list."""

    application: Any
    child: str
    guardian: str
    phone: str
    age_months: int
    position: int | None = None


def provider_lists(user: Any, provider: Any, *, today: dt.date | None = None) -> dict[str, list[ChildRow]]:
    """The centre's enrolled children, open offers and waiting list (with positions 1, 2, …),
    scoped through `access_applications`; one query."""
    from hemei.services.access import access_applications
    from hemei.services.childcare import months_old
    from hemei.services.models import ChildcareApplication

    S = ChildcareApplication.Status
    today = today or timezone.localdate()
    rows = (access_applications(user).filter(provider=provider, status__in=[S.APPLIED, S.OFFERED, S.ENROLLED])
            .order_by("applied_at", "pk"))
    lists: dict[str, list[ChildRow]] = {S.ENROLLED: [], S.OFFERED: [], S.APPLIED: []}
    for a in rows:
        row = ChildRow(a, mask_name(a.child_name), mask_name(a.guardian_name), mask_phone(a.guardian_phone),
                       months_old(a.child_birth_date, today))
        if a.status == S.APPLIED:
            row.position = len(lists[S.APPLIED]) + 1
        lists[a.status].append(row)
    return lists

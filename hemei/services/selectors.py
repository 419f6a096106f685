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

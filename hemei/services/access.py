"""Who may read and act on the village's services (declared once, read through
`hemei.core.scope`).

Venues and their slots belong to a village's shared life: the village's grid staff read them
too (`village_wide`). Bookings carry a contact's name and phone: they are read by the staff of
the village and above only, and shown masked unless the reader may reveal personal data.
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import COMMITTEE_ROLES, UPPER_LEVEL_ROLES, register_scoped
from hemei.services.models import Booking, Slot, Venue

#: Who keeps venues and slots and moves bookings: the village committee, township and county.
MANAGE_ROLES: Final = COMMITTEE_ROLES | UPPER_LEVEL_ROLES

VENUES = register_scoped(Venue, via="region__", village_wide=True, actions={"manage": MANAGE_ROLES})
SLOTS = register_scoped(Slot, via="region__", village_wide=True, actions={"manage": MANAGE_ROLES})
BOOKINGS = register_scoped(Booking, via="region__", actions={"manage": MANAGE_ROLES})


def access_venues(user: Any) -> QuerySet[Venue]:
    return VENUES.queryset(user)


def access_venue(user: Any, pk: Any) -> Venue:
    try:
        return access_venues(user).select_related("region").get(pk=pk)
    except (Venue.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_slot(user: Any, pk: Any) -> Slot:
    try:
        return SLOTS.queryset(user).select_related("venue", "region").get(pk=pk)
    except (Slot.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_bookings(user: Any) -> QuerySet[Booking]:
    return BOOKINGS.queryset(user)


def access_booking(user: Any, pk: Any) -> Booking:
    try:
        return access_bookings(user).select_related("slot__venue", "region").get(pk=pk)
    except (Booking.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None

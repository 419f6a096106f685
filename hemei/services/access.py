"""Who may read and act on the village's services (declared once, read through
`hemei.core.scope`).

Venues and their slots belong to a village's shared life: the village's grid staff read them
too (`village_wide`). Bookings carry a contact's name and phone: they are read by the staff of
the village and above only, and shown masked unless the reader may reveal personal data.

Childcare centres (托育) are part of the village's shared life too (their figures are public);
the applications carry a child's name and birth date — data of a minor, sensitive under PIPL —
so they are read by the staff of the centre's village or township and above only, as bookings.
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import QuerySet
from django.http import Http404

from hemei.core.scope import COMMITTEE_ROLES, GRID_ROLES, UPPER_LEVEL_ROLES, register_scoped
from hemei.regions.models import Role
from hemei.services.models import (
    Booking,
    ChildcareApplication,
    ChildcareProvider,
    GridCheck,
    HouseholdContact,
    Response,
    Slot,
    Venue,
)

#: Who keeps venues and slots and moves bookings: the village committee, township and county.
MANAGE_ROLES: Final = COMMITTEE_ROLES | UPPER_LEVEL_ROLES

VENUES = register_scoped(Venue, via="region__", village_wide=True, actions={"manage": MANAGE_ROLES})
SLOTS = register_scoped(Slot, via="region__", village_wide=True, actions={"manage": MANAGE_ROLES})
BOOKINGS = register_scoped(Booking, via="region__", actions={"manage": MANAGE_ROLES})

#: Who declares, raises, lowers and lifts an emergency response: the county and the townships.
DECLARE_ROLES: Final = UPPER_LEVEL_ROLES | {Role.COUNTY_DISPATCHER}
#: Who checks a grid in: its grid staff, or the village cadres standing in for them.
CHECK_IN_ROLES: Final = GRID_ROLES | COMMITTEE_ROLES

RESPONSES = register_scoped(Response, via="region__", actions={"manage": DECLARE_ROLES})
CHECKS = register_scoped(GridCheck, via="region__", actions={"check_in": CHECK_IN_ROLES})
CONTACTS = register_scoped(HouseholdContact, via="household__region__")


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


def access_responses(user: Any) -> QuerySet[Response]:
    """Responses the user reads: those declared for an area they cover, and those with a grid
    check-in in their scope (a grid worker sees the county's flood response through their own
    grid; the board then lists only the grids they cover)."""
    mine = CHECKS.queryset(user).values("response_id")
    return Response.objects.filter(pk__in=RESPONSES.queryset(user).values("pk")) | Response.objects.filter(pk__in=mine)


def access_response(user: Any, pk: Any) -> Response:
    try:
        return access_responses(user).select_related("region").distinct().get(pk=pk)
    except (Response.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_checks(user: Any) -> QuerySet[GridCheck]:
    return CHECKS.queryset(user)


def access_check(user: Any, pk: Any) -> GridCheck:
    try:
        return access_checks(user).select_related("response__region", "region").get(pk=pk)
    except (GridCheck.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


#: Who keeps a childcare centre's places and moves its applications: the committee of its
#: village, township and county staff (for a township's centre: township and county staff).
CHILDCARE_ROLES: Final = MANAGE_ROLES

PROVIDERS = register_scoped(ChildcareProvider, via="region__", village_wide=True,
                            actions={"manage": CHILDCARE_ROLES})
APPLICATIONS = register_scoped(ChildcareApplication, via="region__", actions={"manage": CHILDCARE_ROLES})


def access_providers(user: Any) -> QuerySet[ChildcareProvider]:
    return PROVIDERS.queryset(user)


def access_provider(user: Any, pk: Any) -> ChildcareProvider:
    try:
        return access_providers(user).select_related("region").get(pk=pk)
    except (ChildcareProvider.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def access_applications(user: Any) -> QuerySet[ChildcareApplication]:
    return APPLICATIONS.queryset(user)


def access_application(user: Any, pk: Any) -> ChildcareApplication:
    try:
        return access_applications(user).select_related("provider", "region").get(pk=pk)
    except (ChildcareApplication.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None

"""`hemei verify` invariants of the village's services."""

from __future__ import annotations

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from hemei.core.verify import LIMIT, invariant


@invariant("study-tour-places")
def check_slot_places() -> list[str]:
    """Each slot's `booked` equals the places held by its bookings that are not cancelled (the
    services change both together; a row written behind them shows here)."""
    from hemei.services.models import Booking, Slot

    live = ~Q(bookings__status=Booking.Status.CANCELLED)
    wrong = (Slot.objects.annotate(held=Coalesce(Sum("bookings__group_size", filter=live), 0))
             .exclude(booked=F("held")).values_list("pk", "booked", "held"))
    return [f"slot {pk}: {booked} places booked but bookings hold {held}" for pk, booked, held in wrong[:LIMIT]]


@invariant("childcare-places")
def check_childcare_places() -> list[str]:
    """Each childcare centre's `enrolled` and `offered` equal its applications in those states
    (the moves change both together, `hemei.services.childcare.places_follow`)."""
    from django.db.models import Count

    from hemei.services.models import ChildcareApplication, ChildcareProvider

    S = ChildcareApplication.Status
    wrong = (ChildcareProvider.objects
             .annotate(n_enrolled=Count("applications", filter=Q(applications__status=S.ENROLLED)),
                       n_offered=Count("applications", filter=Q(applications__status=S.OFFERED)))
             .exclude(enrolled=F("n_enrolled"), offered=F("n_offered"))
             .values_list("pk", "enrolled", "n_enrolled", "offered", "n_offered"))
    return [f"childcare centre {pk}: {e} enrolled and {o} offered, but applications say {ne} and {no}"
            for pk, e, ne, o, no in wrong[:LIMIT]]

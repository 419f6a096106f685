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

"""Every write of the study-tour bookings (研学): venues, slots, bookings and their moves.

The capacity rule ("never more people than a slot's capacity", also when many groups book at
once) is kept in one place, `_take_places` / `give_back_places`: the slot's row is locked
(`select_for_update`), and `booked` changes only through a conditional UPDATE whose row count
says whether the places were there. The check constraint on `Slot` is the database's backstop.
The emergency response writes are in `hemei.services.response`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.idempotency import remembered
from hemei.core.models import AuditEntry
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import is_system, require, require_actor, scope_for, system
from hemei.core.workflow import check, record, transition
from hemei.regions.models import Level, Region
from hemei.regions.services import normalise_phone
from hemei.services.access import MANAGE_ROLES
from hemei.services.models import Booking, Slot, Venue

#: The actor of bookings made on the public page (no account): audit rows name it.
PUBLIC: Final = system("public-booking")
#: The most one slot may take: a sanity bound on typed capacities (a large school year).
MAX_CAPACITY: Final = 2000
MAX_SLOT_HOURS: Final = 12


def _require_manager(actor: Any, region: Region) -> None:
    require_actor(actor)
    if not scope_for(actor).covers_path(region.path):
        from django.http import Http404

        raise Http404
    require(actor, MANAGE_ROLES, region)


# --- venues and slots ---------------------------------------------------------------------


@transaction.atomic
def venue_create(*, actor: Any, region: Region, name: str, address: str = "", description: str = "",
                 default_capacity: int = 50) -> Venue:
    """A study-tour venue of a village."""
    _require_manager(actor, region)
    if region.level != Level.VILLAGE:
        raise ValidationError(_("A study-tour venue belongs to a village."))
    if not 1 <= default_capacity <= MAX_CAPACITY:
        raise ValidationError(_("The capacity must be between 1 and %(n)d.") % {"n": MAX_CAPACITY})
    venue = Venue.objects.create(
        county=county_of(region), region=region, name=clean_text(name, _("Name"), 100, required=True),
        address=clean_text(address, _("Address"), 200), description=clean_text(description, _("Description"), 2000),
        default_capacity=default_capacity,
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=venue,
                 changes={"name": [None, venue.name], "default_capacity": [None, default_capacity]})
    return venue


@transaction.atomic
def slot_create(*, actor: Any, venue: Venue, starts_at: dt.datetime, ends_at: dt.datetime,
                capacity: int | None = None, now: dt.datetime | None = None) -> Slot:
    """A time at a venue. It must lie in the future, last at most 12 hours and take 1–2000
    people; it may not overlap another slot of the venue."""
    require_actor(actor)
    _require_manager(actor, venue.region)
    now = now or timezone.now()
    capacity = venue.default_capacity if capacity is None else capacity
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError(_("A slot's times need a time zone."))
    if starts_at <= now:
        raise ValidationError(_("A slot must start in the future."), code="past")
    if ends_at <= starts_at or ends_at - starts_at > dt.timedelta(hours=MAX_SLOT_HOURS):
        raise ValidationError(_("A slot ends after it starts, within %(n)d hours.") % {"n": MAX_SLOT_HOURS})
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationError(_("The capacity must be between 1 and %(n)d.") % {"n": MAX_CAPACITY})
    if Slot.objects.filter(venue=venue, starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
        raise ValidationError(_("The venue already has a slot at that time."), code="overlap")
    slot = Slot.objects.create(venue=venue, county_id=venue.county_id, region_id=venue.region_id,
                               starts_at=starts_at, ends_at=ends_at, capacity=capacity)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=slot,
                 changes={"starts_at": [None, starts_at], "capacity": [None, capacity]})
    return slot


# --- the places of a slot -----------------------------------------------------------------


def _take_places(slot_pk: int, size: int, *, now: dt.datetime) -> Slot:
    """Hold `size` places of the slot, or refuse; call inside the booking's transaction.

    1. Lock the slot's row (`select_for_update`): concurrent bookings of the same slot queue
       here on PostgreSQL, and each reads the slot as the one before left it.
    2. Refuse a slot that has begun or a venue that is closed, as locked.
    3. `UPDATE … SET booked = booked + size WHERE pk = … AND booked + size <= capacity`: the
       row count is the answer; 0 means the places are not there (even if the lock were
       missing, as on SQLite, where writers are serialised by the database instead).
    """
    slot = Slot.objects.select_for_update().select_related("venue").get(pk=slot_pk)
    if slot.starts_at <= now:
        raise ValidationError(_("This slot has already begun; please choose a later one."), code="past")
    if not slot.venue.active:
        raise ValidationError(_("This venue takes no bookings at present."), code="closed")
    if size > slot.capacity:
        raise ValidationError(_("A group of %(n)d is larger than this slot's %(c)d places.")
                              % {"n": size, "c": slot.capacity}, code="oversize")
    taken = Slot.objects.filter(pk=slot_pk, booked__lte=F("capacity") - size).update(booked=F("booked") + size)
    if taken != 1:
        slot.refresh_from_db()
        if slot.free == 0:
            raise ValidationError(_("This slot is full."), code="full")
        raise ValidationError(_("Only %(n)d places are left in this slot.") % {"n": slot.free}, code="full")
    slot.refresh_from_db()
    return slot


def give_back_places(slot_pk: int, size: int) -> None:
    """Release `size` places of the slot under its row lock (a cancelled booking)."""
    Slot.objects.select_for_update().get(pk=slot_pk)
    if Slot.objects.filter(pk=slot_pk, booked__gte=size).update(booked=F("booked") - size) != 1:
        raise ValidationError(_("The slot's places do not add up; nothing was changed."), code="conflict")


# --- bookings -----------------------------------------------------------------------------


def _booking_input(*, organisation: str, group_kind: str, group_size: Any, contact_name: str,
                   contact_phone: str) -> dict[str, Any]:
    """The cleaned fields of a booking, or a ValidationError naming the first problem."""
    if group_kind not in Booking.GroupKind.values:
        raise ValidationError(_("Choose what kind of group it is."), code="kind")
    if isinstance(group_size, bool):
        raise ValidationError(_("The group size is a whole number of people."), code="size")
    try:
        size = int(str(group_size).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("The group size is a whole number of people."), code="size") from None
    if size < 1:
        raise ValidationError(_("A group has at least one person."), code="size")
    if size > MAX_CAPACITY:
        raise ValidationError(_("A group of %(n)d is larger than this slot's %(c)d places.")
                              % {"n": size, "c": MAX_CAPACITY}, code="oversize")
    phone = normalise_phone(contact_phone)
    if not phone:
        raise ValidationError(_("Please give a mobile phone number we can call."), code="phone")
    return {
        "organisation": clean_text(organisation, _("School or company"), 100, required=True),
        "group_kind": group_kind,
        "group_size": size,
        "contact_name": clean_text(contact_name, _("Contact name"), 50, required=True),
        "contact_phone": phone,
    }


@transaction.atomic
def booking_create(*, actor: Any, slot: Slot, organisation: str, group_size: Any, contact_name: str,
                   contact_phone: str, idempotency_key: str, group_kind: str = Booking.GroupKind.SCHOOL,
                   now: dt.datetime | None = None) -> Booking:
    """Book places for a group on a slot.

    1. The actor is the public page (`PUBLIC`, no account) or a manager of the venue's village.
    2. Clean the input (size a whole number ≥ 1, phone 11 digits starting with 1, names given);
       a bad value is a ValidationError and nothing is written.
    3. Under the idempotency key (`hemei.core.idempotency`): a double tap or a resent form with
       the same key and the same data returns the first booking; other data under the key is a
       conflict.
    4. Hold the places (`_take_places`: row lock + conditional update), then write the booking,
       its first event and the audit row. The result's `created` is False for a replay.
    """
    require_actor(actor)
    if not is_system(actor):
        _require_manager(actor, slot.region)
    now = now or timezone.now()
    fields = _booking_input(organisation=organisation, group_kind=group_kind, group_size=group_size,
                            contact_name=contact_name, contact_phone=contact_phone)
    if fields["group_size"] > slot.capacity:
        raise ValidationError(_("A group of %(n)d is larger than this slot's %(c)d places.")
                              % {"n": fields["group_size"], "c": slot.capacity}, code="oversize")

    def write() -> list[Booking]:
        locked = _take_places(slot.pk, fields["group_size"], now=now)
        booking = Booking.objects.create(slot=locked, county_id=locked.county_id, region_id=locked.region_id,
                                         created_at=now, updated_at=now, **fields)
        record(booking, kind="book", actor=actor, at=now, to_state=Booking.Status.REQUESTED,
               data={"group_size": booking.group_size, "slot": locked.pk})
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=booking,
                     changes={"slot": [None, locked.pk], "group_size": [None, booking.group_size],
                              "booked": [locked.booked - booking.group_size, locked.booked]})
        return [booking]

    [booking], _replayed = remembered(actor=actor, key=f"yx:{idempotency_key}", operation="services.booking_create",
                                      payload={"slot": slot.pk, **fields}, model=Booking, write=write)
    return booking


@transaction.atomic
def booking_confirm(*, actor: Any, booking: Booking) -> Booking:
    """The village confirms a requested booking (the places are already held)."""
    require_actor(actor)
    return transition(booking, Booking.Status.CONFIRMED, actor=actor, move="confirm")


@transaction.atomic
def booking_cancel(*, actor: Any, booking: Booking, reason: str) -> Booking:
    """Cancel a requested or confirmed booking; its places go back to the slot in the same
    transaction (the workflow's `on_event`, `hemei.services.workflow`). The move is checked
    before the reason, so an illegal move says so; a concurrent move of the same booking makes
    `transition` refuse, and nothing is released."""
    check(booking, Booking.Status.CANCELLED, actor=actor, move="cancel")
    reason = clean_text(reason, _("Reason"), 300, required=True)
    return transition(booking, Booking.Status.CANCELLED, actor=actor, move="cancel", note=reason,
                      data={"released": booking.group_size})


def _after_start(booking: Booking, now: dt.datetime | None) -> None:
    if booking.slot.starts_at > (now or timezone.now()):
        raise ValidationError(_("The slot has not begun yet."), code="early")


@transaction.atomic
def booking_mark_visited(*, actor: Any, booking: Booking, now: dt.datetime | None = None) -> Booking:
    check(booking, Booking.Status.VISITED, actor=actor, move="visited")
    _after_start(booking, now)
    return transition(booking, Booking.Status.VISITED, actor=actor, move="visited", at=now)


@transaction.atomic
def booking_mark_no_show(*, actor: Any, booking: Booking, note: str = "", now: dt.datetime | None = None) -> Booking:
    """The group did not come: the places stay counted (the slot is over), the record stays."""
    check(booking, Booking.Status.NO_SHOW, actor=actor, move="no_show")
    _after_start(booking, now)
    return transition(booking, Booking.Status.NO_SHOW, actor=actor, move="no_show", at=now,
                      note=clean_text(note, _("Note"), 300))


def booking_contact_reveal(*, actor: Any, booking: Booking, request: HttpRequest | None = None) -> dict[str, str]:
    """The contact's name and phone in clear, for a reader of the booking allowed to reveal
    personal data; each reveal is an audit row."""
    require_actor(actor)
    scope = scope_for(actor)
    if not scope.covers_path(booking.region.path):
        from django.http import Http404

        raise Http404
    if not scope.can_reveal:
        raise PermissionDenied(_("You may not reveal personal data."))
    audit_record(actor=actor, action=AuditEntry.Action.REVEAL, obj=booking, request=request,
                 changes={"field": "contact"})
    return {"name": booking.contact_name, "phone": booking.contact_phone}

"""Study-tour bookings (研学, issue 17 item 4): capacity, cancellation giving places back, the
booking state machine, scope, bad input, the public page (no account, idempotent, rate-limited)
and the staff pages (masked contacts, the Excel export)."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from openpyxl import load_workbook

from hemei.core.models import AuditEntry
from hemei.services import services
from hemei.services.models import Booking, BookingEvent, Slot, Venue
from tests.conftest import World, at

NOW = at(2026, 6, 1, 9)


@pytest.fixture
def venue(world: World) -> Venue:
    return services.venue_create(actor=world.user("secretary"), region=world.village, name="西邵村党建研学基地",
                                 default_capacity=50)


def make_slot(world: World, venue: Venue, *, day: int = 10, capacity: int = 50, hour: int = 9) -> Slot:
    return services.slot_create(actor=world.user("secretary"), venue=venue, starts_at=at(2026, 6, day, hour),
                                ends_at=at(2026, 6, day, hour + 2), capacity=capacity, now=NOW)


def book(slot: Slot, size: int, *, key: str, phone: str = "13812345678", actor=services.PUBLIC, **kw) -> Booking:
    return services.booking_create(actor=actor, slot=slot, organisation=kw.pop("organisation", "晋源区实验小学"),
                                   group_size=size, contact_name="赵老师", contact_phone=phone,
                                   idempotency_key=key, now=NOW, **kw)


def refused(code: str, fn, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value.messages
    return caught.value


# --- capacity -------------------------------------------------------------------------------


def test_it_books_until_the_slot_is_full_and_then_refuses(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue, capacity=50)
    book(slot, 30, key="a")
    book(slot, 20, key="b")
    slot.refresh_from_db()
    assert (slot.booked, slot.free) == (50, 0)
    error = refused("full", book, slot, 1, key="c")
    assert "full" in " ".join(error.messages) or "满" in " ".join(error.messages)
    assert Booking.objects.filter(slot=slot).count() == 2


def test_a_group_larger_than_the_places_left_is_refused_and_told_how_many_are_left(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue, capacity=50)
    book(slot, 45, key="a")
    error = refused("full", book, slot, 6, key="b")
    assert "5" in " ".join(error.messages)
    slot.refresh_from_db()
    assert slot.booked == 45


def test_a_stale_slot_in_memory_cannot_overbook(world: World, venue: Venue) -> None:
    """The check is the database's row, not the caller's copy: a slot read before others
    booked still cannot take more than its capacity."""
    slot = make_slot(world, venue, capacity=40)
    stale = Slot.objects.get(pk=slot.pk)
    book(slot, 40, key="a")
    assert stale.booked == 0
    refused("full", book, stale, 10, key="b")
    assert Slot.objects.get(pk=slot.pk).booked == 40


def test_the_database_refuses_more_booked_than_capacity(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue, capacity=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(booked=11)


def test_cancelling_gives_the_places_back(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue, capacity=50)
    first = book(slot, 50, key="a")
    refused("full", book, slot, 10, key="b")
    services.booking_cancel(actor=world.user("secretary"), booking=first, reason="学校改期")
    slot.refresh_from_db()
    assert slot.booked == 0
    book(slot, 50, key="c")
    slot.refresh_from_db()
    assert slot.booked == 50
    first.refresh_from_db()
    assert first.status == Booking.Status.CANCELLED
    assert list(first.events.values_list("kind", flat=True)) == ["book", "cancel"]
    assert first.events.last().note == "学校改期"


def test_a_cancellation_needs_a_reason_and_changes_nothing_without_one(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue)
    booking = book(slot, 20, key="a")
    with pytest.raises(ValidationError):
        services.booking_cancel(actor=world.user("secretary"), booking=booking, reason="  ")
    slot.refresh_from_db()
    booking.refresh_from_db()
    assert (slot.booked, booking.status) == (20, Booking.Status.REQUESTED)


# --- the state machine ----------------------------------------------------------------------


def test_it_confirms_then_marks_visited_after_the_slot_begins(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue)
    booking = book(slot, 20, key="a")
    services.booking_confirm(actor=world.user("secretary"), booking=booking)
    refused("early", services.booking_mark_visited, actor=world.user("secretary"), booking=booking, now=NOW)
    services.booking_mark_visited(actor=world.user("secretary"), booking=booking, now=at(2026, 6, 10, 10))
    assert booking.status == Booking.Status.VISITED
    slot.refresh_from_db()
    assert slot.booked == 20  # a visit keeps its places counted


def test_a_no_show_keeps_the_record_and_the_places(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue)
    booking = book(slot, 20, key="a")
    services.booking_confirm(actor=world.user("secretary"), booking=booking)
    services.booking_mark_no_show(actor=world.user("secretary"), booking=booking, note="电话未接",
                                  now=at(2026, 6, 10, 11))
    assert booking.status == Booking.Status.NO_SHOW
    assert Slot.objects.get(pk=slot.pk).booked == 20


@pytest.mark.parametrize("steps", [
    ["cancel", "confirm"],        # a cancelled booking cannot come back
    ["cancel", "cancel"],         # nor be cancelled twice (the places would be freed twice)
    ["no_show"],                  # a booking nobody confirmed cannot be a no-show
    ["visited"],
    ["confirm", "confirm"],
    ["confirm", "no_show", "visited"],
])
def test_the_state_machine_refuses_illegal_moves(world: World, venue: Venue, steps: list[str]) -> None:
    slot = make_slot(world, venue)
    booking = book(slot, 10, key="a")
    secretary = world.user("secretary")
    later = at(2026, 6, 10, 12)
    do = {
        "confirm": lambda: services.booking_confirm(actor=secretary, booking=booking),
        "cancel": lambda: services.booking_cancel(actor=secretary, booking=booking, reason="改期"),
        "no_show": lambda: services.booking_mark_no_show(actor=secretary, booking=booking, now=later),
        "visited": lambda: services.booking_mark_visited(actor=secretary, booking=booking, now=later),
    }
    for step in steps[:-1]:
        do[step]()
    booked = Slot.objects.get(pk=slot.pk).booked
    events = BookingEvent.objects.filter(booking=booking).count()
    refused("transition", do[steps[-1]])
    booking.refresh_from_db()
    assert Slot.objects.get(pk=slot.pk).booked == booked
    assert BookingEvent.objects.filter(booking=booking).count() == events


def test_a_grid_worker_may_not_confirm(world: World, venue: Venue) -> None:
    booking = book(make_slot(world, venue), 10, key="a")
    with pytest.raises(PermissionDenied):
        services.booking_confirm(actor=world.user("grid_a"), booking=booking)


# --- scope ------------------------------------------------------------------------------------


def test_staff_of_another_village_or_township_get_404(world: World, venue: Venue, login) -> None:
    from hemei.regions.models import Role
    from tests.conftest import make_user

    slot = make_slot(world, venue)
    booking = book(slot, 10, key="a")
    other = make_user("other-township", region=world.township2, role=Role.TOWNSHIP_STAFF)
    client = login(other)
    for url in (f"/w/yanxue/venues/{venue.pk}/", f"/w/yanxue/slots/{slot.pk}/",
                f"/w/yanxue/venues/{venue.pk}/export.xlsx", f"/api/v1/services/tour-bookings/{booking.pk}/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/w/yanxue/bookings/{booking.pk}/confirm/").status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.REQUESTED
    with pytest.raises(Http404):
        services.slot_create(actor=other, venue=venue, starts_at=at(2026, 7, 1, 9), ends_at=at(2026, 7, 1, 11),
                             now=NOW)


def test_a_grid_worker_of_the_village_sees_the_fill_but_not_the_bookings(world: World, venue: Venue, login) -> None:
    slot = make_slot(world, venue)
    book(slot, 10, key="a")
    client = login(world.user("grid_a"))
    assert client.get(f"/w/yanxue/venues/{venue.pk}/").status_code == 200
    page = client.get(f"/w/yanxue/slots/{slot.pk}/")
    assert page.status_code == 200 and "晋源区实验小学" not in page.content.decode()


# --- bad input --------------------------------------------------------------------------------


def test_an_oversize_group_is_refused(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue, capacity=50)
    refused("oversize", book, slot, 51, key="a")
    assert Slot.objects.get(pk=slot.pk).booked == 0 and not Booking.objects.exists()


@pytest.mark.parametrize("size", [0, -3, "十个", "", "2.5", True])
def test_a_group_size_that_is_no_number_of_people_is_refused(world: World, venue: Venue, size) -> None:
    slot = make_slot(world, venue)
    refused("size", book, slot, size, key="a")
    assert not Booking.objects.exists()


def test_a_slot_that_has_begun_cannot_be_booked(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue, day=2)
    with pytest.raises(ValidationError) as caught:
        services.booking_create(actor=services.PUBLIC, slot=slot, organisation="太原五中", group_size=10,
                                contact_name="钱老师", contact_phone="13812345678", idempotency_key="x",
                                now=at(2026, 6, 2, 9, 30))
    assert caught.value.code == "past"
    assert not Booking.objects.exists()


def test_a_slot_in_the_past_cannot_be_added(world: World, venue: Venue) -> None:
    refused("past", services.slot_create, actor=world.user("secretary"), venue=venue,
            starts_at=at(2026, 5, 1, 9), ends_at=at(2026, 5, 1, 11), now=NOW)


@pytest.mark.parametrize("phone", ["12345", "2381234567x", "", "1381234567", "23812345678"])
def test_a_bad_phone_is_refused(world: World, venue: Venue, phone: str) -> None:
    slot = make_slot(world, venue)
    with pytest.raises(ValidationError):
        book(slot, 10, key="a", phone=phone)
    assert not Booking.objects.exists() and Slot.objects.get(pk=slot.pk).booked == 0


def test_a_phone_with_country_code_and_spaces_is_kept_as_11_digits(world: World, venue: Venue) -> None:
    booking = book(make_slot(world, venue), 10, key="a", phone="+86 138 1234 5678")
    assert booking.contact_phone == "13812345678"


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_key_twice_is_one_booking(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue)
    first = book(slot, 10, key="k1")
    again = book(slot, 10, key="k1")
    assert again.pk == first.pk and Booking.objects.count() == 1
    assert Slot.objects.get(pk=slot.pk).booked == 10


def test_the_same_key_with_other_data_is_a_conflict(world: World, venue: Venue) -> None:
    slot = make_slot(world, venue)
    book(slot, 10, key="k1")
    refused("conflict", book, slot, 12, key="k1")
    assert Slot.objects.get(pk=slot.pk).booked == 10


# --- the public page --------------------------------------------------------------------------


def _form(**kw) -> dict[str, str]:
    return {"contact_phone": "13812345678", "contact_name": "孙老师", "group_size": "30", "group_kind": "school",
            "organisation": "晋源区第二中学", "key": "form-key-1", **kw}


@time_machine.travel(NOW, tick=False)
def test_the_public_page_books_without_an_account_and_a_double_tap_is_one_booking(world: World, venue: Venue,
                                                                                  client) -> None:
    slot = make_slot(world, venue)
    assert "50" in client.get(f"/yanxue/{venue.pk}/").content.decode()
    page = client.get(f"/yanxue/slot/{slot.pk}/")
    assert page.status_code == 200 and 'type="tel"' in page.content.decode()
    first = client.post(f"/yanxue/slot/{slot.pk}/", _form())
    second = client.post(f"/yanxue/slot/{slot.pk}/", _form())
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    booking = Booking.objects.get()
    assert booking.group_size == 30 and Slot.objects.get(pk=slot.pk).booked == 30
    receipt = client.get(first["Location"]).content.decode()
    assert booking.ref in receipt and "138****5678" in receipt and "13812345678" not in receipt
    assert AuditEntry.objects.filter(object_type="services.booking", actor_name="public-booking").exists()


@time_machine.travel(NOW, tick=False)
def test_the_public_page_explains_bad_input_and_keeps_what_was_typed(world: World, venue: Venue, client) -> None:
    slot = make_slot(world, venue, capacity=20)
    page = client.post(f"/yanxue/slot/{slot.pk}/", _form(group_size="25"))
    assert page.status_code == 400
    text = page.content.decode()
    assert "晋源区第二中学" in text and "20" in text
    assert not Booking.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_public_page_is_rate_limited_per_address(world: World, venue: Venue, client, settings) -> None:
    settings.HEMEI_RATES_ENABLED = True
    settings.HEMEI_RATES = {"study_booking": "3/hour"}
    slot = make_slot(world, venue, capacity=500)
    codes = [client.post(f"/yanxue/slot/{slot.pk}/", _form(key=f"k{n}", group_size="1")).status_code
             for n in range(4)]
    assert codes == [302, 302, 302, 429]
    assert Booking.objects.count() == 3


def test_a_slot_that_has_begun_is_not_offered_publicly(world: World, venue: Venue, client) -> None:
    slot = make_slot(world, venue, day=2)
    with time_machine.travel(at(2026, 6, 2, 10), tick=False):
        assert client.get(f"/yanxue/slot/{slot.pk}/").status_code == 404


# --- staff pages ------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_staff_see_contacts_masked_and_reveal_them_with_an_audit_row(world: World, venue: Venue, login) -> None:
    slot = make_slot(world, venue)
    booking = book(slot, 10, key="a")
    township = login(world.user("township"))  # no reveal permission
    text = township.get(f"/w/yanxue/slots/{slot.pk}/").content.decode()
    assert "138****5678" in text and "13812345678" not in text and "赵*" in text
    assert township.post(f"/w/yanxue/bookings/{booking.pk}/reveal/").status_code == 403
    secretary = login(world.user("secretary"))
    shown = secretary.post(f"/w/yanxue/bookings/{booking.pk}/reveal/").content.decode()
    assert "13812345678" in shown
    reveals = AuditEntry.objects.filter(action="reveal", object_type="services.booking", object_id=str(booking.pk))
    assert reveals.count() == 1


@time_machine.travel(NOW, tick=False)
def test_staff_confirm_and_cancel_through_the_pages(world: World, venue: Venue, login) -> None:
    slot = make_slot(world, venue)
    booking = book(slot, 10, key="a")
    client = login(world.user("secretary"))
    assert client.post(f"/w/yanxue/bookings/{booking.pk}/confirm/").status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    client.post(f"/w/yanxue/bookings/{booking.pk}/cancel/", {"note": "天气原因"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and Slot.objects.get(pk=slot.pk).booked == 0


@time_machine.travel(NOW, tick=False)
def test_the_export_lists_slots_with_fill_and_masks_contacts_without_the_permission(world: World, venue: Venue,
                                                                                     login) -> None:
    slot = make_slot(world, venue, capacity=40)
    book(slot, 30, key="a")
    client = login(world.user("township"))
    response = client.get(f"/w/yanxue/venues/{venue.pk}/export.xlsx?from=2026-06-01&to=2026-06-30")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    slots = list(workbook["研学时段"].iter_rows(values_only=True))
    assert slots[1][2:6] == (40, 30, 10, "75%")
    bookings = list(workbook["研学预订"].iter_rows(values_only=True))
    assert bookings[1][6] == "138****5678"
    assert AuditEntry.objects.filter(action="export", object_type="services.venue").count() == 1
    assert client.get(f"/w/yanxue/venues/{venue.pk}/export.xlsx?reveal=1").status_code == 403


@time_machine.travel(NOW, tick=False)
def test_a_revealer_gets_the_contacts_in_full_only_when_asking(world: World, venue: Venue, login) -> None:
    """The probes of 2026-12-03: holding the reveal permission gave every download in clear."""
    book(make_slot(world, venue, capacity=40), 30, key="a")
    client = login(world.user("secretary"))
    url = f"/w/yanxue/venues/{venue.pk}/export.xlsx?from=2026-06-01&to=2026-06-30"
    masked = list(load_workbook(io.BytesIO(client.get(url).content))["研学预订"].iter_rows(values_only=True))
    assert masked[1][6] == "138****5678"
    full = client.get(url + "&reveal=1")
    clear = list(load_workbook(io.BytesIO(full.content))["研学预订"].iter_rows(values_only=True))
    assert clear[1][6] != "138****5678" and "*" not in str(clear[1][6])
    exports = AuditEntry.objects.filter(action="export").order_by("pk")
    assert [e.changes["contacts"] for e in exports] == ["masked", "clear"]


def test_a_staff_added_slot_must_not_overlap(world: World, venue: Venue) -> None:
    make_slot(world, venue, day=10, hour=9)
    refused("overlap", services.slot_create, actor=world.user("secretary"), venue=venue,
            starts_at=at(2026, 6, 10, 10), ends_at=at(2026, 6, 10, 12), now=NOW)


def test_the_api_lists_bookings_masked(world: World, venue: Venue, login) -> None:
    book(make_slot(world, venue), 10, key="a")
    data = login(world.user("secretary")).get("/api/v1/services/tour-bookings/").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert rows[0]["contact_phone"] == "138****5678"



def test_the_demo_builds_a_year_of_study_tours_and_open_slots(world: World) -> None:
    from django.db.models import Q, Sum

    from hemei.services.demo import YEAR_VISITS, demo_services

    assert demo_services() > 0
    visited = Booking.objects.filter(status=Booking.Status.VISITED).aggregate(s=Sum("group_size"))["s"]
    assert YEAR_VISITS <= visited < YEAR_VISITS + 100
    live = ~Q(bookings__status=Booking.Status.CANCELLED)
    for booked, held, capacity in Slot.objects.annotate(held=Sum("bookings__group_size", filter=live)) \
            .values_list("booked", "held", "capacity"):
        assert booked == (held or 0) <= capacity
    from django.utils import timezone

    assert Slot.objects.filter(starts_at__gt=timezone.now(), booked=0).exists()
    assert demo_services() == 0  # built once


def test_verify_names_a_slot_whose_count_was_changed_behind_the_services(world: World, venue: Venue) -> None:
    from hemei.core.verify import CHECKS

    slot = make_slot(world, venue)
    book(slot, 20, key="a")
    assert CHECKS["study-tour-places"]() == []
    Slot.objects.filter(pk=slot.pk).update(booked=25)
    assert CHECKS["study-tour-places"]() == [f"slot {slot.pk}: 25 places booked but bookings hold 20"]


@time_machine.travel(NOW, tick=False)
def test_a_full_slot_says_so_instead_of_offering_the_form(world: World, venue: Venue, client) -> None:
    """Walk of issue 17: a full slot's page still showed the five questions, and only after
    filling them in did the visitor read 该时段已满."""
    slot = make_slot(world, venue, capacity=20)
    assert client.post(f"/yanxue/slot/{slot.pk}/", _form(group_size="20")).status_code == 302
    page = client.get(f"/yanxue/slot/{slot.pk}/").content.decode()
    assert "该时段已满。" in page and 'name="contact_phone"' not in page and "其他时段" in page
    refused_page = client.post(f"/yanxue/slot/{slot.pk}/", _form(group_size="1", key="another"))
    assert refused_page.status_code == 400 and refused_page.content.decode().count("该时段已满。") == 1
    again = client.post(f"/yanxue/slot/{slot.pk}/", _form(group_size="20"))  # the first tap's resend
    assert again.status_code == 302 and Booking.objects.count() == 1

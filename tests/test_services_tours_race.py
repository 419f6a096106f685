"""Many groups booking the same study-tour slot at the same instant (issue 17 item 4): the
slot's row lock and the conditional update let exactly as many through as there are places,
and the places booked equal the sum of the bookings held."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from hemei.services import services
from hemei.services.models import Booking, Slot
from tests.conftest import World, at

THREADS = 24
GROUP = 7
CAPACITY = 50  # 7 groups of 7 fit (49), the other 17 are refused


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_groups_booking_one_slot_at_once_never_exceed_capacity(world: World) -> None:
    venue = services.venue_create(actor=world.user("secretary"), region=world.village, name="农耕文化研学园")
    slot = services.slot_create(actor=world.user("secretary"), venue=venue, starts_at=at(2030, 6, 10, 9),
                                ends_at=at(2030, 6, 10, 11), capacity=CAPACITY)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            services.booking_create(actor=services.PUBLIC, slot=slot, organisation=f"第{n}小学", group_size=GROUP,
                                    contact_name="周老师", contact_phone=f"1380000{n:04d}",
                                    idempotency_key=f"race-{n}")
            outcome = "booked"
        except ValidationError as exc:
            outcome = f"refused {exc.code}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(outcomes)) == ["booked", "refused full"], outcomes
    assert outcomes.count("booked") == CAPACITY // GROUP
    slot.refresh_from_db()
    held = Booking.objects.filter(slot=slot).aggregate(s=Sum("group_size"))["s"]
    assert slot.booked == held == (CAPACITY // GROUP) * GROUP <= slot.capacity


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_cancellations_and_bookings_at_once_keep_the_count_exact(world: World) -> None:
    """Half the threads cancel held bookings while the other half book the freed places: the
    slot's count is always the sum of what is held, and never above capacity."""
    venue = services.venue_create(actor=world.user("secretary"), region=world.village, name="葡萄采摘研学园")
    slot = services.slot_create(actor=world.user("secretary"), venue=venue, starts_at=at(2030, 6, 11, 9),
                                ends_at=at(2030, 6, 11, 11), capacity=40)
    held = [services.booking_create(actor=services.PUBLIC, slot=slot, organisation=f"公司{n}", group_size=10,
                                    contact_name="吴经理", contact_phone="13900001111", idempotency_key=f"h{n}")
            for n in range(4)]
    barrier = threading.Barrier(8)

    def cancel(booking: Booking) -> None:
        try:
            barrier.wait()
            services.booking_cancel(actor=world.user("secretary"), booking=booking, reason="改期")
        finally:
            connection.close()

    def book(n: int) -> None:
        try:
            barrier.wait()
            services.booking_create(actor=services.PUBLIC, slot=slot, organisation=f"学校{n}", group_size=10,
                                    contact_name="郑老师", contact_phone="13900002222", idempotency_key=f"n{n}")
        except ValidationError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(b,)) for b in held]
    threads += [threading.Thread(target=book, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slot = Slot.objects.get(pk=slot.pk)
    live = Booking.objects.filter(slot=slot).exclude(status=Booking.Status.CANCELLED)
    assert slot.booked == (live.aggregate(s=Sum("group_size"))["s"] or 0) <= 40
    assert Booking.objects.filter(slot=slot, status=Booking.Status.CANCELLED).count() == 4

"""Study tours and an emergency response for `hemei demo`: 西邵村's three 研学 venues, a year
of visits that adds up to the seed's 2.1万 study-tour visits a year, and the next two weeks of
slots open on the public page (a few groups already booked, one slot full).
`demo_childcare` adds 西邵村's childcare centre (135 places, 119 enrolled) and one more.

Like care, the bookings are live: the year ends on the day the demo is built, so the public
page has future slots to offer. The history is bulk-inserted as the services would have left
it (slots' counts equal to the places held, one event per move); the coming slots and their
bookings go through the services. `demo_emergency` adds last summer's flood response.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from hemei.core.models import WorkflowEvent
from hemei.core.scope import system
from hemei.core.workflow import past_event
from hemei.regions.models import Region
from hemei.services import services
from hemei.services.models import Booking, BookingEvent, Slot, Venue

DEMO = system("demo")
XISHAO_CODE = "140110101201"
YEAR_VISITS = 21_000  # seed 001/003: 研学 2.1万人次 a year
VENUES = [
    ("西邵村党建引领乡村振兴研学基地", "西邵村村委会东侧", "网格化治理展厅、积分超市、三务公开栏，讲解约两小时。", 60),
    ("西邵村农耕文化研学园", "西邵村南街", "农具展陈与田间劳动体验，适合中小学生。", 80),
    ("西邵村葡萄种植示范园", "西邵村北坡", "设施葡萄种植与采摘，适合企业团建。", 40),
]
TIMES = [(9, 0, 11, 30), (14, 0, 16, 30)]
SCHOOLS = ["晋源区实验小学", "太原市第五中学", "晋源区第二中学", "姚村镇中心校", "太原师范学院附属小学",
           "山西大学附属中学"]
COMPANIES = ["晋源区农商银行", "太原市某科技有限公司", "山西某建设集团", "晋祠景区管理处"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"


def _aware(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _group(rng: random.Random) -> dict[str, Any]:
    school = rng.random() < 0.75
    return {
        "group_kind": Booking.GroupKind.SCHOOL if school else Booking.GroupKind.COMPANY,
        "organisation": rng.choice(SCHOOLS if school else COMPANIES),
        "contact_name": rng.choice(SURNAMES) + ("老师" if school else "经理"),
        "contact_phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
    }


def _history(venues: list[Venue], today: dt.date, rng: random.Random) -> tuple[int, int]:
    """A year of past slots on working days and the bookings on them, until 2.1万 visits."""
    days = [today - dt.timedelta(days=n) for n in range(365, 0, -1)]
    days = [d for d in days if d.weekday() < 5 or rng.random() < 0.3]
    slots = [Slot(venue=v, county_id=v.county_id, region_id=v.region_id, starts_at=_aware(d, h1, m1),
                  ends_at=_aware(d, h2, m2), capacity=v.default_capacity, created_at=_aware(d, 0, 0)
                  - dt.timedelta(days=30))
             for d in days for v in venues for (h1, m1, h2, m2) in TIMES]
    rng.shuffle(slots)
    visits = 0
    chosen: list[tuple[Slot, int, str]] = []
    for slot in slots:
        if visits >= YEAR_VISITS:
            break
        size = rng.randint(max(10, slot.capacity // 3), slot.capacity)
        status: str = rng.choices([Booking.Status.VISITED, Booking.Status.NO_SHOW, Booking.Status.CANCELLED],
                             weights=[92, 3, 5])[0]
        if status == Booking.Status.VISITED:
            visits += size
        if status != Booking.Status.CANCELLED:
            slot.booked = size
        chosen.append((slot, size, status))
    Slot.objects.bulk_create(slots, batch_size=2000)
    bookings = []
    for slot, size, state in chosen:
        made = slot.starts_at - dt.timedelta(days=rng.randint(3, 30))
        bookings.append(Booking(slot=slot, county_id=slot.county_id, region_id=slot.region_id, group_size=size,
                                status=state, created_at=made, updated_at=slot.ends_at, **_group(rng)))
    Booking.objects.bulk_create(bookings, batch_size=2000)
    events: list[WorkflowEvent] = []
    for booking in bookings:
        slot = booking.slot
        events.append(past_event(booking, kind="book", at=booking.created_at, to_state=Booking.Status.REQUESTED,
                                 data={"group_size": booking.group_size, "slot": slot.pk}))
        if booking.status == Booking.Status.CANCELLED:
            events.append(past_event(booking, kind="cancel", at=booking.created_at + dt.timedelta(days=1),
                                     actor=DEMO, from_state=Booking.Status.REQUESTED,
                                     to_state=Booking.Status.CANCELLED, note="学校调整行程",
                                     data={"released": booking.group_size}))
            continue
        confirmed = booking.created_at + dt.timedelta(hours=4)
        events.append(past_event(booking, kind="confirm", at=confirmed, actor=DEMO,
                                 from_state=Booking.Status.REQUESTED, to_state=Booking.Status.CONFIRMED))
        events.append(past_event(booking, kind="visited" if booking.status == Booking.Status.VISITED else "no_show",
                                 at=slot.ends_at, actor=DEMO, from_state=Booking.Status.CONFIRMED,
                                 to_state=booking.status))
    BookingEvent.objects.bulk_create(events, batch_size=2000)  # type: ignore[arg-type]
    return visits, len(bookings)


def _coming(venues: list[Venue], today: dt.date, rng: random.Random) -> int:
    """The next 14 days of slots through the services; some booked, the first venue's first
    slot full, a few already confirmed."""
    now = timezone.now()
    booked = 0
    for n in range(1, 15):
        day = today + dt.timedelta(days=n)
        if day.weekday() >= 5:
            continue
        for venue in venues:
            for h1, m1, h2, m2 in TIMES:
                slot = services.slot_create(actor=DEMO, venue=venue, starts_at=_aware(day, h1, m1),
                                            ends_at=_aware(day, h2, m2), now=now)
                groups = [slot.capacity] if booked == 0 else (
                    [rng.randint(10, slot.capacity // 2)] if rng.random() < 0.4 else [])
                for size in groups:
                    booking = services.booking_create(actor=DEMO, slot=slot, group_size=size,
                                                      idempotency_key=f"demo-{slot.pk}-{size}", now=now,
                                                      **_group(rng))
                    if rng.random() < 0.5:
                        services.booking_confirm(actor=DEMO, booking=booking)
                    booked += 1
    return booked


@transaction.atomic
def demo_services(*, stdout: Any = None, seed: int = 17) -> int:
    """Build 西邵村's study tours; the number of bookings made. Nothing when 西邵村 is missing
    or already has venues (the demo is built once)."""
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or Venue.objects.filter(region=village).exists():
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    venues = [services.venue_create(actor=DEMO, region=village, name=name, address=address, description=text,
                                    default_capacity=capacity)
              for name, address, text, capacity in VENUES]
    visits, past = _history(venues, today, rng)
    coming = _coming(venues, today, rng)
    # No audit row of its own: the demo build writes the one "import" row of the county.
    if stdout is not None:
        stdout.write(f"study tours: {len(venues)} venues, {visits:,} visits in the past year, "
                     f"{coming} bookings in the next two weeks\n")
    demo_emergency(stdout=stdout)
    demo_childcare(stdout=stdout)
    return past + coming


def demo_emergency(*, stdout: Any = None) -> int:
    """Last summer's flood response of 西邵村's township, as the services left it: declared at
    Ⅳ, raised to Ⅲ, lowered, lifted; every grid of 西邵村 checked in (one late, escalated to the
    township first), the other villages' grids checked in on time. The number of grids."""
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None:
        return 0
    township = Region.objects.get_parent(village)
    from hemei.regions.models import Level
    from hemei.services import response as emergency
    from hemei.services.models import GridCheck, Response
    from hemei.services.selectors import vulnerable_households
    from hemei.services.sweep import sweep_checkins

    if township is None or township.level != Level.TOWNSHIP or Response.objects.filter(region=township).exists():
        return 0
    day = timezone.localdate() - dt.timedelta(days=120)
    start = _aware(day, 6, 30)
    response = emergency.response_declare(actor=DEMO, region=township, hazard="flood", level=4,
                                          reason="气象台发布暴雨橙色预警，汾河支流水位上涨", now=start)
    emergency.response_change_level(actor=DEMO, response=response, level=3, reason="上游降雨加剧，启动三级响应",
                                    now=start + dt.timedelta(hours=2))
    checks = list(GridCheck.objects.filter(response=response).select_related("region").order_by("region__path"))
    late = checks[-1] if checks else None
    for n, check in enumerate(checks):
        if check is late:
            continue
        listed = vulnerable_households([check.region_id]).get(check.region_id, {})
        emergency.grid_check_in(actor=DEMO, check=check, reached=set(listed),
                                now=start + dt.timedelta(minutes=40 + 7 * (n % 30)))
    sweep_checkins(start + dt.timedelta(hours=7))  # the one grid not checked in climbs to the township
    if late is not None:
        listed = vulnerable_households([late.region_id]).get(late.region_id, {})
        reached = set(sorted(listed)[:-1]) if listed else set()
        emergency.grid_check_in(actor=DEMO, check=late, reached=reached, note="一户外出务工，已电话联系其子女",
                                now=start + dt.timedelta(hours=8))
    emergency.response_change_level(actor=DEMO, response=response, level=4, reason="水位回落至警戒线以下",
                                    now=start + dt.timedelta(hours=20))
    emergency.response_lift(actor=DEMO, response=response, reason="预警解除，终止防汛应急响应",
                            now=start + dt.timedelta(hours=30))
    if stdout is not None:
        stdout.write(f"emergency response: a lifted flood response of {township.name}, {len(checks)} grids\n")
    return len(checks)


# --- childcare places (托育) -------------------------------------------------------------------

#: (village name, centre, address, places, enrolled, families waiting): 西邵村's centre as the
#: seed gives it (135 places, 119 enrolled), and one more 晋源区 village's.
CENTRES = [
    ("西邵村", "西邵村普惠托育服务中心", "西邵村村委会西侧", 135, 119, 4),
    ("古城营村", "古城营村托育园", "古城营村文化广场北", 60, 41, 2),
]
CHILD_GIVEN = ["子涵", "浩然", "欣怡", "梓轩", "雨桐", "一诺", "沐辰", "语汐", "宇航", "诗琪", "嘉懿", "奕辰"]


def _child_birth(rng: random.Random, today: dt.date) -> dt.date:
    """A birth date that makes the child 10 to 60 months old today (inside 6–72 months)."""
    return today - dt.timedelta(days=rng.randint(10 * 31, 60 * 30))


def _enrolled_history(provider: Any, count: int, today: dt.date, rng: random.Random) -> None:
    """The centre's enrolled children as the services would have left them: each applied,
    was offered a place and enrolled within the past year (bulk rows, one event per move;
    the centre's count set to match, as the verify invariant checks)."""
    from hemei.regions.models import Household
    from hemei.services.models import ChildcareApplication, ChildcareEvent, ChildcareProvider

    S = ChildcareApplication.Status
    houses = list(Household.objects.filter(village_id=provider.region_id).select_related("head")
                  .order_by("pk")[:400])
    rows = []
    for n in range(count):
        house = houses[n % len(houses)] if houses else None
        head = house.head if house is not None else None
        enrolled = today - dt.timedelta(days=rng.randint(20, 330))
        applied = _aware(enrolled - dt.timedelta(days=rng.randint(14, 60)), 9, rng.randint(0, 59))
        surname = head.name[0] if head is not None else rng.choice(SURNAMES)
        rows.append(ChildcareApplication(
            provider=provider, county_id=provider.county_id, region_id=provider.region_id, household=house,
            child_name=surname + rng.choice(CHILD_GIVEN), child_birth_date=_child_birth(rng, today),
            guardian_name=head.name if head is not None else surname + "女士",
            guardian_phone=(head.phone if head is not None and head.phone else f"139{rng.randrange(10**8):08d}"),
            desired_start=enrolled, status=S.ENROLLED, applied_at=applied,
            offered_at=applied + dt.timedelta(days=7), enrolled_on=enrolled, updated_at=_aware(enrolled, 9, 0)))
    ChildcareApplication.objects.bulk_create(rows, batch_size=500)
    events: list[WorkflowEvent] = []
    for a in rows:
        offered = a.offered_at or a.applied_at
        events += [
            past_event(a, kind="applied", at=a.applied_at, to_state=S.APPLIED),
            past_event(a, kind="offer", at=offered, actor=DEMO, from_state=S.APPLIED, to_state=S.OFFERED,
                       data={"position": 1, "skipped": 0}),
            past_event(a, kind="enrol", at=_aware(a.enrolled_on or today, 9, 0), actor=DEMO,
                       from_state=S.OFFERED, to_state=S.ENROLLED),
        ]
    ChildcareEvent.objects.bulk_create(events, batch_size=1000)  # type: ignore[arg-type]
    ChildcareProvider.objects.filter(pk=provider.pk).update(enrolled=count)


def demo_childcare(*, stdout: Any = None, seed: int = 135) -> int:
    """西邵村's childcare centre (135 places, 119 enrolled, a few families waiting, one place
    offered) and 古城营村's; the waiting families and the offer go through the services. The
    number of centres made (none when 西邵村 is missing or has its centre already)."""
    from hemei.services import childcare
    from hemei.services.models import ChildcareProvider

    county = Region.objects.filter(code=XISHAO_CODE[:6]).first()
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if county is None or village is None or ChildcareProvider.objects.filter(region=village).exists():
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    now = timezone.now()
    made = 0
    for village_name, name, address, places, enrolled, waiting in CENTRES:
        region = Region.objects.filter(path__startswith=county.path, level="village", name=village_name) \
            .order_by("path").first()
        if region is None:
            continue
        provider = childcare.provider_create(actor=DEMO, region=region, name=name, address=address,
                                             phone="0351-6" + f"{rng.randrange(10**6):06d}", capacity=places,
                                             min_age_months=6, max_age_months=72)
        _enrolled_history(provider, enrolled, today, rng)
        for n in range(waiting):
            surname = rng.choice(SURNAMES)
            childcare.application_create(
                actor=DEMO, provider=provider, child_name=surname + rng.choice(CHILD_GIVEN),
                child_birth_date=_child_birth(rng, today), guardian_name=surname + "女士",
                guardian_phone=f"138{rng.randrange(10**8):08d}",
                desired_start=today + dt.timedelta(days=14 * (n + 1)), idempotency_key=f"demo-ty-{provider.pk}-{n}",
                now=now - dt.timedelta(days=30 - 5 * n))
        if region == village:  # the head of 西邵村's list has a place offered, waiting for the family's answer
            childcare.application_offer_next(actor=DEMO, provider=provider)
        made += 1
        if stdout is not None:
            provider.refresh_from_db()
            stdout.write(f"childcare: {provider.name}, {provider.capacity} places, {provider.enrolled} enrolled, "
                         f"{provider.offered} offered, {waiting} applied\n")
    return made

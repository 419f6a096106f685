"""Elderly care for `hemei demo`: 西邵村's 590 m² 智慧康养服务中心 and the county's other care
institutions, carers on duty around the clock, about 160 monitored elders with assessments,
contacts and care agreements, a week of health readings and of work orders (most taken on in
time, one escalated to the township), this week's visit plan, last month's ratings, and one
call open right now on the carer's phone page.

Unlike the year of cases (fixed `DEMO_NOW`), care is a live monitor: its week ends when the demo
is built, so the carer's page, the chart and the sweeper have something current to show. The
content is drawn from `random.Random(seed)` in a fixed order; the history is bulk-inserted as
the services and sweepers would have written it (events, deadlines, the frozen overdue flag),
the current call and the visit plan go through the services.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hemei.accounts.models import User
from hemei.care import services
from hemei.care.models import (
    Assessment,
    CareAgreement,
    CareVisit,
    DutyShift,
    Elder,
    EmergencyContact,
    Institution,
    Level,
    Living,
    NormsCheck,
    OperatorRating,
    Reading,
    ServiceItem,
    StaffMember,
    WorkOrder,
    level_for,
)
from hemei.care.services import CARE_CATEGORIES, NORMS, REASSESS_MONTHS, TITLES, _add_months, flag_for
from hemei.cases.demo import _number
from hemei.cases.models import Case, CaseEvent, Category
from hemei.core.scope import system
from hemei.core.workflow import past_event
from hemei.regions.models import Level as RegionLevel
from hemei.regions.models import Region, Resident

DEMO = system("demo")
XISHAO_CODE = "140110101201"
XISHAO_ELDERS = 60
COUNTY_ELDERS = 160
SERVICES = ["送一瓶酱油", "帮忙买药", "代缴电费", "更换灯泡", "陪同就医", "打扫卫生", "送午餐"]


def _county_elders(county: Region, village: Region, rng: random.Random) -> list[Resident]:
    """60 residents aged 65+ of 西邵村, the rest of the 160 from the county's other villages."""
    born_before = timezone.localdate().replace(year=timezone.localdate().year - 65)
    old = Resident.objects.filter(
        county=county, status="living", birth_date__lte=born_before, elder__isnull=True
    ).select_related("household", "region")
    here = list(old.filter(region__path__startswith=village.path).order_by("pk")[:XISHAO_ELDERS])
    rest = list(old.exclude(region__path__startswith=village.path).order_by("pk")[:2000])
    rng.shuffle(rest)
    return here + rest[: COUNTY_ELDERS - len(here)]


def _institutions(county: Region, village: Region, lead: User | None, rng: random.Random) -> Institution:
    township = Region.objects.get_parent(village)
    centre = services.institution_create(
        actor=DEMO,
        region=village,
        name="西邵村智慧康养服务中心",
        kind="wellness",
        beds=30,
        occupied=24,
        area_m2=590,
        grade=3,
        lead=lead,
    )
    others = [
        services.institution_create(
            actor=DEMO,
            region=village,
            name="西邵村日间照料中心",
            kind="day_centre",
            beds=12,
            occupied=9,
            area_m2=260,
            grade=2,
        ),
    ]
    other_village = (
        (
            Region.objects.filter(level=RegionLevel.VILLAGE, path__startswith=township.path)
            .exclude(pk=village.pk)
            .order_by("path")
            .first()
        )
        if township
        else None
    )
    if other_village is not None:
        others.append(
            services.institution_create(
                actor=DEMO,
                region=other_village,
                name="姚村镇敬老院",
                kind="home",
                beds=60,
                occupied=47,
                area_m2=2100,
                grade=2,
            )
        )
    # 50 carers, 49 with a valid 养老护理员 certificate (98 %).
    n = 0
    rows = []
    for inst, count in zip([centre, *others], (20, 8, 22), strict=False):
        for _i in range(count):
            n += 1
            rows.append(
                StaffMember(
                    institution=inst,
                    name=f"护理员{n:02d}",
                    role="养老护理员",
                    certificate="" if n == 37 else f"YLHL-{140110}-{n:04d}",
                    certified_until=dt.date(2028, 6, 30),
                )
            )
    StaffMember.objects.bulk_create(rows)
    return centre


def _profiles(residents: list[Resident], rng: random.Random) -> list[Elder]:
    today = timezone.localdate()
    elders, assessments = [], []
    for r in residents:
        score = rng.choice([90, 90, 85, 78, 70, 62, 55, 48, 40, 33, 25, 15])
        level = level_for(score)
        on = today - dt.timedelta(days=rng.randint(10, 170))
        elders.append(
            Elder(
                resident=r,
                county_id=r.county_id,
                region_id=r.region_id,
                monitored=True,
                living=rng.choice(
                    [Living.ALONE, Living.EMPTY_NEST, Living.EMPTY_NEST, Living.LEFT_BEHIND, Living.WITH_FAMILY]
                ),
                ability_score=score,
                ability_level=level,
                assessed_on=on,
                reassess_on=_add_months(on, REASSESS_MONTHS[level]),
                visits_per_week=settings.HEMEI_CARE_VISITS_IMPAIRED
                if level in services.IMPAIRED
                else (1 if level == Level.MODERATE else 0),
                has_call_box=rng.random() < 0.7,
                health_notes=rng.choice(["高血压", "糖尿病", "冠心病", "慢阻肺", "骨质疏松", ""]),
            )
        )
    elders = Elder.objects.bulk_create(elders)
    for e in elders:
        assessments.append(
            Assessment(
                elder=e,
                score=e.ability_score or 0,
                level=e.ability_level,
                assessed_on=e.assessed_on or today,
                reassess_on=e.reassess_on or today,
            )
        )
    Assessment.objects.bulk_create(assessments)
    contacts = [
        EmergencyContact(
            elder=e,
            name=f"家属{i:03d}",
            relation=rng.choice(["儿子", "女儿", "侄子", "邻居"]),
            phone=f"139{rng.randint(10000000, 99999999)}",
        )
        for i, e in enumerate(elders)
    ]
    EmergencyContact.objects.bulk_create(contacts)
    return elders


def _agreements(elders: list[Elder], centre: Institution, rng: random.Random) -> None:
    today = timezone.localdate()
    items = list(ServiceItem.values)
    rows = []
    for e in elders:
        if rng.random() < 0.65:
            chosen = sorted(rng.sample(items, rng.randint(2, 5)), key=items.index)
            signed = today - dt.timedelta(days=rng.randint(20, 300))
            rows.append(
                CareAgreement(
                    elder=e,
                    institution=centre,
                    items=chosen,
                    signed_on=signed,
                    valid_until=signed + dt.timedelta(days=365),
                )
            )
    CareAgreement.objects.bulk_create(rows)


def _shifts(village: Region, carers: list[User], now: dt.datetime) -> None:
    """Day 08–20 and night 20–08, alternating carers, from a week ago to two days ahead."""
    local = timezone.localtime(now)
    start = local.replace(hour=8, minute=0, second=0, microsecond=0) - dt.timedelta(days=7)
    rows = []
    for half in range(2 * 10):
        begins = start + dt.timedelta(hours=12 * half)
        rows.append(
            DutyShift(
                county_id=village.county_ancestor().pk,  # type: ignore[union-attr]
                region=village,
                carer=carers[half % len(carers)],
                starts_at=begins,
                ends_at=begins + dt.timedelta(hours=12),
            )
        )
    DutyShift.objects.bulk_create(rows)


def _readings(elders: list[Elder], now: dt.datetime, rng: random.Random) -> int:
    """A week of band readings: heart rate and blood pressure morning and evening, SpO₂ daily,
    glucose every other day; a few out of range (defaults of HEMEI_CARE_THRESHOLDS)."""
    ranges = settings.HEMEI_CARE_THRESHOLDS
    rows = []
    for e in elders:
        base_sys = rng.randint(115, 150)
        for day in range(7, 0, -1):
            for hour in (7, 19):
                at = (timezone.localtime(now) - dt.timedelta(days=day)).replace(hour=hour, minute=rng.randint(0, 59))
                for metric, value in (
                    ("heart_rate", rng.gauss(74, 9)),
                    ("systolic", rng.gauss(base_sys, 9)),
                    ("diastolic", rng.gauss(82, 7)),
                ):
                    value = round(value)
                    rows.append(
                        Reading(
                            elder=e,
                            county_id=e.county_id,
                            region_id=e.region_id,
                            metric=metric,
                            value=value,
                            at=at,
                            flag=flag_for(metric, value, ranges),
                            source=Reading.Source.DEVICE,
                            device_code=f"band-{e.pk}",
                        )
                    )
            at = (timezone.localtime(now) - dt.timedelta(days=day)).replace(hour=8, minute=30)
            spo2 = round(min(99.0, rng.gauss(96, 1.6)))
            rows.append(
                Reading(
                    elder=e,
                    county_id=e.county_id,
                    region_id=e.region_id,
                    metric="spo2",
                    value=spo2,
                    at=at,
                    flag=flag_for("spo2", spo2, ranges),
                    source=Reading.Source.DEVICE,
                    device_code=f"band-{e.pk}",
                )
            )
            if day % 2 == 0:
                glucose = round(rng.gauss(6.4, 1.3), 1)
                rows.append(
                    Reading(
                        elder=e,
                        county_id=e.county_id,
                        region_id=e.region_id,
                        metric="glucose",
                        value=glucose,
                        at=at,
                        flag=flag_for("glucose", glucose, ranges),
                        source=Reading.Source.HTTP,
                    )
                )
    Reading.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _history(
    elders: list[Elder],
    county: Region,
    carers: list[User],
    township_user: User | None,
    now: dt.datetime,
    rng: random.Random,
) -> int:
    """A week of work orders in 西邵村: served in time (taken on in 2–12 minutes, arrival,
    note, rating), and one that nobody took on: carer → lead → township, then served."""
    cats = {k: Category.objects.get(county__isnull=True, name=name) for k, name in CARE_CATEGORIES.items()}
    minutes = settings.HEMEI_CARE_RESPONSE_MINUTES
    S, K = Case.Status, CaseEvent.Kind
    plans = []
    for i in range(24):
        elder = elders[i % len(elders)]
        created = now - dt.timedelta(days=7) + dt.timedelta(hours=7 * i + rng.randint(0, 5), minutes=rng.randint(0, 59))
        kind = "service" if i % 3 else "call"
        plans.append((elder, created, kind, i == 9))
    cases, orders_meta = [], []
    for elder, created, kind, escalate in plans:
        cat = cats[kind]
        note = rng.choice(SERVICES) if kind == "service" else TITLES[kind]
        case = Case(
            county=county,
            region_id=elder.region_id,
            household_id=elder.resident.household_id,
            reporter=elder.resident,
            reporter_name=elder.resident.name,
            source=Case.Source.DEVICE if elder.has_call_box else Case.Source.VILLAGER,
            category=cat,
            title=TITLES[kind],
            description=note,
            created_at=created,
            updated_at=created,
            accept_by=created + dt.timedelta(minutes=2 * minutes),
            resolve_by=created + dt.timedelta(hours=cat.resolve_hours or 2),
        )
        cases.append(case)
        orders_meta.append((elder, created, escalate, note))
    cases.sort(key=lambda c: c.created_at)
    orders_meta.sort(key=lambda m: m[1])
    _number(county, cases)
    events: list[Any] = []  # CaseEvent rows from past_event()
    orders: list[WorkOrder] = []
    for case, (_elder, created, escalate, note) in zip(cases, orders_meta, strict=True):
        carer = carers[(created.hour // 12) % len(carers)]
        if escalate:
            lead_at = created + dt.timedelta(minutes=minutes)
            tier_at = created + dt.timedelta(minutes=2 * minutes)
            accepted = tier_at + dt.timedelta(minutes=6)
            case.tier, case.overdue_accept, case.late_since = Case.Tier.TOWNSHIP, True, case.accept_by
            case.escalated_at = tier_at
            responsible = township_user or carer
        else:
            accepted = created + dt.timedelta(minutes=rng.randint(2, 12))
            responsible = carer
        arrived = accepted + dt.timedelta(minutes=rng.randint(5, 14))
        resolved = arrived + dt.timedelta(minutes=rng.randint(8, 40))
        closed = resolved + dt.timedelta(hours=rng.randint(1, 6))
        rating = Case.Rating.SATISFIED if rng.random() < 0.85 else Case.Rating.BASICALLY
        case.status, case.responsible, case.responsible_unit = S.CLOSED, responsible, "养老服务"
        case.accepted_at, case.resolved_at, case.closed_at, case.rating = accepted, resolved, closed, rating
        case.measures, case.updated_at = f"已上门：{note}", closed
    Case.objects.bulk_create(cases, batch_size=200)
    for case, (elder, created, escalate, _note) in zip(cases, orders_meta, strict=True):
        events.append(
            past_event(
                case,
                at=created,
                kind=K.SUBMITTED,
                from_state="",
                to_state=S.SUBMITTED,
                data={"accept_by": case.accept_by.isoformat(), "resolve_by": case.resolve_by.isoformat()},
            )
        )
        if escalate:
            lead_at = created + dt.timedelta(minutes=minutes)
            tier_at = created + dt.timedelta(minutes=2 * minutes)
            events.append(
                past_event(
                    case,
                    at=lead_at,
                    kind=K.ESCALATED,
                    from_state=S.SUBMITTED,
                    to_state=S.SUBMITTED,
                    data={"deadline": "accept", "from_tier": "carer", "to_tier": "lead"},
                )
            )
            events.append(
                past_event(
                    case,
                    at=tier_at,
                    kind=K.ESCALATED,
                    from_state=S.SUBMITTED,
                    to_state=S.SUBMITTED,
                    data={"deadline": "accept", "from_tier": "village", "to_tier": "township"},
                )
            )
        assert case.accepted_at and case.resolved_at and case.closed_at
        arrived = case.accepted_at + (case.resolved_at - case.accepted_at) / 3
        events += [
            past_event(
                case,
                at=case.accepted_at,
                kind=K.ACCEPTED,
                from_state=S.SUBMITTED,
                to_state=S.ACCEPTED,
                actor=case.responsible,
                data={"responsible": case.responsible.pk if case.responsible else None, "unit": "养老服务"},
            ),
            past_event(case, at=arrived, kind=K.ARRIVED, from_state="", to_state="", actor=case.responsible),
            past_event(
                case,
                at=case.resolved_at,
                kind=K.RESOLVED,
                from_state=S.ACCEPTED,
                to_state=S.RESOLVED,
                actor=case.responsible,
                note=case.measures,
            ),
            past_event(
                case,
                at=case.closed_at,
                kind=K.RATED,
                from_state=S.RESOLVED,
                to_state=S.CLOSED,
                data={"rating": case.rating},
            ),
        ]
        orders.append(
            WorkOrder(
                case=case,
                elder=elder,
                county=county,
                region_id=elder.region_id,
                step=WorkOrder.Step.LEAD if escalate else WorkOrder.Step.ANSWERED,
                respond_by=created + dt.timedelta(minutes=minutes),
                carer=case.responsible,
                arrived_at=arrived,
                source_ref=f"demo-{case.number}",
                created_at=created,
            )
        )
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    WorkOrder.objects.bulk_create(orders, batch_size=500)
    return len(orders)


def _visits(elders: list[Elder], now: dt.datetime, rng: random.Random) -> None:
    """Last week's visits (a few missed) as rows; this week's plan through the service."""
    today = timezone.localdate()
    last_monday = today - dt.timedelta(days=today.weekday() + 7)
    rows = []
    for e in elders:
        for weekday in services.SPREAD.get(e.visits_per_week, ()):
            day = last_monday + dt.timedelta(days=weekday)
            missed = rng.random() < 0.06
            due_by = services._due_by(day)
            rows.append(
                CareVisit(
                    elder=e,
                    county_id=e.county_id,
                    region_id=e.region_id,
                    due_on=day,
                    due_by=due_by,
                    status=CareVisit.Status.MISSED if missed else CareVisit.Status.DONE,
                    tier="township" if missed else "village",
                    done_at=None if missed else due_by - dt.timedelta(hours=rng.randint(2, 9)),
                    note="" if missed else "身体状况良好",
                )
            )
    CareVisit.objects.bulk_create(rows)
    services.visits_plan(actor=DEMO, week_of=today)


def _ratings(centre: Institution, county: Region) -> None:
    from hemei.care.rating import rate

    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for inst in Institution.objects.filter(county=county):
        NormsCheck.objects.create(
            institution=inst, month=month, items={k: (k != "服务记录" or inst.pk != centre.pk) for k in NORMS}
        )
        inputs = {
            "occupancy": inst.occupancy,
            "satisfaction": 0.94 if inst.pk == centre.pk else 0.88,
            "norms": NormsCheck.objects.get(institution=inst, month=month).share_met,
        }
        outcome = rate("care_institution", inputs)
        OperatorRating.objects.create(
            county=county,
            region=inst.region,
            kind="care_institution",
            operator=inst.name,
            institution=inst,
            month=month,
            inputs=inputs,
            weights=settings.HEMEI_RATING_WEIGHTS["care_institution"],
            score=outcome.score,
            grade=outcome.grade,
            reward=outcome.reward,
        )
    outcome = rate("sewage", {"uptime": 0.97, "effluent": 0.92, "satisfaction": 0.85})
    OperatorRating.objects.create(
        county=county,
        region=centre.region,
        kind="sewage",
        operator="晋源区污水处理运维公司",
        month=month,
        inputs={"uptime": 0.97, "effluent": 0.92, "satisfaction": 0.85},
        weights=settings.HEMEI_RATING_WEIGHTS["sewage"],
        score=outcome.score,
        grade=outcome.grade,
        reward=outcome.reward,
    )


@transaction.atomic
def demo_care(*, seed: int = 13, stdout: Any = None) -> int:
    """Returns the number of elders written (0 when 西邵村 is missing or done already)."""
    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or Institution.objects.filter(region=village).exists():
        return 0
    county = village.county_ancestor()
    assert county is not None
    rng = random.Random(seed)
    now = timezone.now()
    carers = [u for u in (User.objects.filter(username=n).first() for n in ("care", "carelead")) if u is not None]
    lead = carers[-1] if carers else None
    centre = _institutions(county, village, lead, rng)
    elders = _profiles(_county_elders(county, village, rng), rng)
    _agreements(elders, centre, rng)
    if carers:
        _shifts(village, carers, now)
    readings = _readings(elders, now, rng)
    here = [e for e in Elder.objects.filter(region__path__startswith=village.path).select_related("resident")]
    orders = (
        _history(here, county, carers, User.objects.filter(username="township").first(), now, rng)
        if here and carers
        else 0
    )
    _visits(elders, now, rng)
    _ratings(centre, county)
    if here:
        # One call open now: on the carer's page at once, escalating if nobody takes it on.
        services.open_call(here[0], actor=DEMO, source_ref="demo-open-call", kind="call")
    if stdout is not None:
        stdout.write(f"care: {len(elders)} elders, {readings} readings, {orders + bool(here)} work orders\n")
    return len(elders)

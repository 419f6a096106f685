"""Elderly care: assessment levels, minute deadlines and the four-step escalation, device
handlers, readings and thresholds, visit plans, scope, masking and audited reveals, bad
input, the rating formula."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from hemei.care import rating, services
from hemei.care.access import access_elder, access_elders, access_orders
from hemei.care.handlers import call_box, health_band
from hemei.care.models import CareVisit, Elder, Level, Reading, WorkOrder, level_for
from hemei.cases import services as case_services
from hemei.cases.models import Case, CaseEvent
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.core.sweeps import seconds_until_due, sweep_all
from hemei.devices.events import DeviceEvent, NotHandled, handler_for
from hemei.notify.models import Notification
from hemei.regions.models import Role
from tests.conftest import at, make_user


@pytest.fixture
def care_categories(db):
    importlib.import_module("hemei.care.migrations.0002_care_categories").create(django_apps, None)


@pytest.fixture
def care(world, care_categories):
    """An elder in grid A (王建国, the villager's household head), a carer of 西邵村 on duty,
    the care-centre lead, and a carer of 东邵村."""
    carer = make_user("carer", region=world.village, role=Role.CARE_WORKER, phone="13600000001")
    other_carer = make_user("carer2", region=world.village2, role=Role.CARE_WORKER)
    lead = make_user("lead", region=world.village, role=Role.CARE_WORKER)
    elder = services.elder_register(actor=SYSTEM, resident=world.head_a, living="alone", monitored=True,
                                    health_notes="高血压，服药中")
    services.institution_create(actor=SYSTEM, region=world.village, name="西邵村智慧康养服务中心", kind="wellness",
                                beds=20, occupied=15, area_m2=590, grade=3, lead=lead)
    return SimpleNamespace(world=world, carer=carer, other_carer=other_carer, lead=lead, elder=elder)


def _duty(care, start):
    return services.shift_add(actor=SYSTEM, region=care.world.village, carer=care.carer, starts_at=start,
                              ends_at=start + dt.timedelta(hours=24))


def _box(elder):
    return SimpleNamespace(resident_id=elder.resident_id, region_id=elder.region_id, code="box-001")


def _press(elder, message_id="m1", when=None):
    return call_box(_box(elder), DeviceEvent(message_id=message_id, at=when or at(2026, 3, 2, 9), type="press"))


# --- assessment levels ------------------------------------------------------------------------


@pytest.mark.parametrize(("score", "level"), [
    (90, Level.INTACT), (89, Level.MILD), (66, Level.MILD), (65, Level.MODERATE), (46, Level.MODERATE),
    (45, Level.SEVERE), (30, Level.SEVERE), (29, Level.TOTAL), (0, Level.TOTAL),
])
def test_the_level_follows_the_gbt_42195_bands_at_the_boundaries(score, level):
    assert level_for(score) == level


@pytest.mark.parametrize("score", [-1, 91, 45.5, "45", None, True])
def test_a_score_outside_0_to_90_is_refused(care, score):
    with pytest.raises(ValidationError):
        services.elder_assess(actor=SYSTEM, elder=care.elder, score=score)
    assert care.elder.assessments.count() == 0
    assert Elder.objects.get(pk=care.elder.pk).ability_level == ""


def test_an_impaired_elder_gets_three_visits_a_week_and_a_reassessment_date(care):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        row = services.elder_assess(actor=care.carer, elder=care.elder, score=40)
    elder = Elder.objects.get(pk=care.elder.pk)
    assert (row.level, elder.ability_level, elder.ability_score) == (Level.SEVERE, Level.SEVERE, 40)
    assert elder.visits_per_week == 3 and elder.reassess_on == dt.date(2026, 9, 2)


# --- minute deadlines and the four steps ------------------------------------------------------


def test_a_press_opens_a_work_order_with_minute_deadlines_and_tells_the_carer_on_duty(care):
    start = at(2026, 3, 2, 8)
    with time_machine.travel(start, tick=False):
        _duty(care, start)
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        assert _press(care.elder) is None
    order = WorkOrder.objects.select_related("case").get()
    case = order.case
    assert case.source == Case.Source.DEVICE and case.category.name == "紧急呼叫"
    assert case.reporter == care.world.head_a and case.region == care.world.grid_a
    assert order.respond_by == at(2026, 3, 2, 9, 15) and case.accept_by == at(2026, 3, 2, 9, 30)
    assert order.carer == care.carer
    note = Notification.objects.get(recipient=care.carer, kind="care_call")
    assert "王**" in note.body and "高血压" not in note.body + note.title


def test_a_replayed_press_opens_nothing_new(care):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        _press(care.elder, "m1")
        _press(care.elder, "m1")
        _press(care.elder, "m2")
    assert WorkOrder.objects.count() == 2 and Case.objects.count() == 2


def test_nobody_accepting_escalates_carer_lead_township_county(care, settings):
    settings.HEMEI_CARE_RESPONSE_MINUTES = 15
    t0 = at(2026, 3, 2, 22)  # at night: minutes are clock minutes, not working time
    with time_machine.travel(t0, tick=False):
        _press(care.elder)
    order = WorkOrder.objects.get()

    def step(minutes):
        with time_machine.travel(t0 + dt.timedelta(minutes=minutes), tick=False):
            done = sweep_all()
        order.refresh_from_db()
        order.case.refresh_from_db()
        return [(e.kind, e.from_tier, e.to_tier) for e in done]

    assert step(14) == []
    assert step(15) == [("care", "carer", "lead")]
    assert order.step == WorkOrder.Step.LEAD and order.case.tier == Case.Tier.VILLAGE
    assert Notification.objects.filter(recipient=care.lead, kind="care_escalated").exists()
    assert step(16) == []  # acted once
    assert step(30) == [("case", "village", "township")]
    assert order.case.accept_by == t0 + dt.timedelta(minutes=45)
    assert step(45) == [("case", "township", "county")]
    assert order.case.tier == Case.Tier.COUNTY and order.case.overdue_accept
    tiers = [e.data["to_tier"] for e in order.case.events.filter(kind=CaseEvent.Kind.ESCALATED).order_by("at")]
    assert tiers == ["lead", "township", "county"]


def test_a_call_taken_on_in_time_never_escalates_and_is_served_to_the_end(care):
    t0 = at(2026, 3, 2, 9)
    with time_machine.travel(t0, tick=False):
        _press(care.elder)
    order = WorkOrder.objects.get()
    with time_machine.travel(t0 + dt.timedelta(minutes=4), tick=False):
        services.order_accept(actor=care.carer, order=order)
    with time_machine.travel(t0 + dt.timedelta(minutes=12), tick=False):
        services.order_arrive(actor=care.carer, order=order)
        with pytest.raises(ValidationError):
            services.order_arrive(actor=care.carer, order=order)  # double submission
    with time_machine.travel(t0 + dt.timedelta(minutes=20), tick=False):
        services.order_finish(actor=care.carer, order=order, note="送去酱油一瓶")
    with time_machine.travel(t0 + dt.timedelta(hours=3), tick=False):
        assert [e for e in sweep_all() if e.ref == order.case.number] == []
    villager = care.world.user("villager")
    services.order_rate(actor=villager, order=order, rating="satisfied")
    case = Case.objects.get(pk=order.case_pk) if hasattr(order, "case_pk") else Case.objects.get(pk=order.case_id)
    assert case.status == Case.Status.CLOSED and case.rating == "satisfied" and case.tier == Case.Tier.VILLAGE
    kinds = list(case.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["submitted", "accepted", "arrived", "resolved", "rated"]


def test_finishing_before_arrival_is_refused(care):
    _press(care.elder)
    order = WorkOrder.objects.get()
    services.order_accept(actor=care.carer, order=order)
    with pytest.raises(ValidationError):
        services.order_finish(actor=care.carer, order=order, note="done")
    assert Case.objects.get().status == Case.Status.ACCEPTED


def test_the_sweep_loop_wakes_for_the_nearest_deadline(care):
    t0 = at(2026, 3, 2, 9)
    with time_machine.travel(t0, tick=False):
        _press(care.elder)
    with time_machine.travel(t0 + dt.timedelta(minutes=14, seconds=50), tick=False):
        from django.utils import timezone

        assert seconds_until_due(timezone.now(), ceiling=30) == pytest.approx(10, abs=0.01)
    with time_machine.travel(t0 + dt.timedelta(minutes=16), tick=False):
        assert seconds_until_due(timezone.now(), ceiling=30) == 1.0  # past due: at once


def test_existing_categories_keep_their_working_day_deadlines(world, migration_seeds):
    from hemei.cases.models import Category

    cat = Category.objects.get(county__isnull=True, name="环境卫生")
    assert cat.accept_minutes is None
    with time_machine.travel(at(2026, 3, 6, 16), tick=False):  # a Friday afternoon
        case = case_services.case_submit(actor=SYSTEM, region=world.grid_a, category=cat, title="t",
                                         description="d", source=Case.Source.PHONE)
    assert case.accept_by.date() == dt.date(2026, 3, 6)


# --- device handlers -------------------------------------------------------------------------


def test_the_handlers_are_registered_for_their_kinds(care):
    assert handler_for("call_box") is call_box and handler_for("health_band") is health_band


def test_a_band_reading_out_of_range_raises_and_back_in_range_clears(care):
    band = SimpleNamespace(resident_id=care.elder.resident_id, region_id=care.elder.region_id, code="band-1")

    def send(mid, value, minute):
        return health_band(band, DeviceEvent(message_id=mid, at=at(2026, 3, 2, 9, minute), type="reading",
                                             data={"metric": "heart_rate", "value": value}))

    assert send("r1", 72, 0) is None
    high = send("r2", 128, 5)
    assert (high.code, high.severity, high.clear) == ("heart_rate_high", "major", False)
    assert send("r2", 128, 5) is None  # replay: stored once, no second signal
    cleared = send("r3", 80, 10)
    assert (cleared.code, cleared.clear) == ("heart_rate_high", True)
    assert send("r4", 81, 15) is None
    assert Reading.objects.filter(elder=care.elder).count() == 4
    fall = health_band(band, DeviceEvent(message_id="f1", at=at(2026, 3, 2, 9, 20), type="event",
                                         data={"event": "fall"}))
    assert (fall.code, fall.severity) == ("fall", "critical")


def test_a_band_heartbeat_is_no_reading_and_no_signal(care):
    band = SimpleNamespace(resident_id=care.elder.resident_id, region_id=care.elder.region_id, code="band-1")
    assert health_band(band, DeviceEvent(message_id="h1", at=at(2026, 3, 2, 9), type="heartbeat", data={})) is None
    assert Reading.objects.count() == 0


def test_per_elder_thresholds_win_over_the_defaults(care):
    services.threshold_set(actor=care.carer, elder=care.elder, metric="systolic", low=90, high=140)
    reading = services.reading_record(actor=care.carer, elder=care.elder, metric="systolic", value=150)
    assert reading.flag == Reading.Flag.HIGH


@pytest.mark.parametrize(("device", "payload"), [
    ("own", {"metric": "temperature", "value": 37}),
    ("own", {"metric": "heart_rate", "value": "fast"}),
    ("own", {"metric": "heart_rate", "value": 900}),
])
def test_bad_band_messages_are_refused_and_store_nothing(care, device, payload):
    device = _box(care.elder)
    with pytest.raises(ValidationError):
        health_band(device, DeviceEvent(message_id="b", at=at(2026, 3, 2), type="reading", data=payload))
    assert Reading.objects.count() == 0


@pytest.mark.parametrize("resident", ["none", "no_profile"])
def test_a_device_without_an_elder_is_left_to_the_devices_app(care, resident):
    """Not refused (a press must never be lost): NotHandled hands the message back to the
    devices app's own alarm rules (tests/test_devices.py follows it through ingestion)."""
    owner = None if resident == "none" else care.world.head_b.pk  # head_b has no care profile
    device = SimpleNamespace(resident_id=owner, region_id=care.world.grid_a.pk, code="box-x")
    with pytest.raises(NotHandled):
        call_box(device, DeviceEvent(message_id="p", at=at(2026, 3, 2), type="press"))
    with pytest.raises(NotHandled):
        health_band(device, DeviceEvent(message_id="b", at=at(2026, 3, 2), type="reading",
                                        data={"metric": "heart_rate", "value": 70}))
    assert WorkOrder.objects.count() == 0 and Case.objects.count() == 0 and Reading.objects.count() == 0


def test_a_reading_in_the_future_is_refused(care):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False), pytest.raises(ValidationError):
        services.reading_record(actor=care.carer, elder=care.elder, metric="spo2", value=95,
                                at=at(2026, 3, 2, 10))
    assert Reading.objects.count() == 0


def test_an_http_reading_out_of_range_opens_a_health_work_order(care):
    services.reading_submit(actor=care.carer, elder=care.elder, metric="spo2", value=85)
    order = WorkOrder.objects.select_related("case__category").get()
    assert order.case.category.name == "健康异常" and order.case.source == Case.Source.API
    services.reading_submit(actor=care.carer, elder=care.elder, metric="spo2", value=84)  # still low: no second
    assert WorkOrder.objects.count() == 1


# --- visit plans -----------------------------------------------------------------------------


def test_the_visit_plan_creates_due_visits_and_a_missed_one_escalates(care):
    services.elder_assess(actor=SYSTEM, elder=care.elder, score=20)
    monday = dt.date(2026, 3, 2)
    assert services.visits_plan(actor=SYSTEM, week_of=monday + dt.timedelta(days=2)) == 3
    assert services.visits_plan(actor=SYSTEM, week_of=monday) == 0  # idempotent
    visits = list(CareVisit.objects.order_by("due_on"))
    assert [v.due_on.weekday() for v in visits] == [0, 2, 4]
    services.visit_done(actor=care.carer, visit=visits[0], note="血压正常")
    with time_machine.travel(at(2026, 3, 4, 20, 1), tick=False):
        done = sweep_all(only=["care-visits"])
    assert [(e.kind, e.to_tier) for e in done] == [("care-visit", "township")]
    statuses = dict(CareVisit.objects.values_list("due_on", "status"))
    assert statuses == {monday: "done", dt.date(2026, 3, 4): "missed", dt.date(2026, 3, 6): "due"}
    township = care.world.user("township")
    assert Notification.objects.filter(recipient=township, kind="care_visit_missed").count() == 1


# --- scope, masking and reveal -----------------------------------------------------------------


def test_a_carer_sees_only_their_area_and_a_grid_worker_of_another_village_nothing(care):
    _press(care.elder)
    grid_c = make_user("gridc", region=care.world.grid_c, role=Role.GRID_WORKER)
    order = WorkOrder.objects.get()
    assert list(access_elders(care.carer)) == [care.elder]
    assert list(access_orders(care.carer)) == [order]
    for outsider in (care.other_carer, grid_c, care.world.user("outsider")):
        assert not access_elders(outsider).exists() and not access_orders(outsider).exists()
        with pytest.raises(Http404):
            access_elder(outsider, care.elder.pk)
    with pytest.raises(PermissionDenied):
        services.order_accept(actor=care.other_carer, order=order)
    assert Case.objects.get().status == Case.Status.SUBMITTED


def test_health_data_reveal_needs_the_permission_and_is_audited(care):
    with pytest.raises(PermissionDenied):
        services.health_reveal(actor=care.carer, elder=care.elder)
    secretary = care.world.user("secretary")  # holds regions.reveal_personal_data
    before = AuditEntry.objects.filter(action="reveal").count()
    revealed = services.health_reveal(actor=secretary, elder=care.elder)
    assert revealed["health_notes"] == "高血压，服药中"
    entry = AuditEntry.objects.filter(action="reveal").latest("pk")
    assert AuditEntry.objects.filter(action="reveal").count() == before + 1
    assert entry.actor == secretary and entry.changes == {"field": "health"}
    assert "高血压" not in str(AuditEntry.objects.filter(object_type="care.elder").values_list("changes", flat=True))
    county_admin_of_nothing = care.world.user("outsider")
    with pytest.raises(PermissionDenied):
        services.health_reveal(actor=county_admin_of_nothing, elder=care.elder)


def test_an_unknown_elder_or_a_second_profile_is_refused(care):
    with pytest.raises(ValidationError):
        services.elder_register(actor=SYSTEM, resident=care.world.head_a)
    assert Elder.objects.count() == 1


# --- the rating engine ---------------------------------------------------------------------------


def test_the_rating_formula_is_the_weighted_sum_held_in_settings(settings):
    settings.HEMEI_RATING_WEIGHTS = {"care_institution": {"occupancy": 0.3, "satisfaction": 0.4, "norms": 0.3}}
    outcome = rating.rate("care_institution", {"occupancy": 0.75, "satisfaction": 0.9, "norms": 1.0})
    assert outcome.score == pytest.approx(100 * (0.3 * 0.75 + 0.4 * 0.9 + 0.3 * 1.0))  # 88.5
    assert (outcome.grade, str(outcome.reward)) == ("AAAA", "40000.00")
    settings.HEMEI_RATING_WEIGHTS = {"care_institution": {"occupancy": 0.6, "satisfaction": 0.2, "norms": 0.2}}
    assert rating.rate("care_institution", {"occupancy": 0.75, "satisfaction": 0.9, "norms": 1.0}).score == 83.0


def test_the_same_engine_rates_a_sewage_operator():
    outcome = rating.rate("sewage", {"uptime": 1.0, "effluent": 0.95, "satisfaction": 0.8})
    assert outcome.score == 94.0 and outcome.grade == "AAAAA"


@pytest.mark.parametrize("inputs", [{"occupancy": 1.2, "satisfaction": 1, "norms": 1},
                                    {"occupancy": 1, "satisfaction": 1},
                                    {"occupancy": float("nan"), "satisfaction": 1, "norms": 1}])
def test_bad_rating_inputs_are_refused(inputs):
    with pytest.raises(ValidationError):
        rating.rate("care_institution", inputs)


def test_an_institution_is_rated_monthly_from_occupancy_satisfaction_and_norms(care):
    inst = care.elder.county and services.Institution.objects.get()
    township = care.world.user("township")
    with pytest.raises(ValidationError):
        services.institution_rate(actor=township, institution=inst, month=dt.date(2026, 3, 1))
    items = dict.fromkeys(services.NORMS, True) | {"消防安全": False}
    services.norms_check_record(actor=township, institution=inst, month=dt.date(2026, 3, 15), items=items)
    row = services.institution_rate(actor=township, institution=inst, month=dt.date(2026, 3, 1))
    assert row.inputs == {"occupancy": 0.75, "satisfaction": 1.0, "norms": 0.875}
    assert row.score == pytest.approx(88.75) and row.grade == "AAAA"
    with pytest.raises(PermissionDenied):
        services.institution_rate(actor=care.carer, institution=inst, month=dt.date(2026, 3, 1))

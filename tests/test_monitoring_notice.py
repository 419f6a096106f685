"""The 防返贫 public notice (issue 11, item 1): no ID, phone, bank or health details, refused
before publication and redacted on output; public only during its period; unguessable
addresses; and the whole procedure's 15-day clock, escalated through the shared sweep."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.utils import translation

from hemei.core.idnumbers import make_id_number
from hemei.core.sweeps import SWEEPERS, sweep_all
from hemei.visits import monitoring as mon
from hemei.visits import sweep as sweep_module
from hemei.visits.models import Monitoring, MonitoringEvent
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds", "threshold_seed")

ID = make_id_number("140110", dt.date(1965, 3, 2), 129)
CARD = "6222021234567894"  # Luhn-valid


@pytest.fixture
def threshold_seed(db):
    importlib.import_module("hemei.visits.migrations.0002_threshold_2026").forwards(django_apps, None)


def reviewed(world) -> Monitoring:
    m = mon.monitoring_enter(actor=world.user("grid_a"), household=world.house_a, source="staff")
    return mon.monitoring_verify(
        actor=world.user("grid_a"), monitoring=m, confirmed=True, kind="edge", risks=["illness"]
    )


def publish(world, m: Monitoring, text: str = "", days: int = 5) -> Monitoring:
    return mon.monitoring_publish_notice(
        actor=world.user("secretary"), monitoring=m, start=dt.date(2026, 3, 2), days=days, text=text
    )


def url(world, m: Monitoring) -> str:
    return f"/v/{world.village.code}/monitoring/notice/{m.public_id}/"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"户主身份证 {ID}", "140110********129X"),
        ("联系电话 13800002222", "138****2222"),
        ("座机 0351-2345678", "0351-***5678"),
        (f"银行卡 {CARD}", "6222********7894"),
        ("户主患肺癌，需长期化疗", "癌"),
        ("女儿残疾", "残疾"),
    ],
)
def test_it_refuses_to_publish_a_notice_with_personal_or_health_details(world, text, found):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = reviewed(world)
        with translation.override("en"), pytest.raises(ValidationError) as exc:
            publish(world, m, text)
    message = " ".join(exc.value.messages)
    assert "may not contain" in message and found in message
    m.refresh_from_db()
    assert m.step == "review" and m.notice_text == "" and m.notice_from is None


def test_it_publishes_a_notice_naming_the_risk_type(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = publish(world, reviewed(world), "经村民代表会议评议，该户因病存在返贫风险，拟纳入监测。")
    assert m.step == "notice" and "因病" in m.notice_text


def test_the_page_redacts_a_notice_stored_before_the_check(world, client):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = publish(world, reviewed(world))
    Monitoring.objects.filter(pk=m.pk).update(notice_text=f"户主{ID}，电话13800002222，卡{CARD}，患肺癌，因病")
    with time_machine.travel(at(2026, 3, 3), tick=False):
        html = client.get(url(world, m)).content.decode()
    for secret in (ID, "13800002222", CARD, "肺癌"):
        assert secret not in html
    assert "140110********129X" in html and "138****2222" in html and "肺*" in html and "因病" in html


def test_the_notice_is_public_during_its_period_only(world, client):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        m = publish(world, reviewed(world), "拟纳入监测")
    for day, status in (
        (dt.date(2026, 3, 1), 404),
        (dt.date(2026, 3, 2), 200),
        (dt.date(2026, 3, 6), 200),
        (dt.date(2026, 3, 7), 404),
    ):
        with time_machine.travel(at(day.year, day.month, day.day, 23, 50), tick=False):
            assert client.get(url(world, m)).status_code == status, day


def test_a_removed_risk_has_no_public_notice(world, client):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = publish(world, reviewed(world))
    with time_machine.travel(at(2026, 3, 9), tick=False):
        m = mon.monitoring_village_decide(actor=world.user("secretary"), monitoring=m, agreed=True)
        m = mon.monitoring_township_decide(actor=world.user("township"), monitoring=m, agreed=True)
        m = mon.monitoring_county_decide(actor=world.user("county"), monitoring=m, agreed=True)
    Monitoring.objects.filter(pk=m.pk).update(step="removed")
    with time_machine.travel(at(2026, 12, 1), tick=False):
        assert client.get(url(world, m)).status_code == 404


def test_notices_are_not_found_by_sequential_id(world, client):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = publish(world, reviewed(world))
        assert client.get(f"/v/{world.village.code}/monitoring/notice/{m.pk}/").status_code == 404
        assert client.get(url(world, m)).status_code == 200
    other = mon.monitoring_enter(actor=world.user("secretary"), household=world.house_b, source="staff")
    assert len(m.public_id) >= 20 and m.public_id != other.public_id


def test_the_migration_gives_existing_records_random_ids_and_a_procedure_clock(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = reviewed(world)
    Monitoring.objects.filter(pk=m.pk).update(public_id=str(m.pk), procedure_due=None)
    migration = importlib.import_module("hemei.visits.migrations.0003_monitoring_public_id_procedure_clock")
    migration.forwards(django_apps, None)
    m.refresh_from_db()
    assert m.public_id != str(m.pk) and len(m.public_id) >= 20
    assert m.procedure_due == m.created_at + dt.timedelta(days=15)


def test_the_whole_procedure_has_a_fifteen_day_clock_that_escalates(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):  # Monday
        m = reviewed(world)
    assert m.procedure_due == at(2026, 3, 17, 23, 59)
    # Every step on time, yet the procedure drags: a 9-day notice (to 10 March), the village
    # and the township each use their whole limit; the whole clock runs out on 17 March.
    with time_machine.travel(at(2026, 3, 3), tick=False):
        m = publish(world, Monitoring.objects.get(pk=m.pk), days=9)
    with time_machine.travel(at(2026, 3, 11, 16), tick=False):
        m = mon.monitoring_village_decide(actor=world.user("secretary"), monitoring=m, agreed=True)
    with time_machine.travel(at(2026, 3, 16, 16), tick=False):
        m = mon.monitoring_township_decide(actor=world.user("township"), monitoring=m, agreed=True)
    assert m.step_due == at(2026, 3, 19, 17, 30)  # the county's step is not late yet
    assert sweep_all(at(2026, 3, 17, 23, 58)) == []
    done = sweep_all(at(2026, 3, 18, 9))
    assert [(e.kind, e.deadline, e.from_tier, e.to_tier) for e in done] == [
        ("monitoring", "procedure", "village", "township")
    ]
    assert sweep_all(at(2026, 3, 18, 9)) == []  # once per deadline
    m.refresh_from_db()
    assert m.procedure_tier == "township" and m.procedure_overdue and m.tier == "village"
    assert m.procedure_due == at(2026, 3, 23, 17, 30)  # 3 working days at the township
    assert [e.to_tier for e in sweep_module.sweep_procedure(at(2026, 3, 24))] == ["county"]
    assert sweep_module.sweep_procedure(at(2026, 6, 1)) == []  # nowhere higher
    assert MonitoringEvent.objects.filter(monitoring=m, kind="procedure_escalated").count() == 2
    assert SWEEPERS["monitoring_procedure"] is sweep_module.sweep_procedure


def test_a_decided_record_is_not_escalated_for_its_procedure(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = reviewed(world)
    Monitoring.objects.filter(pk=m.pk).update(step="not_included")
    assert sweep_module.sweep_procedure(at(2026, 4, 1)) == []


def test_two_procedure_claims_at_the_same_moment_escalate_once(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = reviewed(world)
    now = at(2026, 3, 20)
    assert sweep_module._escalate_procedure(m.pk, now) is not None
    assert sweep_module._escalate_procedure(m.pk, now) is None
    assert MonitoringEvent.objects.filter(monitoring=m, kind="procedure_escalated").count() == 1


def test_the_lead_is_the_visit_that_found_the_household(world):
    from hemei.visits.models import Visit

    with time_machine.travel(at(2026, 3, 2), tick=False):
        visit = Visit.objects.create(
            household=world.house_a,
            county_id=world.house_a.county_id,
            region=world.house_a.region,
            visited_at=at(2026, 2, 20),
            visitor=world.user("grid_a"),
        )
        m = mon.monitoring_enter(actor=world.user("grid_a"), household=world.house_a, source="visit", visit=visit)
    assert m.procedure_due == at(2026, 3, 7, 23, 59)

"""Return-to-poverty monitoring (issue 3): entry, the procedure with deadlines and escalation,
the ≥ 5-day notice, risk removal rules, the department import, the public notice."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import threading

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation
from openpyxl import Workbook

from hemei.core.sweeps import sweep_all
from hemei.visits import monitoring as mon
from hemei.visits.importer import import_department_list
from hemei.visits.models import IncomeCheck, Monitoring, MonitoringEvent
from hemei.visits.sweep import sweep
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds", "threshold_seed")


@pytest.fixture
def threshold_seed(db):
    importlib.import_module("hemei.visits.migrations.0002_threshold_2026").forwards(django_apps, None)


def enter(world, household=None, **kw) -> Monitoring:
    kw.setdefault("source", Monitoring.Source.STAFF)
    return mon.monitoring_enter(actor=world.user("grid_a"), household=household or world.house_a, **kw)


def through_notice(world, m: Monitoring, start: dt.date) -> Monitoring:
    m = mon.monitoring_verify(actor=world.user("grid_a"), monitoring=m, confirmed=True, kind="edge", risks=["illness"])
    return mon.monitoring_publish_notice(actor=world.user("secretary"), monitoring=m, start=start, days=5)


def test_it_runs_the_whole_procedure_with_working_day_deadlines(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):  # Monday
        m = enter(world)
        assert m.step == "verify" and m.step_due == at(2026, 3, 5, 17, 30)  # 3 working days
        m = mon.monitoring_verify(
            actor=world.user("grid_a"), monitoring=m, confirmed=True, kind="edge", risks=["illness", "schooling"]
        )
        assert m.step == "review" and m.step_due == at(2026, 3, 4, 17, 30)
        m = mon.monitoring_publish_notice(
            actor=world.user("secretary"), monitoring=m, start=dt.date(2026, 3, 2), days=5
        )
        assert m.step == "notice" and m.notice_until == dt.date(2026, 3, 6)
        # The village concludes within a working day after the notice's last day.
        assert m.step_due == at(2026, 3, 9, 17, 30)
    with time_machine.travel(at(2026, 3, 7), tick=False):
        m = mon.monitoring_village_decide(actor=world.user("secretary"), monitoring=m, agreed=True)
        assert m.step == "township"
    with time_machine.travel(at(2026, 3, 9), tick=False):
        with pytest.raises(ValidationError):  # a grid worker does not decide for the township
            mon.monitoring_township_decide(actor=world.user("grid_a"), monitoring=m, agreed=True)
        m = mon.monitoring_township_decide(actor=world.user("township"), monitoring=m, agreed=True)
        assert m.step == "county"
        with pytest.raises(ValidationError):
            mon.monitoring_county_decide(actor=world.user("township"), monitoring=m, agreed=True)
        m = mon.monitoring_county_decide(actor=world.user("county"), monitoring=m, agreed=True)
    assert m.step == "monitored" and m.step_due is None and not m.was_overdue
    kinds = list(MonitoringEvent.objects.filter(monitoring=m).values_list("kind", flat=True))
    assert kinds == ["entered", "verified", "notice", "village_agreed", "township_agreed", "approved"]


def test_it_refuses_a_notice_shorter_than_five_days_and_an_early_decision(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world)
        m = mon.monitoring_verify(
            actor=world.user("grid_a"), monitoring=m, confirmed=True, kind="edge", risks=["illness"]
        )
        with pytest.raises(ValidationError, match="5"):
            mon.monitoring_publish_notice(
                actor=world.user("secretary"), monitoring=m, start=dt.date(2026, 3, 2), days=4
            )
        assert Monitoring.objects.get(pk=m.pk).step == "review"
        m = mon.monitoring_publish_notice(
            actor=world.user("secretary"), monitoring=m, start=dt.date(2026, 3, 2), days=5
        )
    # 16:00 on the notice's last day: too early to conclude.
    with time_machine.travel(at(2026, 3, 6, 16), tick=False), pytest.raises(ValidationError):
        mon.monitoring_village_decide(actor=world.user("secretary"), monitoring=m, agreed=True)
    assert Monitoring.objects.get(pk=m.pk).step == "notice"


def test_a_grid_worker_cannot_publish_the_village_notice(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world)
        m = mon.monitoring_verify(
            actor=world.user("grid_a"), monitoring=m, confirmed=True, kind="edge", risks=["illness"]
        )
        with pytest.raises(ValidationError):
            mon.monitoring_publish_notice(actor=world.user("grid_a"), monitoring=m, start=dt.date(2026, 3, 2), days=5)


def test_a_missed_step_escalates_exactly_once_per_deadline(world):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world)
    assert sweep(at(2026, 3, 5, 17, 29)) == []
    done = sweep(at(2026, 3, 5, 18))
    assert [(e.kind, e.ref, e.deadline, e.from_tier, e.to_tier) for e in done] == [
        ("monitoring", m.ref, "verify", "village", "township")
    ]
    assert sweep(at(2026, 3, 5, 18)) == [] and sweep(at(2026, 3, 5, 19)) == []
    m.refresh_from_db()
    assert m.tier == "township" and m.was_overdue and m.step_due == at(2026, 3, 10, 17, 30)
    # The next missed deadline climbs once more, then there is nowhere to go.
    assert [e.to_tier for e in sweep_all(at(2026, 3, 11), only=["monitoring"])] == ["county"]
    assert sweep(at(2026, 4, 30)) == []
    assert MonitoringEvent.objects.filter(monitoring=m, kind="escalated").count() == 2
    # The frozen flag stays when the step is finally done.
    with time_machine.travel(at(2026, 4, 30), tick=False):
        m = mon.monitoring_verify(
            actor=world.user("grid_a"),
            monitoring=Monitoring.objects.get(pk=m.pk),
            confirmed=True,
            kind="sudden",
            risks=["accident"],
        )
    assert m.was_overdue and m.tier == "village" and m.step == "review"


def test_the_monitoring_sweeper_is_registered():
    from hemei.core.sweeps import SWEEPERS

    assert SWEEPERS["monitoring"] is sweep


def test_two_sweeps_at_the_same_moment_escalate_once(world):
    """Same-moment race without threads: the second claim finds the row changed (SQLite)."""
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world)
    now = at(2026, 3, 6)
    from hemei.visits import sweep as sweep_module

    first = sweep_module._escalate(m.pk, now)
    second = sweep_module._escalate(m.pk, now)
    assert first is not None and second is None
    assert MonitoringEvent.objects.filter(monitoring=m, kind="escalated").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeper_threads_escalate_exactly_once(world):
    if connection.vendor != "postgresql":
        pytest.fail("runs in the PostgreSQL pass")
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(len(sweep(at(2026, 3, 6))))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(results) == [0, 1]
    assert MonitoringEvent.objects.filter(monitoring=m, kind="escalated").count() == 1


def monitored(world, *, has_labour: bool = True) -> Monitoring:
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world, has_labour=has_labour)
        m = through_notice(world, m, dt.date(2026, 3, 2))
    with time_machine.travel(at(2026, 3, 9), tick=False):
        m = mon.monitoring_village_decide(actor=world.user("secretary"), monitoring=m, agreed=True)
        m = mon.monitoring_township_decide(actor=world.user("township"), monitoring=m, agreed=True)
        return mon.monitoring_county_decide(actor=world.user("county"), monitoring=m, agreed=True)


def check(world, m: Monitoring, day: dt.date, *, stable: bool = True) -> None:
    with time_machine.travel(at(day.year, day.month, day.day), tick=False):
        mon.monitoring_check_income(
            actor=world.user("grid_a"), monitoring=m, checked_on=day, income_per_capita="12000", stable=stable
        )


def test_risk_removal_needs_six_months_of_stable_income(world):
    m = monitored(world)
    check(world, m, dt.date(2026, 4, 1), stable=False)
    check(world, m, dt.date(2026, 5, 1))
    check(world, m, dt.date(2026, 10, 1))
    with time_machine.travel(at(2026, 10, 30), tick=False), pytest.raises(ValidationError, match="6"):
        mon.monitoring_remove_risk(actor=world.user("grid_a"), monitoring=m)
    assert Monitoring.objects.get(pk=m.pk).step == "monitored"
    check(world, m, dt.date(2026, 11, 1))
    with time_machine.travel(at(2026, 11, 2), tick=False):
        m = mon.monitoring_remove_risk(actor=world.user("grid_a"), monitoring=m)
    assert m.step == "removed" and m.removed_at is not None


def test_an_unstable_check_restarts_the_six_months(world):
    m = monitored(world)
    check(world, m, dt.date(2026, 3, 20))
    check(world, m, dt.date(2026, 8, 1), stable=False)
    check(world, m, dt.date(2026, 10, 1))
    with time_machine.travel(at(2026, 10, 2), tick=False), pytest.raises(ValidationError):
        mon.monitoring_remove_risk(actor=world.user("grid_a"), monitoring=m)


def test_no_risk_removal_without_labour_capacity(world):
    m = monitored(world, has_labour=False)
    check(world, m, dt.date(2026, 3, 20))
    check(world, m, dt.date(2026, 10, 20))
    with time_machine.travel(at(2026, 11, 2), tick=False), translation.override("en"), \
            pytest.raises(ValidationError, match="labour"):
        mon.monitoring_remove_risk(actor=world.user("grid_a"), monitoring=m)
    assert Monitoring.objects.get(pk=m.pk).step == "monitored"
    assert IncomeCheck.objects.filter(monitoring=m).count() == 2


def test_one_open_record_per_household(world):
    enter(world)
    with pytest.raises(ValidationError):
        enter(world)
    assert Monitoring.objects.filter(household=world.house_a).count() == 1


def test_it_refuses_unknown_risk_types_and_other_grids(world):
    with pytest.raises(ValidationError):
        enter(world, risks=["gambling"])
    with pytest.raises(ValidationError):
        mon.monitoring_enter(actor=world.user("grid_b"), household=world.house_a, source="staff")
    assert Monitoring.objects.count() == 0


# --- pages --------------------------------------------------------------------------------


def test_public_notice_shows_no_personal_or_health_data(world, client):
    world.house_a.head.refresh_from_db()
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world, detail="患有尿毒症，每周透析三次，银行卡 6222020200112233445")
        m = through_notice(world, m, dt.date(2026, 3, 2))
    with time_machine.travel(at(2026, 3, 4), tick=False):  # during the notice
        response = client.get(f"/v/{world.village.code}/monitoring/notice/{m.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert world.head_a.name in html
    for secret in (
        world.head_a.id_number,
        world.head_a.phone,
        "13800002222",
        "尿毒症",
        "透析",
        "6222020200112233445",
        world.head_a.id_number[-4:] + "<",
        "因病",
        "illness",
    ):
        assert secret not in html
    # A wrong village code or a record without a notice is not found.
    with time_machine.travel(at(2026, 3, 4), tick=False):
        assert client.get(f"/v/{world.village2.code}/monitoring/notice/{m.public_id}/").status_code == 404
        other = mon.monitoring_enter(actor=world.user("secretary"), household=world.house_b, source="staff")
        assert client.get(f"/v/{world.village.code}/monitoring/notice/{other.public_id}/").status_code == 404


def test_grid_b_cannot_see_grid_a_monitoring(world, login):
    m = enter(world)
    client = login(world.user("grid_b"))
    assert client.get(f"/w/monitoring/{m.pk}/").status_code == 404
    assert client.post(f"/w/monitoring/{m.pk}/verify/", {"agreed": "1"}).status_code == 404
    assert client.get(f"/api/v1/monitoring/{m.pk}/").status_code == 404
    assert m.ref not in client.get("/w/monitoring/").content.decode()


def test_step_actions_through_the_page(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world)
        client = login(world.user("grid_a"))
        page = client.get(f"/w/monitoring/{m.pk}/")
        assert page.status_code == 200
        response = client.post(
            f"/w/monitoring/{m.pk}/verify/",
            {"agreed": "1", "kind": "edge", "risks": ["illness", "disaster"], "has_labour": "1"},
        )
        assert response.status_code == 302
    m.refresh_from_db()
    assert m.step == "review" and m.risks == ["illness", "disaster"]


def test_monitoring_list_query_count(world, login, django_assert_max_num_queries):
    for household in (world.house_a, world.house_b):
        mon.monitoring_enter(actor=world.user("secretary"), household=household, source="staff")
    client = login(world.user("secretary"))
    client.get("/w/monitoring/")
    with django_assert_max_num_queries(16):
        response = client.get("/w/monitoring/")
    assert response.status_code == 200
    with django_assert_max_num_queries(16):
        assert len(client.get("/api/v1/monitoring/").json()["results"]) == 2


def test_villager_declares_their_household(world, login):
    client = login(world.user("villager"))
    assert client.get("/me/monitoring/").status_code == 200
    response = client.post("/me/monitoring/", {"risks": ["illness"], "detail": "住院花了很多钱"})
    assert response.status_code == 302
    m = Monitoring.objects.get()
    assert m.household == world.house_a and m.source == "self" and m.step == "verify"
    assert login(world.user("outsider")).get("/me/monitoring/").status_code == 404


def test_monitoring_export_is_neutralised(world, login):
    enter(world, department='=HYPERLINK("x")')
    client = login(world.user("secretary"))
    response = client.get(f"/w/monitoring/ledger.xlsx?region={world.village.code}")
    assert response.status_code == 200
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "序号" and len(rows) == 2
    assert world.head_a.id_number not in str(rows)


# --- department import --------------------------------------------------------------------


def workbook(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["村编码", "户号", "监测类型", "风险类型", "预警部门", "情况说明"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_import_enters_every_row(world):
    data = workbook(
        [
            [world.village.code, "001", "边缘易致贫户", "因病、因学", "医保局", ""],
            [world.village.code, "101", "突发严重困难户", "因灾", "应急局", "房屋受损"],
        ]
    )
    result = import_department_list(actor=world.user("secretary"), data=data)
    assert result.ok and result.created == 2
    m = Monitoring.objects.get(household=world.house_a)
    assert m.source == "department" and m.kind == "edge" and m.risks == ["illness", "schooling"]
    assert m.department == "医保局"


def test_import_with_a_bad_row_saves_nothing(world, login):
    data = workbook(
        [
            [world.village.code, "001", "边缘易致贫户", "因病", "医保局", ""],
            [world.village.code, "999", "边缘易致贫户", "因病", "医保局", ""],
            [world.village.code, "101", "富裕户", "因赌", "民政局", ""],
        ]
    )
    result = import_department_list(actor=world.user("secretary"), data=data)
    assert not result.ok and Monitoring.objects.count() == 0
    found = {(e.row, e.column, e.value) for e in result.errors}
    assert found == {(3, "户号", "999"), (4, "监测类型", "富裕户"), (4, "风险类型", "因赌")}
    # The page shows the same report and saves nothing.
    client = login(world.user("secretary"))
    upload = io.BytesIO(data)
    upload.name = "list.xlsx"
    page = client.post("/w/monitoring/import/", {"file": upload})
    assert page.status_code == 200 and "富裕户" in page.content.decode()
    assert Monitoring.objects.count() == 0


def test_import_is_scoped_to_the_importers_area(world):
    data = workbook([[world.village.code, "001", "", "", "医保局", ""]])
    result = import_department_list(actor=world.user("grid_b"), data=data)
    assert not result.ok and Monitoring.objects.count() == 0


def test_import_rejects_a_non_workbook(world):
    result = import_department_list(actor=world.user("secretary"), data=b"not a workbook")
    assert not result.ok and result.errors[0].row == 0


def test_pages_render_at_every_step_and_staff_can_enter(world, login):
    client = login(world.user("secretary"))
    response = client.post(
        f"/w/monitoring/new/?household={world.house_b.pk}",
        {
            "household": world.house_b.pk,
            "source": "self",
            "kind": "sudden",
            "risks": ["disaster"],
            "has_labour": "1",
            "detail": "房屋受灾",
        },
    )
    assert response.status_code == 302
    m = Monitoring.objects.get(household=world.house_b)
    assert m.source == "self" and m.created_by == world.user("secretary")
    seen = []
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = mon.monitoring_verify(actor=world.user("secretary"), monitoring=m, confirmed=True)
        m = mon.monitoring_publish_notice(
            actor=world.user("secretary"), monitoring=m, start=dt.date(2026, 3, 2), days=7
        )
    with time_machine.travel(at(2026, 3, 10), tick=False):
        m = mon.monitoring_village_decide(actor=world.user("secretary"), monitoring=m, agreed=True)
        m = mon.monitoring_township_decide(actor=world.user("township"), monitoring=m, agreed=True)
    for persona in ("secretary", "township", "county"):
        page = login(world.user(persona)).get(f"/w/monitoring/{m.pk}/")
        assert page.status_code == 200
        seen.append("/county/" in page.content.decode())
    assert seen == [False, False, True]  # only the county sees the county decision form
    assert login(world.user("grid_a")).get(f"/w/monitoring/{m.pk}/").status_code == 404


def test_api_enters_a_household_and_refuses_a_duplicate(world, login):
    client = login(world.user("grid_a"))
    response = client.post(
        "/api/v1/monitoring/",
        {"household": world.house_a.pk, "kind": "edge", "risks": ["illness"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["step"] == "verify" and "detail" not in response.json()
    again = client.post("/api/v1/monitoring/", {"household": world.house_a.pk}, content_type="application/json")
    assert again.status_code == 400 and Monitoring.objects.count() == 1
    other = client.post("/api/v1/monitoring/", {"household": world.house_b.pk}, content_type="application/json")
    assert other.status_code == 404


def test_step_forms_keep_their_defaults_and_drop_malformed_fields(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = enter(world)
        client = login(world.user("grid_a"))
        # A NUL in the measure drops the field: the service asks for it, nothing is written (no 500).
        day = {"department": "农业农村局", "date": "2026-03-02"}
        response = client.post(f"/w/monitoring/{m.pk}/measure/", {"measure": "产业帮扶\x00", **day})
        assert response.status_code == 302 and not m.measures.exists()
        client.post(f"/w/monitoring/{m.pk}/measure/", {"measure": "产业帮扶", **day})
        assert m.measures.get().measure == "产业帮扶"
        # Without "agreed" the step is confirmed (the form's default); blank ticks are dropped.
        response = client.post(f"/w/monitoring/{m.pk}/verify/", {"kind": "edge", "risks": ["illness", " "]})
        assert response.status_code == 302
    m.refresh_from_db()
    assert m.step == "review" and m.risks == ["illness"] and m.has_labour is False


def test_staff_entry_reads_a_household_id_only(world, login):
    client = login(world.user("secretary"))
    for household in ("abc", "²", "9" * 30, "-1"):
        assert client.get(f"/w/monitoring/new/?household={household}").status_code == 404
        assert client.post("/w/monitoring/new/", {"household": household, "risks": ["disaster"]}).status_code == 404
    assert not Monitoring.objects.exists()
    # The query string names the household, else the form; has_labour left out is yes.
    response = client.post(f"/w/monitoring/new/?household={world.house_b.pk}",
                           {"household": "abc", "kind": "sudden", "risks": ["disaster"]})
    assert response.status_code == 302
    m = Monitoring.objects.get()
    assert m.household == world.house_b and m.source == "staff" and m.has_labour is True


def test_staff_can_record_no_labour_capacity(world, login):
    """The box starts ticked; an unticked box sends nothing, so the page carries a hidden "0"
    before it (the last value wins): unticked is no, ticked yes."""
    client = login(world.user("secretary"))
    page = client.get(f"/w/monitoring/new/?household={world.house_b.pk}").content.decode()
    assert page.index('type="hidden" name="has_labour" value="0"') < page.index('type="checkbox" name="has_labour"')
    client.post(f"/w/monitoring/new/?household={world.house_b.pk}",
                {"kind": "sudden", "risks": ["disaster"], "has_labour": "0"})
    client.post(f"/w/monitoring/new/?household={world.house_a.pk}",
                {"kind": "sudden", "risks": ["disaster"], "has_labour": ["0", "1"]})
    assert dict(Monitoring.objects.values_list("household_id", "has_labour")) == {
        world.house_b.pk: False, world.house_a.pk: True}

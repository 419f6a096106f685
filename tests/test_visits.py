"""Household visits and patrols (issue 3): the visit form, problems → linked cases, coverage,
scope, the threshold trigger into monitoring, the ledger, the API."""

from __future__ import annotations

import importlib
import io
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from hemei.cases.models import Case, Category
from hemei.core.scope import SYSTEM
from hemei.regions import services as region_services
from hemei.visits import services
from hemei.visits.models import Monitoring, Patrol, PatrolFinding, Visit, VisitProblem
from hemei.visits.selectors import coverage, missing_households, period_of
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds", "threshold_seed")


@pytest.fixture
def threshold_seed(db):
    importlib.import_module("hemei.visits.migrations.0002_threshold_2026").forwards(django_apps, None)


def cat(name: str = "供水供暖") -> Category:
    return Category.objects.get(county__isnull=True, name=name)


def visit(world, household=None, *, persona: str = "grid_a", when=None, **kw) -> Visit:
    with time_machine.travel(when or at(2026, 5, 12), tick=False):
        return services.visit_record(actor=world.user(persona), household=household or world.house_a, **kw)


def test_a_visit_with_a_problem_puts_a_linked_case_on_the_ledger(world, login):
    client = login(world.user("grid_a"))
    with time_machine.travel(at(2026, 5, 12), tick=False):
        assert client.get(f"/w/visits/new/?household={world.house_a.pk}").status_code == 200
        response = client.post(
            f"/w/visits/new/?household={world.house_a.pk}",
            {
                "household": world.house_a.pk,
                "visited_at": "2026-05-12T09:30",
                "present": "1",
                "health_ok": "1",
                "housing_safe": "1",
                "schooling_ok": "1",
                "water_note": "自来水浑浊",
                "income_per_capita": "15000",
                "needs": "希望修路",
                "problem_category_1": cat().pk,
                "problem_title_1": "自来水浑浊",
                "problem_text_1": "水有泥沙，烧开有沉淀",
            },
        )
    assert response.status_code == 302
    v = Visit.objects.get()
    assert not v.water_safe and v.income_per_capita == Decimal("15000.00") and v.region == world.grid_a
    problem = VisitProblem.objects.get(visit=v)
    case = problem.case
    assert case.source == Case.Source.VISIT and case.household == world.house_a and case.region == world.grid_a
    assert case.title == "自来水浑浊" and case.reporter_name == world.head_a.name
    client = login(world.user("grid_a"))  # a fresh session after the time travel
    detail = client.get(f"/w/visits/{v.pk}/").content.decode()
    assert case.number in detail
    assert not Monitoring.objects.exists()  # income above the threshold


def test_a_bad_problem_leaves_no_visit_and_no_case(world):
    with pytest.raises(ValidationError):
        visit(world, problems=[services.ProblemInput(cat(), "", "")])
    assert Visit.objects.count() == 0 and Case.objects.count() == 0


def test_an_absent_household_needs_the_phone_follow_up(world):
    with pytest.raises(ValidationError):
        visit(world, present=False)
    assert Visit.objects.count() == 0
    v = visit(world, present=False, phone_contact="王建国（本人）", phone_outcome="在太原务工，一切正常")
    assert not v.present and v.phone_contact.startswith("王建国")


def test_heavy_spending_needs_an_amount_and_money_must_be_money(world):
    with pytest.raises(ValidationError):
        visit(world, heavy_spending=True)
    with pytest.raises(ValidationError):
        visit(world, income_per_capita="a lot")
    with pytest.raises(ValidationError):
        visit(world, income_per_capita="-5")
    assert Visit.objects.count() == 0


def test_grid_b_cannot_see_or_visit_grid_a_households(world, login):
    v = visit(world)
    client = login(world.user("grid_b"))
    assert client.get(f"/w/visits/new/?household={world.house_a.pk}").status_code == 404
    response = client.post(
        f"/w/visits/new/?household={world.house_a.pk}",
        {"household": world.house_a.pk, "visited_at": "2026-05-12T09:30", "present": "1"},
    )
    assert response.status_code == 404
    assert client.get(f"/w/visits/{v.pk}/").status_code == 404
    assert client.get(f"/api/v1/visits/{v.pk}/").status_code == 404
    assert (
        client.post("/api/v1/visits/", {"household": world.house_a.pk}, content_type="application/json").status_code
        == 404
    )
    assert str(v.pk) not in [str(r["id"]) for r in client.get("/api/v1/visits/").json()["results"]]
    assert Visit.objects.count() == 1
    with pytest.raises(ValidationError):
        services.visit_record(actor=world.user("grid_b"), household=world.house_a)
    # The villager and an outsider have no staff pages at all.
    assert login(world.user("villager")).get("/w/visits/").status_code == 404


def test_income_under_the_threshold_enters_monitoring(world):
    v = visit(world, income_per_capita="6500")
    m = Monitoring.objects.get(household=world.house_a)
    assert m.source == "visit" and m.visit == v and m.step == "verify" and m.step_due is not None
    # A second low visit does not open a second record.
    visit(world, income_per_capita="6000")
    assert Monitoring.objects.filter(household=world.house_a).count() == 1


def test_income_at_the_threshold_does_not(world):
    visit(world, income_per_capita="7800")
    assert not Monitoring.objects.exists()


def test_no_threshold_for_the_year_means_no_income_trigger(world):
    visit(world, income_per_capita="100", when=at(2031, 5, 12))
    assert not Monitoring.objects.exists()


def test_heavy_rigid_spending_enters_monitoring(world):
    visit(
        world,
        household=world.house_b,
        persona="grid_b",
        income_per_capita="20000",
        heavy_spending=True,
        heavy_spending_amount="38000",
    )
    m = Monitoring.objects.get()
    assert m.household == world.house_b and "38000" in m.detail


def add_households(world, grid, n: int) -> list:
    return [
        region_services.household_create(actor=SYSTEM,
                                         grid=grid, number=f"G{grid.code[-3:]}-{i:02d}", address="") for i in range(n)
    ]


def test_coverage_counts_households_visited_this_quarter(world, login):
    extra = add_households(world, world.grid_a, 3)  # grid A: house_a + 3
    visit(world, when=at(2026, 4, 1))
    visit(world, extra[0], when=at(2026, 6, 30, 20))
    visit(world, extra[0], when=at(2026, 5, 1))  # twice: counted once
    visit(world, extra[1], when=at(2026, 3, 31, 23))  # last quarter
    visit(world, world.house_b, persona="grid_b", when=at(2026, 7, 1, 0, 30))  # next quarter
    period = period_of(at(2026, 5, 1).date())
    rows = {r.grid.code: (r.households, r.visited) for r in coverage(world.village, period)}
    assert rows == {world.grid_a.code: (4, 2), world.grid_b.code: (1, 0)}
    missing = {h.pk for h in missing_households(world.village, period)}
    assert missing == {extra[1].pk, extra[2].pk, world.house_b.pk}
    client = login(world.user("secretary"))
    page = client.get(f"/w/visits/coverage/?region={world.village.code}&date=2026-05-01")
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 / 5" in html.replace("<b>", "").replace("</b>", "") or "2 / 5" in html
    assert "coverage-chart-data" in html
    # A grid worker sees only their grid's coverage; another grid is not found.
    grid_client = login(world.user("grid_b"))
    assert grid_client.get(f"/w/visits/coverage/?region={world.grid_a.code}").status_code == 404


def test_the_period_is_configurable(world, settings):
    settings.HEMEI_VISIT_PERIOD_MONTHS = 1
    visit(world, when=at(2026, 4, 20))
    assert coverage(world.grid_a, period_of(at(2026, 5, 3).date()))[0].visited == 0
    assert coverage(world.grid_a, period_of(at(2026, 4, 3).date()))[0].visited == 1
    settings.HEMEI_VISIT_PERIOD_MONTHS = 12
    assert period_of(at(2026, 5, 3).date()).start.isoformat() == "2026-01-01"


def test_a_patrol_finding_becomes_a_case(world, login):
    client = login(world.user("grid_a"))
    with time_machine.travel(at(2026, 5, 12, 18), tick=False):
        response = client.post(
            "/w/patrols/",
            {
                "grid": world.grid_a.code,
                "route": "村口—东街—河堤",
                "started_at": "2026-05-12T15:00",
                "ended_at": "2026-05-12T16:30",
                "finding_1": "河堤护栏断了一截",
                "finding_category_1": cat("道路交通").pk,
                "finding_2": "东街路灯正常",
                "finding_category_2": "",
            },
        )
    assert response.status_code == 302
    patrol = Patrol.objects.get()
    findings = list(PatrolFinding.objects.filter(patrol=patrol))
    assert len(findings) == 2 and findings[1].case is None
    case = findings[0].case
    assert case is not None and case.source == Case.Source.PATROL and case.region == world.grid_a
    assert "河堤护栏" in login(world.user("grid_a")).get("/w/patrols/").content.decode()


def test_a_patrol_ending_before_it_starts_is_refused(world):
    with time_machine.travel(at(2026, 5, 12, 18), tick=False), pytest.raises(ValidationError):
        services.patrol_record(
            actor=world.user("grid_a"),
            grid=world.grid_a,
            route="x",
            started_at=at(2026, 5, 12, 16),
            ended_at=at(2026, 5, 12, 15),
        )
    with time_machine.travel(at(2026, 5, 12, 18), tick=False), pytest.raises(ValidationError):
        services.patrol_record(
            actor=world.user("grid_b"),
            grid=world.grid_a,
            route="x",
            started_at=at(2026, 5, 12, 15),
            ended_at=at(2026, 5, 12, 16),
        )
    assert Patrol.objects.count() == 0


def test_visit_list_and_api_query_counts(world, login, django_assert_max_num_queries):
    extra = add_households(world, world.grid_a, 5)
    for household in [world.house_a, *extra]:
        visit(world, household, problems=[services.ProblemInput(cat(), "漏水", "水管漏水")])
    client = login(world.user("secretary"))
    client.get("/w/visits/")
    with django_assert_max_num_queries(16):
        response = client.get("/w/visits/")
    assert response.status_code == 200 and response.content.decode().count("/w/cases/") >= 6
    with django_assert_max_num_queries(16):
        data = client.get("/api/v1/visits/").json()
    assert len(data["results"]) == 6 and all(len(r["cases"]) == 1 for r in data["results"])
    with django_assert_max_num_queries(16):
        assert client.get(f"/w/visits/coverage/?region={world.village.code}").status_code == 200


def test_api_creates_a_visit_through_the_service(world, login):
    client = login(world.user("grid_a"))
    with time_machine.travel(at(2026, 5, 12), tick=False):
        response = client.post(
            "/api/v1/visits/",
            {
                "household": world.house_a.pk,
                "present": True,
                "income_per_capita": "5000",
                "problems": [{"category": cat().pk, "title": "停水", "description": "停水两天"}],
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["cases"]) == 1 and body["household"] == world.house_a.pk
    assert Monitoring.objects.filter(household=world.house_a, source="visit").exists()
    client = login(world.user("grid_a"))
    bad = client.post(
        "/api/v1/visits/", {"household": world.house_a.pk, "present": False}, content_type="application/json"
    )
    assert bad.status_code == 400 and Visit.objects.count() == 1


def test_visit_ledger_is_neutralised_and_audited(world, login):
    visit(world, needs="=1+1", notes="@SUM(A1)")
    client = login(world.user("secretary"))
    response = client.get(f"/w/visits/ledger.xlsx?region={world.village.code}")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "序号" and len(rows) == 2
    assert "'=1+1" in rows[1] and "'@SUM(A1)" in rows[1]
    from hemei.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="export", changes__what="visit ledger").count() == 1


def test_html_in_text_is_escaped(world, login):
    v = visit(world, needs="<script>alert(1)</script>")
    html = login(world.user("grid_a")).get(f"/w/visits/{v.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.browser
def test_grid_worker_records_a_visit_on_a_phone(live_server, transactional_db):
    """The visit form in Chromium at phone size: absent household phoned, one problem → a case."""
    import os

    from tests.conftest import build_world, require
    from tests.test_browser import CHROMIUM, sign_in

    require(os.path.exists(CHROMIUM), "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    importlib.import_module("hemei.cases.migrations.0002_default_categories").forwards(django_apps, None)
    world, base = build_world(), live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        sign_in(page, base, "grid1")
        page.wait_for_url(f"{base}/w/")
        page.goto(f"{base}/w/visits/new/?household={world.house_a.pk}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.check("input[name=present][value='0']")
        page.fill("#id_phone_contact", "王建国")
        page.fill("#id_phone_outcome", "在外务工，家中正常")
        page.select_option("#id_pc1", label="供水供暖")
        page.fill("#id_pt1", "水压太低")
        page.click("button.bigbutton")
        page.wait_for_url(f"{base}/w/visits/*/")
        body = page.inner_text("body")
        browser.close()
    case = Case.objects.get(source="visit")
    assert case.number in body and "在外务工" in body

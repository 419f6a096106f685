"""Indicators: the rollup rule, periods, completeness, the period form and its approval,
scope, the incremental rows against a rebuild, imports and the dashboard's query count."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from hemei.cases.models import Case, Category
from hemei.core.scope import SYSTEM
from hemei.dashboards import figures
from hemei.indicators import catalogue, rollup, services
from hemei.indicators.io import import_values
from hemei.indicators.models import Fact, Report, ReportValue, Summary
from hemei.indicators.periods import Kind, Period, PeriodError, parse, window
from hemei.indicators.sweep import check_rollup
from hemei.regions import services as region_services
from hemei.regions.models import Region, Role
from tests.conftest import World, make_user

MONTH = "202610"
S = Report.Status


@pytest.fixture(autouse=True)
def _short_window(settings: Any) -> None:
    """A rollup window of a few months keeps rebuilds in tests small."""
    settings.HEMEI_ROLLUP_FROM = "202607"


def _approve(world: World, village: Region, values: dict[str, Any], period: str = MONTH) -> Report:
    report = services.report_save(actor=world.user("secretary") if village == world.village else SYSTEM,
                                  village=village, period=period, values=values)
    services.report_submit(actor=SYSTEM if village != world.village else world.user("secretary"), report=report)
    return services.report_approve(actor=world.user("township"), report=report)


def _summary(region: Region, element: str, period: str = MONTH) -> Decimal | None:
    row = Summary.objects.filter(region=region, element=element, period=period).first()
    return None if row is None else row.value


# --- periods -----------------------------------------------------------------------------------


def test_periods_parse_and_contain():
    assert parse("202611") == Period(2026, 11) and parse("2026Q4").kind == Kind.QUARTER and parse("2026").code == "2026"
    assert parse("202612").next().code == "202701" and parse("202601").previous().code == "202512"
    assert parse("2026Q1").previous().code == "2025Q4" and parse("2026Q2").end == dt.date(2026, 6, 30)
    assert [p.code for p in parse("202611").containing()] == ["2026Q4", "2026"]
    assert [m.code for m in parse("2026Q3").months()] == ["202607", "202608", "202609"]
    assert parse("2024").end == dt.date(2024, 12, 31) and parse("202402").end == dt.date(2024, 2, 29)
    codes = [p.code for p in window(parse("202511"), parse("202602"))]
    assert codes == ["202511", "202512", "202601", "202602", "2025Q4", "2026Q1", "2025", "2026"]
    for bad in ("202613", "2026Q5", "26", "", "2026-11"):
        with pytest.raises(PeriodError):
            parse(bad)


# --- the rollup rule: sums, never averages -------------------------------------------------------


def test_a_township_rate_sums_numerators_and_denominators(world: World):
    """西邵村: 18 of 20 planned households (90 %); 东邵村: 100 of 400 (25 %). The township is
    118 / 420 = 28.1 %, not the mean of the two rates (57.5 %)."""
    _approve(world, world.village, {"heating.households": 18, "heating.households_planned": 20})
    _approve(world, world.village2, {"heating.households": 100, "heating.households_planned": 400})
    indicator = catalogue.INDICATORS["heating_coverage"]
    board = figures.dashboard(world.township, parse(MONTH), indicator)
    by_name = {r.name: f.value for r, f in board.children}
    assert by_name == {"西邵村": Decimal("90.0"), "东邵村": Decimal("25.0")}
    township = figures.figure(indicator, figures.read(world.township, [parse(MONTH)], list(indicator.elements),
                                                      depths=[world.township.depth]), world.township.pk,
                              parse(MONTH), None)
    assert township.value == Decimal("28.1")
    assert (Decimal("90") + Decimal("25")) / 2 != township.value  # what averaging would have said
    assert _summary(world.county, "heating.households_planned") == 420


def test_quarter_and_year_follow_each_elements_aggregation(world: World):
    """Water use is a flow (the quarter sums its months); pipe laid is cumulative progress (the
    quarter takes the last month reported)."""
    _approve(world, world.village, {"water.started": 1, "water.pipe_km": "1.5", "water.use_m3": 100,
                                    "water.baseline_m3": 130}, period="202607")
    _approve(world, world.village, {"water.started": 1, "water.pipe_km": "4", "water.use_m3": 90,
                                    "water.baseline_m3": 130}, period="202608")
    assert _summary(world.village, "water.use_m3", "2026Q3") == 190
    assert _summary(world.village, "water.pipe_km", "2026Q3") == Decimal("4")
    assert _summary(world.county, "water.pipe_km", "2026") == Decimal("4")
    assert _summary(world.village, "water.started", "2026Q3") == 1


def test_completeness_counts_approved_villages(world: World):
    rollup.rebuild()  # the computed facts: households, villages
    assert _summary(world.township, "villages") == 2
    _approve(world, world.village, {"refuse.started": 1})
    # 东邵村 submitted but not approved: it has not reported yet.
    report = services.report_save(actor=SYSTEM, village=world.village2, period=MONTH, values={"refuse.started": 1})
    services.report_submit(actor=SYSTEM, report=report)
    board = figures.dashboard(world.township, parse(MONTH), catalogue.INDICATORS["completeness"])
    assert board.completeness.value == Decimal("50.0")
    assert (board.completeness.numerator, board.completeness.denominator) == (1, 2)


# --- the form: validation, approval, locking, versions -------------------------------------------


@pytest.mark.parametrize(("values", "field"), [
    ({"water.pipe_km": "-1"}, "water.pipe_km"),
    ({"heating.stations": "1.5"}, "heating.stations"),
    ({"water.pipe_km": "abc"}, "water.pipe_km"),
    ({"water.started": 2}, "water.started"),
    ({"heating.households": 30, "heating.households_planned": 20}, "heating.households"),
    ({"water.done": 1}, "water.done"),
    ({"sewage.started": 1, "sewage.done": 1, "sewage.piped": 1, "sewage.trucked": 1}, "sewage.piped"),
    ({"cases.submitted": 3}, "cases.submitted"),
])
def test_bad_values_are_refused_and_change_nothing(world: World, values: dict[str, Any], field: str):
    good = services.report_save(actor=world.user("secretary"), village=world.village, period=MONTH,
                                values={"roads.area_m2": 500})
    with pytest.raises(ValidationError) as caught:
        services.report_save(actor=world.user("secretary"), village=world.village, period=MONTH, values=values)
    assert field in caught.value.message_dict
    assert dict(good.values.values_list("element", "value")) == {"roads.area_m2": Decimal(500)}
    assert Report.objects.count() == 1


def test_only_a_month_and_only_a_village(world: World):
    with pytest.raises(ValidationError):
        services.report_save(actor=world.user("secretary"), village=world.village, period="2026Q4", values={})
    with pytest.raises(ValidationError):
        services.report_save(actor=SYSTEM, village=world.township, period=MONTH, values={})
    assert not Report.objects.exists()


def test_entry_and_approval_roles(world: World):
    with pytest.raises(PermissionDenied):  # a grid worker does not keep the village's books
        services.report_save(actor=world.user("grid_a"), village=world.village, period=MONTH, values={})
    with pytest.raises(PermissionDenied):  # the secretary of 西邵村 does not enter for 东邵村
        services.report_save(actor=world.user("secretary"), village=world.village2, period=MONTH, values={})
    report = services.report_save(actor=world.user("secretary"), village=world.village, period=MONTH,
                                  values={"roads.area_m2": 10})
    services.report_submit(actor=world.user("secretary"), report=report)
    for who in ("secretary", "county", "grid_a"):  # the approval is the township's
        with pytest.raises(PermissionDenied):
            services.report_approve(actor=world.user(who), report=report)
    report.refresh_from_db()
    assert report.status == S.SUBMITTED and not Summary.objects.filter(element="roads.area_m2").exists()


def test_return_needs_a_reason_and_goes_back_to_draft(world: World):
    report = services.report_save(actor=world.user("secretary"), village=world.village, period=MONTH,
                                  values={"roads.area_m2": 10})
    services.report_submit(actor=world.user("secretary"), report=report)
    with pytest.raises(ValidationError):  # submitted: the village waits
        services.report_save(actor=world.user("secretary"), village=world.village, period=MONTH,
                             values={"roads.area_m2": 11})
    with pytest.raises(ValidationError):
        services.report_return(actor=world.user("township"), report=report, reason=" ")
    services.report_return(actor=world.user("township"), report=report, reason="面积不对")
    assert Report.objects.get(pk=report.pk).status == S.DRAFT
    assert report.events.filter(kind="returned", note="面积不对").exists()


def test_approved_reports_are_locked_and_corrected_by_a_new_version(world: World):
    rollup.rebuild()
    first = _approve(world, world.village, {"roads.started": 1, "roads.area_m2": 1000})
    assert _summary(world.county, "roads.area_m2") == 1000
    correction = services.report_save(actor=world.user("secretary"), village=world.village, period=MONTH,
                                      values={"roads.started": 1, "roads.area_m2": 1200}, note="复核后更正")
    assert correction.pk != first.pk and correction.version == 2 and correction.supersedes_id == first.pk
    assert dict(first.values.values_list("element", "value"))["roads.area_m2"] == 1000  # locked
    assert _summary(world.county, "roads.area_m2") == 1000  # not yet approved: the old figure counts
    services.report_submit(actor=world.user("secretary"), report=correction)
    services.report_approve(actor=world.user("township"), report=correction)
    first.refresh_from_db()
    assert first.status == S.SUPERSEDED and Report.objects.get(pk=correction.pk).status == S.APPROVED
    assert _summary(world.county, "roads.area_m2") == 1200 and _summary(world.village, "roads.area_m2") == 1200
    assert ReportValue.objects.filter(report=first, element="roads.area_m2", value=1000).exists()
    assert check_rollup() == []  # what the approvals wrote on the way equals a rebuild


# --- incremental rows against a rebuild ----------------------------------------------------------


def _case(world: World, when: dt.datetime) -> Case:
    from hemei.cases.services import case_submit

    case = case_submit(actor=world.user("secretary"), region=world.grid_a,
                       category=Category.objects.get(county__isnull=True, name="环境卫生"), title="垃圾",
                       description="路口垃圾", source=Case.Source.PHONE, household=world.house_a)
    Case.objects.filter(pk=case.pk).update(created_at=when)
    return case


def test_the_sweep_applies_only_differences_and_equals_a_rebuild(world: World, migration_seeds: None):
    now = dt.datetime(2026, 10, 20, 10, tzinfo=dt.UTC)
    on = now.date()
    assert rollup.differences(on) == []  # never built: nothing to compare yet
    rollup.refresh(now=now)  # the first refresh is a rebuild
    assert rollup.differences(on) == []
    assert _summary(world.county, "households") == 3
    _case(world, now)
    applied = rollup.refresh(now=now)
    # one fact changed in each open period of the grid (month, quarter, year) → up four levels
    assert applied.facts == 3 and applied.summaries == 12
    assert _summary(world.township, "cases.submitted") == 1
    assert rollup.refresh(now=now).facts == 0  # nothing changed, nothing written
    assert rollup.differences(on) == []
    rebuilt = rollup.rebuild(on)
    assert rebuilt.facts == Fact.objects.count() and rollup.differences(on) == []
    # Drift is caught: a summary that no longer equals the sum of its facts.
    Summary.objects.filter(region=world.county, element="households", period="202610").update(value=99)
    problems = rollup.differences(on)
    assert len(problems) == 1 and "households" in problems[0] and "stored 99" in problems[0]


def test_writes_since_the_last_refresh_are_lag_not_drift(world: World, migration_seeds: None):
    # The sweep refreshes every HEMEI_ROLLUP_EVERY seconds; `hemei verify` in between must
    # not call the rows written meanwhile a violation, and must change nothing itself.
    now = dt.datetime(2026, 10, 20, 10, tzinfo=dt.UTC)
    rollup.refresh(now=now)
    _case(world, now)
    _case(world, now)
    assert rollup.differences(now.date()) == []
    assert _summary(world.township, "cases.submitted") is None  # the check rolled its refresh back
    Summary.objects.filter(region=world.township, element="households", period="202610").update(value=7)
    assert any("households" in p and "stored 7" in p for p in rollup.differences(now.date()))


def test_a_new_household_changes_only_open_periods(world: World):
    now = dt.datetime(2026, 10, 20, 10, tzinfo=dt.UTC)
    rollup.rebuild(dt.date(2026, 9, 20))  # September, while it was open
    region_services.household_create(actor=SYSTEM, grid=world.grid_b, number="102", address="西邵村二街2号")
    rollup.refresh(now=now)  # open now: September and October
    assert _summary(world.county, "households", "202610") == 4
    assert _summary(world.county, "households", "202608") == 3  # August closed: kept as recorded
    assert rollup.differences(now.date()) == []


# --- scope ---------------------------------------------------------------------------------------


def test_a_township_sees_its_villages_and_a_city_its_counties(world: World, client: Any):
    city = region_services.region_create(actor=SYSTEM, name="太原市", level="city", code="1401")
    other_county = region_services.region_create(
        actor=SYSTEM, name="小店区", level="county", code="140105", parent=city
    )
    city = Region.objects.get(pk=city.pk)
    city_user = make_user("city", region=city, role=Role.CITY_STAFF)
    client.force_login(world.user("township"))
    assert client.get("/w/dashboard/").context["board"].region == world.township
    assert [r.name for r, _f in client.get("/w/dashboard/").context["board"].children] == ["西邵村", "东邵村"]
    assert client.get(f"/w/dashboard/?region={world.county.code}").status_code == 404
    assert client.get(f"/w/dashboard/?region={world.township2.code}").status_code == 404
    assert client.get(f"/w/dashboard/screen/{world.village.code}/").status_code == 200
    client.force_login(city_user)
    board = client.get("/w/dashboard/").context["board"]
    assert board.region == city and [r.code for r, _f in board.children] == ["140105"]
    assert client.get(f"/w/dashboard/?region={other_county.code}").status_code == 200
    assert client.get(f"/w/dashboard/?region={world.county.code}").status_code == 404  # not under 太原市 here
    client.force_login(world.user("villager"))
    assert client.get("/w/dashboard/").status_code == 404
    with pytest.raises(PermissionDenied):  # city staff read; they enter nothing
        services.report_save(actor=city_user, village=world.village, period=MONTH, values={})


# --- imports -----------------------------------------------------------------------------------


def _xlsx(rows: list[list[Any]], headers: tuple[str, ...] = ("村代码", "期间", "数据元", "数值")) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_excel_import_is_all_or_nothing(world: World):
    bad = _xlsx([
        ["140110101201", "202610", "roads.area_m2", 300],
        ["140110101299", "202610", "roads.area_m2", 1],  # no such village
        ["140110101201", "2026Q4", "roads.area_m2", 1],  # not a month
        ["140110101201", "202610", "nope", 1],  # unknown element
        ["140110101202", "202610", "heating.households", -3],  # negative
    ])
    result = import_values(bad, actor=SYSTEM)
    assert not result.ok and [e.row for e in result.errors] == [3, 4, 5, 6]
    assert not Report.objects.exists()
    # numerator > denominator inside one village's month: caught when the form is checked
    result = import_values(_xlsx([["140110101201", "202610", "toilets.households", 30],
                                  ["140110101201", "202610", "toilets.households_planned", 20],
                                  ["140110101202", "202610", "roads.area_m2", 5]]), actor=SYSTEM)
    assert not result.ok and result.errors[0].row == 2 and not Report.objects.exists()
    good = import_values(_xlsx([["140110101201", "202610", "roads.area_m2", 300],
                                ["140110101202", "202610", "roads.area_m2", 5.5]]), actor=SYSTEM)
    assert good.ok and good.created == 2
    assert set(Report.objects.values_list("status", flat=True)) == {S.SUBMITTED}


@pytest.mark.parametrize("data", [b"not a workbook", b"", b"PK\x03\x04broken"])
def test_excel_import_refuses_broken_files(world: World, data: bytes):
    result = import_values(data, actor=SYSTEM)
    assert not result.ok and result.errors and result.errors[0].row == 0
    assert not Report.objects.exists()


def test_excel_import_needs_its_columns_and_the_right(world: World):
    result = import_values(_xlsx([["140110101201", "202610", 3]], headers=("村代码", "期间", "数值")), actor=SYSTEM)
    assert not result.ok and "数据元" in result.errors[0].column
    result = import_values(_xlsx([["140110101202", "202610", "roads.area_m2", 5]]), actor=world.user("secretary"))
    assert not result.ok and not Report.objects.exists()  # 东邵村 is not the secretary's


def test_dhis2_data_values_round_trip(world: World, client: Any):
    client.force_login(world.user("secretary"))
    body = {"dataValues": [
        {"dataElement": "water.pipe_km", "period": MONTH, "orgUnit": world.village.code, "value": "3.5"},
        {"dataElement": "water.started", "period": MONTH, "orgUnit": world.village.code, "value": "1"},
    ]}
    bad = {"dataValues": [*body["dataValues"],
                          {"dataElement": "water.done", "period": MONTH, "orgUnit": world.village2.code, "value": "1"}]}
    refused = client.post("/api/v1/dataValueSets/", bad, content_type="application/json")
    assert refused.status_code == 409 and refused.json()["status"] == "ERROR"
    assert refused.json()["conflicts"][0]["index"] == 2 and not Report.objects.exists()
    assert client.post("/api/v1/dataValueSets/", {"dataValues": [{"period": MONTH}]},
                       content_type="application/json").status_code == 400
    ok = client.post("/api/v1/dataValueSets/", body, content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"status": "SUCCESS", "importCount": {"imported": 2, "ignored": 0},
                                                   "conflicts": []}
    report = Report.objects.get()
    services.report_approve(actor=world.user("township"), report=report)
    got = client.get(f"/api/v1/dataValueSets/?orgUnit={world.village.code}&period={MONTH}").json()
    assert {"dataElement": "water.pipe_km", "period": MONTH, "orgUnit": world.village.code,
            "value": "3.5"} in got["dataValues"]
    assert client.get(f"/api/v1/dataValueSets/?orgUnit={world.village.code}&period=bad").status_code == 400
    assert client.get(f"/api/v1/dataValueSets/?orgUnit={world.village2.code}&period={MONTH}").status_code == 404


# --- pages and their cost ----------------------------------------------------------------------


def _villages(world: World, n: int) -> None:
    for i in range(n):
        region_services.region_create(actor=SYSTEM, name=f"新村{i}", level="village", code=f"140110001{300 + i}",
                                      parent=Region.objects.get(pk=world.township2.pk))


def test_the_dashboard_costs_the_same_queries_for_more_villages(world: World, client: Any):
    client.force_login(world.user("county"))
    rollup.rebuild()

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/w/dashboard/?period={MONTH}").status_code == 200
            assert client.get(f"/api/v1/dashboard/?period={MONTH}").status_code == 200
        return len(queries)

    few = count()
    _villages(world, 6)
    rollup.rebuild()
    assert count() == few


def test_pages_render_and_charts_download(world: World, client: Any):
    from openpyxl import load_workbook

    rollup.rebuild()
    _approve(world, world.village, {"water.started": 1, "water.done": 1, "water.pipe_km": 2})
    client.force_login(world.user("county"))
    page = client.get(f"/w/dashboard/?period={MONTH}&indicator=water_pipe")
    assert page.status_code == 200 and b"chart-children" in page.content
    for chart in ("children", "trend", "programmes", "key", "map"):
        response = client.get(f"/w/dashboard/chart/{chart}.xlsx?period={MONTH}&indicator=water_pipe")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet.max_row >= 2
    rows = list(load_workbook(io.BytesIO(client.get(f"/w/dashboard/chart/programmes.xlsx?period={MONTH}").content))
                .active.iter_rows(values_only=True))
    water = next(r for r in rows if r[0] in ("Safe drinking water", "饮水安全"))
    assert water[1:4] == (2, 1, 0)  # 2 villages, 1 done, 0 only started
    definitions = client.get("/w/dashboard/definitions/")
    assert definitions.status_code == 200
    for indicator in catalogue.INDICATORS:
        assert f'id="{indicator}"'.encode() in definitions.content
    assert client.get(f"/w/dashboard/screen/{world.county.code}/").status_code == 200
    data = client.get(f"/w/dashboard/map.json?period={MONTH}").json()
    assert data["villages"] == []  # no places in this world: the map is empty, not an error


def test_an_approved_month_is_corrected_by_changing_one_figure(world: World, client: Any):
    # The form shows the stored values as entered (18, not 18.0000): a correction that
    # changes one figure and sends the rest back as shown must be accepted.
    import re

    _approve(world, world.village, {"heating.started": 1, "heating.households": 18, "heating.households_planned": 20,
                                    "water.started": 1, "water.pipe_km": "2.5"})
    client.force_login(world.user("secretary"))
    url = f"/w/dashboard/entry/{world.village.code}/{MONTH}/"
    page = client.get(url).content.decode()
    shown = dict(re.findall(r'name="(\w+__\w+)" value="([^"]*)"', page))
    assert shown["heating__households"] == "18" and shown["water__pipe_km"] == "2.50"
    status = {f"status_{p}": v for p, v in (("water", "started"), ("roads", "none"), ("heating", "started"),
                                             ("sewage", "none"), ("toilets", "none"), ("refuse", "none"))}
    response = client.post(url, {**shown, **status, "water__pipe_km": "3", "action": "submit"})
    assert response.status_code == 302, response.content.decode()[:500]
    correction = Report.objects.get(status=S.SUBMITTED)
    assert correction.version == 2
    assert dict(correction.values.values_list("element", "value"))["heating.households"] == 18


def test_entering_and_approving_through_the_pages(world: World, client: Any):
    client.force_login(world.user("secretary"))
    url = f"/w/dashboard/entry/{world.village.code}/{MONTH}/"
    form = {"status_water": "started", "water__pipe_km": "2.5", "status_roads": "none", "status_heating": "none",
            "status_sewage": "none", "status_toilets": "none", "status_refuse": "none"}
    refused = client.post(url, {**form, "heating__households": "9", "heating__households_planned": "3",
                                "action": "submit"})
    assert refused.status_code == 200 and not Report.objects.exists()
    assert client.post(url, {**form, "action": "submit"}).status_code == 302
    client.force_login(world.user("township"))
    assert client.post(url, {"action": "approve"}).status_code == 302
    assert Report.objects.get().status == S.APPROVED and _summary(world.county, "water.pipe_km") == Decimal("2.5")


def test_the_entry_page_saves_when_no_button_is_named_and_does_nothing_for_an_unknown_one(world: World,
                                                                                         client: Any):
    client.force_login(world.user("secretary"))
    url = f"/w/dashboard/entry/{world.village.code}/{MONTH}/"
    form = {"status_water": "started", "water__pipe_km": "2.5", "status_roads": "none", "status_heating": "none",
            "status_sewage": "none", "status_toilets": "none", "status_refuse": "none"}
    for action in ("publish", "", "save\x00"):  # not a button: the page is shown again, nothing written
        response = client.post(url, {**form, "action": action})
        assert response.status_code == 200 and not Report.objects.exists(), action
    assert client.post(url, form).status_code == 302  # no action named: saved as a draft
    assert Report.objects.get().status == S.DRAFT

"""On-time and satisfaction rates per region, month and unit (issue 3, supervision statistics)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from hemei.cases.access import access_cases
from hemei.cases.models import Case, Category
from hemei.cases.services import case_accept, case_rate, case_reject, case_resolve, case_submit
from hemei.cases.sweep import sweep
from hemei.core.scope import SYSTEM
from hemei.dashboards import selectors
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")


def cat() -> Category:
    return Category.objects.get(county__isnull=True, name="环境卫生")


def case_at(world, when, *, grid, household, unit="村委会", resolve=True, rating=None, late=False):
    with time_machine.travel(when, tick=False):
        case = case_submit(actor=SYSTEM, region=grid, category=cat(), title="事", description="事",
                           source=Case.Source.PHONE, household=household)
        case = case_accept(actor=SYSTEM, case=case, unit=unit)
    if late:
        sweep(when + dt.timedelta(days=30))
    if resolve:
        with time_machine.travel(when + dt.timedelta(days=31 if late else 1), tick=False):
            case = case_resolve(actor=SYSTEM, case=Case.objects.get(pk=case.pk), measures="办了")
            if rating:
                case = case_rate(actor=SYSTEM, case=case, rating=rating)
    return case


@pytest.fixture
def spread(world):
    """西邵村 grid A: 3 finished (1 late), ratings 满意, 不满意→reopened, none; grid B: 1 open;
    东邵村: 1 finished on time, 基本满意; one rejected case that counts as submitted only."""
    a, b, c = world.grid_a, world.grid_b, world.grid_c
    case_at(world, at(2026, 3, 2), grid=a, household=world.house_a, rating="satisfied")
    case_at(world, at(2026, 3, 9), grid=a, household=world.house_a, late=True, unit="镇环卫站", rating="basically")
    case_at(world, at(2026, 4, 6), grid=a, household=world.house_a, rating="unsatisfied")  # reopened: not rated
    case_at(world, at(2026, 4, 7), grid=b, household=world.house_b, resolve=False)
    case_at(world, at(2026, 4, 8), grid=c, household=world.house_c, rating="basically")
    with time_machine.travel(at(2026, 4, 9), tick=False):
        rejected = case_submit(actor=SYSTEM, region=c, category=cat(), title="x", description="x",
                               source=Case.Source.PHONE, household=world.house_c)
        case_reject(actor=SYSTEM, case=rejected, reason="不属于受理范围")


def test_rates_by_region_month_and_unit(world, spread):
    qs = access_cases(world.user("county"))
    by_village = {r.name: r for r in selectors.rates_by_subregion(qs, world.township)}
    xishao, dongshao = by_village["西邵村"], by_village["东邵村"]
    # 西邵村: 4 submitted, 2 finished (one reopened to in progress, one still open), 1 of them late.
    assert (xishao.total, xishao.finished, xishao.on_time) == (4, 2, 1)
    assert xishao.on_time_rate == 50.0
    # Three answers: 满意, 基本满意 (after the late fix) and one 不满意 that reopened a case.
    assert (xishao.rated, xishao.satisfied, xishao.satisfaction_rate) == (3, 2, 66.7)
    assert (dongshao.total, dongshao.finished) == (2, 1)
    assert (dongshao.on_time_rate, dongshao.satisfaction_rate) == (100.0, 100.0)
    months = {r.key: r for r in selectors.rates_by_month(qs)}
    assert set(months) == {"2026-03", "2026-04"} and months["2026-03"].total == 2 and months["2026-04"].total == 4
    assert months["2026-03"].on_time_rate == 50.0
    units = {r.name: r for r in selectors.rates_by_unit(qs)}
    assert units["镇环卫站"].on_time_rate == 0.0 and units["村委会"].total == 4
    # Periods: only March.
    total = selectors.rates_total(qs, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
    assert (total.total, total.finished, total.on_time) == (2, 2, 1)


def test_open_late_counts_escalated_open_cases(world, spread):
    assert selectors.rates_total(access_cases(world.user("county"))).open_late == 0
    case_at(world, at(2026, 5, 4), grid=world.grid_a, household=world.house_a, resolve=False, late=True)
    # The sweep on 2026-06-03 also caught grid B's open case (resolve-by in April) and the
    # reopened one (its fresh deadline also passed in April): three open and late.
    assert selectors.rates_total(access_cases(world.user("county"))).open_late == 3
    assert selectors.rates_total(access_cases(world.user("grid_b"))).open_late == 1


def test_rates_follow_scope(world, spread):
    mine = selectors.rates_total(access_cases(world.user("grid_a")))
    assert mine.total == 3  # only grid A's cases
    assert selectors.rates_total(access_cases(world.user("outsider"))).total == 0


@time_machine.travel(at(2026, 11, 20), tick=False)
def test_board_and_stats_pages_show_charts_with_constant_queries(world, spread, client,
                                                                django_assert_max_num_queries):
    client.force_login(world.user("township"))
    with django_assert_max_num_queries(25):
        page = client.get(reverse("case-stats"), {"from": "2026-01-01", "to": "2026-12-31"}).content.decode()
    assert 'data-kind="rates"' in page and "rates-by-region" in page and "西邵村" in page and "50.0 %" in page
    with django_assert_max_num_queries(30):
        board = client.get(reverse("case-board"), {"from": "2026-01-01"}).content.decode()
    assert "rates-by-month" in board
    # A grid worker's statistics never include another grid's numbers.
    client.force_login(world.user("grid_b"))
    page = client.get(reverse("case-stats"), {"from": "2026-01-01"}).content.decode()
    assert "东邵村" not in page
    assert client.get(reverse("case-stats"), {"region": world.village2.code}).status_code == 404

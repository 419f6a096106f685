"""待办 (issue 15): the home by role, the to-do list's contents and order per persona."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hemei.cases.models import Case, Category
from hemei.cases.services import case_accept, case_submit
from hemei.core.scope import SYSTEM
from hemei.core.todo import SOURCES, TodoItem, grouped, todo_for
from hemei.points.ledger import entry_propose
from hemei.points.testing import adopted_rules
from hemei.visits.monitoring import monitoring_enter
from hemei.visits.services import visit_record
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")
NOW = at(2026, 12, 2, 10)


def cat(name: str) -> Category:
    return Category.objects.get(county__isnull=True, name=name)


def submit(world, *, grid, title: str, name: str = "环境卫生", when: dt.datetime) -> Case:
    with time_machine.travel(when, tick=False):
        return case_submit(actor=SYSTEM, region=grid, category=cat(name), title=title, description=title,
                           source=Case.Source.PHONE, reporter_name="王建国")


def case_titles(items: list[TodoItem]) -> list[str]:
    return [i.title for i in items if i.kind == "case"]


def test_sources_registered_by_the_apps():
    assert {"case", "visit", "monitoring", "points"} <= set(SOURCES)


def test_grid_worker_sees_own_grid_only_overdue_first(world):
    old = submit(world, grid=world.grid_a, title="垃圾没人清", when=at(2026, 11, 30, 9))  # accept by 11-30 evening
    new = submit(world, grid=world.grid_a, title="路灯不亮", name="公共设施：路灯", when=at(2026, 12, 2, 9))
    submit(world, grid=world.grid_b, title="第二网格的事", when=at(2026, 11, 20, 9))
    submit(world, grid=world.grid_c, title="东邵村的事", when=at(2026, 11, 20, 9))
    with time_machine.travel(NOW, tick=False):
        items = todo_for(world.user("grid_a"), NOW)
    titles = case_titles(items)
    assert titles == ["受理：垃圾没人清", "受理：路灯不亮"]
    first = next(i for i in items if i.kind == "case")
    assert first.is_overdue(NOW) and first.url == reverse("case-detail", args=[old.number])
    assert not any("第二网格" in t or "东邵村" in t for t in (i.title for i in items))
    groups = grouped(items, NOW)
    assert [i.title for i in groups.overdue if i.kind == "case"] == ["受理：垃圾没人清"]
    assert "受理：路灯不亮" in [i.title for i in groups.today]
    assert new.number in next(i.detail for i in items if i.title == "受理：路灯不亮")


def test_accepted_case_waits_for_its_responsible_not_for_others(world):
    case = submit(world, grid=world.grid_a, title="垃圾没人清", when=at(2026, 12, 1, 9))
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        case_accept(actor=world.user("secretary"), case=case, responsible=world.user("secretary"))
    with time_machine.travel(NOW, tick=False):
        assert "办结：垃圾没人清" in case_titles(todo_for(world.user("secretary"), NOW))
        assert case_titles(todo_for(world.user("grid_a"), NOW)) == []


def test_secretary_sees_the_village_and_points_waiting_for_review(world):
    submit(world, grid=world.grid_a, title="一网格", when=at(2026, 12, 2, 9))
    submit(world, grid=world.grid_b, title="二网格", when=at(2026, 12, 1, 8))
    rules = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        entry_propose(actor=world.user("grid_a"), household=world.house_a, item=rules.rule("J1"),
                      deed_date=dt.date(2026, 12, 1), idempotency_key=uuid.uuid4().hex)
    with time_machine.travel(NOW, tick=False):
        items = todo_for(world.user("secretary"), NOW)
        grid_items = todo_for(world.user("grid_a"), NOW)
    assert case_titles(items) == ["受理：二网格", "受理：一网格"]  # by deadline
    review = [i for i in items if i.kind == "points-review"]
    assert [i.title for i in review] == ["审核 1 条积分申报"] and review[0].due is None
    assert items[-1].kind == "points-review"  # no deadline: last
    # grid1 scored house_a this month; house_b is in grid 2, so nothing is left to propose in grid 1.
    assert not [i for i in grid_items if i.kind == "points"]
    grid2 = todo_for(world.user("grid_b"), NOW)
    assert [i.title for i in grid2 if i.kind == "points"] == ["为 1 户提出本月积分"]


def test_visits_due_count_the_households_not_yet_visited(world):
    with time_machine.travel(NOW, tick=False):
        before = [i for i in todo_for(world.user("grid_a"), NOW) if i.kind == "visit"]
        visit_record(actor=world.user("grid_a"), household=world.house_a, visited_at=NOW)
        after = [i for i in todo_for(world.user("grid_a"), NOW) if i.kind == "visit"]
    assert [i.title for i in before] == ["还有 1 户本期未走访"]
    assert before[0].due is not None and before[0].due.date() == dt.date(2026, 12, 31)
    assert after == []


def test_monitoring_verification_is_the_grid_workers_step(world):
    with time_machine.travel(NOW, tick=False):
        m = monitoring_enter(actor=world.user("grid_a"), household=world.house_a, source="staff")
        mine = [i for i in todo_for(world.user("grid_a"), NOW) if i.kind == "monitoring"]
        other = [i for i in todo_for(world.user("grid_b"), NOW) if i.kind == "monitoring"]
    assert [i.url for i in mine] == [reverse("monitoring-detail", args=[m.pk])]
    assert mine[0].title == "入户核实：王建国户"
    assert other == []


def test_villager_and_outsider_have_no_list(world):
    submit(world, grid=world.grid_a, title="垃圾没人清", when=at(2026, 12, 1, 9))
    assert todo_for(world.user("villager"), NOW) == []
    assert todo_for(world.user("outsider"), NOW) == []


def test_the_list_costs_a_bounded_number_of_queries(world):
    for n in range(8):
        submit(world, grid=world.grid_a, title=f"事情{n}", when=at(2026, 12, 1, 9))
    user = world.user("grid_a")
    todo_for(user, NOW)  # the scope is cached on the user after the first call
    with CaptureQueriesContext(connection) as few:
        todo_for(user, NOW)
    for n in range(8, 30):
        submit(world, grid=world.grid_a, title=f"事情{n}", when=at(2026, 12, 1, 9))
    with CaptureQueriesContext(connection) as many:
        todo_for(user, NOW)
    assert len(many) == len(few) <= 12


def test_home_page_is_the_list_for_grid_worker(world, client):
    case = submit(world, grid=world.grid_a, title="垃圾没人清", when=at(2026, 11, 30, 9))
    client.force_login(world.user("grid_a"))
    with time_machine.travel(NOW, tick=False):
        body = client.get("/w/").content.decode()
    assert "待办" in body and "受理：垃圾没人清" in body and "已逾期" in body
    assert reverse("case-detail", args=[case.number]) in body


def test_township_and_county_homes_are_the_dashboard(world, client):
    for persona in ("township", "county"):
        client.force_login(world.user(persona))
        response = client.get("/w/")
        assert response.status_code == 302 and response["Location"] == reverse("dashboards:home")
    client.force_login(world.user("grid_a"))
    assert client.get("/w/").status_code == 200  # a grid worker's home is the to-do list


def test_a_village_leader_lands_on_the_list_with_the_village_figures(world, client, migration_seeds):
    """The secretary's home is the list, with the village dashboard's key figures above it
    (live from the rollup); a grid worker's home has the list alone."""
    from hemei.dashboards.figures import default_period, key_figures
    from hemei.indicators import rollup

    with time_machine.travel(NOW, tick=False):
        submit(world, grid=world.grid_a, title="路灯不亮", when=at(2026, 11, 10, 9))  # overdue by now
        rollup.rebuild()
        shown = [f for f in key_figures(world.village, default_period()) if f.value is not None]
        client.force_login(world.user("secretary"))
        body = client.get("/w/").content.decode()
    assert shown, "the rollup gives the village at least one figure"
    assert "待办" in body and "本村数据看板" in body and f"?region={world.village.code}" in body
    for f in shown:
        assert str(f.indicator.name) in body and f"{f.value}<small>" in body
    client.force_login(world.user("grid_a"))
    with time_machine.travel(NOW, tick=False):
        assert "本村数据看板" not in client.get("/w/").content.decode()

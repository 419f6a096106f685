"""Emergency response levels (应急响应, issue 17 item 5): a township or the county declares a
level for an area, every grid worker there is told at once, each grid checks in its vulnerable
households, the level is raised, lowered and lifted with reasons, the board shows progress,
and grids not checked in by the deadline escalate through the shared sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.core.sweeps import sweep_all
from hemei.notify.models import Delivery, Notification
from hemei.regions import services as regions
from hemei.regions.models import Role, Tag
from hemei.services import response as services
from hemei.services.models import GridCheck, HouseholdContact, Response, ResponseEvent
from hemei.services.selectors import DISABLED, ELDER_ALONE, MONITORED, vulnerable_households
from tests.conftest import World, at, make_user, new_id

NOW = at(2026, 7, 20, 8)


@pytest.fixture
def marked(world: World) -> World:
    """Vulnerable households: A (an elder living alone), B (under monitoring, a disabled
    member), C in 东邵村 (a disabled member)."""
    world.head_a.tags.add(Tag.objects.get(name="独居老人"))
    world.house_b.tags.add(Tag.objects.get(name="监测户"))
    disabled = Tag.objects.get(name="残疾人")
    member = regions.resident_create(actor=SYSTEM, household=world.house_b, name="张小明", id_number=new_id(),
                                     relation="child")
    member.tags.add(disabled)
    world.head_c.tags.add(disabled)
    return world


def declare(world: World, *, region=None, level: int = 4, hazard: str = "flood", actor=None, **kw) -> Response:
    return services.response_declare(actor=actor or world.user("township"), region=region or world.township,
                                     hazard=hazard, level=level, reason=kw.pop("reason", "汾河水位超警戒"),
                                     now=kw.pop("now", NOW), **kw)


def check_of(response: Response, grid) -> GridCheck:
    return GridCheck.objects.get(response=response, region=grid)


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(ValidationError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value.messages


# --- the list per grid -------------------------------------------------------------------------


def test_each_grid_lists_its_vulnerable_households_from_the_register(marked: World) -> None:
    w = marked
    lists = vulnerable_households([w.grid_a.pk, w.grid_b.pk, w.grid_c.pk])
    assert lists[w.grid_a.pk] == {w.house_a.pk: [ELDER_ALONE]}
    assert lists[w.grid_b.pk] == {w.house_b.pk: [DISABLED, MONITORED]}
    assert lists[w.grid_c.pk] == {w.house_c.pk: [DISABLED]}


def test_a_household_not_living_in_the_village_is_not_on_the_list(marked: World) -> None:
    type(marked.house_a).objects.filter(pk=marked.house_a.pk).update(lives_in_village=False)
    assert marked.grid_a.pk not in vulnerable_households([marked.grid_a.pk])


# --- declaring ----------------------------------------------------------------------------------


def test_declaring_makes_a_check_in_per_grid_and_tells_every_grid_worker_at_once(marked: World) -> None:
    w = marked
    outside = make_user("grid-elsewhere", region=w.township2, role=Role.GRID_WORKER, phone="13600009999")
    w.user("grid_a").phone = "13500001111"
    w.user("grid_a").save()
    response = declare(w, level=3)
    checks = {c.region_id: c for c in GridCheck.objects.filter(response=response)}
    assert set(checks) == {w.grid_a.pk, w.grid_b.pk, w.grid_c.pk}
    assert (checks[w.grid_a.pk].households, checks[w.grid_b.pk].households) == (1, 1)
    told = set(Notification.objects.filter(kind="emergency_declared").values_list("recipient__username", flat=True))
    assert told == {"grid1", "grid2"}
    assert outside.username not in told
    assert Delivery.objects.filter(notification__recipient=w.user("grid_a"), channel="sms").exists()
    assert response.checkin_by == NOW + dt.timedelta(hours=4)  # level Ⅲ: four hours
    event = ResponseEvent.objects.get(response=response)
    assert (event.kind, event.to_level, event.note) == ("declare", 3, "汾河水位超警戒")


def test_a_village_level_response_covers_only_that_villages_grids(marked: World) -> None:
    response = declare(marked, region=marked.village2, actor=marked.user("county"))
    assert list(GridCheck.objects.filter(response=response).values_list("region_id", flat=True)) == [
        marked.grid_c.pk]


def test_a_grid_worker_or_village_secretary_cannot_declare(marked: World) -> None:
    for persona in ("grid_a", "secretary"):
        with pytest.raises((PermissionDenied, Http404)):
            declare(marked, region=marked.village, actor=marked.user(persona))
    assert not Response.objects.exists()


def test_staff_of_another_township_cannot_declare_here(marked: World) -> None:
    other = make_user("township2-staff", region=marked.township2, role=Role.TOWNSHIP_STAFF)
    with pytest.raises(Http404):
        declare(marked, actor=other)


@pytest.mark.parametrize(("kw", "code"), [
    ({"level": 5}, "level"), ({"level": 0}, "level"), ({"level": "Ⅰ"}, "level"),
    ({"hazard": "meteor"}, "hazard"), ({"checkin_within_hours": 0}, "hours"),
    ({"checkin_within_hours": 100}, "hours"),
])
def test_bad_input_is_refused_and_nothing_is_written(marked: World, kw, code) -> None:
    refused(code, declare, marked, **kw)
    assert not Response.objects.exists() and not GridCheck.objects.exists() and not Notification.objects.exists()


def test_a_response_needs_a_reason(marked: World) -> None:
    with pytest.raises(ValidationError):
        declare(marked, reason="   ")
    assert not Response.objects.exists()


def test_a_grid_is_no_area_for_a_response(marked: World) -> None:
    refused("area", declare, marked, region=marked.grid_a)


def test_a_second_response_to_the_same_hazard_for_the_same_area_is_refused(marked: World) -> None:
    declare(marked)
    refused("duplicate", declare, marked, level=2)
    declare(marked, hazard="geological")  # another hazard is another response


# --- raising, lowering, lifting -------------------------------------------------------------


def test_the_level_is_raised_lowered_and_lifted_with_reasons_as_history_rows(marked: World) -> None:
    w = marked
    response = declare(w, level=4)
    township = w.user("township")
    services.response_change_level(actor=township, response=response, level=2, reason="上游降雨加剧")
    services.response_change_level(actor=township, response=response, level=3, reason="水位回落")
    services.response_lift(actor=township, response=response, reason="险情解除")
    events = list(ResponseEvent.objects.filter(response=response).values_list("kind", "from_level", "to_level",
                                                                              "note"))
    assert events == [("declare", None, 4, "汾河水位超警戒"), ("raise", 4, 2, "上游降雨加剧"),
                      ("lower", 2, 3, "水位回落"), ("lift", 3, None, "险情解除")]
    response.refresh_from_db()
    assert response.status == Response.Status.LIFTED and response.lifted_at is not None
    kinds = list(Notification.objects.filter(recipient=w.user("grid_a")).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["emergency_declared", "emergency_level", "emergency_level", "emergency_lifted"]


def test_illegal_level_changes_are_refused(marked: World) -> None:
    w = marked
    response = declare(w, level=3)
    township = w.user("township")
    refused("same", services.response_change_level, actor=township, response=response, level=3, reason="x")
    refused("level", services.response_change_level, actor=township, response=response, level=9, reason="x")
    with pytest.raises(PermissionDenied):
        services.response_change_level(actor=w.user("grid_a"), response=response, level=1, reason="x")
    services.response_lift(actor=township, response=response, reason="解除")
    refused("transition", services.response_change_level, actor=township, response=response, level=1, reason="x")
    refused("transition", services.response_lift, actor=township, response=response, reason="再次解除")
    assert ResponseEvent.objects.filter(response=response).count() == 2


def test_a_stale_level_loses_to_a_change_made_meanwhile(marked: World) -> None:
    response = declare(marked, level=4)
    stale = Response.objects.get(pk=response.pk)
    services.response_change_level(actor=marked.user("township"), response=response, level=2, reason="加剧")
    refused("conflict", services.response_change_level, actor=marked.user("county"), response=stale, level=3,
            reason="另一人同时调整")
    assert Response.objects.get(pk=response.pk).level == 2


# --- checking in ----------------------------------------------------------------------------


def test_a_grid_worker_checks_in_the_households_reached(marked: World) -> None:
    w = marked
    response = declare(w)
    check = check_of(response, w.grid_a)
    services.grid_check_in(actor=w.user("grid_a"), check=check, reached={w.house_a.pk}, now=NOW)
    check.refresh_from_db()
    assert (check.status, check.reached, check.households) == ("done", 1, 1)
    assert list(HouseholdContact.objects.filter(grid_check=check).values_list("household_id", "reached",
                                                                              "reasons")) == [
        (w.house_a.pk, True, [ELDER_ALONE])]
    refused("conflict", services.grid_check_in, actor=w.user("grid_a"), check=check, reached={w.house_a.pk})


def test_households_not_reached_need_a_note(marked: World) -> None:
    w = marked
    check = check_of(declare(w), w.grid_b)
    refused("unreached", services.grid_check_in, actor=w.user("grid_b"), check=check, reached=set())
    assert GridCheck.objects.get(pk=check.pk).status == "pending"
    services.grid_check_in(actor=w.user("grid_b"), check=check, reached=set(), note="电话未通，已请邻居上门")
    assert GridCheck.objects.get(pk=check.pk).reached == 0


def test_a_household_of_another_grid_cannot_be_checked_in(marked: World) -> None:
    w = marked
    check = check_of(declare(w), w.grid_a)
    refused("unknown", services.grid_check_in, actor=w.user("grid_a"), check=check,
            reached={w.house_a.pk, w.house_b.pk})


def test_only_the_grids_own_staff_check_it_in(marked: World) -> None:
    w = marked
    check = check_of(declare(w), w.grid_a)
    with pytest.raises(PermissionDenied):
        services.grid_check_in(actor=w.user("grid_b"), check=check, reached={w.house_a.pk})


def test_a_lifted_response_takes_no_check_ins(marked: World) -> None:
    w = marked
    response = declare(w)
    services.response_lift(actor=w.user("township"), response=response, reason="解除")
    refused("lifted", services.grid_check_in, actor=w.user("grid_a"), check=check_of(response, w.grid_a),
            reached={w.house_a.pk})


# --- the pages and scope --------------------------------------------------------------------


def test_the_grid_worker_checks_in_on_the_phone_page(marked: World, login) -> None:
    w = marked
    response = declare(w, now=None)
    check = check_of(response, w.grid_a)
    client = login(w.user("grid_a"))
    home = client.get("/w/emergency/").content.decode()
    assert f"/w/emergency/checks/{check.pk}/" in home
    page = client.get(f"/w/emergency/checks/{check.pk}/").content.decode()
    assert "王**" in page and "王建国" not in page
    assert client.post(f"/w/emergency/checks/{check.pk}/", {"reached": [str(w.house_a.pk)]}).status_code == 302
    assert GridCheck.objects.get(pk=check.pk).status == "done"


def test_a_grid_worker_of_another_township_gets_404(marked: World, login) -> None:
    w = marked
    village3 = regions.region_create(actor=SYSTEM, name="南村", level="village", code="140110001201",
                                     parent=w.township2)
    grid3 = regions.region_create(actor=SYSTEM, name="第一网格", level="grid", code="140110001201001",
                                  parent=village3)
    stranger = make_user("grid-township2", region=grid3, role=Role.GRID_WORKER)
    response = declare(w)
    check = check_of(response, w.grid_a)
    client = login(stranger)
    assert client.get(f"/w/emergency/checks/{check.pk}/").status_code == 404
    assert client.post(f"/w/emergency/checks/{check.pk}/", {"reached": [str(w.house_a.pk)]}).status_code == 404
    assert client.get(f"/w/emergency/{response.pk}/").status_code == 404
    assert GridCheck.objects.get(pk=check.pk).status == "pending"


def test_the_board_shows_progress_per_grid_within_the_readers_scope(marked: World, login) -> None:
    w = marked
    response = declare(w)
    services.grid_check_in(actor=w.user("grid_a"), check=check_of(response, w.grid_a), reached={w.house_a.pk})
    township = login(w.user("township")).get(f"/w/emergency/{response.pk}/")
    assert township.context["totals"] == {"grids": 3, "done": 1, "escalated": 0, "households": 3, "reached": 1}
    grid_b = login(w.user("grid_b")).get(f"/w/emergency/{response.pk}/")
    assert grid_b.status_code == 200 and grid_b.context["totals"]["grids"] == 1
    export = login(w.user("township")).get(f"/w/emergency/{response.pk}/export.xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_township_declares_and_lifts_through_the_pages(marked: World, login) -> None:
    w = marked
    client = login(w.user("township"))
    posted = client.post("/w/emergency/declare/", {"area": str(w.township.pk), "hazard": "flood", "level": "2",
                                                   "reason": "暴雨红色预警"})
    assert posted.status_code == 302
    response = Response.objects.get()
    client.post(f"/w/emergency/{response.pk}/change/", {"step": "lift", "reason": "预警解除"})
    assert Response.objects.get().status == "lifted"
    bad = client.post("/w/emergency/declare/", {"area": str(w.township.pk), "hazard": "flood", "level": "7",
                                                "reason": "x"})
    assert bad.status_code == 400 and Response.objects.count() == 1


# --- the deadline -----------------------------------------------------------------------------


def test_grids_not_checked_in_by_the_deadline_escalate_once(marked: World) -> None:
    w = marked
    response = declare(w, level=1)  # one hour
    services.grid_check_in(actor=w.user("grid_a"), check=check_of(response, w.grid_a), reached={w.house_a.pk},
                           now=NOW)
    assert [e for e in sweep_all(NOW + dt.timedelta(minutes=59)) if e.kind == "emergency"] == []
    late = [e for e in sweep_all(NOW + dt.timedelta(hours=1)) if e.kind == "emergency"]
    assert sorted(e.ref for e in late) == sorted(f"{response.pk}/{g.code}" for g in (w.grid_b, w.grid_c))
    assert [e for e in sweep_all(NOW + dt.timedelta(hours=2)) if e.kind == "emergency"] == []
    assert check_of(response, w.grid_b).tier == "township" and check_of(response, w.grid_a).tier == "village"
    told = set(Notification.objects.filter(kind="emergency_late").values_list("recipient__username", flat=True))
    assert told == {"township", "secretary"}
    assert AuditEntry.objects.filter(object_type="services.gridcheck", note="escalated").count() == 2


def test_a_lifted_response_escalates_nothing(marked: World) -> None:
    response = declare(marked, level=1)
    services.response_lift(actor=marked.user("township"), response=response, reason="解除")
    assert [e for e in sweep_all(NOW + dt.timedelta(hours=3)) if e.kind == "emergency"] == []


def test_the_demo_leaves_a_lifted_flood_response_with_every_grid_checked_in(marked: World) -> None:
    from hemei.services.demo import demo_emergency

    assert demo_emergency() == 3
    response = Response.objects.get()
    assert response.status == "lifted" and response.region == marked.township
    assert list(response.events.values_list("kind", flat=True)) == ["declare", "raise", "lower", "lift"]
    checks = GridCheck.objects.filter(response=response)
    assert all(c.status == "done" for c in checks)
    assert checks.filter(tier="township").count() == 1
    assert demo_emergency() == 0


# --- the REST API ------------------------------------------------------------------------------


def test_the_api_lists_responses_and_grids_in_scope_and_checks_in(marked: World, client) -> None:
    """A grid worker reads the response through their grid, sees only their own grid's check-in,
    and checks it in over the API with the same rules as the phone page."""
    w = marked
    response = declare(w)
    client.force_login(w.user("grid_a"))
    listed = client.get("/api/v1/services/emergency-responses/").json()
    assert [r["id"] for r in listed["results"]] == [response.pk]
    assert listed["results"][0]["level"] == 4 and listed["results"][0]["status"] == "active"
    grids = client.get(f"/api/v1/services/grid-checks/?response={response.pk}").json()["results"]
    assert [g["region_code"] for g in grids] == [w.grid_a.code]
    mine = grids[0]["id"]
    other = check_of(response, w.grid_b).pk
    assert client.post(f"/api/v1/services/grid-checks/{other}/check-in/", {"reached": []},
                       content_type="application/json").status_code == 404
    refused = client.post(f"/api/v1/services/grid-checks/{mine}/check-in/", {"reached": []},
                          content_type="application/json")
    assert refused.status_code == 400 and GridCheck.objects.get(pk=mine).status == "pending"  # no note: refused
    done = client.post(f"/api/v1/services/grid-checks/{mine}/check-in/", {"reached": [w.house_a.pk]},
                       content_type="application/json")
    assert done.status_code == 200 and (done.json()["status"], done.json()["reached"]) == ("done", 1)
    assert client.post(f"/api/v1/services/grid-checks/{mine}/check-in/", {"reached": "x"},
                       content_type="application/json").status_code == 400


def test_the_api_hides_another_townships_response(marked: World, client) -> None:
    w = marked
    response = declare(w)
    stranger = make_user("stranger-tw", region=w.township2, role=Role.TOWNSHIP_STAFF)
    client.force_login(stranger)
    assert client.get("/api/v1/services/emergency-responses/").json()["results"] == []
    assert client.get(f"/api/v1/services/emergency-responses/{response.pk}/").status_code == 404


def test_a_refused_check_in_keeps_the_ticks_and_the_note(marked: World, login) -> None:
    """Walk of issue 17: a check-in refused for a missing note came back with every tick cleared,
    so the grid worker ticked 23 households again on the phone."""
    w = marked
    second = regions.household_create(actor=SYSTEM, grid=w.grid_a, number="002", address="西邵村一街2号")
    second.tags.add(Tag.objects.get(name="监测户"))
    response = declare(w, now=None)
    check = check_of(response, w.grid_a)
    client = login(w.user("grid_a"))
    url = f"/w/emergency/checks/{check.pk}/"
    refused_page = client.post(url, {"reached": [str(w.house_a.pk)], "note": "  "})
    assert refused_page.status_code == 400
    html = refused_page.content.decode()
    assert f'value="{w.house_a.pk}" checked>' in html and f'value="{second.pk}">' in html
    assert GridCheck.objects.get(pk=check.pk).status != "done"
    kept = client.post(url, {"reached": [str(w.house_a.pk)], "note": "已请邻居上门"})
    assert kept.status_code == 302 and GridCheck.objects.get(pk=check.pk).status == "done"


def test_the_board_history_is_in_words(marked: World, login) -> None:
    w = marked
    response = declare(w)
    services.response_change_level(actor=w.user("township"), response=response, level=3, reason="水位继续上涨")
    page = login(w.user("township")).get(f"/w/emergency/{response.pk}/").content.decode()
    assert "启动响应" in page and "提升级别 Ⅳ级（四级） → Ⅲ级（三级）" in page and "declare" not in page
    assert "<th>重点户</th>" in page


def test_raising_the_level_brings_the_check_in_deadline_forward_never_back(marked: World) -> None:
    """Ⅳ gives the grids 6 hours, Ⅱ 2: raised after an hour, the grids are due 2 hours from
    then (3 hours after the declaration), not at Ⅳ's later time; lowering keeps that deadline,
    and a raise to a level whose time would end later changes nothing."""
    w = marked
    response = declare(w, level=4)
    assert response.checkin_by == NOW + dt.timedelta(hours=6)
    township = w.user("township")
    services.response_change_level(actor=township, response=response, level=2, reason="上游降雨加剧",
                                   now=NOW + dt.timedelta(hours=1))
    response.refresh_from_db()
    assert response.checkin_by == NOW + dt.timedelta(hours=3)
    services.response_change_level(actor=township, response=response, level=3, reason="水位回落",
                                   now=NOW + dt.timedelta(hours=2))
    services.response_change_level(actor=township, response=response, level=2, reason="再次上涨",
                                   now=NOW + dt.timedelta(hours=2, minutes=30))
    response.refresh_from_db()
    assert response.checkin_by == NOW + dt.timedelta(hours=3)  # 2:30 + 2 h would be later
    late = sweep_all(NOW + dt.timedelta(hours=3, minutes=1))
    assert {e.ref.split("/")[1] for e in late if e.kind == "emergency"} >= {w.grid_a.code}

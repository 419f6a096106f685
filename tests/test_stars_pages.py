"""Star pages: village overview, round steps, household history with 挂星/摘星, coverage,
the villager's page, the public board and the printable notice, the Excel export."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook

from hemei.core.scope import SYSTEM
from hemei.regions.models import Role
from hemei.regions.services import household_create, resident_create
from hemei.stars import services
from hemei.stars.models import HouseholdStar, Stage, Star, StarChange, StarRating, StarRound
from tests.conftest import World, at, make_user, new_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(at(2026, 5, 10), tick=False) as traveller:
        yield traveller


def _star(world: World, name: str) -> Star:
    services.catalogue_ensure(village=world.village)
    return Star.objects.get(village=world.village, name=name)


def _awarded(world: World) -> StarRound:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    services.rating_declare(actor=sec, round=rnd, household=world.house_a,
                            stars=[_star(world, "爱党爱国").pk, _star(world, "孝老爱亲").pk])
    services.rating_declare(actor=sec, round=rnd, household=world.house_b, stars=[_star(world, "勤劳致富").pk])
    for to in (Stage.PEER, Stage.COMMITTEE, Stage.TOWNSHIP):
        services.round_advance(actor=sec, round=rnd, to=to)
    services.round_township_approve(actor=world.user("township"), round=rnd)
    services.round_publicity_start(actor=sec, round=rnd, at=at(2026, 4, 1))
    rnd, _n = services.round_award(actor=sec, round=rnd)
    return rnd


def test_village_overview_lists_households_with_stars(world: World, login: Any, frozen: Any,
                                                      django_assert_max_num_queries: Any) -> None:
    _awarded(world)
    for n in range(20):  # more households must not mean more queries
        household_create(actor=SYSTEM, grid=world.grid_a, number=f"2{n:02d}")
    client = login(world.user("secretary"))
    with django_assert_max_num_queries(30):
        response = client.get(f"/w/stars/?village={world.village.code}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "爱党爱国" in html and "王建国" in html and "孝老爱亲" in html
    assert "9.1 %" in html  # 2 of 22 households rated
    filtered = client.get(f"/w/stars/?village={world.village.code}&count=1").content.decode()
    assert "张志强" in filtered and "王建国" not in filtered
    grid = client.get(f"/w/stars/?village={world.village.code}&grid={world.grid_b.code}").content.decode()
    assert "张志强" in grid and "王建国" not in grid


def test_round_page_moves_the_round_on(world: World, login: Any) -> None:
    rnd = services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    client = login(world.user("secretary"))
    assert client.get(f"/w/stars/round/{rnd.pk}/").status_code == 200
    client.post(f"/w/stars/round/{rnd.pk}/", {"action": "advance", "to": "peer"})
    rnd.refresh_from_db()
    assert rnd.stage == Stage.PEER
    # Out of order: an error message, nothing changes.
    response = client.post(f"/w/stars/round/{rnd.pk}/", {"action": "advance", "to": "township"}, follow=True)
    rnd.refresh_from_db()
    assert rnd.stage == Stage.PEER and response.status_code == 200
    assert rnd.steps.count() == 2


def test_grid_worker_may_not_move_the_round(world: World, login: Any) -> None:
    rnd = services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    client = login(world.user("grid_a"))
    assert client.get(f"/w/stars/round/{rnd.pk}/").status_code == 200
    assert client.post(f"/w/stars/round/{rnd.pk}/", {"action": "advance", "to": "peer"}).status_code == 403
    rnd.refresh_from_db()
    assert rnd.stage == Stage.SELF


def test_round_of_another_township_is_not_found(world: World, login: Any) -> None:
    rnd = services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    other = make_user("township_other", region=world.township2, role=Role.TOWNSHIP_STAFF)
    client = login(other)
    assert client.get(f"/w/stars/round/{rnd.pk}/").status_code == 404
    assert client.post(f"/w/stars/round/{rnd.pk}/", {"action": "approve"}).status_code == 404


def test_household_page_withdraws_a_star_with_a_reason(world: World, login: Any, frozen: Any) -> None:
    _awarded(world)
    client = login(world.user("secretary"))
    url = f"/w/stars/household/{world.house_a.pk}/"
    star = _star(world, "孝老爱亲")
    data = {"action": "withdraw", "star": star.pk, "date": "2026-05-10", "reason": "不赡养老人", "key": "k-1"}
    client.post(url, data)
    client.post(url, data)  # double submission: replayed, one row
    assert StarChange.objects.filter(kind="withdraw").count() == 1
    html = client.get(url).content.decode()
    assert "不赡养老人" in html and "2026-05-10" in html
    assert not HouseholdStar.objects.filter(household=world.house_a, star=star).exists()
    # No reason: an error, nothing changes.
    response = client.post(url, {**data, "action": "grant", "reason": "", "key": "k-2"}, follow=True)
    assert "messages" in response.content.decode() or response.status_code == 200
    assert StarChange.objects.filter(kind="withdraw").count() == 1
    assert StarChange.objects.filter(source="adhoc").count() == 1


def test_grid_worker_cannot_open_a_household_of_another_grid(world: World, login: Any) -> None:
    services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    client = login(world.user("grid_a"))
    url = f"/w/stars/household/{world.house_b.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "declare", "star": _star(world, "爱党爱国").pk}).status_code == 404
    assert not StarRating.objects.exists()
    ok = client.post(f"/w/stars/household/{world.house_a.pk}/", {"action": "declare",
                                                                 "star": _star(world, "爱党爱国").pk})
    assert ok.status_code == 302 and StarRating.objects.get().household == world.house_a


def test_villager_declares_on_the_phone(world: World, login: Any) -> None:
    rnd = services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    client = login(world.user("villager"))
    page = client.get("/me/stars/").content.decode()
    assert "爱党爱国" in page and 'type="checkbox"' in page
    client.post("/me/stars/", {"star": [_star(world, "爱党爱国").pk, _star(world, "文明礼貌").pk]})
    rating = StarRating.objects.get(round=rnd)
    assert rating.household == world.house_a and len(rating.claimed or []) == 2
    # The villager has no staff pages.
    assert client.get(f"/w/stars/household/{world.house_b.pk}/").status_code == 404
    assert client.get("/w/stars/").status_code == 404


def test_outsider_has_no_star_pages(world: World, login: Any) -> None:
    client = login(world.user("outsider"))
    assert client.get("/me/stars/").status_code == 404
    assert client.get("/w/stars/").status_code == 404


def test_coverage_page_for_the_county(world: World, login: Any, frozen: Any) -> None:
    _awarded(world)
    client = login(world.user("county"))
    html = client.get("/w/stars/coverage/").content.decode()
    assert "西邵村" in html and "东邵村" in html and "100.0 %" in html
    assert 'data-chart="stars-coverage"' in html
    township = client.get(f"/w/stars/coverage/?region={world.township.code}").content.decode()
    assert "西邵村" in township


def test_board_and_print_show_stars_but_no_personal_numbers(world: World, client: Any, frozen: Any) -> None:
    _awarded(world)
    head = world.head_a
    board = client.get(f"/v/{world.village.code}/").content.decode()
    assert 'id="section-stars"' in board and "王建国" in board and "孝老爱亲" in board
    printed = client.get(f"/v/{world.village.code}/stars/print/").content.decode()
    assert "王建国" in printed and "爱党爱国" in printed
    for html in (board, printed):
        assert head.id_number not in html and head.phone not in html
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", html)
        assert "西邵村一街1号" not in html


def test_export_is_formula_safe(world: World, login: Any) -> None:
    sec = world.user("secretary")
    evil = household_create(actor=SYSTEM, grid=world.grid_a, number="=1+1")
    resident_create(actor=SYSTEM, household=evil, name="=HYPERLINK(\"x\")", id_number=new_id(), relation="head")
    bad_star = services.star_add(actor=sec, village=world.village, name="=SUM(A1)")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    services.rating_declare(actor=sec, round=rnd, household=evil, stars=[bad_star.pk, _star(world, "爱党爱国").pk])
    response = login(sec).get(f"/w/stars/round/{rnd.pk}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "户号" and len(rows) == 2
    cells = [c for row in rows for c in row if isinstance(c, str)]
    assert "'=1+1" in cells and "'=HYPERLINK(\"x\")" in cells and "爱党爱国、=SUM(A1)" in cells
    assert not any(c.startswith("=") for c in cells)


def test_township_corrects_a_household_then_approves(world: World, login: Any) -> None:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    services.rating_declare(actor=sec, round=rnd, household=world.house_a,
                            stars=[_star(world, "爱党爱国").pk, _star(world, "孝老爱亲").pk])
    for to in (Stage.PEER, Stage.COMMITTEE, Stage.TOWNSHIP):
        services.round_advance(actor=sec, round=rnd, to=to)
    client = login(world.user("township"))
    url = f"/w/stars/household/{world.house_a.pk}/"
    assert client.get(url).content.decode().count(" checked") == 2  # the committee's stars to start from
    client.post(url, {"action": "record", "star": [_star(world, "爱党爱国").pk]})
    client.post(f"/w/stars/round/{rnd.pk}/", {"action": "approve", "note": "镇认定"})
    rnd.refresh_from_db()
    assert rnd.approved_at is not None
    assert StarRating.objects.get(household=world.house_a).final == [_star(world, "爱党爱国").pk]


def test_double_submitted_stage_forms_act_once(world: World, login: Any, frozen: Any) -> None:
    rnd = services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    client = login(world.user("secretary"))
    for _ in range(2):
        client.post(f"/w/stars/round/{rnd.pk}/", {"action": "advance", "to": "peer"})
    assert rnd.steps.count() == 2
    rnd = StarRound.objects.get(pk=rnd.pk)
    services.round_advance(actor=world.user("secretary"), round=rnd, to=Stage.COMMITTEE)
    services.round_advance(actor=world.user("secretary"), round=rnd, to=Stage.TOWNSHIP)
    township = login(world.user("township"))
    for _ in range(2):
        township.post(f"/w/stars/round/{rnd.pk}/", {"action": "approve"})
    client = login(world.user("secretary"))
    for _ in range(2):
        client.post(f"/w/stars/round/{rnd.pk}/", {"action": "publicity"})
    rnd.refresh_from_db()
    assert rnd.stage == Stage.PUBLICITY and rnd.publicity_until is not None
    assert list(rnd.steps.values_list("kind", flat=True)) == [
        "opened", "start peer", "start committee", "start township", "approved", "publicity started"]

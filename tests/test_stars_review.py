"""Review fixes on the star pages: malformed numbers are errors (never a 500) and change
nothing, a catalogue form sent twice does not flip a star back, a grid worker's export holds
their own grid only."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.messages import get_messages
from openpyxl import load_workbook

from hemei.stars import services
from hemei.stars.models import Star, StarChange
from tests.conftest import World


def _errors(response: Any) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def test_malformed_numbers_are_errors_not_500(world: World, login: Any) -> None:
    services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    client = login(world.user("secretary"))
    # "²".isdigit() is true, int("²") raises: the filter is ignored instead.
    assert client.get(f"/w/stars/?village={world.village.code}&count=²").status_code == 200
    url = f"/w/stars/household/{world.house_a.pk}/"
    response = client.post(url, {"action": "grant", "star": "abc", "date": "2026-01-01", "reason": "好", "key": "k"})
    assert response.status_code == 302 and _errors(response)
    assert not StarChange.objects.exists()


def test_a_catalogue_form_sent_twice_does_not_flip_the_star_back(world: World, login: Any) -> None:
    star = services.catalogue_ensure(village=world.village)[0]
    client = login(world.user("secretary"))
    data = {"village": world.village.code, "action": "toggle_star", "star": star.pk, "active": "0"}
    client.post("/w/stars/", data)
    client.post("/w/stars/", data)
    assert not Star.objects.get(pk=star.pk).active
    response = client.post("/w/stars/", {**data, "active": ""})  # says neither: an error, no change
    assert _errors(response) and not Star.objects.get(pk=star.pk).active


def test_grid_worker_exports_the_ratings_of_their_grid_only(world: World, login: Any) -> None:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    first = services.catalogue_ensure(village=world.village)[0]
    for house in (world.house_a, world.house_b):
        services.rating_declare(actor=sec, round=rnd, household=house, stars=[first.pk])
    response = login(world.user("grid_a")).get(f"/w/stars/round/{rnd.pk}/export.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["王建国"]

"""Review fixes on the courtyard pages: malformed numbers are errors (never a 500) and change
nothing; a grid worker who is not on the panel sees their village's review but only their own
grid's households (detail, results, export)."""

from __future__ import annotations

import io
from decimal import Decimal as D
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from openpyxl import load_workbook

from hemei.core.models import AppendOnlyError
from hemei.courtyard import services
from hemei.courtyard.models import Score, Submission
from tests.test_courtyard import CRITERIA, make_event, score_all, setup, snapshot  # noqa: F401  (fixture)


def _errors(response: Any) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def test_malformed_numbers_are_errors_not_500(world: Any, setup: dict[str, Any], login: Any) -> None:  # noqa: F811
    event = make_event(world, setup)
    services.event_open(actor=world.user("secretary"), event=event)
    client = login(world.user("secretary"))
    before = snapshot()
    url = reverse("courtyard-score", args=[event.pk])
    assert client.post(url, {"household": "²"}).status_code == 404  # "²".isdigit(), int("²") fails
    scores = {f"score_{c.pk}": "1" for c in event.criteria.all()}
    first = event.criteria.first()
    assert first is not None
    response = client.post(url, {"household": world.house_a.pk, **scores, f"score_{first.pk}": "1e999999"})
    assert response.status_code == 302 and _errors(response)
    create = reverse("courtyard-create") + f"?village={world.village.code}"
    form: dict[str, Any] = {"key": "k9", "village": world.village.code, "title": "坏数字", "date": "2026-10-10",
                            "method": "mean", "panel": [u.pk for u in setup["panel"]],
                            "household": [h.pk for h in setup["households"]]}
    for i, c in enumerate(CRITERIA):
        form |= {f"c_name_{i}": c.name, f"c_weight_{i}": str(c.weight), f"c_max_{i}": str(c.max_score)}
    for bad in ({"panel": ["²"]}, {"c_max_0": "1e999999"},
                {"t_name_0": "示范户", "t_item_0": setup["rules"].rule("T1").pk, "t_top_0": "²"}):
        response = client.post(create, form | bad)
        assert response.status_code == 200 and _errors(response), bad
    assert snapshot() == before


def test_grid_worker_off_the_panel_sees_only_their_grid(world: Any, setup: dict[str, Any], login: Any) -> None:  # noqa: F811
    setup["panel"] = [world.user("secretary"), world.user("township"), world.user("grid_a")]
    event = make_event(world, setup)
    services.event_open(actor=world.user("secretary"), event=event)
    score_all(event, {(e.pk, h.pk): D("0.8") for e in setup["panel"] for h in setup["households"]})
    services.event_close(actor=world.user("secretary"), event=event)
    grid_b = login(world.user("grid_b"))  # house_b (张志强) is in grid B, house_a (王建国) in grid A
    for name in ("courtyard-detail", "courtyard-results"):
        html = grid_b.get(reverse(name, args=[event.pk])).content.decode()
        assert "张志强" in html and "王建国" not in html, name
    rows = list(load_workbook(io.BytesIO(grid_b.get(reverse("courtyard-export", args=[event.pk])).content))
                .worksheets[0].iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["张志强"]
    # On the panel, grid A's worker visits every household.
    html = login(world.user("grid_a")).get(reverse("courtyard-results", args=[event.pk])).content.decode()
    assert "张志强" in html and "王建国" in html


def test_score_sheets_are_append_only(world: Any, setup: dict[str, Any]) -> None:  # noqa: F811
    event = make_event(world, setup)
    services.event_open(actor=world.user("secretary"), event=event)
    values = {c.pk: D("1") for c in event.criteria.all()}
    sheet, _unchanged = services.score_submit(actor=world.user("secretary"), event=event, household=world.house_a,
                                              scores=values)
    for change in (lambda: sheet.save(), lambda: Submission.objects.filter(pk=sheet.pk).update(household=None),
                   lambda: Score.objects.filter(submission=sheet).delete()):
        with pytest.raises(AppendOnlyError):
            change()
    assert Score.objects.filter(submission=sheet).count() == len(values)


def test_form_values_that_do_not_parse_are_refused_not_500(world: Any, setup: dict[str, Any], login: Any) -> None:  # noqa: F811
    from hemei.courtyard.models import ReviewEvent

    event = make_event(world, setup)
    services.event_open(actor=world.user("secretary"), event=event)
    client = login(world.user("secretary"))
    before = snapshot()
    url = reverse("courtyard-score", args=[event.pk])
    scores = {f"score_{c.pk}": "1" for c in event.criteria.all()}
    for household in ("99999999999999999999", f"{world.house_a.pk}\x00"):
        assert client.post(url, {**scores, "household": household}).status_code == 404, household
    first = event.criteria.first()
    assert first is not None
    response = client.post(url, {**scores, "household": world.house_a.pk, f"score_{first.pk}": "5\x00"})
    assert response.status_code == 302 and _errors(response)  # read as blank: every criterion at once
    create = reverse("courtyard-create") + f"?village={world.village.code}"
    form: dict[str, Any] = {"key": "k" * 300, "village": world.village.code, "title": "长键", "date": "2026-10-10",
                            "method": "mean", "panel": [u.pk for u in setup["panel"]],
                            "household": [h.pk for h in setup["households"]]}
    for i, c in enumerate(CRITERIA):
        form |= {f"c_name_{i}": c.name, f"c_weight_{i}": str(c.weight), f"c_max_{i}": str(c.max_score)}
    response = client.post(create, form | {"title": "坏\x00"})  # a title that is not text is a missing one
    assert response.status_code == 200 and _errors(response)
    assert snapshot() == before
    # An over-long key is kept at its first 100 characters: the form sent twice is one review.
    assert client.post(create, form).status_code == 302
    assert client.post(create, form).status_code == 302
    assert ReviewEvent.objects.filter(title="长键").count() == 1

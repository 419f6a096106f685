"""美丽庭院评比: set-up checks, panel scoring, results (mean / trimmed mean, ties), plaques,
the award through the points ledger, pages, the public page and scopes."""

from __future__ import annotations

import io
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.courtyard import scoring, services
from hemei.courtyard.models import Criterion, Result, ReviewEvent, Score, Submission
from hemei.points.models import Entry
from hemei.points.testing import DEFAULT_ITEMS, adopted_rules
from hemei.regions import services as region_services
from hemei.regions.models import Household, Role
from tests.conftest import at, make_user, new_id

ITEMS = [
    *DEFAULT_ITEMS,
    ("T1", "contribution", "美丽庭院示范户", 20, None, "panel"),
    ("T2", "contribution", "美丽庭院达标户", 10, None, "panel"),
]
D = Decimal


# --- the arithmetic ------------------------------------------------------------------------------


def _ref_cents(x: Fraction) -> Fraction:
    return Fraction(int(x * 100 + Fraction(1, 2)), 100)


def _reference(sheets: list[list[tuple[int, int, int]]], trimmed: bool) -> Fraction:
    """Straightforward: each evaluator's Σ weight × score / max rounded to cents, sorted, the
    ends dropped if trimmed, the mean rounded to cents. Scores are given in cents."""
    totals = sorted(_ref_cents(sum((Fraction(w * s, m) for w, m, s in sheet), Fraction(0))) for sheet in sheets)
    if trimmed:
        totals = totals[1:-1]
    return _ref_cents(sum(totals, Fraction(0)) / len(totals))


@st.composite
def reviews(draw: Any) -> tuple[list[list[tuple[int, int, int]]], bool]:
    trimmed = draw(st.booleans())
    n_criteria = draw(st.integers(1, 5))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=n_criteria - 1, max_size=n_criteria - 1, unique=True)))
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    maxima = [draw(st.integers(1, 3000)) for _ in weights]  # in cents
    n_eval = draw(st.integers(3 if trimmed else 1, 7))
    sheets = [[(w, m, draw(st.integers(0, m))) for w, m in zip(weights, maxima, strict=True)] for _ in range(n_eval)]
    return sheets, trimmed


@given(reviews())
@settings(max_examples=150, deadline=None)
def test_totals_match_a_straightforward_reference(review: tuple[list[list[tuple[int, int, int]]], bool]) -> None:
    sheets, trimmed = review
    totals = [scoring.weighted_total((w, D(m).scaleb(-2), D(s).scaleb(-2)) for w, m, s in sheet) for sheet in sheets]
    for t in totals:
        assert D(0) <= t <= D(100)
    got = scoring.household_total(totals, trimmed=trimmed)
    assert Fraction(got) == _reference(sheets, trimmed)


def test_trimmed_mean_drops_one_highest_and_one_lowest() -> None:
    totals = [D("90"), D("60"), D("80"), D("70"), D("90")]
    assert scoring.household_total(totals, trimmed=False) == D("78.00")
    assert scoring.household_total(totals, trimmed=True) == D("80.00")  # (70 + 80 + 90) / 3
    with pytest.raises(ValueError):
        scoring.household_total(totals[:2], trimmed=True)


def test_ranks_share_on_ties() -> None:
    assert scoring.ranks([D("80"), D("95.5"), D("80"), D("95.5"), D("70")]) == [3, 1, 3, 1, 5]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def setup(world: Any) -> dict[str, Any]:
    pts = adopted_rules(actor=SYSTEM, village=world.village, held_at=at(2026, 3, 5), items=ITEMS)
    extra = [region_services.household_create(actor=SYSTEM, grid=world.grid_a, number=f"00{i}") for i in range(2, 5)]
    for h in extra:
        region_services.resident_create(actor=SYSTEM,
                                        household=h, name=f"赵{h.number}", id_number=new_id(), relation="head",
                                        phone="13611112222")
    households = [world.house_a, world.house_b, *(Household.objects.get(pk=h.pk) for h in extra)]
    panel = [world.user("secretary"), world.user("township"), world.user("grid_a"), world.user("grid_b")]
    return {"rules": pts, "households": households, "panel": panel}


CRITERIA = [
    services.CriterionSpec("院内整洁", 30, D("10")),
    services.CriterionSpec("绿化美化", 20, D("10")),
    services.CriterionSpec("物品摆放", 20, D("10")),
    services.CriterionSpec("卫生厕所", 15, D("5")),
    services.CriterionSpec("文明家风", 15, D("5")),
]


def make_event(world: Any, setup: dict[str, Any], *, method: str = "mean", key: str = "e1", **kw: Any) -> ReviewEvent:
    pts = setup["rules"]
    args: dict[str, Any] = {
        "actor": world.user("secretary"),
        "village": world.village,
        "title": "2026年美丽庭院评比",
        "date": at(2026, 10, 10).date(),
        "method": method,
        "criteria": CRITERIA,
        "panel": setup["panel"],
        "households": setup["households"],
        "tiers": [
            services.TierSpec("示范户", pts.rule("T1"), top_n=1),
            services.TierSpec("达标户", pts.rule("T2"), min_total=D("60")),
        ],
        "idempotency_key": key,
        "at": at(2026, 10, 1),
    }
    args.update(kw)
    return services.event_create(**args)


def sheet_for(event: ReviewEvent, fraction: Decimal) -> dict[int, Decimal]:
    """Every criterion at the same share of its maximum (so the weighted total = 100 × share)."""
    return {c.pk: (c.max_score * fraction).quantize(D("0.01")) for c in event.criteria.all()}


def score_all(event: ReviewEvent, shares: dict[tuple[int, int], Decimal]) -> None:
    for evaluator in event.panel.all():
        for h in event.households.all():
            services.score_submit(
                actor=evaluator, event=event, household=h, scores=sheet_for(event, shares[(evaluator.pk, h.pk)])
            )


def opened(world: Any, setup: dict[str, Any], **kw: Any) -> ReviewEvent:
    event = make_event(world, setup, **kw)
    return services.event_open(actor=world.user("secretary"), event=event)


def snapshot() -> tuple[int, ...]:
    return (
        ReviewEvent.objects.count(),
        Criterion.objects.count(),
        Submission.objects.count(),
        Score.objects.count(),
        Result.objects.count(),
        Entry.objects.count(),
        AuditEntry.objects.count(),
    )


# --- set-up checks -------------------------------------------------------------------------------


def test_weights_not_adding_up_to_100_are_refused(world: Any, setup: dict[str, Any]) -> None:
    before = snapshot()
    bad = [*CRITERIA[:4], services.CriterionSpec("文明家风", 10, D("5"))]
    with translation.override("en"), pytest.raises(ValidationError, match="add up to 95"):
        make_event(world, setup, criteria=bad)
    assert snapshot() == before


def test_panel_outside_the_village_and_township_is_refused(world: Any, setup: dict[str, Any]) -> None:
    other = make_user("sec2", region=world.village2, role=Role.SECRETARY)
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="Not staff of this village"):
        make_event(world, setup, panel=[world.user("secretary"), other])
    assert snapshot() == before


def test_tier_must_map_to_an_adopted_item(world: Any, setup: dict[str, Any]) -> None:
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="adopted rules"):
        make_event(world, setup, tiers=[services.TierSpec("示范户", setup["rules"].rule("K1"), top_n=3)])
    assert snapshot() == before


def test_create_replays_its_key_and_edit_is_for_drafts_only(world: Any, setup: dict[str, Any]) -> None:
    event = make_event(world, setup)
    assert make_event(world, setup).pk == event.pk
    assert ReviewEvent.objects.count() == 1
    services.event_update(
        actor=world.user("secretary"), event=event, title="改名", date=event.date, method="trimmed",
        criteria=CRITERIA[:1] and [services.CriterionSpec("总体", 100, D("100"))], panel=setup["panel"],
        households=setup["households"][:2], tiers=[],
    )
    event.refresh_from_db()
    assert (event.title, event.method, event.criteria.count(), event.households.count()) == ("改名", "trimmed", 1, 2)
    services.event_open(actor=world.user("secretary"), event=event)
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="Only a draft"):
        services.event_update(
            actor=world.user("secretary"), event=event, title="x", date=event.date, method="mean",
            criteria=CRITERIA, panel=setup["panel"], households=setup["households"], tiers=[],
        )
    assert snapshot() == before


# --- scoring -------------------------------------------------------------------------------------


def test_score_out_of_range_is_refused(world: Any, setup: dict[str, Any]) -> None:
    event = opened(world, setup)
    scores = sheet_for(event, D("0.8"))
    first = event.criteria.first()
    assert first is not None
    before = snapshot()
    for bad in (first.max_score + D("0.01"), D("-1"), "abc", D("1.234"), "NaN"):
        with pytest.raises(ValidationError):
            services.score_submit(
                actor=world.user("grid_a"), event=event, household=world.house_a, scores={**scores, first.pk: bad}
            )
    missing = dict(scores)
    missing.pop(first.pk)
    with translation.override("en"), pytest.raises(ValidationError, match="every criterion"):
        services.score_submit(actor=world.user("grid_a"), event=event, household=world.house_a, scores=missing)
    assert snapshot() == before


def test_evaluator_not_on_panel_is_refused(world: Any, setup: dict[str, Any]) -> None:
    event = opened(world, setup)
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="Only members of the review panel"):
        services.score_submit(
            actor=world.user("shop"), event=event, household=world.house_a, scores=sheet_for(event, D("1"))
        )
    assert snapshot() == before


def test_scoring_before_open_and_after_close_is_refused(world: Any, setup: dict[str, Any]) -> None:
    draft = make_event(world, setup, key="draft")
    with translation.override("en"), pytest.raises(ValidationError, match="not open"):
        services.score_submit(
            actor=world.user("grid_a"), event=draft, household=world.house_a, scores=sheet_for(draft, D("1"))
        )
    event = opened(world, setup)
    score_all(event, {(e.pk, h.pk): D("0.7") for e in setup["panel"] for h in setup["households"]})
    services.event_close(actor=world.user("secretary"), event=event)
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="not open"):
        services.score_submit(
            actor=world.user("grid_a"), event=event, household=world.house_a, scores=sheet_for(event, D("1"))
        )
    assert snapshot() == before


def test_double_submission_is_one_sheet_and_a_change_supersedes(world: Any, setup: dict[str, Any]) -> None:
    event = opened(world, setup)
    scores = sheet_for(event, D("0.5"))
    one, unchanged1 = services.score_submit(actor=world.user("grid_a"), event=event, household=world.house_a,
                                            scores=scores)
    before = snapshot()
    two, unchanged2 = services.score_submit(
        actor=world.user("grid_a"), event=event, household=world.house_a,
        scores={k: str(v) for k, v in scores.items()},  # the same figures typed as text
    )
    assert (one.pk, unchanged1, unchanged2) == (two.pk, False, True)
    assert snapshot() == before
    three, _u = services.score_submit(actor=world.user("grid_a"), event=event, household=world.house_a,
                                      scores=sheet_for(event, D("0.9")))
    assert three.supersedes_id == one.pk
    assert Submission.objects.filter(event=event).count() == 2  # history kept
    assert services.progress(event) == {world.user("grid_a").pk: 1}


def test_close_refuses_missing_sheets(world: Any, setup: dict[str, Any]) -> None:
    event = opened(world, setup)
    services.score_submit(actor=world.user("grid_a"), event=event, household=world.house_a,
                          scores=sheet_for(event, D("1")))
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="19 score sheets are still missing"):
        services.event_close(actor=world.user("secretary"), event=event)
    assert snapshot() == before
    assert ReviewEvent.objects.get(pk=event.pk).status == "scoring"


# --- results -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["mean", "trimmed"])
def test_close_computes_ranks_and_plaques(world: Any, setup: dict[str, Any], method: str) -> None:
    event = opened(world, setup, method=method)
    panel = [u.pk for u in setup["panel"]]
    hs = [h.pk for h in setup["households"]]
    # Evaluator shares per household; the last evaluator is a harsh outlier.
    grid = {
        hs[0]: ["0.90", "0.80", "0.85", "0.10"],
        hs[1]: ["0.70", "0.70", "0.70", "0.70"],
        hs[2]: ["0.70", "0.70", "0.70", "0.70"],  # ties with hs[1]
        hs[3]: ["0.50", "0.60", "0.55", "0.50"],
        hs[4]: ["0.95", "0.90", "0.20", "0.30"],
    }
    score_all(event, {(e, h): D(grid[h][i]) for i, e in enumerate(panel) for h in hs})
    results = {r.household_id: r for r in services.event_close(actor=world.user("secretary"), event=event)}
    if method == "mean":
        expected = {hs[0]: "66.25", hs[1]: "70.00", hs[2]: "70.00", hs[3]: "53.75", hs[4]: "58.75"}
        ranks = {hs[1]: 1, hs[2]: 1, hs[0]: 3, hs[4]: 4, hs[3]: 5}
    else:
        expected = {hs[0]: "82.50", hs[1]: "70.00", hs[2]: "70.00", hs[3]: "52.50", hs[4]: "60.00"}
        ranks = {hs[0]: 1, hs[1]: 2, hs[2]: 2, hs[4]: 4, hs[3]: 5}
    assert {h: str(r.total) for h, r in results.items()} == expected
    assert {h: r.rank for h, r in results.items()} == ranks
    top = [h for h, r in ranks.items() if r == 1]
    for h, r in results.items():
        plaque = r.tier.name if r.tier else None
        want = "示范户" if h in top else ("达标户" if r.total >= 60 else None)
        assert plaque == want, h
    assert ReviewEvent.objects.get(pk=event.pk).status == "closed"


def test_award_proposes_ledger_entries_once(world: Any, setup: dict[str, Any]) -> None:
    event = opened(world, setup)
    hs = [h.pk for h in setup["households"]]
    shares = dict(zip(hs, ["0.95", "0.80", "0.65", "0.50", "0.40"], strict=True))
    score_all(event, {(e.pk, h): D(shares[h]) for e in setup["panel"] for h in hs})
    services.event_close(actor=world.user("secretary"), event=event)
    with translation.override("en"), pytest.raises(ValidationError, match="Only the village committee"):
        services.event_award(actor=world.user("grid_a"), event=event)
    entries = services.event_award(actor=world.user("secretary"), event=event, at=at(2026, 10, 20))
    assert sorted((e.household_id, e.item.code, e.points, e.state) for e in entries) == sorted(
        [(hs[0], "T1", 20, "proposed"), (hs[1], "T2", 10, "proposed"), (hs[2], "T2", 10, "proposed")]
    )
    assert all(e.deed_date == event.date and ("示范户" in e.evidence or "达标户" in e.evidence) for e in entries)
    assert set(Result.objects.exclude(entry=None).values_list("entry_id", flat=True)) == {e.pk for e in entries}
    before = snapshot()
    again = services.event_award(actor=world.user("secretary"), event=event, at=at(2026, 10, 21))
    assert {e.pk for e in again} == {e.pk for e in entries}
    assert snapshot() == before
    assert ReviewEvent.objects.get(pk=event.pk).status == "awarded"


# --- pages ---------------------------------------------------------------------------------------


def closed_event(world: Any, setup: dict[str, Any]) -> ReviewEvent:
    event = opened(world, setup)
    score_all(event, {(e.pk, h.pk): D("0.8") for e in setup["panel"] for h in setup["households"]})
    services.event_close(actor=world.user("secretary"), event=event)
    return ReviewEvent.objects.get(pk=event.pk)


def test_create_page_and_phone_scoring(world: Any, setup: dict[str, Any], login: Any) -> None:
    client = login(world.user("secretary"))
    url = reverse("courtyard-create") + f"?village={world.village.code}"
    assert client.get(url).status_code == 200
    form: dict[str, Any] = {"key": "k1", "village": world.village.code, "title": "页面评比", "date": "2026-10-10",
                            "method": "mean", "panel": [u.pk for u in setup["panel"]],
                            "household": [h.pk for h in setup["households"]],
                            "t_name_0": "示范户", "t_top_0": "2", "t_item_0": setup["rules"].rule("T1").pk}
    for i, c in enumerate(CRITERIA):
        form |= {f"c_name_{i}": c.name, f"c_weight_{i}": str(c.weight), f"c_max_{i}": str(c.max_score)}
    response = client.post(url, form)
    event = ReviewEvent.objects.get(title="页面评比")
    assert response.status_code == 302 and event.criteria.count() == 5 and event.tiers.count() == 1
    client.post(reverse("courtyard-action", args=[event.pk]), {"action": "open"})
    page = client.get(reverse("courtyard-score", args=[event.pk]))
    assert page.status_code == 200 and "院内整洁" in page.content.decode()
    data = {"household": world.house_a.pk} | {f"score_{c.pk}": "5" for c in event.criteria.all()}
    client.post(reverse("courtyard-score", args=[event.pk]), data)
    client.post(reverse("courtyard-score", args=[event.pk]), data)  # a double tap
    assert Submission.objects.filter(event=event).count() == 1
    detail = client.get(reverse("courtyard-detail", args=[event.pk])).content.decode()
    assert "1 / 5" in detail


def test_results_page_export_and_award_button(world: Any, setup: dict[str, Any], login: Any) -> None:
    event = make_event(world, setup, tiers=[services.TierSpec("=HYPERLINK(\"x\")", setup["rules"].rule("T2"),
                                                              min_total=D("50"))])
    services.event_open(actor=world.user("secretary"), event=event)
    score_all(event, {(e.pk, h.pk): D("0.8") for e in setup["panel"] for h in setup["households"]})
    services.event_close(actor=world.user("secretary"), event=event)
    client = login(world.user("secretary"))
    page = client.get(reverse("courtyard-results", args=[event.pk])).content.decode()
    assert "80.00" in page and 'value="award"' in page
    xlsx = client.get(reverse("courtyard-export", args=[event.pk]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 6 and rows[1][4] == "'=HYPERLINK(\"x\")"
    client.post(reverse("courtyard-action", args=[event.pk]), {"action": "award"})
    assert Entry.objects.filter(item__code="T2", state="proposed").count() == 5


def test_list_page_queries_do_not_grow_with_events(world: Any, setup: dict[str, Any], login: Any) -> None:
    client = login(world.user("secretary"))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("courtyard-list"))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    make_event(world, setup, key="k0", title="评比0")
    one = count()
    for i in range(1, 5):
        make_event(world, setup, key=f"k{i}", title=f"评比{i}")
    assert count() == one
    assert client.get(reverse("courtyard-list")).content.decode().count("评比") >= 5


def test_public_page_and_board_show_no_id_or_phone(world: Any, setup: dict[str, Any], client: Any) -> None:
    event = closed_event(world, setup)
    html = client.get(reverse("courtyard-public", args=[world.village.code, event.pk])).content.decode()
    assert "王建国" in html and "001" in html and "80.00" in html and "达标户" in html
    board = client.get(reverse("village-board", args=[world.village.code])).content.decode()
    assert "section-courtyard" in board and "王建国" in board
    for page in (html, board):
        for r in [world.head_a, world.head_b]:
            assert r.id_number not in page
        for phone in ("13800001111", "13900003333", "13611112222", "138****1111", "136****2222"):
            assert phone not in page
    # A draft or another village's code is not public.
    draft = make_event(world, setup, key="d2")
    assert client.get(reverse("courtyard-public", args=[world.village.code, draft.pk])).status_code == 404
    assert client.get(reverse("courtyard-public", args=[world.village2.code, event.pk])).status_code == 404


def test_other_village_staff_cannot_see_or_act(world: Any, setup: dict[str, Any], login: Any) -> None:
    event = closed_event(world, setup)
    other = make_user("sec2", region=world.village2, role=Role.SECRETARY)
    client = login(other)
    for name in ("courtyard-detail", "courtyard-results", "courtyard-export", "courtyard-score", "courtyard-edit"):
        assert client.get(reverse(name, args=[event.pk])).status_code == 404, name
    before = snapshot()
    assert client.post(reverse("courtyard-action", args=[event.pk]), {"action": "award"}).status_code == 404
    assert "2026年美丽庭院评比" not in client.get(reverse("courtyard-list")).content.decode()
    assert snapshot() == before


def test_staff_without_the_role_get_403(world: Any, setup: dict[str, Any], login: Any) -> None:
    event = opened(world, setup)
    before = snapshot()
    grid = login(world.user("grid_a"))  # on the panel, but not on the committee
    assert grid.post(reverse("courtyard-action", args=[event.pk]), {"action": "close"}).status_code == 403
    assert grid.get(reverse("courtyard-edit", args=[event.pk])).status_code == 403
    shop = login(world.user("shop"))  # sees the village, not on the panel
    assert shop.get(reverse("courtyard-detail", args=[event.pk])).status_code == 200
    assert shop.get(reverse("courtyard-score", args=[event.pk])).status_code == 403
    assert snapshot() == before
    assert ReviewEvent.objects.get(pk=event.pk).status == "scoring"


def test_verify_recomputes_results(world: Any, setup: dict[str, Any]) -> None:
    from hemei.courtyard.checks import check_results

    event = closed_event(world, setup)
    assert check_results() == []
    Result.objects.filter(event=event, household=world.house_a).update(total=D("99.00"))
    assert check_results() == [f"review {event.pk}: result of household {world.house_a.pk} differs from its scores"]

"""星级文明户: the procedure in order, scopes, coverage, 挂星/摘星 history, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from hemei.core.models import AppendOnlyError, AuditEntry
from hemei.regions.models import Role
from hemei.stars import services
from hemei.stars.checks import check_current_stars
from hemei.stars.models import (
    TYPICAL_STARS,
    HouseholdStar,
    Stage,
    Star,
    StarChange,
    StarRating,
    StarRound,
    StarRoundStep,
)
from hemei.stars.selectors import coverage, replay
from tests.conftest import World, at, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(at(2026, 5, 10), tick=False) as traveller:
        yield traveller


def _ids(world: World, *names: str) -> list[int]:
    stars = {s.name: s.pk for s in services.catalogue_ensure(village=world.village)}
    return [stars[n] for n in names]


def _star(world: World, name: str) -> Star:
    services.catalogue_ensure(village=world.village)
    return Star.objects.get(village=world.village, name=name)


def _to_township(world: World) -> StarRound:
    """Open, declare for house_a (villager) and house_b (grid_b), run to 乡镇认定."""
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    services.rating_declare(actor=world.user("villager"), round=rnd, household=world.house_a,
                            stars=_ids(world, "爱党爱国", "诚实守信", "遵纪守法"))
    services.rating_declare(actor=world.user("grid_b"), round=rnd, household=world.house_b,
                            stars=_ids(world, "勤劳致富"))
    services.round_advance(actor=sec, round=rnd, to=Stage.PEER)
    services.round_advance(actor=sec, round=rnd, to=Stage.COMMITTEE)
    services.round_advance(actor=sec, round=rnd, to=Stage.TOWNSHIP)
    return StarRound.objects.get(pk=rnd.pk)


def _awarded(world: World) -> StarRound:
    rnd = _to_township(world)
    services.round_township_approve(actor=world.user("township"), round=rnd)
    services.round_publicity_start(actor=world.user("secretary"), round=rnd, at=at(2026, 4, 1))
    rnd, _n = services.round_award(actor=world.user("secretary"), round=rnd)
    return rnd


def _held(household: Any) -> set[str]:
    return set(HouseholdStar.objects.filter(household=household).values_list("star__name", flat=True))


def test_catalogue_is_seeded_with_the_ten_typical_stars(world: World) -> None:
    stars = services.catalogue_ensure(village=world.village)
    assert [s.name for s in stars] == list(TYPICAL_STARS)
    assert services.catalogue_ensure(village=world.village) == stars  # seeded once
    added = services.star_add(actor=world.user("secretary"), village=world.village, name="热心公益")
    services.star_set_active(actor=world.user("secretary"), star=stars[0], active=False)
    assert Star.objects.filter(village=world.village, active=True).count() == 10
    assert added.position == 11


def test_grid_worker_cannot_edit_the_catalogue(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.star_add(actor=world.user("grid_a"), village=world.village, name="热心公益")
    assert not Star.objects.filter(name="热心公益").exists()


def test_the_whole_procedure_awards_the_final_stars(world: World, frozen: Any) -> None:
    rnd = _to_township(world)
    sec = world.user("secretary")
    services.round_township_approve(actor=world.user("township"), round=rnd)
    services.round_publicity_start(actor=sec, round=rnd)
    rnd.refresh_from_db()
    assert rnd.stage == Stage.PUBLICITY and rnd.publicity_until == dt.date(2026, 5, 17)
    with translation.override("en"), pytest.raises(ValidationError, match="public notice runs until"):
        services.round_award(actor=sec, round=rnd)
    frozen.move_to(at(2026, 5, 17))
    rnd, written = services.round_award(actor=sec, round=rnd)
    assert rnd.stage == Stage.AWARDED and written == 4
    assert _held(world.house_a) == {"爱党爱国", "诚实守信", "遵纪守法"}
    assert _held(world.house_b) == {"勤劳致富"}
    steps = list(StarRoundStep.objects.filter(round=rnd).values_list("kind", flat=True))
    assert steps == ["opened", "start peer", "start committee", "start township", "approved", "publicity started",
                     "awarded"]


def test_award_is_idempotent(world: World, frozen: Any) -> None:
    rnd = _awarded(world)
    before = StarChange.objects.count()
    rnd, written = services.round_award(actor=world.user("secretary"), round=rnd)
    assert written == 0 and StarChange.objects.count() == before == 4


def test_stage_order_is_enforced(world: World) -> None:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    for call in (
        lambda: services.round_advance(actor=sec, round=rnd, to=Stage.COMMITTEE),
        lambda: services.round_township_approve(actor=world.user("township"), round=rnd),
        lambda: services.round_publicity_start(actor=sec, round=rnd),
        lambda: services.round_award(actor=sec, round=rnd),
    ):
        with translation.override("en"), pytest.raises(ValidationError):
            call()
    rnd.refresh_from_db()
    assert rnd.stage == Stage.SELF
    assert StarRoundStep.objects.filter(round=rnd).count() == 1


def test_declarations_close_after_self_declaration(world: World) -> None:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    services.round_advance(actor=sec, round=rnd, to=Stage.PEER)
    with translation.override("en"), pytest.raises(ValidationError, match="only during self-declaration"):
        services.rating_declare(actor=world.user("villager"), round=rnd, household=world.house_a,
                                stars=_ids(world, "爱党爱国"))
    assert not StarRating.objects.exists()


def test_peer_and_committee_results_carry_over_and_can_be_lowered(world: World) -> None:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    services.rating_declare(actor=world.user("villager"), round=rnd, household=world.house_a,
                            stars=_ids(world, "爱党爱国", "诚实守信"))
    services.round_advance(actor=sec, round=rnd, to=Stage.PEER)
    rating = StarRating.objects.get(household=world.house_a)
    assert rating.peer == rating.claimed
    services.rating_record(actor=world.user("grid_a"), round=rnd, household=world.house_a,
                           stars=_ids(world, "爱党爱国"))
    services.round_advance(actor=sec, round=rnd, to=Stage.COMMITTEE)
    rating.refresh_from_db()
    assert rating.committee == _ids(world, "爱党爱国")


def test_grid_worker_cannot_act_on_another_grid(world: World) -> None:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    with pytest.raises(PermissionDenied):
        services.rating_declare(actor=world.user("grid_a"), round=rnd, household=world.house_b,
                                stars=_ids(world, "爱党爱国"))
    services.rating_declare(actor=world.user("grid_b"), round=rnd, household=world.house_b,
                            stars=_ids(world, "爱党爱国"))
    services.round_advance(actor=sec, round=rnd, to=Stage.PEER)
    with pytest.raises(PermissionDenied):
        services.rating_record(actor=world.user("grid_a"), round=rnd, household=world.house_b, stars=[])
    assert StarRating.objects.get(household=world.house_b).peer == _ids(world, "爱党爱国")
    with pytest.raises(PermissionDenied):
        services.round_advance(actor=world.user("grid_a"), round=rnd, to=Stage.COMMITTEE)


def test_villager_declares_only_for_own_household(world: World) -> None:
    rnd = services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    with pytest.raises(PermissionDenied):
        services.rating_declare(actor=world.user("villager"), round=rnd, household=world.house_b,
                                stars=_ids(world, "爱党爱国"))
    assert not StarRating.objects.exists()
    services.rating_declare(actor=world.user("villager"), round=rnd, household=world.house_a,
                            stars=_ids(world, "爱党爱国"))
    assert StarRating.objects.get().household == world.house_a


def test_township_of_another_township_cannot_approve(world: World) -> None:
    rnd = _to_township(world)
    other = make_user("township_other", region=world.township2, role=Role.TOWNSHIP_STAFF)
    with pytest.raises(PermissionDenied):
        services.round_township_approve(actor=other, round=rnd)
    with pytest.raises(PermissionDenied):
        services.round_township_approve(actor=world.user("secretary"), round=rnd)
    rnd.refresh_from_db()
    assert rnd.approved_at is None
    assert not StarRating.objects.filter(final__isnull=False).exists()


def test_coverage_is_rated_over_households(world: World, frozen: Any) -> None:
    sec = world.user("secretary")
    rnd = services.round_open(actor=sec, village=world.village, year=2026)
    services.rating_declare(actor=sec, round=rnd, household=world.house_a, stars=_ids(world, "爱党爱国"))
    (row,) = coverage([world.village])
    assert (row.households, row.declared, row.rated) == (2, 1, 0)
    for to in (Stage.PEER, Stage.COMMITTEE, Stage.TOWNSHIP):
        services.round_advance(actor=sec, round=rnd, to=to)
    services.round_township_approve(actor=world.user("township"), round=rnd)
    (row,) = coverage([world.village])
    assert row.rated == 1 and str(row.percent) == "50.0"
    (empty,) = coverage([world.village2])
    assert empty.round is None and empty.households == 1 and str(empty.percent) == "0.0"


def test_current_stars_are_the_replay_of_history(world: World, frozen: Any) -> None:
    _awarded(world)
    sec = world.user("secretary")
    services.star_withdraw(actor=sec, household=world.house_a, star=_star(world, "诚实守信"),
                           date=dt.date(2026, 5, 10), reason="失信被执行", idempotency_key="w1")
    services.star_grant(actor=sec, household=world.house_b, star=_star(world, "助人为乐"),
                        date=dt.date(2026, 5, 10), reason="救助落水儿童", idempotency_key="g1")
    rows = StarChange.objects.order_by("pk").values_list("household_id", "star_id", "kind")
    derived = {(h, s) for h, stars in replay(rows).items() for s in stars}
    assert derived == set(HouseholdStar.objects.values_list("household_id", "star_id"))
    assert _held(world.house_a) == {"爱党爱国", "遵纪守法"}
    assert check_current_stars() == []
    HouseholdStar.objects.filter(household=world.house_b).delete()  # a tampered cache shows
    assert any("missing in the cache" in p for p in check_current_stars())


def test_star_changes_are_append_only(world: World, frozen: Any) -> None:
    _awarded(world)
    change = StarChange.objects.first()
    assert change is not None
    with pytest.raises(AppendOnlyError):
        StarChange.objects.filter(pk=change.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        change.delete()


def test_excluded_household_gets_no_stars(world: World, frozen: Any) -> None:
    rnd = _to_township(world)
    services.rating_exclude(actor=world.user("township"), round=rnd, household=world.house_b, reason="gambling",
                            note="赌博被处罚")
    with translation.override("en"), pytest.raises(ValidationError, match="excluded"):
        services.rating_record(actor=world.user("township"), round=rnd, household=world.house_b,
                               stars=_ids(world, "勤劳致富"))
    services.round_township_approve(actor=world.user("township"), round=rnd)
    services.round_publicity_start(actor=world.user("secretary"), round=rnd, at=at(2026, 4, 1))
    services.round_award(actor=world.user("secretary"), round=rnd)
    assert _held(world.house_b) == set()
    before = StarChange.objects.count()
    with translation.override("en"), pytest.raises(ValidationError, match="excluded from the 2026 rating"):
        services.star_grant(actor=world.user("secretary"), household=world.house_b, star=_star(world, "勤劳致富"),
                            date=dt.date(2026, 5, 10), reason="改正", idempotency_key="g-ex")
    assert StarChange.objects.count() == before and _held(world.house_b) == set()


def test_exclusion_needs_a_reason_from_the_list(world: World) -> None:
    rnd = _to_township(world)
    for reason, note in (("bad", ""), ("other", "")):
        with translation.override("en"), pytest.raises(ValidationError):
            services.rating_exclude(actor=world.user("secretary"), round=rnd, household=world.house_b,
                                    reason=reason, note=note)
    assert not StarRating.objects.filter(excluded=True).exists()


def test_star_not_in_the_village_catalogue_is_refused(world: World) -> None:
    rnd = services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    foreign = services.catalogue_ensure(village=world.village2)[0]
    with translation.override("en"), pytest.raises(ValidationError, match="not in this village's catalogue"):
        services.rating_declare(actor=world.user("villager"), round=rnd, household=world.house_a, stars=[foreign.pk])
    with translation.override("en"), pytest.raises(ValidationError, match="not in this village's catalogue"):
        services.star_grant(actor=world.user("secretary"), household=world.house_a, star=foreign,
                            date=dt.date(2026, 1, 5), reason="r", idempotency_key="k")
    assert not StarRating.objects.exists() and not StarChange.objects.exists()


@pytest.mark.parametrize(
    ("kind", "star", "reason", "message"),
    [
        ("withdraw", "助人为乐", "不再符合", "does not hold"),
        ("grant", "爱党爱国", "重复", "already holds"),
        ("grant", "助人为乐", "  ", "Give the reason"),
        ("withdraw", "爱党爱国", "", "Give the reason"),
    ],
)
def test_bad_grant_or_withdraw_changes_nothing(world: World, frozen: Any, kind: str, star: str, reason: str,
                                               message: str) -> None:
    _awarded(world)
    before = (StarChange.objects.count(), set(HouseholdStar.objects.values_list("pk", flat=True)))
    audits = AuditEntry.objects.count()
    fn = services.star_grant if kind == "grant" else services.star_withdraw
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        fn(actor=world.user("secretary"), household=world.house_a, star=_star(world, star),
           date=dt.date(2026, 5, 10), reason=reason, idempotency_key=f"bad-{kind}-{star}")
    assert (StarChange.objects.count(), set(HouseholdStar.objects.values_list("pk", flat=True))) == before
    assert AuditEntry.objects.count() == audits


def test_future_or_earlier_dates_are_refused(world: World, frozen: Any) -> None:
    _awarded(world)  # awarded 2026-05-10
    sec = world.user("secretary")
    for day in (dt.date(2026, 5, 11), dt.date(2026, 5, 1)):
        with translation.override("en"), pytest.raises(ValidationError):
            services.star_withdraw(actor=sec, household=world.house_a, star=_star(world, "爱党爱国"), date=day,
                                   reason="r", idempotency_key=f"d{day}")
    assert StarChange.objects.filter(kind="withdraw").count() == 0


def test_double_submission_writes_once(world: World, frozen: Any) -> None:
    _awarded(world)
    sec = world.user("secretary")
    kwargs = {"actor": sec, "household": world.house_a, "star": _star(world, "爱党爱国"),
              "date": dt.date(2026, 5, 10), "reason": "违反村规民约", "idempotency_key": "form-123"}
    first = services.star_withdraw(**kwargs)
    again = services.star_withdraw(**kwargs)
    assert first.pk == again.pk
    assert StarChange.objects.filter(kind="withdraw").count() == 1
    with translation.override("en"), pytest.raises(ValidationError, match="different request"):
        services.star_withdraw(**{**kwargs, "reason": "另一个理由"})
    assert StarChange.objects.filter(kind="withdraw").count() == 1


def test_ad_hoc_changes_need_the_committee(world: World, frozen: Any) -> None:
    _awarded(world)
    with pytest.raises(PermissionDenied):
        services.star_withdraw(actor=world.user("grid_a"), household=world.house_a, star=_star(world, "爱党爱国"),
                               date=dt.date(2026, 5, 10), reason="r", idempotency_key="x")
    assert not StarChange.objects.filter(kind="withdraw").exists()


def test_one_round_per_village_and_year(world: World) -> None:
    services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    with translation.override("en"), pytest.raises(ValidationError, match="already has a round"):
        services.round_open(actor=world.user("secretary"), village=world.village, year=2026)
    assert StarRound.objects.count() == 1


def test_demo_rates_all_448_households_of_xishao(world: World) -> None:
    from hemei.regions.models import Household
    from hemei.stars.demo import demo_stars

    grids = [world.grid_a, world.grid_b]
    Household.objects.bulk_create([
        Household(county=world.county, village=world.village, region=grids[n % 2], number=f"9{n:03d}")
        for n in range(2, 448)
    ])
    written = demo_stars()
    assert written > 448
    (xishao, dongshao) = coverage([world.village, world.village2])
    assert (xishao.households, xishao.rated, str(xishao.percent)) == (448, 448, "100.0")
    assert xishao.round is not None and xishao.round.stage == Stage.AWARDED
    assert StarRating.objects.filter(round=xishao.round, excluded=True).exclude(exclusion_reason="").count() == 5
    withdrawn = StarChange.objects.get(source="adhoc", kind="withdraw")
    assert withdrawn.reason and withdrawn.date == dt.date(2026, 8, 15)
    assert dongshao.round is not None and dongshao.round.stage == Stage.PEER
    assert check_current_stars() == []
    counts = list(StarRating.objects.filter(round=xishao.round, excluded=False)
                  .values_list("final", flat=True))
    assert all(1 <= len(c) <= 10 for c in counts)
    assert demo_stars() == 0  # a second run changes nothing


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_and_withdrawals_write_once(world: World) -> None:
    import threading

    from django.db import connection

    with time_machine.travel(at(2026, 5, 10), tick=False):
        rnd = _to_township(world)
        services.round_township_approve(actor=world.user("township"), round=rnd)
        services.round_publicity_start(actor=world.user("secretary"), round=rnd, at=at(2026, 4, 1))
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def award() -> None:
        try:
            barrier.wait()
            results.append(services.round_award(actor=world.user("secretary"), round=rnd)[1])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=award) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(results) == [0, 0, 4]
    assert StarChange.objects.count() == 4 and check_current_stars() == []


def test_the_database_refuses_changing_star_history(world: World, frozen: Any) -> None:
    from django.db import DatabaseError, connection, transaction

    from hemei.stars.checks import check_history_guard

    _awarded(world)
    change = StarChange.objects.first()
    assert change is not None and check_history_guard() == []
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE stars_starchange SET reason = 'x' WHERE id = %s", [change.pk])
    assert StarChange.objects.get(pk=change.pk).reason != "x"

"""Points rules and ledger: adoption by a meeting, propose → review → publicity → effective,
objections, immutability, corrections, idempotency, hash chains and `hemei verify`."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from hemei.core.idempotency import IdempotencyConflict
from hemei.core.models import ChainHead
from hemei.core.scope import SYSTEM
from hemei.core.sweeps import SWEEPERS, sweep_all
from hemei.meetings.models import Meeting
from hemei.points import checks, ledger, rules
from hemei.points.models import Account, Entry, ImmutableEntryError, Objection, RuleSet, RuleVersion
from hemei.points.testing import Adopted, adopt_version, adopted_rules
from hemei.regions.models import Role
from tests.conftest import World, at, make_user

E = Entry.State
OCT = dt.date(2026, 10, 5)


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are matched in English (the default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


@pytest.fixture
def supervisor(world: World) -> Any:
    return make_user("supervisor", region=world.village, role=Role.SUPERVISION)


@pytest.fixture
def director(world: World) -> Any:
    return make_user("director", region=world.village, role=Role.DIRECTOR)


def verify() -> dict[str, list[str]]:
    return {
        "chains": checks.check_chains(),
        "balances": checks.check_balances(),
        "stock": checks.check_stock(),
        "entries": checks.check_entries(),
    }


def assert_verify_clean() -> None:
    assert verify() == {"chains": [], "balances": [], "stock": [], "entries": []}


def propose(
    world: World,
    pts: Adopted,
    code: str = "G1",
    *,
    house: Any = None,
    key: str = "k1",
    actor: str = "grid_a",
    day: dt.date = OCT,
) -> Entry:
    return ledger.entry_propose(
        actor=world.user(actor),
        household=house or world.house_a,
        item=pts.rule(code),
        deed_date=day,
        evidence="照片2张",
        idempotency_key=key,
        at=at(2026, 10, 6),
    )


def approve(world: World, entry: Entry, key: str = "r1", when: dt.datetime | None = None) -> Entry:
    return ledger.entry_review(
        actor=world.user("secretary"), entry=entry, approve=True, idempotency_key=key, at=when or at(2026, 10, 8)
    )


def effective(world: World, pts: Adopted, code: str = "G1", *, key: str = "e", house: Any = None) -> Entry:
    entry = propose(
        world,
        pts,
        code,
        key=f"{key}-p",
        house=house or world.house_a,
        actor="grid_a" if (house or world.house_a) == world.house_a else "grid_b",
    )
    approve(world, entry, key=f"{key}-r")
    ledger.publicity_sweep(at(2026, 10, 20))
    entry.refresh_from_db()
    assert entry.state == E.EFFECTIVE
    return entry


# --- rules and adoption -----------------------------------------------------------------


def test_version_takes_effect_only_after_a_passed_meeting(world: World) -> None:
    sec = world.user("secretary")
    rule_set = rules.rule_set_create(actor=sec, village=world.village, name="积分办法")
    version = rules.rule_version_create(actor=sec, rule_set=rule_set)
    item = rules.rule_item_add(actor=sec, version=version, code="J1", kind="basic", description="庭院整洁", points=5)
    with pytest.raises(ValidationError, match="no adopted"):
        ledger.entry_propose(
            actor=world.user("grid_a"),
            household=world.house_a,
            item=item,
            deed_date=OCT,
            idempotency_key="x",
            at=at(2026, 10, 6),
        )
    # 16 of 30 present is more than half (abstentions count against).
    adopt_version(actor=sec, version=version, held_at=at(2026, 9, 1), votes_for=16, votes_against=10, votes_abstain=4)
    version.refresh_from_db()
    assert version.state == RuleVersion.State.ADOPTED
    assert version.votes_for == 16 and version.attendees == 30 and version.adopted_by.kind == "representatives"
    assert Entry.objects.count() == 0


def test_a_failed_vote_leaves_the_draft(world: World) -> None:
    sec = world.user("secretary")
    rule_set = rules.rule_set_create(actor=sec, village=world.village, name="积分办法")
    version = rules.rule_version_create(actor=sec, rule_set=rule_set)
    rules.rule_item_add(actor=sec, version=version, code="J1", kind="basic", description="庭院整洁", points=5)
    _meeting, item = adopt_version(
        actor=sec, version=version, held_at=at(2026, 9, 1), votes_for=15, votes_against=15, votes_abstain=0
    )
    version.refresh_from_db()
    assert item.outcome == "failed" and version.state == RuleVersion.State.DRAFT
    with pytest.raises(ValidationError, match="not passed"):
        rules.rule_version_adopt(actor=sec, version=version, item=item)


def test_adoption_needs_an_item_about_this_version_at_an_assembly(world: World, pts: Adopted) -> None:
    sec = world.user("secretary")
    draft = rules.rule_version_create(actor=sec, rule_set=pts.rule_set, copy_from=pts.version)
    with pytest.raises(ValidationError, match="not about this rule version"):
        rules.rule_version_adopt(actor=sec, version=draft, item=pts.item)
    # A two-committees meeting may pass the item, but it cannot adopt points rules.
    _meeting, item = adopt_version(
        actor=sec,
        version=draft,
        held_at=at(2026, 9, 20),
        kind=Meeting.Kind.COMMITTEES,
        eligible=7,
        attendees=7,
        votes_for=6,
        votes_against=1,
        votes_abstain=0,
    )
    assert item.outcome == "passed"
    draft.refresh_from_db()
    assert draft.state == RuleVersion.State.DRAFT
    with pytest.raises(ValidationError, match="villagers' assembly"):
        rules.rule_version_adopt(actor=sec, version=draft, item=item)


def test_amendment_supersedes_and_entries_keep_their_version(world: World, pts: Adopted) -> None:
    sec = world.user("secretary")
    old = propose(world, pts, "J1", key="old")
    amendment = rules.rule_version_create(actor=sec, rule_set=pts.rule_set, title="修订", copy_from=pts.version)
    rules.rule_item_add(actor=sec, version=amendment, code="G3", kind="contribution", description="捐资助学", points=15)
    adopt_version(actor=sec, version=amendment, held_at=at(2026, 10, 7))
    pts.version.refresh_from_db()
    amendment.refresh_from_db()
    assert pts.version.state == RuleVersion.State.SUPERSEDED
    assert amendment.state == RuleVersion.State.ADOPTED and amendment.items.count() == 7
    assert Entry.objects.get(pk=old.pk).version == pts.version
    # Items of the superseded version can no longer be proposed.
    with pytest.raises(ValidationError, match="not in the adopted rules"):
        propose(world, pts, "J1", key="after", day=dt.date(2026, 10, 7))
    # A draft cannot be changed once adopted.
    with pytest.raises(ValidationError, match="Only a draft"):
        rules.rule_item_add(actor=sec, version=amendment, code="X", kind="basic", description="x", points=1)


def test_rule_items_are_checked(world: World, pts: Adopted) -> None:
    sec = world.user("secretary")
    draft = rules.rule_version_create(actor=sec, rule_set=pts.rule_set)
    for kwargs in (
        {"kind": "deduction", "points": 5},
        {"kind": "basic", "points": -5},
        {"kind": "basic", "points": 0},
        {"kind": "basic", "points": 10, "cap_per_period": 5},
    ):
        with pytest.raises(ValidationError):
            rules.rule_item_add(actor=sec, version=draft, code="Z", description="z", **kwargs)
    with pytest.raises(ValidationError, match="committee"):
        rules.rule_item_add(
            actor=world.user("grid_a"), version=draft, code="Z", kind="basic", description="z", points=1
        )
    assert draft.items.count() == 0


# --- the life of an entry ----------------------------------------------------------------


def test_entry_goes_through_review_and_publicity_to_the_chain(world: World, pts: Adopted) -> None:
    entry = propose(world, pts)
    assert entry.state == E.PROPOSED and entry.version == pts.version and entry.period == "2026-10"
    approve(world, entry)
    entry.refresh_from_db()
    assert entry.state == E.PUBLICITY and entry.publicity_until == at(2026, 10, 15)
    assert ledger.publicity_sweep(at(2026, 10, 14)) == 0
    assert "points-publicity" in SWEEPERS
    assert sweep_all(at(2026, 10, 15, 11), only=["points-publicity"]) == []
    entry.refresh_from_db()
    assert entry.state == E.EFFECTIVE and entry.sequence == 1 and len(entry.entry_hash) == 64
    assert Account.objects.get(household=world.house_a).balance == 10
    head = ChainHead.objects.get(chain="points", village=world.village)
    assert head.length == 1 and head.head_hash == entry.entry_hash
    # Exactly once: a second sweep finds nothing.
    assert ledger.publicity_sweep(at(2026, 10, 30)) == 0
    assert_verify_clean()


def test_rejection_needs_a_reason_and_ends_the_entry(world: World, pts: Adopted) -> None:
    entry = propose(world, pts)
    with pytest.raises(ValidationError, match="Reason"):
        ledger.entry_review(actor=world.user("secretary"), entry=entry, approve=False, idempotency_key="r")
    ledger.entry_review(
        actor=world.user("secretary"), entry=entry, approve=False, reason="无照片", idempotency_key="r2"
    )
    entry.refresh_from_db()
    assert entry.state == E.REJECTED and entry.reason == "无照片"
    with pytest.raises(ValidationError, match="already been reviewed"):
        approve(world, entry, key="r3")


def test_only_the_committee_reviews_and_never_its_own_proposal(world: World, pts: Adopted) -> None:
    entry = propose(world, pts, "G2", actor="secretary", key="own")
    with pytest.raises(ValidationError, match="another member"):
        approve(world, entry)
    with pytest.raises(ValidationError, match="committee"):
        ledger.entry_review(actor=world.user("grid_a"), entry=entry, approve=True, idempotency_key="g")
    assert Entry.objects.get(pk=entry.pk).state == E.PROPOSED


def test_batch_for_a_grid_month_is_all_or_nothing(world: World, pts: Adopted) -> None:
    rows = [ledger.Proposal(world.house_a, pts.rule("J1"), OCT), ledger.Proposal(world.house_a, pts.rule("J2"), OCT)]
    entries, replayed = ledger.entry_propose_batch(
        actor=world.user("grid_a"), rule_set=pts.rule_set, proposals=rows, idempotency_key="batch", at=at(2026, 10, 6)
    )
    assert len(entries) == 2 and not replayed
    again, replayed = ledger.entry_propose_batch(
        actor=world.user("grid_a"), rule_set=pts.rule_set, proposals=rows, idempotency_key="batch", at=at(2026, 10, 6)
    )
    assert replayed and [e.pk for e in again] == [e.pk for e in entries]
    bad = [ledger.Proposal(world.house_a, pts.rule("G1"), OCT), ledger.Proposal(world.house_b, pts.rule("G1"), OCT)]
    with pytest.raises(ValidationError, match="may not propose"):  # house_b is in grid B
        ledger.entry_propose_batch(
            actor=world.user("grid_a"),
            rule_set=pts.rule_set,
            proposals=bad,
            idempotency_key="batch2",
            at=at(2026, 10, 6),
        )
    assert Entry.objects.count() == 2


# --- bad input ----------------------------------------------------------------------------


def test_bad_proposals_change_nothing(world: World, pts: Adopted) -> None:
    with pytest.raises(ValidationError, match="not in this village"):
        propose(world, pts, house=world.house_c, actor="secretary", key="a")
    with pytest.raises(ValidationError, match="may not propose"):
        propose(world, pts, "G2", key="b")  # committee-only item
    with pytest.raises(ValidationError, match="future"):
        propose(world, pts, key="c", day=dt.date(2026, 12, 1))
    propose(world, pts, "J1", key="d")
    with pytest.raises(ValidationError, match="more than 5"):
        propose(world, pts, "J1", key="e", day=dt.date(2026, 10, 6))  # cap 5 per month
    with pytest.raises(ValidationError, match="too few points"):
        propose(world, pts, "K1", key="f")  # a deduction would go below zero
    world.house_a.lives_in_village = False
    world.house_a.save()
    with pytest.raises(ValidationError, match="does not live"):
        propose(world, pts, "G1", key="g")
    with pytest.raises(ValidationError, match="idempotency key"):
        propose(world, pts, "G1", key="")
    assert Entry.objects.count() == 1


def test_rule_item_of_another_village_or_a_draft_is_refused(world: World, pts: Adopted) -> None:
    sec = world.user("secretary")
    draft = rules.rule_version_create(actor=sec, rule_set=pts.rule_set)
    draft_item = rules.rule_item_add(actor=sec, version=draft, code="N1", kind="basic", description="新", points=2)
    with pytest.raises(ValidationError, match="not in the adopted rules"):
        ledger.entry_propose(
            actor=world.user("grid_a"),
            household=world.house_a,
            item=draft_item,
            deed_date=OCT,
            idempotency_key="d",
            at=at(2026, 10, 6),
        )
    other = adopted_rules(actor=SYSTEM, village=world.village2, held_at=at(2026, 9, 1))
    with pytest.raises(ValidationError, match="not in this village"):
        ledger.entry_propose(
            actor=world.user("secretary"),
            household=world.house_a,
            item=other.rule("J1"),
            deed_date=OCT,
            idempotency_key="o",
            at=at(2026, 10, 6),
        )
    assert Entry.objects.count() == 0


def test_idempotency_same_payload_replays_other_payload_conflicts(world: World, pts: Adopted) -> None:
    first = propose(world, pts, "G1", key="same")
    again = propose(world, pts, "G1", key="same")
    assert again.pk == first.pk and Entry.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        propose(world, pts, "J1", key="same")
    assert Entry.objects.count() == 1
    approve(world, first, key="rv")
    assert approve(world, first, key="rv").state == E.PUBLICITY  # replay, not "already reviewed"


# --- objections ----------------------------------------------------------------------------


def test_open_objection_blocks_and_upheld_voids(world: World, pts: Adopted, supervisor: Any) -> None:
    entry = propose(world, pts, "G1", house=world.house_b, actor="grid_b")
    approve(world, entry)
    objection = ledger.objection_raise(
        actor=world.user("villager"), entry=entry, reason="当天他不在村里", idempotency_key="o1", at=at(2026, 10, 10)
    )
    assert Entry.objects.get(pk=entry.pk).open_objections == 1
    assert ledger.publicity_sweep(at(2026, 10, 30)) == 0
    assert Entry.objects.get(pk=entry.pk).state == E.PUBLICITY
    with pytest.raises(ValidationError, match="supervision"):
        ledger.objection_decide(
            actor=world.user("secretary"), objection=objection, uphold=True, decision="x", idempotency_key="d0"
        )
    ledger.objection_decide(
        actor=supervisor,
        objection=objection,
        uphold=True,
        decision="核实属实",
        idempotency_key="d1",
        at=at(2026, 10, 12),
    )
    entry.refresh_from_db()
    assert entry.state == E.VOIDED and Objection.objects.get().state == "upheld"
    assert ledger.publicity_sweep(at(2026, 10, 30)) == 0
    assert not Account.objects.filter(household=world.house_b, balance__gt=0).exists()
    assert_verify_clean()


def test_dismissed_objection_lets_the_entry_take_effect(world: World, pts: Adopted, supervisor: Any) -> None:
    entry = propose(world, pts, "G1", house=world.house_b, actor="grid_b")
    approve(world, entry)
    objection = ledger.objection_raise(
        actor=world.user("villager"), entry=entry, reason="有疑问", idempotency_key="o1", at=at(2026, 10, 10)
    )
    ledger.objection_decide(
        actor=supervisor,
        objection=objection,
        uphold=False,
        decision="经核实无误",
        idempotency_key="d1",
        at=at(2026, 10, 20),
    )
    with pytest.raises(ValidationError, match="already been decided"):
        ledger.objection_decide(
            actor=supervisor, objection=objection, uphold=True, decision="改判", idempotency_key="d2"
        )
    assert ledger.publicity_sweep(at(2026, 10, 21)) == 1
    assert Entry.objects.get(pk=entry.pk).state == E.EFFECTIVE
    assert Account.objects.get(household=world.house_b).balance == 10


def test_objection_by_non_villager_or_after_publicity_is_refused(world: World, pts: Adopted) -> None:
    entry = propose(world, pts)
    approve(world, entry)
    for persona in ("secretary", "grid_a", "outsider"):
        with pytest.raises(ValidationError, match="Only villagers"):
            ledger.objection_raise(
                actor=world.user(persona), entry=entry, reason="x", idempotency_key=persona, at=at(2026, 10, 9)
            )
    # A villager of 东邵村 is not a villager of this village.
    stranger = make_user("stranger", region=world.village2, role=Role.VILLAGER, resident=world.head_c)
    with pytest.raises(ValidationError, match="Only villagers"):
        ledger.objection_raise(actor=stranger, entry=entry, reason="x", idempotency_key="s", at=at(2026, 10, 9))
    with pytest.raises(ValidationError, match="only while"):
        ledger.objection_raise(
            actor=world.user("villager"), entry=entry, reason="晚了", idempotency_key="late", at=at(2026, 10, 16)
        )
    assert Objection.objects.count() == 0


def test_supervisor_who_reviewed_may_not_decide(world: World, pts: Adopted) -> None:
    both = make_user("both", region=world.village, role=Role.COMMITTEE)
    from hemei.regions import services

    services.post_assign(actor=SYSTEM, user=both, region=world.village, role=Role.SUPERVISION)
    entry = propose(world, pts)
    ledger.entry_review(actor=both, entry=entry, approve=True, idempotency_key="r", at=at(2026, 10, 8))
    objection = ledger.objection_raise(
        actor=world.user("villager"), entry=entry, reason="x", idempotency_key="o", at=at(2026, 10, 9)
    )
    with pytest.raises(ValidationError, match="took part"):
        ledger.objection_decide(actor=both, objection=objection, uphold=False, decision="x", idempotency_key="d")


# --- immutability, corrections, verification ------------------------------------------------


def test_effective_entries_are_immutable(world: World, pts: Adopted) -> None:
    entry = effective(world, pts)
    entry.points = 100
    with pytest.raises(ImmutableEntryError):
        entry.save()
    with pytest.raises(ImmutableEntryError):
        entry.delete()
    with pytest.raises(ImmutableEntryError):
        Entry.objects.filter(pk=entry.pk).delete()
    assert Entry.objects.filter(pk=entry.pk).update(points=100) == 0
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE points_entry SET points = 100 WHERE id = %s", [entry.pk])
    assert Entry.objects.get(pk=entry.pk).points == 10


@pytest.mark.postgres_only
def test_postgres_refuses_deleting_effective_entries(world: World, pts: Adopted) -> None:
    entry = effective(world, pts)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM points_entry WHERE id = %s", [entry.pk])
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_correction_is_a_reversing_entry(world: World, pts: Adopted) -> None:
    entry = effective(world, pts)
    reversal = ledger.entry_reverse(
        actor=world.user("secretary"), entry=entry, reason="重复记分", idempotency_key="c1", at=at(2026, 10, 21)
    )
    assert reversal.points == -10 and reversal.corrects == entry and reversal.state == E.EFFECTIVE
    assert reversal.sequence == 2 and reversal.prev_hash == entry.entry_hash
    assert Account.objects.get(household=world.house_a).balance == 0
    with pytest.raises(ValidationError, match="already been corrected"):
        ledger.entry_reverse(actor=world.user("secretary"), entry=entry, reason="再次", idempotency_key="c2")
    with pytest.raises(ValidationError, match="committee"):
        ledger.entry_reverse(actor=world.user("grid_a"), entry=entry, reason="x", idempotency_key="c3")
    assert_verify_clean()


def test_verify_finds_a_tampered_balance_and_chain(world: World, pts: Adopted) -> None:
    effective(world, pts, key="a")
    effective(world, pts, "J2", key="b")
    assert_verify_clean()
    Account.objects.filter(household=world.house_a).update(balance=99)
    assert verify()["balances"]
    Account.objects.filter(household=world.house_a).update(balance=13)
    assert_verify_clean()
    ChainHead.objects.filter(chain="points", village=world.village).update(head_hash="f" * 64)
    assert any("chain head" in p for p in verify()["chains"])


@pytest.mark.sqlite_only  # drops the SQLite trigger inside the test transaction
def test_verify_finds_an_edited_entry_when_the_guard_is_gone(world: World, pts: Adopted) -> None:
    entry = effective(world, pts)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER points_entry_effective_immutable")
        cursor.execute("UPDATE points_entry SET points = 50 WHERE id = %s", [entry.pk])
    found = verify()
    assert any("does not match its hash" in p for p in found["chains"])
    assert found["balances"] and any("no guard" in p for p in found["entries"])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_never_fork_the_chain(world: World) -> None:
    pts = adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))
    for i in range(6):
        e = propose(
            world,
            pts,
            "G1",
            key=f"p{i}",
            day=dt.date(2026, 10, 1 + i % 3) if i < 3 else OCT,
            house=world.house_a if i % 2 else world.house_b,
            actor="grid_b" if i % 2 == 0 else "grid_a",
        )
        approve(world, e, key=f"r{i}")
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            barrier.wait()
            results.append(ledger.publicity_sweep(at(2026, 10, 20)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sum(results) == 6
    assert list(Entry.objects.filter(state=E.EFFECTIVE).order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert_verify_clean()


def test_demo_points_for_xishao(world: World) -> None:
    from hemei.points.demo import demo_points

    assert demo_points(every=1) > 0
    assert Objection.objects.filter(state="upheld").count() == 1
    assert Objection.objects.filter(state="dismissed").count() == 1
    assert RuleVersion.objects.filter(state="superseded").count() == 1
    assert Entry.objects.filter(kind="redemption").exists()
    assert RuleSet.objects.get(village=world.village).ranking == RuleSet.Ranking.TOP  # the board shows a top ten
    # A second village (东邵村) has its own year: rules, effective monthly scores, a redemption.
    second = Entry.objects.filter(village=world.village2)
    assert second.filter(state="effective", kind="score").exists() and second.filter(kind="redemption").exists()
    assert second.filter(state="publicity").exists()
    assert demo_points(every=1) == 0  # once only
    assert_verify_clean()

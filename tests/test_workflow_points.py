"""A Hypothesis state-machine test of the points entry workflow (`points.entry`), through
the services rather than raw moves (posting is the chain's own path): random sequences of
reviews, objections, decisions and postings by random personas only ever take an entry along
the table, by the roles the table names, and each change of state leaves exactly one event
row and one audit row; a refused action changes nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.points import ledger
from hemei.points.models import Entry, EntryEvent, Objection
from hemei.points.testing import Adopted, adopted_rules
from hemei.points.workflow import ENTRY
from hemei.regions.models import Role
from tests.conftest import World, at, make_user

E = Entry.State
ACTIONS = ["approve", "reject", "object", "uphold", "dismiss", "post"]
PERSONAS = ["villager", "grid_a", "secretary", "director", "supervisor", "township", "outsider", "SYSTEM", "None"]
# Who may take an entry out of its state with each action (the table's roles, in personas).
MAY = {"approve": {"secretary", "director", "SYSTEM"}, "reject": {"secretary", "director", "SYSTEM"},
       "uphold": {"supervisor", "SYSTEM"}, "post": set(PERSONAS)}
PROPOSED_AT, REVIEWED_AT, OBJECTED_AT, OVER = at(2026, 10, 6), at(2026, 10, 8), at(2026, 10, 9), at(2026, 10, 20)


@pytest.fixture
def cast(world: World) -> tuple[World, Adopted]:
    make_user("director", region=world.village, role=Role.DIRECTOR)
    make_user("supervisor", region=world.village, role=Role.SUPERVISION)
    return world, adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


def _actor(world: World, persona: str) -> Any:
    from hemei.accounts.models import User

    if persona in ("SYSTEM", "None"):
        return SYSTEM if persona == "SYSTEM" else None
    if persona in world.users:
        return world.user(persona)
    return User.objects.get(username=persona)


def _counts(entry: Entry) -> tuple[int, int]:
    return (EntryEvent.objects.filter(entry=entry).count(),
            AuditEntry.objects.filter(object_type="points.entry", object_id=str(entry.pk)).count())


def _act(action: str, actor: Any, entry: Entry, key: str) -> None:
    if action in ("approve", "reject"):
        ledger.entry_review(actor=actor, entry=entry, approve=action == "approve", reason="照片不清",
                            idempotency_key=key, at=REVIEWED_AT)
    elif action == "object":
        ledger.objection_raise(actor=actor, entry=entry, reason="没见他参加", idempotency_key=key, at=OBJECTED_AT)
    elif action in ("uphold", "dismiss"):
        objection = Objection.objects.filter(entry=entry, state=Objection.State.OPEN).first()
        if objection is not None:
            ledger.objection_decide(actor=actor, objection=objection, uphold=action == "uphold", decision="经核实",
                                    idempotency_key=key, at=OBJECTED_AT)
    else:
        ledger.entry_post(entry=entry, at=OVER)


def _walk(world: World, pts: Adopted, steps: list[tuple[str, str]]) -> None:
    entry = ledger.entry_propose(actor=world.user("grid_a"), household=world.house_a, item=pts.rule("G1"),
                                 deed_date=PROPOSED_AT.date(), evidence="照片", idempotency_key="p",
                                 at=PROPOSED_AT)
    keys = itertools.count()
    for action, persona in steps:
        entry = Entry.objects.get(pk=entry.pk)
        old, before = entry.state, _counts(entry)
        try:
            with transaction.atomic():
                _act(action, _actor(world, persona), entry, f"k{next(keys)}")
        except (ValidationError, PermissionDenied):
            entry.refresh_from_db()
            assert (entry.state, _counts(entry)) == (old, before)  # a refused action changes nothing
            continue
        entry.refresh_from_db()
        if entry.state == old:
            assert _counts(entry)[0] == before[0]  # no change of state, no event row
            continue
        move = ENTRY.find(old, entry.state)
        assert move is not None, (old, entry.state, action)  # only moves the table allows
        assert persona in MAY[action], (action, persona)  # by the roles it names
        assert _counts(entry) == (before[0] + 1, before[1] + 1)  # one event row, one audit row
        last = EntryEvent.objects.filter(entry=entry).order_by("-id").first()
        assert last is not None and (last.kind, last.from_state, last.to_state) == (move.kind, old, entry.state)
        if entry.state == E.EFFECTIVE:
            assert entry.open_objections == 0 and entry.sequence is not None


class _Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=False)
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(PERSONAS)), min_size=1, max_size=7))
def test_points_entry_machine(cast: tuple[World, Adopted], steps: list[tuple[str, str]]) -> None:
    world, pts = cast
    try:
        with transaction.atomic():
            _walk(world, pts, steps)
            raise _Rollback
    except _Rollback:
        pass


@pytest.mark.django_db
def test_the_whole_life_leaves_one_event_per_change(cast: tuple[World, Adopted]) -> None:
    """Proposed → publicity → (objection dismissed) → effective: two events, by whom."""
    world, pts = cast
    entry = ledger.entry_propose(actor=world.user("grid_a"), household=world.house_a, item=pts.rule("G1"),
                                 deed_date=PROPOSED_AT.date(), idempotency_key="p", at=PROPOSED_AT)
    ledger.entry_review(actor=world.user("secretary"), entry=entry, approve=True, idempotency_key="r",
                        at=REVIEWED_AT)
    objection = ledger.objection_raise(actor=world.user("villager"), entry=entry, reason="不实", idempotency_key="o",
                                       at=OBJECTED_AT)
    ledger.objection_decide(actor=_actor(world, "supervisor"), objection=objection, uphold=False, decision="属实",
                            idempotency_key="d", at=OBJECTED_AT)
    assert ledger.entry_post(entry=entry, at=OVER)
    events = list(EntryEvent.objects.filter(entry=entry).order_by("id").values_list(
        "kind", "from_state", "to_state", "actor__username"))
    assert events == [("approved", E.PROPOSED, E.PUBLICITY, "secretary"),
                      ("effective", E.PUBLICITY, E.EFFECTIVE, None)]

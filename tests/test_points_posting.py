"""The posting path (`posting.post_due`, `ledger.entry_post`, `ledger.publicity_sweep`): how many
statements one posting and a sweep of N entries take (so the gain measured by
`hemei bench points` cannot silently regress), the hash format, and the checks it keeps."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hemei.core.chain import link_hash
from hemei.core.models import AuditEntry, ChainHead
from hemei.core.scope import SYSTEM
from hemei.points import checks, ledger, posting
from hemei.points.models import Account, Entry, EntryEvent
from hemei.points.testing import Adopted, adopted_rules
from tests.conftest import World, at

E = Entry.State
OCT = dt.date(2026, 10, 5)
OVER = at(2026, 10, 20)  # publicity (approved 10-10, 7 days) is over


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


def in_publicity(world: World, pts: Adopted, n: int, *, code: str = "G2", start: int = 0) -> list[Entry]:
    """`n` entries of house A in publicity (approved 2026-10-10; G2 has no cap per period)."""
    entries = []
    for i in range(start, start + n):
        entry = ledger.entry_propose(
            actor=SYSTEM, household=world.house_a, item=pts.rule(code),
            deed_date=dt.date(2026, 10, 1 + i % 9), idempotency_key=f"p{i}", at=at(2026, 10, 10),
        )
        ledger.entry_review(actor=world.user("secretary"), entry=entry, approve=True, idempotency_key=f"r{i}",
                            at=at(2026, 10, 10))
        entries.append(entry)
    return entries


def with_account(world: World) -> None:
    """The village's chain head and house A's account exist (a village's or household's
    first posting also creates them)."""
    ChainHead.objects.create(chain="points", village=world.village)
    Account.objects.create(household=world.house_a, county=world.county, village=world.village)


def assert_clean() -> None:
    assert (checks.check_chains(), checks.check_balances(), checks.check_entries()) == ([], [], [])


def sweep_statements(now: dt.datetime) -> tuple[int, int]:
    """(entries made effective, statements sent) of one sweep."""
    with CaptureQueriesContext(connection) as queries:
        done = ledger.publicity_sweep(now)
    return done, len(queries.captured_queries)


def test_one_posting_takes_ten_statements(world: World, pts: Adopted, django_assert_num_queries: Any) -> None:
    """Savepoint, lock the head, re-read the entry under lock, raise the balance (checked in
    the statement), link the entry, move the head, bump the village's points freshness (the
    public board's cache, hemei.core.freshness), the event rows (one insert), one audit row,
    release: 10 (it was 10 before with the entry and the account read and written separately
    and the region read for the audit row's county; then 8, and 9 with event rows)."""
    first, second = in_publicity(world, pts, 2)
    with_account(world)
    entry = Entry.objects.select_related("village").get(pk=first.pk)
    with django_assert_num_queries(10):
        assert ledger.entry_post(entry=entry, at=OVER)
    entry = Entry.objects.select_related("village").get(pk=second.pk)
    with django_assert_num_queries(10):
        assert ledger.entry_post(entry=entry, at=OVER)
    assert Account.objects.get(household=world.house_a).balance == 2 * pts.rule("G2").points
    assert ChainHead.objects.get(chain="points", village=world.village).length == 2
    assert AuditEntry.objects.filter(object_type="points.entry", note="publicity ended: effective").count() == 2
    assert_clean()


def test_a_sweep_takes_two_statements_per_entry(world: World, pts: Adopted) -> None:
    in_publicity(world, pts, 3)
    in_publicity(world, pts, 6, start=3)
    with_account(world)
    # Nothing due before publicity ends: one statement (which villages have due entries).
    assert sweep_statements(at(2026, 10, 12)) == (0, 1)
    # Fixed: villages, savepoint, head, due entries, head update, freshness, event rows,
    # county code, audit rows, release (10); per entry: balance and link (2).
    assert sweep_statements(OVER) == (9, 10 + 2 * 9)
    assert EntryEvent.objects.filter(kind="effective", from_state=E.PUBLICITY, to_state=E.EFFECTIVE).count() == 9
    assert list(Entry.objects.filter(state=E.EFFECTIVE).order_by("sequence").values_list("sequence", flat=True)) == (
        list(range(1, 10))
    )
    assert ChainHead.objects.get(chain="points", village=world.village).length == 9
    account = Account.objects.get(household=world.house_a)
    assert (account.balance, account.entries_count, account.last_sequence) == (
        9 * pts.rule("G2").points, 9, 9
    )
    assert AuditEntry.objects.filter(object_type="points.entry", note="publicity ended: effective").count() == 9
    assert_clean()
    assert sweep_statements(OVER) == (0, 1)  # a second sweep finds nothing


def test_entry_post_changes_nothing_when_the_entry_is_not_due(world: World, pts: Adopted) -> None:
    (entry,) = in_publicity(world, pts, 1)
    entry = Entry.objects.select_related("village").get(pk=entry.pk)
    assert not ledger.entry_post(entry=entry, at=at(2026, 10, 12))  # publicity not over
    entry.refresh_from_db()
    assert entry.state == E.PUBLICITY and entry.sequence is None
    assert not Account.objects.filter(household=world.house_a).exists()
    assert ledger.entry_post(entry=entry, at=OVER)
    assert not ledger.entry_post(entry=entry, at=OVER)  # a repeated call posts nothing more
    assert ChainHead.objects.get(chain="points", village=world.village).length == 1
    assert Account.objects.get(household=world.house_a).entries_count == 1
    assert AuditEntry.objects.filter(object_type="points.entry", object_id=str(entry.pk)).exclude(
        note="proposed").exclude(note="approved").count() == 1
    assert_clean()


def test_the_sweep_never_takes_a_balance_below_zero(world: World, pts: Adopted) -> None:
    """A deduction that would take the balance below zero stays in publicity. (Proposals
    reserve deductions, so this is written directly: the sweep must still refuse it.)"""
    (plus,) = in_publicity(world, pts, 1)
    ledger.publicity_sweep(OVER)
    balance = Account.objects.get(household=world.house_a).balance
    minus = Entry.objects.create(
        county_id=plus.county_id, village_id=plus.village_id, household=world.house_a, item=plus.item,
        version=plus.version, points=-(balance + 1), deed_date=OCT, period="2026-10", state=E.PUBLICITY,
        proposed_at=at(2026, 10, 10), reviewed_at=at(2026, 10, 10), publicity_until=at(2026, 10, 17),
    )
    assert ledger.publicity_sweep(OVER) == 0
    minus.refresh_from_db()
    assert minus.state == E.PUBLICITY and minus.sequence is None
    assert Account.objects.get(household=world.house_a).balance == balance
    assert ChainHead.objects.get(chain="points", village=world.village).length == 1
    assert_clean()


def test_an_open_objection_keeps_the_entry_out_of_the_chain(world: World, pts: Adopted) -> None:
    first, second = in_publicity(world, pts, 2)
    Entry.objects.filter(pk=first.pk).update(open_objections=1)
    assert ledger.publicity_sweep(OVER) == 1
    assert Entry.objects.get(pk=first.pk).state == E.PUBLICITY
    assert Entry.objects.get(pk=second.pk).sequence == 1
    assert_clean()


def test_the_hashed_content_is_unchanged() -> None:
    """The digest of a fixed entry, computed by the code before the posting path was
    rewritten: existing chains must keep verifying."""
    entry = Entry(pk=41, village_id=7, household_id=12, kind="score", item_id=3, version_id=2, points=-5,
                  deed_date=dt.date(2026, 10, 5), period="2026-10", corrects_id=None)
    when = dt.datetime(2026, 10, 20, 10, 0, 0, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    digest = link_hash({**posting.entry_fields(entry, effective_at=when), "sequence": 9, "prev_hash": "ab" * 32})
    assert digest == "b0a86622cdf004415bc0332ff8fcfb9f81e3d53c4b4a091ec9c3c088076ff80f"

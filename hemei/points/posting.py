"""Posting: the one function that makes an entry effective, as the next link of its
village's "points" chain (`hemei.core.chain`).

An entry's hash covers its fields (`fields_of`) and the previous entry's hash, so changing,
removing or reordering any effective entry breaks every later link; the current head is shown
on the public board so a printed notice can be checked against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from hemei.core import chain
from hemei.core.chain import Head, StoredLink
from hemei.core.scope import require_actor, user_of
from hemei.points.models import Account, Entry, EntryEvent
from hemei.points.workflow import posting_event, posting_move
from hemei.regions.models import Household, Region

CHAIN = "points"


def entry_fields(entry: Entry, *, effective_at: dt.datetime) -> dict[str, Any]:
    """What an entry's link covers besides `sequence` and `prev_hash` (ids and values; UTC
    time to the microsecond)."""
    return fields_of(
        village=entry.village_id,
        entry=entry.pk,
        household=entry.household_id,
        kind=entry.kind,
        item=entry.item_id,
        version=entry.version_id,
        points=entry.points,
        deed_date=entry.deed_date.isoformat(),
        period=entry.period,
        corrects=entry.corrects_id,
        effective_at=effective_at.astimezone(dt.UTC).isoformat(),
    )


def fields_of(
    *,
    village: int,
    entry: int,
    household: int,
    kind: str,
    item: int | None,
    version: int | None,
    points: int,
    deed_date: str,
    period: str,
    corrects: int | None,
    effective_at: str,
) -> dict[str, Any]:
    """`entry_fields` from plain column values (the posting path reads rows without building
    model instances). The one place the hashed content is spelled out: never change it, or
    every existing chain stops verifying."""
    return {
        "village": village,
        "entry": entry,
        "household": household,
        "kind": kind,
        "item": item,
        "version": version,
        "points": points,
        "deed_date": deed_date,
        "period": period,
        "corrects": corrects,
        "effective_at": effective_at,
    }


# The posting path runs a handful of fixed statements per entry. They are written out once
# (per database vendor) instead of being compiled by the ORM on every call: a profile of one
# posting spent about half its time building queries, not running them.
_SQL: dict[str, dict[str, str]] = {}


def _sql() -> dict[str, str]:
    vendor = connection.vendor
    if vendor not in _SQL:
        q = connection.ops.quote_name
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        entry, account = (q(m._meta.db_table) for m in (Entry, Account))
        _SQL[vendor] = {
            # Only what the hash covers (and the account's columns), of entries that are due.
            "due": f"SELECT {q('id')}, {q('household_id')}, {q('county_id')}, {q('kind')}, {q('item_id')}, "  # noqa: S608
            f"{q('version_id')}, {q('points')}, {q('deed_date')}, {q('period')}, {q('corrects_id')} FROM {entry} "
            f"WHERE {q('village_id')} = %s AND {q('state')} = %s AND {q('publicity_until')} <= %s "
            f"AND {q('open_objections')} = 0",
            "due_order": f" ORDER BY {q('publicity_until')}, {q('id')}{lock}",
            "entry_effective": f"UPDATE {entry} SET {q('state')} = %s, {q('effective_at')} = %s, "  # noqa: S608
            f"{q('sequence')} = %s, {q('prev_hash')} = %s, {q('entry_hash')} = %s "
            f"WHERE {q('id')} = %s AND {q('state')} <> %s",
            # The balance check is part of the statement: a row count of 0 means "not enough
            # points" (or no account yet), never a balance below zero.
            "account_add": f"UPDATE {account} SET {q('balance')} = {q('balance')} + %s, "  # noqa: S608
            f"{q('entries_count')} = {q('entries_count')} + 1, {q('last_sequence')} = %s, "
            f"{q('updated_at')} = %s WHERE {q('household_id')} = %s AND {q('balance')} + %s >= 0",
            "account_set": f"UPDATE {account} SET {q('balance')} = %s, {q('entries_count')} = %s, "  # noqa: S608
            f"{q('last_sequence')} = %s, {q('updated_at')} = %s WHERE {q('id')} = %s",
        }
    return _SQL[vendor]


def lock_head(village: Region) -> Head:
    """The village's points chain head, locked until the transaction ends."""
    return chain.lock_head(CHAIN, village.pk)


def lock_head_of(village_id: int) -> Head:
    return chain.lock_head(CHAIN, village_id)


def lock_account(household: Household) -> Account:
    return lock_account_of(household.pk, county_id=household.county_id, village_id=household.village_id)


def lock_account_of(household_id: int, *, county_id: int, village_id: int) -> Account:
    account = Account.objects.select_for_update().filter(household_id=household_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            Account.objects.create(household_id=household_id, county_id=county_id, village_id=village_id)
    except IntegrityError:
        pass
    return Account.objects.select_for_update().get(household_id=household_id)


def pending_deductions(household: Household) -> int:
    """Points (≤ 0) of negative entries not yet effective: reserved against the balance so that
    a deduction in publicity can always take effect without the balance going below zero."""
    from django.db.models import Sum

    total = Entry.objects.filter(
        household=household, points__lt=0, state__in=[Entry.State.PROPOSED, Entry.State.PUBLICITY]
    ).aggregate(s=Sum("points"))["s"]
    return int(total or 0)


def _make_effective(
    cursor: Any, *, entry_id: int, at_db: Any, sequence: int, prev_hash: str, digest: str
) -> None:
    cursor.execute(
        _sql()["entry_effective"],
        [Entry.State.EFFECTIVE, at_db, sequence, prev_hash, digest, entry_id, Entry.State.EFFECTIVE],
    )
    if cursor.rowcount != 1:
        raise ValidationError(_("This entry is already effective."), code="conflict")


def append(entry: Entry, *, head: Head, account: Account, at: dt.datetime, actor: Any) -> Entry:
    """Make `entry` (saved, not yet effective) effective at the end of its village's chain,
    with its event row (the move from the entry's state that the table allows, by `actor`).

    The caller holds the locks on `head` and `account` (in that order everywhere, so two
    writers never deadlock). Refuses a result below zero and changes nothing then.
    """
    require_actor(actor)
    event = posting_event(entry.pk, old=entry.state, at=at, actor_id=getattr(user_of(actor), "pk", None))
    if account.balance + entry.points < 0:
        raise ValidationError(_("Not enough points: the balance is %(b)d.") % {"b": account.balance}, code="balance")
    link = chain.advance(head, entry_fields(entry, effective_at=at))
    sequence, prev_hash, digest = link.sequence, link.prev_hash, link.hash
    at_db = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        _make_effective(cursor, entry_id=entry.pk, at_db=at_db, sequence=sequence, prev_hash=prev_hash, digest=digest)
        chain.save_head(head)
        # Both locked: the values held are the values in the database.
        cursor.execute(
            _sql()["account_set"],
            [account.balance + entry.points, account.entries_count + 1, sequence, at_db, account.pk],
        )
    event.save(force_insert=True)
    account.balance += entry.points
    account.entries_count += 1
    account.last_sequence = sequence
    account.updated_at = at
    entry.state, entry.effective_at, entry.sequence = Entry.State.EFFECTIVE, at, sequence
    entry.prev_hash, entry.entry_hash = prev_hash, digest
    return entry


class Posted(NamedTuple):
    """One entry `post_due` made effective."""

    entry_id: int
    household_id: int
    points: int
    sequence: int
    entry_hash: str


def post_due(*, village_id: int, now: dt.datetime, entry_id: int | None = None) -> list[Posted]:
    """Make the village's entries whose publicity is over at `now` and which have no open
    objection effective, in order (or only `entry_id`, when given and due). Inside the
    caller's transaction.

    Locks the chain head, then re-reads the due entries under lock (`open_objections` is a
    column of the entry row, so a just-committed objection is seen), then per entry raises its
    household's balance with the check in the same statement (the account row is locked by
    that update: head → account, the order every writer takes) and links it. The head is
    written once at the end, however many entries were appended. An entry that would take a
    balance below zero is left in publicity (cannot happen: deductions are reserved when
    proposed). Returns what became effective."""
    sql = _sql()
    head = chain.lock_head(CHAIN, village_id)
    at_db = connection.ops.adapt_datetimefield_value(now)
    query = sql["due"] + (f" AND {connection.ops.quote_name('id')} = %s" if entry_id is not None else "")
    params: list[Any] = [village_id, Entry.State.PUBLICITY, at_db]
    if entry_id is not None:
        params.append(entry_id)
    at_text = now.astimezone(dt.UTC).isoformat()
    posting_move(Entry.State.PUBLICITY)  # the table lets an entry in publicity become effective
    posted: list[Posted] = []
    with connection.cursor() as cursor:
        cursor.execute(query + sql["due_order"], params)
        rows = cursor.fetchall()
        for pk, household_id, county_id, kind, item_id, version_id, points, deed_date, period, corrects_id in rows:
            cursor.execute(sql["account_add"], [points, head.length + 1, at_db, household_id, points])
            if cursor.rowcount != 1:
                # No account yet (created here, under the head lock), or not enough points.
                account = lock_account_of(household_id, county_id=county_id, village_id=village_id)
                if account.balance + points < 0:
                    continue
                cursor.execute(sql["account_add"], [points, head.length + 1, at_db, household_id, points])
                if cursor.rowcount != 1:  # pragma: no cover - the account is locked and was just read
                    raise ValidationError(_("Not enough points: the balance is %(b)d.") % {"b": account.balance})
            link = chain.advance(
                head,
                fields_of(
                    village=village_id,
                    entry=pk,
                    household=household_id,
                    kind=kind,
                    item=item_id,
                    version=version_id,
                    points=points,
                    deed_date=deed_date if isinstance(deed_date, str) else deed_date.isoformat(),
                    period=period,
                    corrects=corrects_id,
                    effective_at=at_text,
                ),
            )
            _make_effective(cursor, entry_id=pk, at_db=at_db, sequence=link.sequence, prev_hash=link.prev_hash,
                            digest=link.hash)
            posted.append(Posted(pk, household_id, points, link.sequence, link.hash))
        chain.save_head(head)
    EntryEvent.objects.bulk_create(
        [posting_event(p.entry_id, old=Entry.State.PUBLICITY, at=now) for p in posted], batch_size=2000
    )
    return posted


def stored_links(village_id: int) -> Iterator[StoredLink]:
    """The village's effective entries as stored links, in chain order."""
    rows = Entry.objects.filter(village_id=village_id, state=Entry.State.EFFECTIVE).order_by("sequence")
    for entry in rows.iterator(chunk_size=5000):
        assert entry.effective_at is not None
        yield StoredLink(f"entry {entry.pk}", entry.sequence or 0, entry.prev_hash, entry.entry_hash,
                         entry_fields(entry, effective_at=entry.effective_at))


def chained_villages() -> Iterable[int]:
    return Entry.objects.filter(state=Entry.State.EFFECTIVE).values_list("village_id", flat=True).distinct()


SPEC = chain.register(chain.ChainSpec(CHAIN, "Points ledger (积分台账)", chained_villages, stored_links))


def verify_village_chain(village_id: int) -> list[str]:
    """Walk one village's points chain from the genesis (`hemei.core.chain.verify_chain`)."""
    return chain.verify_chain(SPEC, village_id)

"""The per-village hash chain and the one function that makes an entry effective.

An entry's hash covers its canonical content and the previous entry's hash, so changing,
removing or reordering any effective entry breaks every later link; the current head is shown
on the public board so a printed notice can be checked against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hemei.points.models import GENESIS_HASH, Account, ChainHead, Entry
from hemei.regions.models import Household, Region


def canonical(entry: Entry, *, sequence: int, prev_hash: str, effective_at: dt.datetime) -> dict[str, Any]:
    """The content an entry's hash covers (ids and values; UTC time to the microsecond)."""
    return {
        "village": entry.village_id,
        "sequence": sequence,
        "prev_hash": prev_hash,
        "entry": entry.pk,
        "household": entry.household_id,
        "kind": entry.kind,
        "item": entry.item_id,
        "version": entry.version_id,
        "points": entry.points,
        "deed_date": entry.deed_date.isoformat(),
        "period": entry.period,
        "corrects": entry.corrects_id,
        "effective_at": effective_at.astimezone(dt.UTC).isoformat(),
    }


def entry_hash(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def lock_head(village: Region) -> ChainHead:
    """The village's chain head, locked until the transaction ends (created on first use; a
    concurrent creator loses the unique race and then waits on the winner's row)."""
    head = ChainHead.objects.select_for_update().filter(village=village).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            ChainHead.objects.create(village=village)
    except IntegrityError:
        pass
    return ChainHead.objects.select_for_update().get(village=village)


def lock_account(household: Household) -> Account:
    account = Account.objects.select_for_update().filter(household=household).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            Account.objects.create(household=household, county_id=household.county_id, village_id=household.village_id)
    except IntegrityError:
        pass
    return Account.objects.select_for_update().get(household=household)


def pending_deductions(household: Household) -> int:
    """Points (≤ 0) of negative entries not yet effective: reserved against the balance so that
    a deduction in publicity can always take effect without the balance going below zero."""
    from django.db.models import Sum

    total = Entry.objects.filter(
        household=household, points__lt=0, state__in=[Entry.State.PROPOSED, Entry.State.PUBLICITY]
    ).aggregate(s=Sum("points"))["s"]
    return int(total or 0)


def append(entry: Entry, *, head: ChainHead, account: Account, at: dt.datetime) -> Entry:
    """Make `entry` (saved, not yet effective) effective at the end of its village's chain.

    The caller holds the locks on `head` and `account` (in that order everywhere, so two
    writers never deadlock). Refuses a result below zero and changes nothing then.
    """
    if account.balance + entry.points < 0:
        raise ValidationError(_("Not enough points: the balance is %(b)d.") % {"b": account.balance}, code="balance")
    sequence = head.sequence + 1
    content = canonical(entry, sequence=sequence, prev_hash=head.head_hash, effective_at=at)
    digest = entry_hash(content)
    changed = (
        Entry.objects.filter(pk=entry.pk)
        .exclude(state=Entry.State.EFFECTIVE)
        .update(
            state=Entry.State.EFFECTIVE, effective_at=at, sequence=sequence, prev_hash=head.head_hash, entry_hash=digest
        )
    )
    if changed != 1:
        raise ValidationError(_("This entry is already effective."), code="conflict")
    ChainHead.objects.filter(pk=head.pk).update(sequence=sequence, head_hash=digest)
    head.sequence, head.head_hash = sequence, digest
    account.balance += entry.points
    account.entries_count += 1
    account.last_sequence = sequence
    account.updated_at = at
    account.save(update_fields=["balance", "entries_count", "last_sequence", "updated_at"])
    entry.state, entry.effective_at, entry.sequence = Entry.State.EFFECTIVE, at, sequence
    entry.prev_hash, entry.entry_hash = content["prev_hash"], digest
    return entry


def verify_village_chain(village_id: int) -> list[str]:
    """Walk one village's chain from the start; every link and the head must agree."""
    problems: list[str] = []
    prev = GENESIS_HASH
    expected = 1
    rows = Entry.objects.filter(village_id=village_id, state=Entry.State.EFFECTIVE).order_by("sequence")
    for entry in rows.iterator(chunk_size=5000):
        if entry.sequence != expected:
            problems.append(f"village {village_id}: sequence {entry.sequence} where {expected} was expected")
            expected = entry.sequence or expected
        assert entry.effective_at is not None
        digest = entry_hash(
            canonical(entry, sequence=entry.sequence or 0, prev_hash=prev, effective_at=entry.effective_at)
        )
        if entry.prev_hash != prev:
            problems.append(f"village {village_id}: entry {entry.pk} does not link to the previous entry")
        if entry.entry_hash != digest:
            problems.append(f"village {village_id}: entry {entry.pk} content does not match its hash")
        prev = entry.entry_hash
        expected += 1
    head = ChainHead.objects.filter(village_id=village_id).first()
    count = expected - 1
    if head is None and count:
        problems.append(f"village {village_id}: effective entries but no chain head")
    if head is not None and (head.sequence != count or head.head_hash != prev):
        problems.append(
            f"village {village_id}: chain head {head.sequence}/{head.head_hash[:12]} does not match "
            f"the entries ({count}/{prev[:12]})"
        )
    return problems

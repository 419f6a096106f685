"""The committee approves a batch of proposed entries at once ("approve all shown", e.g. all
proposals of one grid and month).

Each entry goes through `ledger.entry_review`, so the rules of a single approval hold for
every one of them (committee scope, publicity days, audit, idempotency). Four eyes: entries
the approver proposed are left in the queue for another member and reported as skipped. The
batch is all-or-nothing: if one entry cannot be approved (reviewed meanwhile by someone else,
outside the approver's villages), none is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hemei.core.scope import require_actor
from hemei.points import ledger
from hemei.points.models import Entry

BATCH_LIMIT = 200


@dataclass
class BatchResult:
    approved: list[Entry] = field(default_factory=list)
    skipped_own: list[Entry] = field(default_factory=list)


@transaction.atomic
def entry_approve_batch(
    *, actor: Any, entries: list[Entry], idempotency_key: str, at: dt.datetime | None = None
) -> BatchResult:
    """Approve `entries` (already read through the actor's access scope) in one transaction."""
    require_actor(actor)
    key = (idempotency_key or "").strip()
    if not key:
        raise ValidationError(_("Every write needs an idempotency key."), code="key")
    if not entries:
        raise ValidationError(_("No entries to approve."))
    if len(entries) > BATCH_LIMIT:
        raise ValidationError(_("At most %(n)d entries can be approved at once.") % {"n": BATCH_LIMIT})
    result = BatchResult()
    actor_pk = getattr(actor, "pk", None)
    for entry in sorted(entries, key=lambda e: e.pk):  # one lock order for concurrent batches
        if actor_pk is not None and entry.proposed_by_id == actor_pk:
            result.skipped_own.append(entry)
            continue
        # One key per entry derived from the batch's key: sending the form twice replays.
        try:
            approved = ledger.entry_review(
                actor=actor, entry=entry, approve=True, idempotency_key=f"{key[:80]}-{entry.pk}", at=at
            )
        except ValidationError as exc:
            raise ValidationError(
                _("Household %(h)s: %(why)s Nothing was approved.")
                % {"h": entry.household.number, "why": " ".join(str(m) for m in exc.messages)},
                code=exc.code,
            ) from exc
        result.approved.append(approved)
    return result

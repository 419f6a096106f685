"""A points entry's life as data (`hemei.core.workflow`): proposed → reviewed (rejected, or
approved into publicity) → effective once publicity is over, or voided by an upheld
objection. Redemptions, their cancellations, corrections and period resets are posted at
once (proposed → effective).

The review and the objection's decision go through `transition()`. Making an entry effective
is posting: the chain's raw-SQL path in `hemei.points.posting` (one statement per entry, the
head written once), which checks its move against this table (`posting_move`) and writes the
same event rows in bulk."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.core.scope import COMMITTEE_ROLES, SUPERVISION_ROLES
from hemei.core.workflow import Move, Workflow, holds, refuse, register
from hemei.points.models import Entry, EntryEvent

S = Entry.State
COMMITTEE = "secretary, director, committee member of the village"
LINK = ("effective_at", "sequence", "prev_hash", "entry_hash")  # what posting sets

APPROVED = "approved"
REJECTED = "rejected"
VOIDED = "voided"
EFFECTIVE = "effective"  # publicity over, no objection open (the sweep)
POSTED = "posted"  # effective at once (redemption, cancellation, correction, reset)


_committee = holds(COMMITTEE_ROLES)
_supervision = holds(SUPERVISION_ROLES)


def _committee_not_proposer(user: Any, entry: Entry) -> bool:
    return _committee(user, entry) and entry.proposed_by_id != getattr(user, "pk", None)


def _supervision_not_involved(user: Any, entry: Entry) -> bool:
    uninvolved = getattr(user, "pk", None) not in (entry.proposed_by_id, entry.reviewed_by_id)
    return _supervision(user, entry) and uninvolved


def _nobody(user: Any, entry: Entry) -> bool:
    return False  # only the system posts (SYSTEM passes every guard)


ENTRY = register(Workflow(
    name="points.entry",
    model=Entry,
    field="state",
    states=S,
    initial=S.PROPOSED,
    event=EntryEvent,
    subject="entry",
    refused=_("A points entry cannot go from %(old)s to %(new)s."),
    conflict=_("This entry has already been reviewed."),
    doc="积分台账: one ledger entry from its proposal to its link in the village's chain.",
    moves=(
        Move(APPROVED, (S.PROPOSED,), S.PUBLICITY, f"{COMMITTEE}, not its proposer; publicity starts",
             _committee_not_proposer, sets=("reviewed_by", "reviewed_at", "publicity_until")),
        Move(REJECTED, (S.PROPOSED,), S.REJECTED, f"{COMMITTEE}, not its proposer, with a reason",
             _committee_not_proposer, sets=("reviewed_by", "reviewed_at", "reason")),
        Move(VOIDED, (S.PUBLICITY,), S.VOIDED,
             "the supervision committee, upholding an objection (not who proposed or reviewed the entry)",
             _supervision_not_involved, sets=("reason", "open_objections")),
        Move(EFFECTIVE, (S.PUBLICITY,), S.EFFECTIVE,
             "the sweep, once publicity is over and no objection is open (posting)", _nobody, sets=LINK),
        Move(POSTED, (S.PROPOSED,), S.EFFECTIVE,
             "posting at once: a redemption, its cancellation, a correction, a period reset", _nobody, sets=LINK),
    ),
))


def posting_move(old: str) -> Move:
    """The move posting makes from `old`; refuses (ValidationError `transition`) a state the
    table does not let become effective."""
    move = ENTRY.find(old, S.EFFECTIVE)
    if move is None:
        raise refuse(ENTRY, old, S.EFFECTIVE)
    return move


def posting_event(entry_id: int, *, old: str, at: Any, actor_id: int | None = None) -> EntryEvent:
    """The history row of one posting (not saved: posting inserts them in bulk)."""
    move = posting_move(old)
    return EntryEvent(entry_id=entry_id, at=at, actor_id=actor_id, kind=move.kind, from_state=old,
                      to_state=S.EFFECTIVE)

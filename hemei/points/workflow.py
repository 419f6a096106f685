"""The points app's lifecycles as data: entries, objections, redemptions and rule versions.

A points entry's life as data (`hemei.core.workflow`): proposed → reviewed (rejected, or
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

from hemei.core.scope import COMMITTEE_ROLES, SHOP_ROLES, SUPERVISION_ROLES
from hemei.core.scope import may as scope_may
from hemei.core.workflow import Move, Workflow, holds, refuse, register
from hemei.points.models import (
    Entry,
    EntryEvent,
    Objection,
    ObjectionEvent,
    Redemption,
    RedemptionEvent,
    RuleVersion,
    RuleVersionEvent,
)

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


# --- objections, redemptions, rule versions ------------------------------------------------

OS = Objection.State


def _decides_objection(user: Any, objection: Objection) -> bool:
    entry = objection.entry
    uninvolved = getattr(user, "pk", None) not in (entry.proposed_by_id, entry.reviewed_by_id)
    return scope_may(user, SUPERVISION_ROLES, entry.village) and uninvolved


DECIDED = _("This objection has already been decided.")
OBJECTION = register(Workflow(
    name="points.objection",
    model=Objection,
    field="state",
    states=OS,
    initial=OS.OPEN,
    event=ObjectionEvent,
    subject="objection",
    refused=DECIDED,
    conflict=DECIDED,
    doc="异议: a villager's objection to an entry in publicity, decided once by the supervision committee; "
        "upheld voids the entry (its own move, in the same transaction).",
    moves=(
        Move("upheld", (OS.OPEN,), OS.UPHELD, "the supervision committee, not who proposed or reviewed the entry",
             _decides_objection, sets=("decided_by", "decided_at", "decision")),
        Move("dismissed", (OS.OPEN,), OS.DISMISSED, "the supervision committee, not who proposed or reviewed the entry",
             _decides_objection, sets=("decided_by", "decided_at", "decision")),
    ),
))

R = Redemption.State
NOT_OPEN = _("This reservation is not open.")
REDEMPTION = register(Workflow(
    name="points.redemption",
    model=Redemption,
    field="state",
    states=R,
    initial=R.RESERVED,
    event=RedemptionEvent,
    subject="redemption",
    refused=NOT_OPEN,
    conflict=NOT_OPEN,
    doc="积分超市: a reservation made on the phone is handed out at the counter or cancelled; a redemption "
        "at the counter is created collected. Cancelling posts a reversing entry (its link is the cancel entry).",
    moves=(
        Move("collected", (R.RESERVED,), R.COLLECTED, "the shop keeper or the committee of the village",
             holds(SHOP_ROLES), sets=("collected_at",)),
        Move("cancelled", (R.RESERVED,), R.CANCELLED,
             "the villager of the household, the shop keeper or the committee; the service posts the refund",
             sets=("cancelled_at", "cancel_entry"), needs=("cancel_entry",)),
    ),
))

V = RuleVersion.State
RULE_VERSION = register(Workflow(
    name="points.rule_version",
    model=RuleVersion,
    field="state",
    states=V,
    initial=V.DRAFT,
    event=RuleVersionEvent,
    subject="version",
    refused=_("Only a draft version can be adopted."),
    conflict=_("Only a draft version can be adopted."),
    doc="积分细则: a village's rules are adopted by a passed agenda item of a 村民会议 or 村民代表会议; "
        "adopting a version supersedes the current one in the same transaction.",
    moves=(
        Move("adopted", (V.DRAFT,), V.ADOPTED,
             "whoever records the meeting's decision: a passed agenda item about the version",
             sets=("adopted_by", "adopted_item", "adopted_on", "attendees", "votes_for", "votes_against",
                   "votes_abstain"), needs=("adopted_by", "adopted_item")),
        Move("superseded", (V.ADOPTED,), V.SUPERSEDED, "the adoption of the next version",
             sets=("superseded_by",), needs=("superseded_by",)),
    ),
))

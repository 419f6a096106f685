"""Every write to the points ledger (ARCHITECTURE rules 1, 4 and 6).

Life of a scored entry: `entry_propose` (grid worker or committee; single or a batch for a
grid's month) → `entry_review` by the committee (reject with a reason, or approve, which puts
it on the public board for the rule set's publicity days) → `publicity_sweep` makes it
effective once publicity is over and no objection is open. `objection_raise` (a villager of
the village, during publicity) and `objection_decide` (supervision committee: upheld voids the
entry, dismissed lets it continue). `entry_reverse` corrects an effective entry with a
reversing entry. Every write takes an idempotency key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Abs
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record, audit_record_many
from hemei.core.idempotency import remembered
from hemei.core.parsing import clean_text
from hemei.core.scope import is_system, require_actor, user_of
from hemei.core.workflow import transition
from hemei.points import posting as chain
from hemei.points import workflow as flow
from hemei.points.access import COMMITTEE_ROLES, GRID_ROLES, SUPERVISION_ROLES, may, roles_over, villager_resident
from hemei.points.locks import PointsLocks, lock_points
from hemei.points.models import Entry, Objection, RuleItem, RuleSet, RuleVersion
from hemei.regions.models import Household, Resident

E = Entry.State
TEXT_LIMIT = 500



_text = partial(clean_text, limit=TEXT_LIMIT)


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class Proposal:
    household: Household
    item: RuleItem
    deed_date: dt.date
    evidence: str = ""


def _check_proposal(
    actor: Any,
    p: Proposal,
    *,
    rule_set: RuleSet,
    version: RuleVersion,
    batch_totals: dict[tuple[int, int, str], int],
    now: dt.datetime,
    locks: PointsLocks | None = None,
) -> None:
    """The checks of one proposal (bad input → a clear error, nothing written)."""
    household, item = p.household, p.item
    if household.village_id != rule_set.village_id:
        raise ValidationError(_("Household %(h)s is not in this village.") % {"h": household.number})
    if item.version_id != version.pk:
        raise ValidationError(_("Rule item %(c)s is not in the adopted rules of this village.") % {"c": item.code})
    if rule_set.exclude_absent and not household.lives_in_village:
        raise ValidationError(
            _("Household %(h)s does not live in the village and takes no part in the points.") % {"h": household.number}
        )
    if p.deed_date > timezone.localdate(now):
        raise ValidationError(_("The date of the deed is in the future."))
    if p.deed_date < (version.adopted_on or p.deed_date):
        raise ValidationError(_("The deed is older than the rules it is scored under."))
    if not is_system(actor):
        roles = roles_over(actor, household.region)
        if not roles & COMMITTEE_ROLES and not (roles & GRID_ROLES and item.proposer == RuleItem.Proposer.GRID):
            raise ValidationError(
                _("You may not propose this item for household %(h)s.") % {"h": household.number}, code="scope"
            )
    if item.cap_per_period is not None:
        period = period_of(p.deed_date)
        key = (household.pk, item.pk, period)
        if key not in batch_totals:
            batch_totals[key] = int(
                Entry.objects.filter(
                    household=household,
                    item__code=item.code,
                    item__version__rule_set=rule_set,
                    period=period,
                    state__in=[E.PROPOSED, E.PUBLICITY, E.EFFECTIVE],
                ).aggregate(s=Sum(Abs("points")))["s"]
                or 0
            )
        batch_totals[key] += abs(item.points)
        if batch_totals[key] > item.cap_per_period:
            raise ValidationError(
                _("Household %(h)s would get more than %(n)d points for %(c)s this period.")
                % {"h": household.number, "n": item.cap_per_period, "c": item.code},
                code="cap",
            )
    if item.points < 0:
        # Under the lock order of every write that reserves or spends points (locks.py), so
        # a concurrent redemption cannot spend what this deduction reserves.
        assert locks is not None
        reserved = (household.pk, 0, "deductions")  # earlier deductions of this batch for the household
        batch_totals[reserved] = batch_totals.get(reserved, 0) + item.points
        if locks.available(household) + batch_totals[reserved] < 0:
            raise ValidationError(
                _("Household %(h)s has too few points for this deduction.") % {"h": household.number}, code="balance"
            )


@transaction.atomic
def entry_propose_batch(
    *, actor: Any, rule_set: RuleSet, proposals: list[Proposal], idempotency_key: str, at: dt.datetime | None = None
) -> tuple[list[Entry], bool]:
    """Propose several entries at once (a grid's monthly scoring): all or nothing.

    Returns (entries, replayed)."""
    require_actor(actor)
    now = at or timezone.now()
    if not proposals:
        raise ValidationError(_("Nothing to propose."))
    payload = {
        "rule_set": rule_set.pk,
        "rows": [[p.household.pk, p.item.pk, p.deed_date.isoformat(), p.evidence.strip()] for p in proposals],
    }

    def write() -> list[Entry]:
        # Lock the rule set: caps are checked against rows a concurrent batch might add. A
        # batch with deductions reserves points: it takes the whole lock order (locks.py).
        deducted = [p.household for p in proposals if p.item.points < 0]
        locks = lock_points(village_id=rule_set.village_id, households=deducted) if deducted else None
        if locks is None:
            RuleSet.objects.select_for_update().filter(pk=rule_set.pk).first()
        version = RuleVersion.objects.filter(rule_set=rule_set, state=RuleVersion.State.ADOPTED).first()
        if version is None:
            raise ValidationError(_("This village has no adopted points rules yet."))
        totals: dict[tuple[int, int, str], int] = {}
        rows = []
        for p in proposals:
            _check_proposal(actor, p, rule_set=rule_set, version=version, batch_totals=totals, now=now, locks=locks)
            rows.append(
                Entry(
                    county_id=p.household.county_id,
                    village_id=rule_set.village_id,
                    household=p.household,
                    kind=Entry.Kind.SCORE,
                    item=p.item,
                    version=version,
                    points=p.item.points,
                    deed_date=p.deed_date,
                    period=period_of(p.deed_date),
                    evidence=_text(p.evidence, _("Evidence")),
                    proposed_by=user_of(actor),
                    proposed_at=now,
                )
            )
        created = Entry.objects.bulk_create(rows)
        # One audit row per entry (in bulk): a batch of a grid's month is many changes.
        audit_record_many(
            actor=actor,
            action="create",
            object_type="points.entry",
            county_code=rule_set.county_code,
            items=[(str(e.pk), f"{e.household_id} {e.points:+d}", {"state": [None, e.state]}) for e in created],
            note="proposed",
        )
        return created

    return remembered(
        actor=actor, key=idempotency_key, operation="entry_propose", payload=payload, model=Entry, write=write
    )


def entry_propose(
    *,
    actor: Any,
    household: Household,
    item: RuleItem,
    deed_date: dt.date,
    evidence: str = "",
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> Entry:
    require_actor(actor)
    rule_set = item.version.rule_set
    entries, _replayed = entry_propose_batch(
        actor=actor,
        rule_set=rule_set,
        idempotency_key=idempotency_key,
        at=at,
        proposals=[Proposal(household, item, deed_date, evidence)],
    )
    return entries[0]


@transaction.atomic
def entry_review(
    *, actor: Any, entry: Entry, approve: bool, reason: str = "", idempotency_key: str, at: dt.datetime | None = None
) -> Entry:
    """The committee approves (publicity starts now, for the rule set's days) or rejects with a
    reason. Nobody approves an entry they proposed (four eyes)."""
    require_actor(actor)
    now = at or timezone.now()
    payload = {"entry": entry.pk, "approve": bool(approve), "reason": (reason or "").strip()}

    def write() -> list[Entry]:
        if not is_system(actor):
            if not may(actor, entry.village, COMMITTEE_ROLES):
                raise ValidationError(_("Only the village committee reviews points."), code="scope")
            if entry.proposed_by_id == actor.pk:
                raise ValidationError(
                    _("You proposed this entry; another member of the committee reviews it."), code="scope"
                )
        text = _text(reason, _("Reason"), required=not approve)
        rule_set = RuleSet.objects.get(village_id=entry.village_id)
        if entry.state != E.PROPOSED:
            raise ValidationError(_("This entry has already been reviewed."), code="conflict")
        reviewed = {"reviewed_by": user_of(actor), "reviewed_at": now}
        if approve:
            until = now + dt.timedelta(days=rule_set.publicity_days)
            transition(entry, E.PUBLICITY, actor=actor, move=flow.APPROVED, at=now, **reviewed, publicity_until=until,
                       changes={"state": [E.PROPOSED, E.PUBLICITY]}, audit_note="approved")
        else:
            transition(entry, E.REJECTED, actor=actor, move=flow.REJECTED, at=now, note=text, **reviewed, reason=text,
                       changes={"state": [E.PROPOSED, E.REJECTED]}, audit_note="rejected")
        return [Entry.objects.get(pk=entry.pk)]

    return remembered(
        actor=actor, key=idempotency_key, operation="entry_review", payload=payload, model=Entry, write=write
    )[0][0]


@transaction.atomic
def objection_raise(
    *,
    actor: Any,
    entry: Entry,
    reason: str,
    idempotency_key: str,
    resident: Resident | None = None,
    at: dt.datetime | None = None,
) -> Objection:
    """A villager of the entry's village objects during publicity. The entry row is locked and
    its open-objection count raised, so the sweep can never make it effective meanwhile."""
    require_actor(actor)
    now = at or timezone.now()
    payload = {"entry": entry.pk, "reason": (reason or "").strip()}

    def write() -> list[Objection]:
        who = resident or villager_resident(actor)
        if who is None or who.household.village_id != entry.village_id or who.status != Resident.Status.LIVING:
            raise ValidationError(_("Only villagers of this village may object."), code="scope")
        text = _text(reason, _("Reason"), required=True)
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if locked.state != E.PUBLICITY or locked.publicity_until is None or now >= locked.publicity_until:
            raise ValidationError(_("Objections are possible only while the entry is in publicity."), code="state")
        Entry.objects.filter(pk=entry.pk, state=E.PUBLICITY).update(open_objections=locked.open_objections + 1)
        objection = Objection.objects.create(
            entry=locked, resident=who, reason=text, raised_by=user_of(actor), raised_at=now
        )
        audit_record(
            actor=actor,
            action="create",
            obj=objection,
            county_code=entry.county_code,
            changes={"entry": [None, entry.pk]},
        )
        return [objection]

    return remembered(
        actor=actor, key=idempotency_key, operation="objection_raise", payload=payload, model=Objection, write=write
    )[0][0]


@transaction.atomic
def objection_decide(
    *,
    actor: Any,
    objection: Objection,
    uphold: bool,
    decision: str,
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> Objection:
    """The supervision committee decides: upheld voids the entry, dismissed lets it continue
    (it becomes effective at the next sweep once publicity is over and no objection is open)."""
    require_actor(actor)
    now = at or timezone.now()
    payload = {"objection": objection.pk, "uphold": bool(uphold), "decision": (decision or "").strip()}

    def write() -> list[Objection]:
        entry = Entry.objects.select_for_update().get(pk=objection.entry_id)
        if not is_system(actor):
            if not may(actor, entry.village, SUPERVISION_ROLES):
                raise ValidationError(_("Objections are decided by the supervision committee."), code="scope")
            if actor.pk in (entry.proposed_by_id, entry.reviewed_by_id):
                raise ValidationError(_("You took part in this entry and may not decide the objection."), code="scope")
        text = _text(decision, _("Decision"), required=True)
        state = Objection.State.UPHELD if uphold else Objection.State.DISMISSED
        fresh = transition(Objection.objects.get(pk=objection.pk), state, actor=actor, at=now, note=text,
                           decided_by=user_of(actor), decided_at=now, decision=text,
                           changes={"state": [Objection.State.OPEN, state]})
        left = max(entry.open_objections - 1, 0)
        if uphold and entry.state == E.PUBLICITY:
            transition(entry, E.VOIDED, actor=actor, move=flow.VOIDED, at=now, note=text, reason=text,
                       open_objections=left, data={"objection": objection.pk},
                       changes={"state": [E.PUBLICITY, E.VOIDED]}, audit_note="objection upheld")
        else:  # dismissed: the entry stays in publicity with one objection fewer open
            Entry.objects.filter(pk=entry.pk, state=E.PUBLICITY).update(open_objections=left)
        return [fresh]

    return remembered(
        actor=actor, key=idempotency_key, operation="objection_decide", payload=payload, model=Objection, write=write
    )[0][0]


@transaction.atomic
def entry_reverse(
    *, actor: Any, entry: Entry, reason: str, idempotency_key: str, at: dt.datetime | None = None
) -> Entry:
    """Correct an effective entry: a reversing entry (−points, pointing at it, with the
    reason) becomes effective at once. The original never changes."""
    require_actor(actor)
    now = at or timezone.now()
    payload = {"entry": entry.pk, "reason": (reason or "").strip()}

    def write() -> list[Entry]:
        if not may(actor, entry.village, COMMITTEE_ROLES):
            raise ValidationError(_("Only the village committee corrects points."), code="scope")
        text = _text(reason, _("Reason"), required=True)
        original = Entry.objects.get(pk=entry.pk)
        if original.state != E.EFFECTIVE or original.kind in (
            Entry.Kind.REVERSAL,
            Entry.Kind.REDEMPTION,
            Entry.Kind.CANCELLATION,
        ):
            raise ValidationError(_("Only an effective scored entry can be corrected."), code="state")
        if Entry.objects.filter(corrects=original, kind=Entry.Kind.REVERSAL).exists():
            raise ValidationError(_("This entry has already been corrected."), code="conflict")
        locks = lock_points(village_id=original.village_id, households=[original.household])
        head, account = locks.head, locks.account(original.household)
        if original.points > 0 and locks.available(original.household) < original.points:
            raise ValidationError(_("Not enough points left to reverse this entry."), code="balance")
        reversal = Entry.objects.create(
            county_id=original.county_id,
            village_id=original.village_id,
            household_id=original.household_id,
            kind=Entry.Kind.REVERSAL,
            item=original.item,
            version=original.version,
            points=-original.points,
            deed_date=timezone.localdate(now),
            period=period_of(timezone.localdate(now)),
            reason=text,
            corrects=original,
            proposed_by=user_of(actor),
            proposed_at=now,
            reviewed_by=user_of(actor),
            reviewed_at=now,
        )
        chain.append(reversal, head=head, account=account, at=now, actor=actor)
        audit_record(
            actor=actor,
            action="create",
            obj=reversal,
            changes={"corrects": [None, original.pk], "points": [None, reversal.points]},
        )
        return [reversal]

    return remembered(
        actor=actor, key=idempotency_key, operation="entry_reverse", payload=payload, model=Entry, write=write
    )[0][0]


def _audit_posted(posted: list[chain.Posted], *, county_code: str) -> None:
    audit_record_many(
        actor="sweep",
        action="update",
        object_type="points.entry",
        county_code=county_code,
        items=[(str(p.entry_id), f"{p.household_id} {p.points:+d}", {"state": ["publicity", "effective"]})
               for p in posted],
        note="publicity ended: effective",
    )


@transaction.atomic
def entry_post(*, entry: Entry, at: dt.datetime | None = None) -> bool:
    """Make one entry effective now if it is due: in publicity, publicity over, no objection
    open (the sweep's path for a single entry, under the same locks and checks). Returns
    whether it became effective; an entry that is not due (or already effective: a repeated
    call) is left as it is."""
    now = at or timezone.now()
    posted = chain.post_due(village_id=entry.village_id, now=now, entry_id=entry.pk)
    if posted:
        _audit_posted(posted, county_code=entry.county_code)
    return bool(posted)


def publicity_sweep(now: dt.datetime) -> int:
    """Make every entry whose publicity is over and which has no open objection effective.

    One transaction per village (`chain.post_due`: lock the chain head, re-read the due
    entries under lock, append each, move the head once) and one audit row per entry. A
    second sweeper waits on the head and then finds nothing left. Returns how many entries
    became effective."""
    from hemei.regions.models import Region

    done = 0
    villages = (
        Entry.objects.filter(state=E.PUBLICITY, publicity_until__lte=now, open_objections=0)
        .values_list("village_id", flat=True)
        .distinct()
    )
    for village_id in sorted(set(villages)):
        with transaction.atomic():
            posted = chain.post_due(village_id=village_id, now=now)
            if posted:
                code = Region.objects.filter(pk=village_id).values_list("code", flat=True).get()
                _audit_posted(posted, county_code=code[:6])
            done += len(posted)
    return done

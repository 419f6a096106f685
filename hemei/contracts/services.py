"""Every write to contracts (ARCHITECTURE rule 1): keyword-only, typed, atomic, audited.

The life of a contract:
1. `contract_create` — a draft with its payment schedule (money as Decimal, never float).
2. `contract_discuss` — the 两委 discussion (date, summary): draft → deciding.
3. `contract_table` — an agenda item of a 村民会议 / 村民代表会议; when the meetings app records
   a passed vote, `_decided_from_meeting` (DECISION_HOOKS) sets `meeting_item`.
4. `contract_township_review` — township staff approve (deciding → approved) or return it.
5. `contract_sign` — refused unless steps 2–4 are recorded; an asset becomes leased / shares.
6. `payment_record`; `contract_end` (terminated / expired: the asset goes back to idle);
   `contract_flag` / `review_conclude` for the 清理 review.
State changes are conditional updates on the status read (two clerks cannot both sign).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.assets.models import Asset
from hemei.assets.services import asset_status_change
from hemei.contracts import access
from hemei.contracts.models import Contract, ContractEvent, ContractReview, Payment, PaymentDue
from hemei.contracts.workflow import LIVE
from hemei.core.audit import audit_record
from hemei.core.idempotency import remembered
from hemei.core.parsing import parse_id
from hemei.core.scope import require_actor, user_of
from hemei.core.workflow import record, transition
from hemei.disclosure.finance import parse_amount
from hemei.meetings.models import AgendaItem, Meeting
from hemei.regions.models import Level, Region

SUBJECT_TYPE = "contracts.contract"
DECIDING_KINDS = (Meeting.Kind.VILLAGERS, Meeting.Kind.REPRESENTATIVES)
S = Contract.Status
E = ContractEvent.Kind
MAX_AREA = Decimal("10000000")



def parse_money(value: Any, *, from_cell: bool = False, allow_zero: bool = False) -> Decimal:
    """Yuan as Decimal with at most two places; floats refused (from a form or the API they mean
    a rounding error already happened), negative refused."""
    amount = parse_amount(value, from_cell=from_cell)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(_("An amount must be more than zero."), code="negative")
    return amount


def parse_area(value: Any, *, from_cell: bool = False) -> Decimal:
    """亩 as Decimal with at most two places, more than zero."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(_("An area is required."), code="area")
    if isinstance(value, float):
        if not from_cell:
            raise ValidationError(_("Areas must be decimals, not floating-point numbers."), code="float")
        value = repr(value)
    try:
        area = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValidationError(_("%(v)s is not an area.") % {"v": str(value)[:30]}, code="area") from None
    if not area.is_finite() or area != area.quantize(Decimal("0.01")) or area > MAX_AREA:
        raise ValidationError(_("An area has at most two decimal places."), code="area")
    if area <= 0:
        raise ValidationError(_("An area must be more than zero."), code="area")
    return area.quantize(Decimal("0.01"))


def _next_number(village: Region, year: int) -> str:
    last = Contract.objects.filter(village=village, number__startswith=f"HT{year}-").aggregate(m=Max("number"))["m"]
    seq = int(last.rsplit("-", 1)[1]) + 1 if last and last.rsplit("-", 1)[1].isdigit() else 1
    return f"HT{year}-{seq:04d}"


def check_terms(*, start: Any, end: Any) -> None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValidationError(_("Enter the term as dates (YYYY-MM-DD)."), code="term")
    if end <= start:
        raise ValidationError(_("A contract cannot end before it starts."), code="term")


def _check_party(party_kind: str, party_name: str, party_phone: str) -> tuple[str, str]:
    """Party B's kind, name and phone (digits only, spaces dropped) for a new contract."""
    if party_kind not in Contract.PartyKind.values:
        raise ValidationError(_("Say whether party B is a person, a company or a cooperative."), code="party")
    party_name = (party_name or "").strip()
    if not party_name or len(party_name) > 100:
        raise ValidationError(_("Party B's name is required (at most 100 characters)."), code="party")
    party_phone = "".join((party_phone or "").split())
    if party_phone and (not (party_phone.isascii() and party_phone.isdigit()) or not 7 <= len(party_phone) <= 20):
        raise ValidationError(_("The phone number has 7 to 20 digits."), code="phone")
    return party_name, party_phone


def _check_subject(village: Region, subject: str, asset: Asset | None) -> str:
    """What the contract is about: the text given, or the name of the idle asset contracted out."""
    subject = (subject or "").strip()
    if asset is not None:
        if asset.village_id != village.pk:
            raise ValidationError(_("The asset belongs to another village."), code="asset")
        if asset.status != Asset.Status.IDLE:
            raise ValidationError(_("Only an idle asset can be contracted out."), code="asset")
        if Contract.objects.filter(asset=asset, status__in=[S.DRAFT, S.DECIDING, S.APPROVED, *LIVE]).exists():
            raise ValidationError(_("This asset already has an open contract."), code="asset")
        subject = subject or asset.name
    if not subject or len(subject) > 200:
        raise ValidationError(_("Say what the contract is about (at most 200 characters)."), code="subject")
    return subject


def _check_schedule(
    schedule: Iterable[tuple[dt.date, Any]], *, start: dt.date, end: dt.date, total: Decimal
) -> list[tuple[dt.date, Decimal]]:
    """The instalments: dates within the term (or up to a year before it), adding up to the total."""
    rows: list[tuple[dt.date, Decimal]] = []
    for due_on, due_amount in schedule:
        if not isinstance(due_on, dt.date):
            raise ValidationError(_("Enter the due dates as YYYY-MM-DD."), code="schedule")
        if not start - dt.timedelta(days=366) <= due_on <= end:
            raise ValidationError(_("A payment falls due within the term."), code="schedule")
        rows.append((due_on, parse_money(due_amount)))
    if rows and sum(a for _d, a in rows) != total:
        raise ValidationError(
            _("The payment schedule adds up to %(s)s, not the total %(t)s.")
            % {"s": sum(a for _d, a in rows), "t": total},
            code="schedule",
        )
    return rows


@transaction.atomic
def contract_create(
    *,
    actor: Any,
    village: Region,
    kind: str,
    subject: str,
    party_name: str,
    party_kind: str,
    start: dt.date,
    end: dt.date,
    amount: Any,
    schedule: Iterable[tuple[dt.date, Any]] = (),
    party_phone: str = "",
    asset: Asset | None = None,
    area_mu: Any = None,
    number: str = "",
    at: dt.datetime | None = None,
) -> Contract:
    """A draft contract with its payment schedule. Every check first; then the rows."""
    require_actor(actor)
    if village.level != Level.VILLAGE:
        raise ValidationError(_("A contract belongs to a village."))
    access.require(actor, village, access.CONTRACT_ROLES, access.no_scope_message())
    if kind not in Contract.Kind.values:
        raise ValidationError(_("Unknown kind of contract."), code="kind")
    party_name, party_phone = _check_party(party_kind, party_name, party_phone)
    check_terms(start=start, end=end)
    total = parse_money(amount, allow_zero=True)
    area = parse_area(area_mu) if area_mu not in (None, "") else None
    subject = _check_subject(village, subject, asset)
    rows = _check_schedule(schedule, start=start, end=end, total=total)
    number = (number or "").strip()[:40] or _next_number(village, start.year)
    if Contract.objects.filter(village=village, number=number).exists():
        raise ValidationError(_("Contract number %(n)s is already used.") % {"n": number}, code="number")
    county = village.county_ancestor()
    if county is None:
        raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": village})
    now = at or timezone.now()
    contract = Contract.objects.create(
        county=county, village=village, number=number, kind=kind, asset=asset, subject=subject, area_mu=area,
        party_name=party_name, party_kind=party_kind, party_phone=party_phone, start=start, end=end, amount=total,
        created_by=user_of(actor), created_at=now,
    )
    PaymentDue.objects.bulk_create([PaymentDue(contract=contract, due_on=d, amount=a) for d, a in sorted(rows)])
    record(contract, kind=E.CREATED, actor=actor, at=now)
    audit_record(
        actor=actor, action="create", obj=contract,
        changes={"number": [None, number], "amount": [None, total], "term": [None, f"{start}..{end}"],
                 "asset": [None, getattr(asset, "code", None)]},
    )
    return contract


@transaction.atomic
def contract_discuss(*, actor: Any, contract: Contract, on: dt.date, summary: str,
                     at: dt.datetime | None = None) -> Contract:
    """Step 1 of the decision record: the 两委 discussion."""
    require_actor(actor)
    access.require(actor, contract.village, access.CONTRACT_ROLES, access.no_scope_message())
    summary = (summary or "").strip()
    if not summary or len(summary) > 2000:
        raise ValidationError(_("Summarise the discussion (at most 2000 characters)."), code="summary")
    if not isinstance(on, dt.date):
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), code="date")
    now = at or timezone.now()
    if on > timezone.localdate(now):
        raise ValidationError(_("The discussion cannot be in the future."), code="date")
    return transition(contract, S.DECIDING, actor=actor, at=now, note=summary, event={"on": on},
                      discussed_on=on, discussion=summary, changes={"status": [S.DRAFT, S.DECIDING]},
                      audit_note="two committees discussed")


def pending_items(contract: Contract) -> Any:
    """Undecided agenda items about this contract, whoever added them (the meetings pages too)."""
    return AgendaItem.objects.filter(
        subject_type=SUBJECT_TYPE, subject_id=str(contract.pk), outcome=AgendaItem.Outcome.PENDING
    )


def current_item_id(contract: Contract) -> int | None:
    """The agenda item the contract was last tabled on (its latest `tabled` event). Only this
    item's vote counts for the contract: an older or stray item decided later is the meeting's
    record, not the contract's."""
    return (
        ContractEvent.objects.filter(contract=contract, kind=E.TABLED, meeting_item__isnull=False)
        .order_by("-id").values_list("meeting_item_id", flat=True).first()
    )


@transaction.atomic
def contract_table(*, actor: Any, contract: Contract, meeting: Meeting, at: dt.datetime | None = None) -> AgendaItem:
    """Step 2 starts: an agenda item about this contract on a 村民(代表)会议 of the village.

    Once at a time: refused while an item about it is undecided or after a meeting passed it,
    and refused on a meeting held before the 两委 discussion (the order of the steps is the law's)."""
    require_actor(actor)
    from hemei.meetings.services import agenda_item_add

    access.require(actor, contract.village, access.CONTRACT_ROLES, access.no_scope_message())
    # The row lock makes two clerks tabling at once take turns; the second sees the first's item.
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.status != S.DECIDING or locked.meeting_item_id is not None or locked.discussed_on is None:
        raise ValidationError(_("Table a contract after the two committees discussed it, once."), code="state")
    waiting = pending_items(locked).select_related("meeting").first()
    if waiting is not None:
        raise ValidationError(
            _("This contract is already on the agenda of %(m)s; record that vote first.") % {"m": waiting.meeting},
            code="tabled",
        )
    if meeting.region_id != locked.village_id or meeting.kind not in DECIDING_KINDS:
        raise ValidationError(
            _("A contract is decided by a villagers' assembly or representatives meeting of its village."),
            code="meeting",
        )
    if timezone.localdate(meeting.held_at) < locked.discussed_on:
        raise ValidationError(
            _("The meeting was held before the two committees discussed the contract (%(d)s).")
            % {"d": locked.discussed_on.isoformat()},
            code="meeting_date",
        )
    now = at or timezone.now()
    item = agenda_item_add(
        actor=actor, meeting=meeting, title=_("Contract %(n)s: %(s)s") % {"n": locked.number, "s": locked.subject},
        description=_("Party B: %(p)s; term %(a)s to %(b)s; amount %(m)s yuan.")
        % {"p": locked.party_name, "a": locked.start, "b": locked.end, "m": locked.amount},
        subject_type=SUBJECT_TYPE, subject_id=str(locked.pk), at=now,
    )
    record(locked, kind=E.TABLED, actor=actor, at=now, meeting_item=item)
    return item


def _decided_from_meeting(*, actor: Any, item: AgendaItem, at: dt.datetime) -> None:
    """DECISION_HOOKS entry (inside the deciding transaction): the vote on the contract's current
    item, while the contract waits for it, records the decision (passed) or a trail row (failed:
    it can be tabled again). Any other item's vote leaves the contract as it is.

    The decision's date is the day the meeting was held (local time), not the day the votes
    were typed in."""
    subject = parse_id(item.subject_id)
    if subject is None:
        return
    contract = Contract.objects.select_for_update().filter(pk=subject).first()
    meeting = item.meeting
    if contract is None or contract.village_id != meeting.region_id:
        return
    if contract.status != S.DECIDING or contract.meeting_item_id is not None:
        return  # past the meeting step: a stale item's vote is not the contract's history
    if current_item_id(contract) != item.pk:
        return
    held_on = timezone.localdate(meeting.held_at)
    if item.outcome != AgendaItem.Outcome.PASSED or meeting.kind not in DECIDING_KINDS:
        record(contract, kind=E.REJECTED, actor=actor, at=at, on=held_on, meeting_item=item, note=item.decision)
        return
    Contract.objects.filter(pk=contract.pk).update(meeting_item=item)
    record(contract, kind=E.DECIDED, actor=actor, at=at, on=held_on, meeting_item=item,
           note=f"{item.votes_for}/{item.votes_against}/{item.votes_abstain} {item.decision}")
    audit_record(actor=actor, action="update", obj=contract, changes={"meeting_item": [None, item.pk]},
                 note="meeting decision")


def register_meeting_hook() -> None:
    from hemei.meetings.services import DECISION_HOOKS

    DECISION_HOOKS[SUBJECT_TYPE] = _decided_from_meeting


@transaction.atomic
def contract_township_review(*, actor: Any, contract: Contract, approve: bool, note: str = "",
                             at: dt.datetime | None = None) -> Contract:
    """Step 3: the township approves (deciding → approved) or returns it with a reason."""
    require_actor(actor)
    access.require(actor, contract.village, access.TOWNSHIP_REVIEW_ROLES, _("Only township staff review contracts."))
    if contract.meeting_item_id is None:
        raise ValidationError(_("The township reviews a contract after the meeting decided it."), code="state")
    note = (note or "").strip()[:2000]
    now = at or timezone.now()
    if approve:
        transition(contract, S.APPROVED, actor=actor, at=now, note=note, event={"on": timezone.localdate(now)},
                   expect={"meeting_item__isnull": False}, township_approved_at=now,
                   changes={"township": [None, approve]}, audit_note=note)
        return contract
    else:
        if not note:
            raise ValidationError(_("Say why the contract is returned."), code="note")
        if contract.status != S.DECIDING:
            raise ValidationError(_("Only a contract being decided can be returned."), code="state")
        record(contract, kind=E.RETURNED, actor=actor, at=now, on=timezone.localdate(now), note=note)
    audit_record(actor=actor, action="update", obj=contract, changes={"township": [None, approve]}, note=note)
    return contract


def missing_steps(contract: Contract) -> list[str]:
    """The decision steps not yet recorded, in words (for the refusal and the detail page)."""
    missing = []
    if contract.discussed_on is None:
        missing.append(_("the two committees' discussion"))
    item = contract.meeting_item
    if item is None or item.outcome != AgendaItem.Outcome.PASSED:
        missing.append(_("the villagers' (representatives) meeting decision"))
    if contract.township_approved_at is None:
        missing.append(_("the township's review"))
    return missing


@transaction.atomic
def contract_sign(*, actor: Any, contract: Contract, on: dt.date, at: dt.datetime | None = None) -> Contract:
    """Step 5: signing, refused (nothing changed) unless the whole decision record is there."""
    require_actor(actor)
    access.require(actor, contract.village, access.CONTRACT_ROLES, access.no_scope_message())
    contract.refresh_from_db()  # the decision steps as stored, not as a page read them
    missing = missing_steps(contract)
    if missing:
        raise ValidationError(
            _("A contract is signed only under a recorded decision; missing: %(m)s.") % {"m": "、".join(missing)},
            code="decision",
        )
    if not isinstance(on, dt.date):
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), code="date")
    now = at or timezone.now()
    new = S.ACTIVE if contract.start <= on else S.SIGNED
    transition(contract, new, actor=actor, at=now, event={"on": on}, signed_on=on,
               changes={"status": [S.APPROVED, new]}, audit_note="signed")
    if contract.asset_id is not None:
        target = Asset.Status.SHARES if contract.kind == Contract.Kind.SHARES else Asset.Status.LEASED
        asset = Asset.objects.get(pk=contract.asset_id)
        if asset.status != Asset.Status.IDLE:
            raise ValidationError(_("The asset is no longer idle."), code="asset")
        asset_status_change(asset=asset, status=target, actor=actor,
                            # The number only: the asset page shows the reason as stored, and
                            # English (or Chinese) words stored here would not follow the reader's language.
                            reason=contract.number)
    return contract


@transaction.atomic
def payment_record(*, actor: Any, due: PaymentDue, amount: Any, paid_on: dt.date, note: str = "",
                   at: dt.datetime | None = None, idempotency_key: str = "") -> Payment:
    """A payment on an instalment. With `idempotency_key` (the payment form sends one), the same
    key and payload record once: a part payment sent twice would otherwise fit the instalment."""
    require_actor(actor)
    if idempotency_key:
        payload = {"due": due.pk, "amount": str(amount), "paid_on": str(paid_on), "note": (note or "")[:200]}
        done, _replayed = remembered(
            actor=actor, key=idempotency_key, operation="contracts.payment", payload=payload, model=Payment,
            write=lambda: [payment_record(actor=actor, due=due, amount=amount, paid_on=paid_on, note=note, at=at)],
        )
        return done[0]
    contract = Contract.objects.select_for_update().get(pk=due.contract_id)
    access.require(actor, contract.village, access.CONTRACT_ROLES, access.no_scope_message())
    if contract.status not in (*LIVE, S.EXPIRED, S.TERMINATED):
        raise ValidationError(_("Payments are recorded on a signed contract."), code="state")
    value = parse_money(amount)
    if not isinstance(paid_on, dt.date):
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), code="date")
    paid = due.payments.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    if paid + value > due.amount:
        raise ValidationError(
            _("Only %(o)s yuan is outstanding on this instalment.") % {"o": due.amount - paid}, code="too_much"
        )
    now = at or timezone.now()
    payment = Payment.objects.create(due=due, amount=value, paid_on=paid_on, note=(note or "")[:200],
                                     recorded_by=user_of(actor), recorded_at=now)
    record(contract, kind=E.PAID, actor=actor, at=now, on=paid_on, note=f"{value} ({due.due_on})")
    audit_record(actor=actor, action="create", obj=payment, changes={"amount": [None, value], "due": [None, due.pk]})
    return payment


def _release_asset(contract: Contract, actor: Any) -> None:
    if contract.asset_id is None:
        return
    others = Contract.objects.filter(asset_id=contract.asset_id, status__in=LIVE).exclude(pk=contract.pk)
    asset = Asset.objects.get(pk=contract.asset_id)
    if asset.status in (Asset.Status.LEASED, Asset.Status.SHARES) and not others.exists():
        asset_status_change(asset=asset, status=Asset.Status.IDLE, actor=actor, move="contract_ended",
                            reason=contract.number)  # language-neutral, see contract_sign


@transaction.atomic
def contract_end(*, actor: Any, contract: Contract, status: str, on: dt.date, reason: str = "",
                 at: dt.datetime | None = None) -> Contract:
    """Terminated (by decision or a 清理 outcome) or expired (the sweeper): the asset is idle again."""
    require_actor(actor)
    if status not in (S.TERMINATED, S.EXPIRED):
        raise ValueError(status)
    if status == S.TERMINATED:
        access.require(actor, contract.village, access.REVIEW_ROLES, access.no_scope_message())
        if not (reason or "").strip():
            raise ValidationError(_("Say why the contract is terminated."), code="reason")
    now = at or timezone.now()
    if contract.status not in LIVE:
        raise ValidationError(_("The contract changed meanwhile; reload the page."), code="conflict")
    transition(contract, status, actor=actor, at=now, note=reason, event={"on": on}, ended_on=on,
               changes={"status": [contract.status, status]}, audit_note=reason[:300])
    _release_asset(contract, actor)
    return contract


@transaction.atomic
def contract_flag(*, actor: Any, contract: Contract, reason: str, on: dt.date | None = None,
                  at: dt.datetime | None = None) -> ContractReview:
    """Flag a contract for the 清理 review (unfair terms, below-market rent, no decision record)."""
    require_actor(actor)
    access.require(actor, contract.village, access.REVIEW_ROLES, access.no_scope_message())
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationError(_("Say why the contract is reviewed (at most 500 characters)."), code="reason")
    now = at or timezone.now()
    day = on or timezone.localdate(now)
    if ContractReview.objects.filter(contract=contract, outcome=ContractReview.Outcome.PENDING).exists():
        raise ValidationError(_("This contract is already under review."), code="conflict")
    review = ContractReview.objects.create(contract=contract, flagged_on=day, reason=reason, flagged_by=user_of(actor))
    record(contract, kind=E.FLAGGED, actor=actor, at=now, on=day, note=reason)
    audit_record(actor=actor, action="create", obj=review, changes={"reason": [None, reason]})
    return review


@transaction.atomic
def review_conclude(*, actor: Any, review: ContractReview, outcome: str, on: dt.date | None = None, note: str = "",
                    at: dt.datetime | None = None) -> ContractReview:
    """Record the outcome once; "terminated" also ends the contract."""
    require_actor(actor)
    contract = Contract.objects.select_related("village").get(pk=review.contract_id)
    access.require(actor, contract.village, access.REVIEW_ROLES, access.no_scope_message())
    if outcome not in ContractReview.Outcome.values or outcome == ContractReview.Outcome.PENDING:
        raise ValidationError(_("Choose the outcome of the review."), code="outcome")
    now = at or timezone.now()
    day = on or timezone.localdate(now)
    note = (note or "").strip()[:500]
    changed = ContractReview.objects.filter(pk=review.pk, outcome=ContractReview.Outcome.PENDING).update(
        outcome=outcome, outcome_on=day, outcome_note=note, decided_by=user_of(actor)
    )
    if changed != 1:
        raise ValidationError(_("The outcome of this review is already recorded."), code="conflict")
    review.refresh_from_db()
    label = str(ContractReview.Outcome(outcome).label)
    record(contract, kind=E.CLEARED, actor=actor, at=now, on=day, note=f"{label} {note}".strip())
    if outcome == ContractReview.Outcome.TERMINATED and contract.status in LIVE:
        contract_end(actor=actor, contract=contract, status=S.TERMINATED, on=day, reason=note or label, at=now)
    audit_record(actor=actor, action="update", obj=review,
                 changes={"outcome": [ContractReview.Outcome.PENDING, outcome]})
    return review

"""Every write of the childcare places (托育): centres, families' applications and their moves.

The places rule ("never more children enrolled and offered than a centre's places, also when
several clerks offer at once") is kept as `Slot.booked` is for study tours: each count changes
only under the centre's row lock (`select_for_update`) through a conditional UPDATE whose row
count says whether the place was there (`places_follow`, called by the workflow's `on_event`
for every move, so whichever code makes a move the counts follow it), and the check
constraint on `ChildcareProvider` is the database's backstop.

Every service that changes a centre's queue or counts locks the centre's row first, before
it moves an application: offers, withdrawals and declines of one centre then queue in the
same order on PostgreSQL (no lock cycle between the centre's row and an application's), and
"who is at the head of the waiting list" is read as the previous writer left it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record, diff
from hemei.core.idempotency import remembered
from hemei.core.models import AuditEntry
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import is_system, require, require_actor, scope_for, user_of
from hemei.core.workflow import check, record, transition
from hemei.regions.models import Household, Level, Region
from hemei.regions.services import normalise_phone
from hemei.services.access import CHILDCARE_ROLES
from hemei.services.models import ChildcareApplication, ChildcareProvider

S = ChildcareApplication.Status
#: A sanity bound on typed numbers of places (a large township centre has a few hundred).
MAX_PLACES: Final = 1000
#: 托育 takes children from birth to six years at most (older children go to kindergarten).
MAX_AGE_MONTHS: Final = 72
#: How far ahead a family may ask for a start date.
MAX_START_AHEAD_DAYS: Final = 3 * 366
REGION_LEVELS: Final = (Level.VILLAGE, Level.TOWNSHIP)
_PHONE = re.compile(r"^[0-9][0-9-]{6,19}$")


def _require_manager(actor: Any, region: Region) -> None:
    """A manager of the region's centres; outside the actor's read scope answers 404."""
    require_actor(actor)
    if not scope_for(actor).covers_path(region.path):
        raise Http404
    require(actor, CHILDCARE_ROLES, region)


def months_old(birth: dt.date, on: dt.date) -> int:
    """Whole months of age on a day (a child born on 31 March is one month old on 30 April)."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        last = (dt.date(on.year + on.month // 12, on.month % 12 + 1, 1) - dt.timedelta(days=1)).day
        if on.day < last:  # the birth day does not exist this month: its last day counts
            months -= 1
    return months


def _whole(value: Any, label: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("%(field)s is a whole number.") % {"field": label}, code="number") from None
    if not minimum <= number <= maximum:
        raise ValidationError(_("%(field)s must be between %(a)d and %(b)d.")
                              % {"field": label, "a": minimum, "b": maximum}, code="number")
    return number


def _centre_phone(value: str) -> str:
    """A centre's phone: a mobile (normalised) or a landline such as 0351-6012345."""
    phone = clean_text(value, _("Centre phone"), 20)
    if not phone:
        return ""
    if phone.startswith("1") and "-" not in phone:
        return normalise_phone(phone)
    if not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 7:
        raise ValidationError(_("Enter the centre's phone as digits, e.g. 0351-6012345."), code="phone")
    return phone


def _ages(min_age: Any, max_age: Any) -> tuple[int, int]:
    low = _whole(min_age, _("Youngest age (months)"), minimum=0, maximum=MAX_AGE_MONTHS)
    high = _whole(max_age, _("Oldest age (months)"), minimum=0, maximum=MAX_AGE_MONTHS)
    if low > high:
        raise ValidationError(_("The youngest age must not be above the oldest."), code="ages")
    return low, high


# --- centres ------------------------------------------------------------------------------


@transaction.atomic
def provider_create(*, actor: Any, region: Region, name: str, capacity: Any, address: str = "", phone: str = "",
                    min_age_months: Any = 6, max_age_months: Any = MAX_AGE_MONTHS) -> ChildcareProvider:
    """A childcare centre of a village or a township, with its number of places."""
    require_actor(actor)
    _require_manager(actor, region)
    if region.level not in REGION_LEVELS:
        raise ValidationError(_("A childcare centre belongs to a village or a township."), code="level")
    low, high = _ages(min_age_months, max_age_months)
    provider = ChildcareProvider.objects.create(
        county=county_of(region), region=region, name=clean_text(name, _("Centre name"), 100, required=True),
        address=clean_text(address, _("Centre address"), 200), phone=_centre_phone(phone),
        capacity=_whole(capacity, _("Places"), minimum=1, maximum=MAX_PLACES),
        min_age_months=low, max_age_months=high,
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=provider,
                 changes={"name": [None, provider.name], "capacity": [None, provider.capacity],
                          "ages": [None, f"{low}-{high}"]})
    return provider


@transaction.atomic
def provider_update(*, actor: Any, provider: ChildcareProvider, capacity: Any = None, name: str | None = None,
                    address: str | None = None, phone: str | None = None, min_age_months: Any = None,
                    max_age_months: Any = None, active: bool | None = None) -> ChildcareProvider:
    """Change a centre's places, details or whether it takes applications (what is None stays).

    1. Lock the centre's row; read it as the last writer left it.
    2. Clean each value given; a bad one refuses everything.
    3. Fewer places than children enrolled and offered is refused: the places are changed by
       a conditional UPDATE (`enrolled <= new − offered`), so an offer made meanwhile cannot
       slip under a lowered capacity; the check constraint would refuse it too.
    4. One audit row with the changed fields (the phone's change, not its value).
    """
    require_actor(actor)
    _require_manager(actor, provider.region)
    locked = ChildcareProvider.objects.select_for_update().get(pk=provider.pk)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = clean_text(name, _("Centre name"), 100, required=True)
    if address is not None:
        values["address"] = clean_text(address, _("Centre address"), 200)
    if phone is not None:
        values["phone"] = _centre_phone(phone)
    if min_age_months is not None or max_age_months is not None:
        low, high = _ages(locked.min_age_months if min_age_months is None else min_age_months,
                          locked.max_age_months if max_age_months is None else max_age_months)
        values.update(min_age_months=low, max_age_months=high)
    if active is not None:
        values["active"] = bool(active)
    before = {k: getattr(locked, k) for k in (*values, "capacity")}
    if capacity is not None:
        places = _whole(capacity, _("Places"), minimum=1, maximum=MAX_PLACES)
        changed = ChildcareProvider.objects.filter(pk=locked.pk, enrolled__lte=places - F("offered")) \
            .update(capacity=places)
        if changed != 1:
            raise ValidationError(
                _("The centre cannot have fewer places than the %(n)d children enrolled or offered a place.")
                % {"n": locked.held}, code="below")
        values["capacity"] = places
    if not values:
        return locked
    ChildcareProvider.objects.filter(pk=locked.pk).update(updated_at=timezone.now(), **values)
    locked.refresh_from_db()
    changes = diff(before, {k: getattr(locked, k) for k in before})
    if "phone" in changes:
        changes["phone"] = ["…", "changed"]  # audit rows say that a phone changed, never the value
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=locked, changes=changes)
    return locked


# --- the places of a centre ---------------------------------------------------------------


def lock_centre(provider_pk: int) -> ChildcareProvider:
    """The centre's row lock, taken before an application of it moves (one order: no cycle)."""
    return ChildcareProvider.objects.select_for_update().select_related("region").get(pk=provider_pk)


def places_follow(application: ChildcareApplication, *, move: str, from_state: str) -> None:
    """Change the centre's counts for one move of an application, under the centre's row lock
    (called by the workflow's `on_event` inside the move's transaction).

    1. Lock the centre's row (a no-op when the service holds it already).
    2. offer: `offered + 1` only `WHERE enrolled + offered + 1 <= capacity`; no row means
       the centre is full (even if the lock were missing, as on SQLite, where the database
       serialises writers instead). enrol: one offered place becomes an enrolled one. leave,
       and withdraw, decline or lapse from an offer: the place goes back.
    3. A count that would go below zero is a record behind the services' back: refused.
    """
    pk = application.provider_id
    ChildcareProvider.objects.select_for_update().get(pk=pk)
    rows = ChildcareProvider.objects.filter(pk=pk)
    now = timezone.now()
    if move == "offer":
        if rows.filter(enrolled__lte=F("capacity") - F("offered") - 1) \
                .update(offered=F("offered") + 1, updated_at=now) != 1:
            raise ValidationError(_("The centre has no free place."), code="full")
        return
    if move == "enrol":
        changed = rows.filter(offered__gte=1).update(offered=F("offered") - 1, enrolled=F("enrolled") + 1,
                                                     updated_at=now)
    elif move == "leave":
        changed = rows.filter(enrolled__gte=1).update(enrolled=F("enrolled") - 1, updated_at=now)
    elif move in ("withdraw", "decline", "lapse") and from_state == S.OFFERED:
        changed = rows.filter(offered__gte=1).update(offered=F("offered") - 1, updated_at=now)
    else:
        return
    if changed != 1:
        raise ValidationError(_("The centre's places do not add up; nothing was changed."), code="conflict")


def waiting(provider_pk: int) -> QuerySet[ChildcareApplication]:
    """The centre's waiting list in its one order: applied first, first (then by id)."""
    return ChildcareApplication.objects.filter(provider_id=provider_pk, status=S.APPLIED) \
        .order_by("applied_at", "pk")


# --- applications -------------------------------------------------------------------------


def _application_input(*, provider: ChildcareProvider, child_name: str, child_birth_date: Any,
                       guardian_name: str, guardian_phone: str, desired_start: Any,
                       today: dt.date) -> dict[str, Any]:
    """The cleaned fields of an application, or a ValidationError naming the first problem."""
    if not isinstance(child_birth_date, dt.date):
        raise ValidationError(_("Enter the child's birth date as YYYY-MM-DD."), code="birth")
    if child_birth_date > today:
        raise ValidationError(_("The child's birth date cannot be in the future."), code="birth")
    if not isinstance(desired_start, dt.date):
        raise ValidationError(_("Enter the desired start date as YYYY-MM-DD."), code="start")
    if desired_start < today:
        raise ValidationError(_("The desired start date cannot be in the past."), code="start")
    if desired_start > today + dt.timedelta(days=MAX_START_AHEAD_DAYS):
        raise ValidationError(_("The desired start date is more than three years ahead."), code="start")
    age = months_old(child_birth_date, desired_start)
    if not provider.min_age_months <= age <= provider.max_age_months:
        raise ValidationError(
            _("On the desired start date the child will be %(age)d months old; this centre takes children "
              "from %(a)d to %(b)d months.") % {"age": age, "a": provider.min_age_months,
                                                "b": provider.max_age_months}, code="age")
    phone = normalise_phone(guardian_phone)
    if not phone:
        raise ValidationError(_("Please give the guardian's mobile phone number."), code="phone")
    return {
        "child_name": clean_text(child_name, _("Child's name"), 50, required=True),
        "child_birth_date": child_birth_date,
        "guardian_name": clean_text(guardian_name, _("Guardian"), 50, required=True),
        "guardian_phone": phone,
        "desired_start": desired_start,
    }


@transaction.atomic
def application_create(*, actor: Any, provider: ChildcareProvider, child_name: str, child_birth_date: Any,
                       guardian_name: str, guardian_phone: str, desired_start: Any, idempotency_key: str,
                       household: Household | None = None, now: dt.datetime | None = None) -> ChildcareApplication:
    """Staff enter a family's application; it joins the end of the centre's waiting list.

    1. The actor manages the centre's village or township (outside their scope: 404).
    2. Clean the input: the birth date not in the future, the child's age on the desired start
       date within the centre's range, the start date not in the past, names given, a mobile
       phone; the household (optional) in the actor's scope and the centre's county. A bad
       value is a ValidationError and nothing is written.
    3. Under the centre's row lock: it must take applications, and the same child (name and
       birth date) must not be waiting, offered or enrolled there already.
    4. Under the idempotency key a resent form returns the first application; then the row,
       its first event (`applied`) and the audit row.
    """
    require_actor(actor)
    _require_manager(actor, provider.region)
    now = now or timezone.now()
    today = timezone.localdate(now)
    fields = _application_input(provider=provider, child_name=child_name, child_birth_date=child_birth_date,
                                guardian_name=guardian_name, guardian_phone=guardian_phone,
                                desired_start=desired_start, today=today)
    if household is not None:
        if not is_system(actor) and not scope_for(actor).covers_path(household.region.path):
            raise Http404
        if household.county_id != provider.county_id:
            raise ValidationError(_("The household is not in this centre's county."), code="household")

    def write() -> list[ChildcareApplication]:
        locked = lock_centre(provider.pk)
        if not locked.active:
            raise ValidationError(_("This centre takes no applications at present."), code="closed")
        live = (S.APPLIED, S.OFFERED, S.ENROLLED)
        if ChildcareApplication.objects.filter(provider=locked, status__in=live, child_name=fields["child_name"],
                                               child_birth_date=fields["child_birth_date"]).exists():
            raise ValidationError(_("This child is already on this centre's list."), code="duplicate")
        application = ChildcareApplication.objects.create(
            provider=locked, county_id=locked.county_id, region_id=locked.region_id, household=household,
            applied_at=now, updated_at=now, created_by=user_of(actor), **fields)
        position = waiting(locked.pk).filter(applied_at__lte=now).count()
        record(application, kind="applied", actor=actor, at=now, to_state=S.APPLIED, data={"position": position})
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=application,
                     changes={"provider": [None, locked.pk], "desired_start": [None, fields["desired_start"]],
                              "household": [None, household.pk if household else None]})
        return [application]

    payload = {"provider": provider.pk, "household": household.pk if household else None,
               **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}}
    [application], _replayed = remembered(actor=actor, key=f"ty:{idempotency_key}",
                                          operation="services.childcare_apply", payload=payload,
                                          model=ChildcareApplication, write=write)
    return application


@transaction.atomic
def application_offer(*, actor: Any, application: ChildcareApplication, skip_reason: str = "",
                      now: dt.datetime | None = None) -> ChildcareApplication:
    """Offer a waiting family a place (it is held for them until they take it up or decline).

    1. The move must be in the table and the actor's (checked before anything is read).
    2. Lock the centre's row; refuse when no place is free.
    3. The offer goes to the head of the waiting list (earliest application, then id). Any
       other application needs a written reason for skipping those ahead of it: without one
       nothing changes; with one, the event and the audit row record the reason, the position
       and how many were skipped.
    4. The move (`transition`); the workflow's `on_event` takes the place by a conditional
       update (`places_follow`), which refuses if the place is gone.
    """
    check(application, S.OFFERED, actor=actor, move="offer")
    now = now or timezone.now()
    provider = lock_centre(application.provider_id)
    if provider.free == 0:
        raise ValidationError(_("The centre has no free place."), code="full")
    skipped = waiting(provider.pk).filter(Q(applied_at__lt=application.applied_at)
                                          | Q(applied_at=application.applied_at, pk__lt=application.pk)).count()
    reason = clean_text(skip_reason, _("Reason"), 300)
    if skipped and not reason:
        raise ValidationError(
            _("%(n)d families applied earlier and are still waiting: an offer to this family needs a written "
              "reason for skipping them.") % {"n": skipped}, code="skip")
    data = {"position": skipped + 1, "skipped": skipped}
    changes = {"status": [application.status, S.OFFERED], "position": [None, skipped + 1]}
    if skipped:
        changes["skip_reason"] = [None, reason]
    return transition(application, S.OFFERED, actor=actor, move="offer", at=now, offered_at=now,
                      note=reason if skipped else "", data=data, changes=changes,
                      audit_note="offer, skipping the waiting list" if skipped else "offer")


@transaction.atomic
def application_offer_next(*, actor: Any, provider: ChildcareProvider,
                           now: dt.datetime | None = None) -> ChildcareApplication:
    """Offer the next free place to the head of the centre's waiting list (read under the
    centre's lock, so two clerks pressing at once offer to the first two families)."""
    require_actor(actor)
    _require_manager(actor, provider.region)
    lock_centre(provider.pk)
    head = waiting(provider.pk).first()
    if head is None:
        raise ValidationError(_("Nobody is waiting for this centre."), code="empty")
    return application_offer(actor=actor, application=head, now=now)


@transaction.atomic
def application_enrol(*, actor: Any, application: ChildcareApplication, on: dt.date | None = None,
                      now: dt.datetime | None = None) -> ChildcareApplication:
    """The family took up the offered place: the child is enrolled (the place stays taken)."""
    check(application, S.ENROLLED, actor=actor, move="enrol")
    now = now or timezone.now()
    on = on or timezone.localdate(now)
    if on < timezone.localdate(application.applied_at):
        raise ValidationError(_("A child cannot be enrolled before the application."), code="date")
    lock_centre(application.provider_id)
    return transition(application, S.ENROLLED, actor=actor, move="enrol", at=now, enrolled_on=on)


@transaction.atomic
def application_leave(*, actor: Any, application: ChildcareApplication, note: str = "",
                      on: dt.date | None = None, now: dt.datetime | None = None) -> ChildcareApplication:
    """An enrolled child leaves (to kindergarten, moved away): the place goes back."""
    check(application, S.LEFT, actor=actor, move="leave")
    now = now or timezone.now()
    on = on or timezone.localdate(now)
    if application.enrolled_on is not None and on < application.enrolled_on:
        raise ValidationError(_("A child cannot leave before being enrolled."), code="date")
    note = clean_text(note, _("Note"), 300)
    lock_centre(application.provider_id)
    return transition(application, S.LEFT, actor=actor, move="leave", at=now, left_on=on, note=note)


@transaction.atomic
def application_withdraw(*, actor: Any, application: ChildcareApplication, reason: str,
                         now: dt.datetime | None = None) -> ChildcareApplication:
    """The family withdraws a waiting application or an offer (an offered place goes back)."""
    check(application, S.WITHDRAWN, actor=actor, move="withdraw")
    reason = clean_text(reason, _("Reason"), 300, required=True)
    lock_centre(application.provider_id)
    return transition(application, S.WITHDRAWN, actor=actor, move="withdraw", at=now, note=reason)


@transaction.atomic
def application_decline(*, actor: Any, application: ChildcareApplication, reason: str = "",
                        now: dt.datetime | None = None) -> ChildcareApplication:
    """The family declines the offered place: it goes back for the next family."""
    check(application, S.DECLINED, actor=actor, move="decline")
    reason = clean_text(reason, _("Reason"), 300)
    lock_centre(application.provider_id)
    return transition(application, S.DECLINED, actor=actor, move="decline", at=now, note=reason)

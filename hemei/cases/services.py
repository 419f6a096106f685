"""Every write to a case (ARCHITECTURE rule 1). Each step is one transition in `ALLOWED`,
applied with a conditional update on (pk, status) so that two clerks acting at once never
both act (rule 6), and each writes a `CaseEvent` and an audit row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.cases.deadlines import accept_deadline, resolve_deadline
from hemei.cases.models import Case, CaseCounter, CaseEvent, CasePhoto, Category, DeadlineExtension
from hemei.cases.photos import clean_photos
from hemei.cases.workflow import CASE
from hemei.core.audit import audit_record
from hemei.core.idempotency import created, remembered
from hemei.core.models import AuditEntry
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import is_system, require_actor, user_of
from hemei.core.workflow import record, transition
from hemei.regions.access import scope_for
from hemei.regions.models import Household, Level, Region, Resident

S = Case.Status
# The workflow is the table in `hemei.cases.workflow`; this is its status → next statuses view.
ALLOWED: dict[str, frozenset[str]] = {state: frozenset(CASE.targets(state)) for state in S.values}
OPEN_STATUSES = (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)
TEXT_LIMIT = 4000



_county_of = county_of


def _lock_counter(county: Region, year: int) -> CaseCounter:
    """The counter row, locked until the case commits: two submissions in the same county and
    year never get the same number, and a replayed submission waits for the first to commit."""
    # One locked read in the usual case; the year's first submissions race on the insert, and
    # the loser of the unique constraint reads the winner's row under the lock (get_or_create).
    return CaseCounter.objects.select_for_update().get_or_create(county=county, year=year)[0]


def _next_number(counter: CaseCounter, county: Region, year: int) -> str:
    """`<county code>-<year>-<6-digit seq>`."""
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{county.code}-{year}-{counter.last:06d}"




_check_text = partial(clean_text, limit=TEXT_LIMIT, required=True)


@dataclass(frozen=True)
class Location:
    """Where a case is, in GeoReport v2's words. Both coordinates or neither; a media URL is
    http(s) only (it is shown as a link)."""

    address_string: str = ""
    lat: Decimal | float | str | None = None
    long: Decimal | float | str | None = None
    media_url: str = ""

    def clean(self) -> Location:
        address = _check_text(self.address_string, _("Address"), limit=200, required=False)
        lat, lon = _coordinate(self.lat, _("Latitude"), 90), _coordinate(self.long, _("Longitude"), 180)
        if (lat is None) != (lon is None):
            raise ValidationError(_("Latitude and longitude go together."), code="lat")
        url = (self.media_url or "").strip()
        if url and (len(url) > 500 or not url.lower().startswith(("http://", "https://"))):
            raise ValidationError(_("The media URL must be an http(s) address of at most 500 characters."))
        return Location(address, lat, lon, url)

    def payload(self) -> dict[str, str]:
        # Only what was given: replays of keys stored before locations existed still match.
        values = {"address_string": self.address_string, "lat": self.lat, "long": self.long,
                  "media_url": self.media_url}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _coordinate(value: Any, label: str, bound: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip()).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("%(f)s is not a number.") % {"f": label}) from None
    if not number.is_finite() or not -bound <= number <= bound:
        raise ValidationError(_("%(f)s is out of range.") % {"f": label})
    return number


@transaction.atomic  # the idempotency key, the case, its event and audit row: all or nothing
def case_submit(
    *,
    actor: Any,
    region: Region,
    category: Category,
    title: str,
    description: str,
    source: str,
    household: Household | None = None,
    reporter: Resident | None = None,
    reporter_name: str = "",
    idempotency_key: str = "",
    photos: list[Any] | None = None,
    location: Location | None = None,
    accept_by: dt.datetime | None = None,
    tier: str = "",
) -> Case:
    """A new case at a village or grid, with its number and deadlines from the category, and
    where it is (`location`: address, point, a picture's URL; checked by `Location.clean`).
    `tier` is where supervision starts: blank for the category's `start_tier`, or a device
    alarm rule's tier.

    `accept_by` (later than the category's) is for a caller with a step of its own before the
    village tier's deadline: a care work order is first the carer on duty's, then the care
    centre lead's (`hemei.care.sweep`), and only then climbs village → township → county.

    With an `idempotency_key` (`hemei.core.idempotency`), a second call by the same account
    with the same payload returns the first case (its `replayed` is True) and changes nothing;
    another payload under the key is a conflict. Without an account (or a key) every call is
    a new submission."""
    require_actor(actor)
    if region.level not in (Level.VILLAGE, Level.GRID):
        raise ValidationError(_("A case belongs to a village or a grid."))
    if source not in Case.Source.values:
        raise ValidationError(_("Unknown source %(s)s.") % {"s": source})
    if tier and tier not in Case.Tier.values:
        raise ValidationError(_("Unknown tier %(t)s.") % {"t": tier})
    county = _county_of(region)
    if not category.active or (category.county_id is not None and category.county_id != county.pk):
        raise ValidationError(_("This category is not available in this county."))
    title = _check_text(title, _("Title"), limit=100)
    description = _check_text(description, _("Description"))
    if reporter is not None:
        household = household or reporter.household
        reporter_name = reporter_name or reporter.name
        if reporter.household_id != household.pk:
            raise ValidationError(_("The reporter does not live in this household."))
    if household is not None and not household.region.path.startswith(region.path):
        raise ValidationError(_("The household is not in this region."))
    reporter_name = _check_text(reporter_name, _("Reporter name"), limit=50, required=False)
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > 64:
        raise ValidationError(_("The submission key is longer than 64 characters."))
    where = (location or Location()).clean()
    cleaned = clean_photos(list(photos or []))  # before any write: a bad photo changes nothing
    now = timezone.now()
    if accept_by is not None and accept_by <= now:
        raise ValidationError(_("The accept-by time must be in the future."))
    year = timezone.localtime(now).year
    counter = _lock_counter(county, year)
    payload = {"region": region.pk, "category": category.pk, "title": title, "description": description,
               "household": household.pk if household is not None else None, **where.payload()}

    def write() -> list[Case]:
        case = Case.objects.create(
            number=_next_number(counter, county, year), idempotency_key=idempotency_key if not is_system(actor) else "",
            county=county, region=region, household=household, reporter=reporter, reporter_name=reporter_name,
            source=source, category=category, title=title, description=description,
            tier=tier or category.start_tier,
            address_string=where.address_string, lat=where.lat, long=where.long, media_url=where.media_url,
            accept_by=accept_by or accept_deadline(category, now, county.code),
            resolve_by=resolve_deadline(category, now, county.code),
            created_by=user_of(actor), created_at=now, updated_at=now,
        )
        record(case, kind=CaseEvent.Kind.SUBMITTED, actor=actor, at=now, to_state=S.SUBMITTED,
               data={"accept_by": case.accept_by.isoformat(), "resolve_by": case.resolve_by.isoformat()})
        audit_record(actor=actor, action="create", obj=case,
                     changes={"status": [None, S.SUBMITTED], "category": [None, category.name]})
        _store_photos(case, cleaned, stage=CasePhoto.Stage.REPORTED, actor=actor, at=now)
        return [case]

    if not idempotency_key or is_system(actor):
        return write()[0]
    [case], _replayed = remembered(actor=actor, key=idempotency_key, operation="cases.submit", payload=payload,
                                   model=Case, write=write)
    case.replayed = not created(case)
    return case


def _store_photos(case: Case, cleaned: list[Any], *, stage: str, actor: Any, at: dt.datetime) -> None:
    if not cleaned:
        return
    if case.photos.filter(stage=stage).count() + len(cleaned) > 6:
        raise ValidationError(_("At most %(n)d photos.") % {"n": 6}, code="too_many")
    ids = []
    for photo in cleaned:
        row = CasePhoto(case=case, stage=stage, uploaded_by=user_of(actor), uploaded_at=at)
        row.image.save("photo.jpg", photo.content, save=False)
        row.save()
        ids.append(row.pk)
    record(case, kind=CaseEvent.Kind.PHOTO, actor=actor, at=at, data={"stage": stage, "photos": ids})
    audit_record(actor=actor, action="create", obj=case, note="photos", changes={"photos": [None, ids]})


@transaction.atomic
def case_photos_add(*, actor: Any, case: Case, photos: list[Any], stage: str) -> list[CasePhoto]:
    """Photos of the problem (reporter) or of the result (while the case is being worked on)."""
    require_actor(actor)
    if stage not in CasePhoto.Stage.values:
        raise ValidationError(_("Unknown photo stage."))
    if case.status in (S.CLOSED, S.REJECTED, S.MERGED):
        raise ValidationError(_("This case is finished; no more photos."))
    cleaned = clean_photos(photos)
    if not cleaned:
        raise ValidationError(_("Choose at least one photo."))
    now = timezone.now()
    before = set(case.photos.values_list("pk", flat=True))
    _store_photos(case, cleaned, stage=stage, actor=actor, at=now)
    return list(case.photos.exclude(pk__in=before))


@transaction.atomic
def case_accept(*, actor: Any, case: Case, responsible: Any = None, unit: str = "") -> Case:
    require_actor(actor)
    unit = _check_text(unit, _("Responsible unit"), limit=100, required=responsible is None)
    now = timezone.now()
    return transition(case, S.ACCEPTED, actor=actor, at=now, responsible=responsible, responsible_unit=unit,
                      accepted_at=now, data={"responsible": getattr(responsible, "pk", None), "unit": unit})


@transaction.atomic
def case_start(*, actor: Any, case: Case, note: str = "") -> Case:
    require_actor(actor)
    note = _check_text(note, _("Note"), required=False)
    return transition(case, S.IN_PROGRESS, actor=actor, move=CaseEvent.Kind.STARTED, note=note)


@transaction.atomic
def case_resolve(*, actor: Any, case: Case, measures: str, photos: list[Any] | None = None) -> Case:
    require_actor(actor)
    measures = _check_text(measures, _("Measures taken"))
    cleaned = clean_photos(list(photos or []))
    now = timezone.now()
    case = transition(case, S.RESOLVED, actor=actor, note=measures, at=now, measures=measures, resolved_at=now)
    _store_photos(case, cleaned, stage=CasePhoto.Stage.RESOLVED, actor=actor, at=now)
    return case


@transaction.atomic
def case_rate(*, actor: Any, case: Case, rating: str, note: str = "") -> Case:
    """满意 / 基本满意 close the case; 不满意 reopens it to in progress with a fresh resolve-by
    counted from now (never overdue on reopening). Nothing else changes state."""
    require_actor(actor)
    if rating not in Case.Rating.values:
        raise ValidationError(_("Unknown rating %(r)s.") % {"r": rating})
    note = _check_text(note, _("Note"), required=False)
    now = timezone.now()
    if rating == Case.Rating.UNSATISFIED:
        resolve_by = resolve_deadline(case.category, now, case.county_code)
        return transition(case, S.IN_PROGRESS, actor=actor, move=CaseEvent.Kind.REOPENED, at=now, note=note,
                          rating=rating, resolve_by=resolve_by, resolved_at=None, rated_unsatisfied=True,
                          late_since=None, data={"rating": rating, "resolve_by": resolve_by.isoformat()})
    return transition(case, S.CLOSED, actor=actor, at=now, note=note, rating=rating, closed_at=now,
                      data={"rating": rating})


@transaction.atomic
def case_reject(*, actor: Any, case: Case, reason: str) -> Case:
    require_actor(actor)
    reason = _check_text(reason, _("Reason"))
    now = timezone.now()
    return transition(case, S.REJECTED, actor=actor, note=reason, at=now, closed_at=now)


@transaction.atomic
def case_merge(*, actor: Any, case: Case, into: Case, note: str = "") -> Case:
    """A duplicate joins the case that carries the work: it leaves the open list (status
    merged) and points at `into`; both timelines record it. Only a case not yet being worked
    on may be merged, and only into an open case of the same county that is not itself merged."""
    require_actor(actor)
    note = _check_text(note, _("Note"), required=False)
    if into.pk == case.pk:
        raise ValidationError(_("A case cannot be merged into itself."))
    if into.county_id != case.county_id:
        raise ValidationError(_("Cases of different counties cannot be merged."))
    if into.status not in OPEN_STATUSES:
        raise ValidationError(_("Case %(n)s is no longer open; merge into an open case.") % {"n": into.number})
    now = timezone.now()
    case = transition(case, S.MERGED, actor=actor, note=note, at=now, merged_into=into, closed_at=now,
                      data={"into": into.number})
    record(into, kind=CaseEvent.Kind.MERGED, actor=actor, at=now, note=note, data={"duplicate": case.number})
    return case


@transaction.atomic
def case_transfer(*, actor: Any, case: Case, unit: str, responsible: Any = None, note: str = "") -> Case:
    """Hand an accepted case to another unit (or person). The status and deadline stay: a
    transfer does not buy time (ask for an extension for that)."""
    require_actor(actor)
    unit = _check_text(unit, _("Responsible unit"), limit=100)
    note = _check_text(note, _("Note"), required=False)
    if case.status not in (S.ACCEPTED, S.IN_PROGRESS):
        raise ValidationError(_("Only an accepted case can be transferred."), code="transition")
    if unit == case.responsible_unit and getattr(responsible, "pk", None) == case.responsible_id:
        raise ValidationError(_("The case is already with this unit."))
    now = timezone.now()
    old_unit, old_person = case.responsible_unit, case.responsible_id
    changed = Case.objects.filter(pk=case.pk, status=case.status, responsible_unit=old_unit,
                                  responsible_id=old_person).update(
        responsible_unit=unit, responsible=responsible, updated_at=now)
    if changed != 1:
        raise ValidationError(_("The case was changed by someone else; reload it."), code="conflict")
    record(case, kind=CaseEvent.Kind.TRANSFERRED, actor=actor, at=now, note=note,
           data={"from_unit": old_unit, "to_unit": unit, "from_person": old_person,
                 "to_person": getattr(responsible, "pk", None)})
    audit_record(actor=actor, action="update", obj=case, note="transferred",
                 changes={"responsible_unit": [old_unit, unit],
                          "responsible": [old_person, getattr(responsible, "pk", None)]})
    case.refresh_from_db()
    return case


def supervisor_region(case: Case) -> Region:
    """Who decides an extension: the tier above the case's current tier (village tier → its
    township; township or county tier → its county)."""
    level = Level.TOWNSHIP if case.tier == Case.Tier.VILLAGE else Level.COUNTY
    found = Region.objects.get_ancestors(case.region).filter(level=level).first() \
        if case.region.level != level else case.region
    if found is None:
        raise ValidationError(_("No region above this case decides extensions."))
    return found


def may_decide_extension(user: Any, case: Case) -> bool:
    return scope_for(user).covers_path(supervisor_region(case).path, write=True)


@transaction.atomic
def case_extension_ask(*, actor: Any, case: Case, until: dt.datetime, reason: str) -> DeadlineExtension:
    """Ask the tier above for a later resolve-by. One pending request per case."""
    require_actor(actor)
    reason = _check_text(reason, _("Reason"), limit=1000)
    if case.status not in (S.ACCEPTED, S.IN_PROGRESS):
        raise ValidationError(_("Only a case being worked on can get more time."), code="transition")
    now = timezone.now()
    if timezone.is_naive(until):
        raise ValidationError(_("The new deadline needs a time zone."))
    if until <= max(case.resolve_by, now):
        raise ValidationError(_("The new deadline must be later than the current one and in the future."))
    if DeadlineExtension.objects.filter(case=case, status=DeadlineExtension.Status.PENDING).exists():
        raise ValidationError(_("An extension is already waiting for a decision."), code="conflict")
    ext = DeadlineExtension.objects.create(case=case, asked_by=actor, asked_at=now, old_resolve_by=case.resolve_by,
                                           until=until, reason=reason)
    record(case, kind=CaseEvent.Kind.EXTENSION_ASKED, actor=actor, at=now, note=reason,
           data={"extension": ext.pk, "until": until.isoformat()})
    audit_record(actor=actor, action="create", obj=ext, changes={"until": [None, until]})
    return ext


@transaction.atomic
def case_extension_decide(
    *, actor: Any, extension: DeadlineExtension, grant: bool, note: str = ""
) -> DeadlineExtension:
    """The tier above grants (the case's resolve-by becomes the new date) or refuses. A grant
    never clears an overdue flag already frozen on the case."""
    require_actor(actor)
    note = _check_text(note, _("Note"), limit=1000, required=not grant)
    case = extension.case
    if not may_decide_extension(actor, case):
        raise ValidationError(_("Only the level above may decide this extension."), code="permission")
    now = timezone.now()
    status = DeadlineExtension.Status.GRANTED if grant else DeadlineExtension.Status.REFUSED
    current = DeadlineExtension.objects.get(pk=extension.pk)
    transition(current, status, actor=actor, at=now, note=note, decided_by=user_of(actor), decided_at=now,
               decision_note=note, changes={"status": [DeadlineExtension.Status.PENDING, status]})
    if grant:
        if extension.until <= now:
            raise ValidationError(_("The asked deadline has already passed; ask again."))
        if Case.objects.filter(pk=case.pk, status__in=(S.ACCEPTED, S.IN_PROGRESS)).update(
                resolve_by=extension.until, updated_at=now) != 1:
            raise ValidationError(_("The case is no longer being worked on."), code="conflict")
    kind = CaseEvent.Kind.EXTENSION_GRANTED if grant else CaseEvent.Kind.EXTENSION_REFUSED
    record(case, kind=kind, actor=actor, at=now, note=note,
           data={"extension": extension.pk, "until": extension.until.isoformat()})
    extension.refresh_from_db()
    return extension


def case_reporter_phone_reveal(*, actor: Any, case: Case, request: Any = None) -> str:
    """The reporter's full phone for a call back, with an audit row (rule 8: every reveal is
    audited). The case's handlers (a write post over its region) may call their reporter; other
    readers need the reveal permission. No phone on record is a ValidationError."""
    require_actor(actor)
    scope = scope_for(actor)
    if not scope.covers_path(case.region.path):
        raise PermissionDenied
    if not (scope.covers_path(case.region.path, write=True) or scope.can_reveal):
        raise PermissionDenied
    reporter = case.reporter
    if reporter is None or not reporter.phone:
        raise ValidationError(_("No phone is on record for this reporter."))
    audit_record(actor=actor, action=AuditEntry.Action.REVEAL, obj=reporter, request=request,
                 county_code=case.county_code, changes={"field": "phone", "case": case.number},
                 note=_("call back the reporter of case %(n)s") % {"n": case.number})
    return str(reporter.phone)

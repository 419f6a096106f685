"""Every write to care data (ARCHITECTURE rule 1): the pages, the API, the device handlers,
the sweep and the demo call these. Each begins with `require_actor(actor)`, checks the
actor's role over the elder's region (`hemei.core.scope.require`), works in one transaction
and writes its audit row. Work orders are cases: their state changes go through
`hemei.cases.services` (and so the case workflow table)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.care.access import ELDERS
from hemei.care.models import (
    Assessment,
    CareAgreement,
    CareVisit,
    DutyShift,
    Elder,
    EmergencyContact,
    Institution,
    Level,
    Living,
    Metric,
    NormsCheck,
    Reading,
    ServiceItem,
    StaffMember,
    Threshold,
    WorkOrder,
    level_for,
)
from hemei.cases import services as cases
from hemei.cases.models import Case, CaseEvent, Category
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import is_system, require, require_actor, scope_for, user_of
from hemei.core.workflow import record, transition
from hemei.regions.models import Level as RegionLevel
from hemei.regions.models import Region, Resident, Role

# The eldercare categories of the default catalogue (migration 0002), by what a call is.
CARE_CATEGORIES: dict[str, str] = {"call": "紧急呼叫", "service": "生活服务", "health": "健康异常"}
IMPAIRED = (Level.SEVERE, Level.TOTAL)
# Months to the next assessment: GB/T 42195 asks for a reassessment at least yearly, and
# sooner when the state changes; the impaired are reassessed every six months here.
REASSESS_MONTHS: dict[str, int] = {Level.INTACT: 12, Level.MILD: 12, Level.MODERATE: 6, Level.SEVERE: 6,
                                   Level.TOTAL: 6}
# Values no instrument gives: refused as input errors, not stored as alarms.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    Metric.HEART_RATE: (20, 250), Metric.SYSTOLIC: (50, 260), Metric.DIASTOLIC: (30, 160),
    Metric.GLUCOSE: (1.0, 35.0), Metric.SPO2: (50, 100), Metric.FALL: (0, 1), Metric.DOOR_IDLE: (0, 24 * 14),
}
FUTURE_SLACK = dt.timedelta(minutes=5)


# --- elders -----------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


@transaction.atomic
def elder_register(
    *, actor: Any, resident: Resident, living: str = Living.WITH_FAMILY, monitored: bool = False,
    has_call_box: bool = False, visits_per_week: int = 0, health_notes: str = "",
) -> Elder:
    """A resident gets a care profile (once)."""
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], resident.region)
    if living not in Living.values:
        raise ValidationError(_("Unknown living situation %(v)s.") % {"v": living})
    if not 0 <= visits_per_week <= 14:
        raise ValidationError(_("Home visits a week: 0 to 14."))
    if Elder.objects.filter(resident=resident).exists():
        raise ValidationError(_("This resident already has a care profile."), code="duplicate")
    notes = clean_text(health_notes, _("Health notes"), limit=2000, required=False)
    elder = Elder.objects.create(resident=resident, county=county_of(resident.region), region=resident.region,
                                 living=living, monitored=monitored, has_call_box=has_call_box,
                                 visits_per_week=visits_per_week, health_notes=notes)
    # Health notes never enter the audit log in clear (only that they were given).
    audit_record(actor=actor, action="create", obj=elder,
                 changes={"living": [None, living], "monitored": [None, monitored],
                          "health_notes": [None, bool(notes)]})
    return elder


@transaction.atomic
def elder_assess(*, actor: Any, elder: Elder, score: Any, on: dt.date | None = None) -> Assessment:
    """Record a GB/T 42195-2022 assessment: the level follows from the 0–90 score, the
    reassessment date from the level; 重度 and 完全丧失 get at least the impaired visit plan."""
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], elder.region)
    try:
        level = level_for(score)
    except ValueError:
        raise ValidationError(_("The ability score is a whole number from 0 to 90."), code="score") from None
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError(_("An assessment cannot be dated in the future."))
    reassess = _add_months(on, REASSESS_MONTHS[level])
    row = Assessment.objects.create(elder=elder, score=score, level=level, assessed_on=on, reassess_on=reassess,
                                    assessor=user_of(actor))
    visits = elder.visits_per_week
    if level in IMPAIRED:
        visits = max(visits, settings.HEMEI_CARE_VISITS_IMPAIRED)
    old = {"ability_score": elder.ability_score, "ability_level": elder.ability_level}
    Elder.objects.filter(pk=elder.pk).update(ability_score=score, ability_level=level, assessed_on=on,
                                             reassess_on=reassess, visits_per_week=visits)
    audit_record(actor=actor, action="update", obj=elder, note="assessed",
                 changes={"ability_score": [old["ability_score"], score],
                          "ability_level": [old["ability_level"], level]})
    elder.refresh_from_db()
    return row


@transaction.atomic
def contact_add(*, actor: Any, elder: Elder, name: str, phone: str, relation: str = "") -> EmergencyContact:
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], elder.region)
    name = clean_text(name, _("Name"), limit=50, required=True)
    relation = clean_text(relation, _("Relation"), limit=20, required=False)
    phone = "".join(str(phone or "").split())
    if not phone.isdigit() or not 7 <= len(phone) <= 15:
        raise ValidationError(_("A phone number has 7 to 15 digits."), code="phone")
    contact = EmergencyContact.objects.create(elder=elder, name=name, relation=relation, phone=phone)
    audit_record(actor=actor, action="create", obj=elder, note="emergency contact",
                 changes={"contact": [None, contact.pk]})
    return contact


@transaction.atomic
def agreement_sign(
    *, actor: Any, elder: Elder, items: Iterable[str], signed_on: dt.date, valid_until: dt.date,
    institution: Institution | None = None,
) -> CareAgreement:
    """A care agreement listing GB/T 43153-2023 service items."""
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], elder.region)
    chosen = list(dict.fromkeys(items or []))
    unknown = [i for i in chosen if i not in ServiceItem.values]
    if unknown or not chosen:
        raise ValidationError(_("Choose service items from GB/T 43153-2023."), code="items")
    if valid_until <= signed_on:
        raise ValidationError(_("An agreement must end after it is signed."))
    if institution is not None and institution.county_id != elder.county_id:
        raise ValidationError(_("The provider is in another county."))
    row = CareAgreement.objects.create(elder=elder, institution=institution, items=chosen, signed_on=signed_on,
                                       valid_until=valid_until)
    audit_record(actor=actor, action="create", obj=row, changes={"items": [None, chosen]})
    return row


def _may_reveal(actor: Any, elder: Elder) -> None:
    if not scope_for(actor).covers_path(elder.region.path):
        raise PermissionDenied
    if not scope_for(actor).can_reveal:
        raise PermissionDenied(_("You may not reveal personal data."))


def health_reveal(*, actor: Any, elder: Elder, request: HttpRequest | None = None) -> dict[str, Any]:
    """The elder's health notes and latest readings in clear, for a user allowed to reveal
    personal data; each reveal is an audit row (like ID numbers on the roster)."""
    require_actor(actor)
    _may_reveal(actor, elder)
    audit_record(actor=actor, action=AuditEntry.Action.REVEAL, obj=elder, request=request,
                 changes={"field": "health"})
    latest = {r.metric: r.value for r in elder.readings.order_by("metric", "-at").distinct()[:50]}
    return {"health_notes": elder.health_notes, "latest": latest}


def contact_phone_reveal(*, actor: Any, contact: EmergencyContact, request: HttpRequest | None = None) -> str:
    require_actor(actor)
    _may_reveal(actor, contact.elder)
    audit_record(actor=actor, action=AuditEntry.Action.REVEAL, obj=contact.elder, request=request,
                 changes={"field": "contact_phone", "contact": contact.pk})
    return contact.phone


# --- duty roster ------------------------------------------------------------------------------


@transaction.atomic
def shift_add(*, actor: Any, region: Region, carer: Any, starts_at: dt.datetime, ends_at: dt.datetime) -> DutyShift:
    """Put a carer on duty for an area (a village or a township)."""
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], region)
    if region.level not in (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP):
        raise ValidationError(_("A duty shift covers a village or a township."))
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at) or ends_at <= starts_at:
        raise ValidationError(_("A shift ends after it starts (times with a time zone)."))
    if ends_at - starts_at > dt.timedelta(hours=24):
        raise ValidationError(_("A shift lasts at most 24 hours."))
    if Role.CARE_WORKER not in scope_for(carer).roles_over(region.path):
        raise ValidationError(_("The person on duty must be a care worker of this area."))
    shift = DutyShift.objects.create(county=county_of(region), region=region, carer=carer, starts_at=starts_at,
                                     ends_at=ends_at)
    audit_record(actor=actor, action="create", obj=shift, changes={"carer": [None, carer.pk]})
    return shift


def on_duty(region: Region, at: dt.datetime) -> list[Any]:
    """The carers on duty at `at` for an area containing `region` (its village or township)."""
    step = Region.steplen
    prefixes = [region.path[:i] for i in range(step, len(region.path) + 1, step)]
    shifts = (DutyShift.objects.filter(region__path__in=prefixes, starts_at__lte=at, ends_at__gt=at)
              .select_related("carer").order_by("-region__depth", "starts_at", "pk"))
    return list(dict.fromkeys(s.carer for s in shifts if s.carer.is_active))


# --- work orders ------------------------------------------------------------------------------


def _category(kind: str, county: Region) -> Category:
    """The county's own eldercare category of that name, else the default catalogue's."""
    name = CARE_CATEGORIES.get(kind)
    if name is None:
        raise ValidationError(_("Unknown kind of call %(k)s.") % {"k": kind})
    rows = {row.county_id: row for row in Category.objects.filter(name=name, active=True)
            .filter(Q(county=county) | Q(county__isnull=True))}
    found = rows.get(county.pk) or rows.get(None)
    if found is None:
        raise ValidationError(_("The eldercare category %(n)s is missing.") % {"n": name})
    return found


def _may_call(actor: Any, elder: Elder) -> None:
    """The system (a device), the elder's own household on the phone page, or care staff."""
    if is_system(actor):
        return
    if elder.resident.household_id in scope_for(actor).household_ids:
        return
    require(actor, ELDERS.actions["act"], elder.region)


TITLES = {"call": "一键呼叫", "service": "生活服务", "health": "健康异常"}


@transaction.atomic
def open_call(
    elder: Elder, *, actor: Any, at: dt.datetime | None = None, source_ref: str = "", kind: str = "call",
    source: str = Case.Source.DEVICE, note: str = "",
) -> WorkOrder:
    """Open a care work order for `elder` (a call-box press, the phone page's call button, a
    reading out of range).

    1. The same `source_ref` (the device's message id, the page's submission key) for the
       same elder returns the order already opened: a double press opens one order.
    2. The case (an eldercare category) is submitted with accept-by after two response
       periods: the carer on duty has the first (`respond_by`), the care-centre lead the
       second (`hemei.care.sweep`); after that the case climbs township → county by its
       category's minutes (`hemei.cases.sweep`).
    3. The carers on duty (or, with nobody on duty, the area's care workers) are told at once.
    """
    require_actor(actor)
    _may_call(actor, elder)
    source_ref = (source_ref or "").strip()[:64]
    note = clean_text(note, _("Note"), limit=500, required=False)
    Elder.objects.select_for_update().filter(pk=elder.pk).first()  # one press at a time per elder
    if source_ref:
        existing = WorkOrder.objects.filter(elder=elder, source_ref=source_ref).select_related("case").first()
        if existing is not None:
            existing.replayed = True  # type: ignore[attr-defined]
            return existing
    category = _category(kind, elder.county)
    minutes = category.accept_minutes or settings.HEMEI_CARE_RESPONSE_MINUTES
    now = timezone.now()
    respond_by = now + dt.timedelta(minutes=minutes)
    resident = elder.resident
    when = timezone.localtime(at or now)
    description = note or _("%(what)s at %(time)s.") % {"what": TITLES[kind], "time": f"{when:%Y-%m-%d %H:%M}"}
    case = cases.case_submit(
        actor=actor, region=elder.region, category=category, title=TITLES[kind], description=description,
        source=source, household=resident.household, reporter=resident,
        accept_by=now + dt.timedelta(minutes=2 * minutes),
    )
    carers = on_duty(elder.region, now)
    try:
        with transaction.atomic():
            order = WorkOrder.objects.create(case=case, elder=elder, county=elder.county, region=elder.region,
                                             respond_by=respond_by, carer=carers[0] if carers else None,
                                             source_ref=source_ref, created_at=now)
    except IntegrityError:
        raise ValidationError(_("This call was opened already."), code="conflict") from None
    audit_record(actor=actor, action="create", obj=order, changes={"case": [None, case.number], "kind": [None, kind]})
    from hemei.care.notifications import tell_on_duty

    tell_on_duty(order, carers)
    order.replayed = False  # type: ignore[attr-defined]
    return order


def _order_act(actor: Any, order: WorkOrder) -> None:
    require_actor(actor)
    require(actor, ELDERS.actions["act"], order.region)


@transaction.atomic
def order_accept(*, actor: Any, order: WorkOrder) -> WorkOrder:
    """The carer takes the call on: the case is accepted with the carer responsible."""
    _order_act(actor, order)
    cases.case_accept(actor=actor, case=order.case, responsible=user_of(actor), unit=_("Elderly care"))
    # Read again under the case's acceptance: the sweep may have moved the step to the lead
    # since the page was read, and the move starts from the step as it is now.
    current = WorkOrder.objects.select_for_update().get(pk=order.pk)
    return transition(current, WorkOrder.Step.ANSWERED, actor=actor, carer=user_of(actor) or current.carer)


@transaction.atomic
def order_arrive(*, actor: Any, order: WorkOrder) -> WorkOrder:
    """The carer checks in at the elder's home (once, after accepting)."""
    _order_act(actor, order)
    if order.case.status != Case.Status.ACCEPTED:
        raise ValidationError(_("Take the call on before checking in."), code="transition")
    now = timezone.now()
    if WorkOrder.objects.filter(pk=order.pk, arrived_at__isnull=True).update(arrived_at=now) != 1:
        raise ValidationError(_("Arrival was already checked in."), code="conflict")
    record(order.case, kind=CaseEvent.Kind.ARRIVED, actor=actor, at=now,
           data={"minutes": round((now - order.case.created_at).total_seconds() / 60, 1)})
    audit_record(actor=actor, action="update", obj=order, note="arrived", changes={"arrived_at": [None, now]})
    order.refresh_from_db()
    return order


@transaction.atomic
def order_finish(*, actor: Any, order: WorkOrder, note: str) -> WorkOrder:
    """The service is done: the case is resolved with the carer's note."""
    _order_act(actor, order)
    if order.arrived_at is None:
        raise ValidationError(_("Check in on arrival before finishing."), code="transition")
    cases.case_resolve(actor=actor, case=order.case, measures=note)
    order.case.refresh_from_db()
    return order


@transaction.atomic
def order_rate(*, actor: Any, order: WorkOrder, rating: str, note: str = "") -> WorkOrder:
    """The elder or the family (their villager account), or a carer for them, rates it."""
    require_actor(actor)
    _may_call(actor, order.elder)
    cases.case_rate(actor=actor, case=order.case, rating=rating, note=note)
    order.case.refresh_from_db()
    return order


# --- health readings -----------------------------------------------------------------------------


def thresholds_for(elder: Elder) -> dict[str, tuple[float | None, float | None]]:
    ranges = dict(settings.HEMEI_CARE_THRESHOLDS)
    for row in elder.thresholds.all():
        ranges[row.metric] = (row.low, row.high)
    return ranges


def flag_for(metric: str, value: float, ranges: dict[str, tuple[float | None, float | None]]) -> str:
    low, high = ranges.get(metric, (None, None))
    if low is not None and value < low:
        return Reading.Flag.LOW
    if high is not None and value > high:
        return Reading.Flag.HIGH
    return Reading.Flag.NORMAL


@transaction.atomic
def threshold_set(*, actor: Any, elder: Elder, metric: str, low: float | None, high: float | None) -> Threshold:
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], elder.region)
    if metric not in Metric.values:
        raise ValidationError(_("Unknown metric %(m)s.") % {"m": metric})
    if low is not None and high is not None and low >= high:
        raise ValidationError(_("The lowest normal value must be below the highest."))
    row, _created = Threshold.objects.update_or_create(elder=elder, metric=metric, defaults={"low": low, "high": high})
    audit_record(actor=actor, action="update", obj=elder, note="threshold", changes={metric: [None, [low, high]]})
    return row


def _clean_value(metric: str, value: Any) -> float:
    if metric not in Metric.values:
        raise ValidationError(_("Unknown metric %(m)s.") % {"m": metric}, code="metric")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(_("A reading is a number."), code="value") from None
    low, high = PLAUSIBLE[metric]
    if not math.isfinite(number) or not low <= number <= high:
        raise ValidationError(_("%(m)s %(v)s is not a possible reading.") % {"m": metric, "v": value}, code="value")
    return number


@transaction.atomic
def reading_record(
    *, actor: Any, elder: Elder, metric: str, value: Any, at: dt.datetime | None = None,
    source: str = Reading.Source.HTTP, device_code: str = "", message_id: str = "",
) -> Reading:
    """Store one reading, flagged against the elder's thresholds. The same `message_id` again
    returns the stored reading (`replayed`); a time far ahead is refused."""
    require_actor(actor)
    if not is_system(actor):
        require(actor, ELDERS.actions["reading"], elder.region)
    number = _clean_value(metric, value)
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at) or at > now + FUTURE_SLACK:
        raise ValidationError(_("A reading cannot lie in the future."), code="time")
    message_id = (message_id or "").strip()[:64]
    if message_id:
        existing = Reading.objects.filter(elder=elder, message_id=message_id).first()
        if existing is not None:
            existing.replayed = True  # type: ignore[attr-defined]
            return existing
    reading = Reading.objects.create(
        elder=elder, county=elder.county, region=elder.region, metric=metric, value=number, at=at,
        flag=flag_for(metric, number, thresholds_for(elder)), source=source, device_code=device_code[:64],
        message_id=message_id, recorded_by=user_of(actor),
    )
    reading.replayed = False  # type: ignore[attr-defined]
    return reading


def previous_flag(reading: Reading) -> str:
    """The flag of the elder's reading of the same metric just before this one."""
    before = (Reading.objects.filter(elder_id=reading.elder_id, metric=reading.metric)
              .filter(Q(at__lt=reading.at) | Q(at=reading.at, pk__lt=reading.pk))
              .order_by("-at", "-pk").values_list("flag", flat=True).first())
    return before or ""


@transaction.atomic
def reading_submit(
    *, actor: Any, elder: Elder, metric: str, value: Any, at: dt.datetime | None = None, message_id: str = "",
) -> Reading:
    """A reading entered by hand or over the API: stored, and when it is out of range (and
    the one before was not), a 健康异常 work order is opened for the elder."""
    reading = reading_record(actor=actor, elder=elder, metric=metric, value=value, at=at, message_id=message_id)
    if reading.flag and not getattr(reading, "replayed", False) and not previous_flag(reading):
        label = Metric(metric).label
        open_call(elder, actor=actor, at=reading.at, source_ref=f"reading-{reading.pk}", kind="health",
                  source=Case.Source.API, note=_("%(m)s out of range.") % {"m": label})
    return reading


# --- visit plans ---------------------------------------------------------------------------------

# Weekdays of the visits for n visits a week (Monday = 0), spread over the week.
SPREAD: dict[int, tuple[int, ...]] = {1: (2,), 2: (1, 4), 3: (0, 2, 4), 4: (0, 1, 3, 4), 5: (0, 1, 2, 3, 4),
                                      6: (0, 1, 2, 3, 4, 5), 7: (0, 1, 2, 3, 4, 5, 6)}


def _due_by(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(20, 0)))


@transaction.atomic
def visits_plan(*, actor: Any, week_of: dt.date, region: Region | None = None) -> int:
    """Create the week's due visits for every elder with a visit plan (in `region`, default
    everywhere the actor may manage); idempotent: a visit already planned stays."""
    require_actor(actor)
    monday = week_of - dt.timedelta(days=week_of.weekday())
    elders = ELDERS.queryset(actor, write=False).filter(visits_per_week__gt=0)
    if region is not None:
        require(actor, ELDERS.actions["manage"], region)
        elders = elders.filter(region__path__startswith=region.path)
    elif not is_system(actor):
        raise ValidationError(_("Choose the area to plan visits for."))
    rows = []
    for elder in elders.only("pk", "county_id", "region_id", "visits_per_week"):
        for weekday in SPREAD[min(elder.visits_per_week, 7)]:
            day = monday + dt.timedelta(days=weekday)
            rows.append(CareVisit(elder_id=elder.pk, county_id=elder.county_id, region_id=elder.region_id,
                                  due_on=day, due_by=_due_by(day)))
    before = CareVisit.objects.filter(due_on__gte=monday, due_on__lt=monday + dt.timedelta(days=7)).count()
    CareVisit.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    made = CareVisit.objects.filter(due_on__gte=monday, due_on__lt=monday + dt.timedelta(days=7)).count() - before
    audit_record(actor=actor, action="create", object_type="care.carevisit", object_repr=f"week {monday}",
                 county_code=region.code[:6] if region is not None else "", changes={"planned": made})
    return made


@transaction.atomic
def visit_done(*, actor: Any, visit: CareVisit, note: str = "") -> CareVisit:
    require_actor(actor)
    require(actor, ELDERS.actions["act"], visit.region)
    note = clean_text(note, _("Note"), limit=2000, required=False)
    now = timezone.now()
    return transition(visit, CareVisit.Status.DONE, actor=actor, at=now, visitor=user_of(actor), done_at=now,
                      note=note)


# --- institutions ----------------------------------------------------------------------------------


@transaction.atomic
def institution_create(
    *, actor: Any, region: Region, name: str, kind: str, beds: int = 0, occupied: int = 0, area_m2: int = 0,
    grade: int = 0, lead: Any = None,
) -> Institution:
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], region)
    if kind not in Institution.Kind.values:
        raise ValidationError(_("Unknown kind of institution."))
    if not 0 <= grade <= 5:
        raise ValidationError(_("GB/T 37276-2018 has levels 1 to 5 (0: not rated)."))
    if occupied > beds or min(beds, occupied, area_m2) < 0:
        raise ValidationError(_("Occupied beds cannot exceed the beds."))
    row = Institution.objects.create(county=county_of(region), region=region, name=clean_text(name, _("Name"),
                                     limit=100, required=True), kind=kind, beds=beds, occupied=occupied,
                                     area_m2=area_m2, grade=grade, lead=lead)
    audit_record(actor=actor, action="create", obj=row, changes={"beds": [None, beds], "grade": [None, grade]})
    return row


@transaction.atomic
def staff_add(*, actor: Any, institution: Institution, name: str, role: str = "", certificate: str = "",
              certified_until: dt.date | None = None) -> StaffMember:
    require_actor(actor)
    require(actor, ELDERS.actions["manage"], institution.region)
    row = StaffMember.objects.create(institution=institution, name=clean_text(name, _("Name"), limit=50,
                                     required=True), role=role[:30], certificate=certificate[:50],
                                     certified_until=certified_until)
    audit_record(actor=actor, action="create", obj=institution, note="staff", changes={"staff": [None, row.pk]})
    return row


NORMS = ("服务合同", "入院评估", "照护计划", "消防安全", "食品安全", "人员持证", "服务记录", "投诉处理")


@transaction.atomic
def norms_check_record(*, actor: Any, institution: Institution, month: dt.date, items: dict[str, bool]) -> NormsCheck:
    """One month's service-norms checklist (every item of NORMS answered)."""
    require_actor(actor)
    require(actor, frozenset({Role.TOWNSHIP_STAFF, Role.COUNTY_ADMIN}), institution.region)
    if set(items) != set(NORMS):
        raise ValidationError(_("Answer every item of the service-norms checklist."))
    row, _created = NormsCheck.objects.update_or_create(
        institution=institution, month=month.replace(day=1),
        defaults={"items": {k: bool(v) for k, v in items.items()}, "checked_by": user_of(actor)})
    audit_record(actor=actor, action="update", obj=institution, note="norms", changes={"norms": [None, row.share_met]})
    return row


def certified_share(institution: Institution, on: dt.date | None = None) -> float:
    on = on or timezone.localdate()
    staff = list(institution.staff.all())
    if not staff:
        return 0.0
    ok = sum(1 for s in staff if s.certificate and (s.certified_until is None or s.certified_until >= on))
    return ok / len(staff)


@transaction.atomic
def institution_rate(*, actor: Any, institution: Institution, month: dt.date) -> Any:
    """The month's rating of a care institution: occupancy, satisfaction with the work orders
    of its village rated that month, and the share of service norms met (hemei.care.rating)."""
    require_actor(actor)
    from hemei.care.rating import rating_record
    from hemei.care.selectors import satisfaction

    first = month.replace(day=1)
    check = NormsCheck.objects.filter(institution=institution, month=first).first()
    if check is None:
        raise ValidationError(_("Record the month's service-norms check first."))
    inputs = {"occupancy": institution.occupancy, "satisfaction": satisfaction(institution.region, first),
              "norms": check.share_met}
    return rating_record(actor=actor, kind="care_institution", operator=institution.name,
                         region=institution.region, month=first, inputs=inputs, institution=institution)

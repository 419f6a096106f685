"""Every write to a case (ARCHITECTURE rule 1). Each step is one transition in `ALLOWED`,
applied with a conditional update on (pk, status) so that two clerks acting at once never
both act (rule 6), and each writes a `CaseEvent` and an audit row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.cases.deadlines import accept_deadline, resolve_deadline
from hemei.cases.models import Case, CaseCounter, CaseEvent, Category
from hemei.core.audit import audit_record
from hemei.regions.models import Household, Level, Region, Resident

S = Case.Status
# The workflow: status → statuses it may move to. Anything else is refused and changes nothing.
ALLOWED: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.MERGED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.MERGED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),  # rating: closed, or 不满意 reopens
    S.CLOSED: frozenset(),
    S.REJECTED: frozenset(),
    S.MERGED: frozenset(),
}
OPEN_STATUSES = (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)
TEXT_LIMIT = 4000


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _county_of(region: Region) -> Region:
    if region.level == Level.COUNTY:
        return region
    county = Region.objects.get_ancestors(region).filter(level=Level.COUNTY).first()
    if county is None:
        raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": region})
    return county


def _next_number(county: Region, year: int) -> str:
    """`<county code>-<year>-<6-digit seq>`: the counter row is locked until the case commits,
    so two submissions in the same county and year never get the same number."""
    CaseCounter.objects.get_or_create(county=county, year=year)
    counter = CaseCounter.objects.select_for_update().get(county=county, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{county.code}-{year}-{counter.last:06d}"


def _event(case: Case, *, kind: str, actor: Any, at: dt.datetime, from_status: str = "", to_status: str = "",
           note: str = "", data: dict[str, Any] | None = None) -> CaseEvent:
    return CaseEvent.objects.create(case=case, at=at, actor=_user(actor), kind=kind, from_status=from_status,
                                    to_status=to_status, note=note, data=data or {})


def _check_text(value: str, label: str, *, limit: int = TEXT_LIMIT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("%(field)s is required.") % {"field": label})
    if len(value) > limit:
        raise ValidationError(_("%(field)s is longer than %(n)d characters.") % {"field": label, "n": limit})
    return value


@transaction.atomic
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
) -> Case:
    """A new case at a village or grid, with its number and deadlines from the category."""
    if region.level not in (Level.VILLAGE, Level.GRID):
        raise ValidationError(_("A case belongs to a village or a grid."))
    if source not in Case.Source.values:
        raise ValidationError(_("Unknown source %(s)s.") % {"s": source})
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
    now = timezone.now()
    case = Case.objects.create(
        number=_next_number(county, timezone.localtime(now).year),
        county=county, region=region, household=household, reporter=reporter, reporter_name=reporter_name,
        source=source, category=category, title=title, description=description,
        accept_by=accept_deadline(category, now, county.code),
        resolve_by=resolve_deadline(category, now, county.code),
        created_by=_user(actor), created_at=now, updated_at=now,
    )
    _event(case, kind=CaseEvent.Kind.SUBMITTED, actor=actor, at=now, to_status=S.SUBMITTED,
           data={"accept_by": case.accept_by.isoformat(), "resolve_by": case.resolve_by.isoformat()})
    audit_record(actor=actor, action="create", obj=case,
                 changes={"status": [None, S.SUBMITTED], "category": [None, category.name]})
    return case


def _transition(case: Case, *, to: str, actor: Any, kind: str, note: str = "", data: dict[str, Any] | None = None,
                fields: dict[str, Any] | None = None, now: dt.datetime | None = None) -> Case:
    """1. refuse a move not in ALLOWED; 2. update only if the row still has the status we read
    (rowcount 1), otherwise someone else acted first and nothing changes; 3. write the event
    and the audit row; 4. refresh the caller's object."""
    old = case.status
    if to not in ALLOWED.get(old, frozenset()):
        raise ValidationError(
            _("A case cannot go from %(old)s to %(new)s.") % {"old": S(old).label, "new": S(to).label},
            code="transition",
        )
    now = now or timezone.now()
    values = {"status": to, "updated_at": now, **(fields or {})}
    if Case.objects.filter(pk=case.pk, status=old).update(**values) != 1:
        raise ValidationError(_("The case was changed by someone else; reload it."), code="conflict")
    _event(case, kind=kind, actor=actor, at=now, from_status=old, to_status=to, note=note, data=data)
    changes: dict[str, Any] = {"status": [old, to]}
    changes.update({k: [None, v] for k, v in (fields or {}).items() if k not in ("updated_at",)})
    audit_record(actor=actor, action="update", obj=case, changes=changes, note=kind)
    case.refresh_from_db()
    return case


@transaction.atomic
def case_accept(*, actor: Any, case: Case, responsible: Any = None, unit: str = "") -> Case:
    unit = _check_text(unit, _("Responsible unit"), limit=100, required=responsible is None)
    now = timezone.now()
    return _transition(case, to=S.ACCEPTED, actor=actor, kind=CaseEvent.Kind.ACCEPTED, now=now,
                       fields={"responsible": responsible, "responsible_unit": unit, "accepted_at": now},
                       data={"responsible": getattr(responsible, "pk", None), "unit": unit})


@transaction.atomic
def case_start(*, actor: Any, case: Case, note: str = "") -> Case:
    note = _check_text(note, _("Note"), required=False)
    return _transition(case, to=S.IN_PROGRESS, actor=actor, kind=CaseEvent.Kind.STARTED, note=note)


@transaction.atomic
def case_resolve(*, actor: Any, case: Case, measures: str) -> Case:
    measures = _check_text(measures, _("Measures taken"))
    now = timezone.now()
    return _transition(case, to=S.RESOLVED, actor=actor, kind=CaseEvent.Kind.RESOLVED, note=measures, now=now,
                       fields={"measures": measures, "resolved_at": now})


@transaction.atomic
def case_rate(*, actor: Any, case: Case, rating: str, note: str = "") -> Case:
    """满意 / 基本满意 close the case; 不满意 reopens it to in progress with a fresh resolve-by
    counted from now (never overdue on reopening). Nothing else changes state."""
    if rating not in Case.Rating.values:
        raise ValidationError(_("Unknown rating %(r)s.") % {"r": rating})
    note = _check_text(note, _("Note"), required=False)
    now = timezone.now()
    if rating == Case.Rating.UNSATISFIED:
        resolve_by = resolve_deadline(case.category, now, case.county_code)
        return _transition(case, to=S.IN_PROGRESS, actor=actor, kind=CaseEvent.Kind.REOPENED, now=now, note=note,
                           fields={"rating": rating, "resolve_by": resolve_by, "resolved_at": None},
                           data={"rating": rating, "resolve_by": resolve_by.isoformat()})
    return _transition(case, to=S.CLOSED, actor=actor, kind=CaseEvent.Kind.RATED, now=now, note=note,
                       fields={"rating": rating, "closed_at": now}, data={"rating": rating})


@transaction.atomic
def case_reject(*, actor: Any, case: Case, reason: str) -> Case:
    reason = _check_text(reason, _("Reason"))
    now = timezone.now()
    return _transition(case, to=S.REJECTED, actor=actor, kind=CaseEvent.Kind.REJECTED, note=reason, now=now,
                       fields={"closed_at": now})

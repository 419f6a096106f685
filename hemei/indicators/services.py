"""Every write of indicator data: the village's period form, its approval and correction,
and the imports (Excel and the DHIS2-style JSON) that fill forms.

Validation (`validate_values`) is the same for all three ways in: values are numbers ≥ 0,
whole numbers where the element counts things, a status is 0/1 with done ⇒ started, and an
element declared `not_above` another (numerator ≤ denominator) may not exceed it. A form with
any error changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import may, require_actor, user_of
from hemei.core.workflow import transition
from hemei.core.xlsx import ErrorList, ImportResult, RowError
from hemei.indicators import catalogue, rollup
from hemei.indicators.access import APPROVE_ROLES, ENTRY_ROLES
from hemei.indicators.models import Report, ReportValue
from hemei.indicators.periods import Kind, Period, PeriodError, parse
from hemei.regions.models import Level, Region

S = Report.Status
ENTERED = {e.code: e for e in catalogue.ENTERED}
# Status elements: 1 when the village has started / is done / used that way, else 0.
STATUS_CODES = frozenset(f"{p.code}.{s}" for p in catalogue.PROGRAMMES for s in ("started", "done", *p.modes))


def entry_period(code: str) -> Period:
    """The month of a form; ValidationError for anything else (forms are monthly)."""
    try:
        period = parse(code)
    except PeriodError:
        raise ValidationError(_("Not a period: %(p)s (a month is written 202611).") % {"p": code},
                              code="period") from None
    if period.kind != Kind.MONTH:
        raise ValidationError(_("Figures are entered per month (e.g. 202611), not %(p)s.") % {"p": code},
                              code="period")
    return period


def parse_value(element: str, raw: Any) -> Decimal:
    """One value: a known entered element, a number, ≥ 0, whole where it counts things."""
    spec = ENTERED.get(element)
    if spec is None:
        raise ValidationError(_("Unknown data element %(e)s.") % {"e": element}, code="element")
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Not a number: %(v)s.") % {"v": raw}, code="number") from None
    if not value.is_finite():
        raise ValidationError(_("Not a number: %(v)s.") % {"v": raw}, code="number")
    if value < 0:
        raise ValidationError(_("A value may not be negative."), code="negative")
    if spec.integer and value != value.to_integral_value():
        raise ValidationError(_("%(e)s is a count: a whole number.") % {"e": spec.name}, code="integer")
    if element in STATUS_CODES and value not in (0, 1):
        raise ValidationError(_("A status is 0 or 1."), code="status")
    if value >= Decimal("1e15"):
        raise ValidationError(_("The value is too large."), code="large")
    return value


def validate_values(values: Mapping[str, Decimal]) -> dict[str, str]:
    """Errors between values of one form: element → message (empty: valid)."""
    errors: dict[str, str] = {}
    for code, value in values.items():
        spec = ENTERED[code]
        if spec.not_above and spec.not_above in values and value > values[spec.not_above]:
            errors[code] = _("%(a)s may not exceed %(b)s.") % {"a": spec.name, "b": ENTERED[spec.not_above].name}
    for programme in catalogue.PROGRAMMES:
        started = values.get(f"{programme.code}.started", Decimal(0))
        done = values.get(f"{programme.code}.done", Decimal(0))
        modes = [values.get(f"{programme.code}.{m}", Decimal(0)) for m in programme.modes]
        if done and not started:
            errors[f"{programme.code}.done"] = _("%(p)s: a village that is done has started.") % {"p": programme.name}
        if programme.modes and sum(modes) > 1:
            errors[f"{programme.code}.{programme.modes[0]}"] = _("%(p)s: choose one way.") % {"p": programme.name}
        if programme.modes and sum(modes) != done:
            errors[f"{programme.code}.done"] = _("%(p)s: done means one of the ways is chosen.") % {
                "p": programme.name}
    return errors


def _require_village(actor: Any, village: Region, roles: frozenset[str]) -> None:
    require_actor(actor)
    if village.level != Level.VILLAGE:
        raise ValidationError(_("Figures are entered for a village."), code="level")
    if not may(actor, roles, village):
        raise PermissionDenied(_("You may not do this here."))


def current_values(village: Region, period: Period) -> tuple[Report | None, dict[str, Decimal]]:
    """The open version (draft or submitted) or else the approved one, with its values."""
    reports = {r.status: r for r in Report.objects.filter(village=village, period=period.code)
               .exclude(status=S.SUPERSEDED)}
    report = reports.get(S.DRAFT) or reports.get(S.SUBMITTED) or reports.get(S.APPROVED)
    if report is None:
        return None, {}
    return report, dict(report.values.values_list("element", "value"))


@transaction.atomic
def report_save(*, actor: Any, village: Region, period: str, values: Mapping[str, Any], note: str = "",
                replace: bool = True) -> Report:
    """Save a village's month as a draft.

    1. The actor enters for the village (committee or accountant); the period is a month.
    2. Every value is parsed and the form validated; any error → ValidationError (a dict of
       element → message), nothing written.
    3. A draft is updated in place. A submitted report is refused (the township has it). An
       approved report is never changed: a new version is drafted that supersedes it when
       approved (a correction).
    4. `replace=False` keeps the elements not given (imports fill part of a form).
    """
    _require_village(actor, village, ENTRY_ROLES)
    month = entry_period(period)
    parsed: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for code, raw in values.items():
        if raw is None or str(raw).strip() == "":
            continue
        try:
            parsed[code] = parse_value(code, raw)
        except ValidationError as exc:
            errors[code] = exc.messages[0]
    report = (Report.objects.select_for_update().filter(village=village, period=month.code)
              .exclude(status=S.SUPERSEDED).order_by("-version").first())
    if report is not None and report.status == S.SUBMITTED:
        raise ValidationError(_("This month is with the township for approval; it can be changed after it "
                                "is returned or approved."), code="submitted")
    if not replace and report is not None:
        parsed = {**dict(report.values.values_list("element", "value")), **parsed}
    errors.update({k: v for k, v in validate_values(parsed).items() if k not in errors})
    if errors:
        raise ValidationError(errors)
    if report is None or report.status == S.APPROVED:
        report = Report.objects.create(
            county_id=_county_id(village), village=village, period=month.code,
            version=(report.version + 1) if report else 1, supersedes=report, note=note[:500],
            created_by=user_of(actor) if getattr(user_of(actor), "pk", None) else None)
        action = AuditEntry.Action.CREATE
    else:
        report.note = note[:500]
        report.save(update_fields=["note"])
        action = AuditEntry.Action.UPDATE
    report.values.all().delete()
    ReportValue.objects.bulk_create([ReportValue(report=report, element=k, value=v) for k, v in parsed.items()])
    audit_record(actor=actor, action=action, obj=report,
                 changes={"period": month.code, "version": report.version, "values": {k: str(v) for k, v in
                                                                                      parsed.items()}})
    return report


def _county_id(village: Region) -> int:
    county = village.county_ancestor()
    if county is None:
        raise ValidationError(_("The village lies in no county."), code="county")
    return county.pk


def report_submit(*, actor: Any, report: Report) -> Report:
    require_actor(actor)
    return transition(report, S.SUBMITTED, actor=actor, submitted_at=timezone.now())


def report_return(*, actor: Any, report: Report, reason: str) -> Report:
    require_actor(actor)
    if not reason.strip():
        raise ValidationError(_("Say why the report goes back."), code="reason")
    return transition(report, S.DRAFT, actor=actor, move="returned", note=reason[:1000])


@transaction.atomic
def report_approve(*, actor: Any, report: Report) -> Report:
    """Township approval: the version it corrects (if any) is superseded, this one approved
    and locked, and the village's summaries updated at once (`rollup.refresh_reports`)."""
    require_actor(actor)
    _require_village(actor, report.village, APPROVE_ROLES)
    now = timezone.now()
    if report.supersedes_id is not None:
        old = Report.objects.select_for_update().get(pk=report.supersedes_id)
        transition(old, S.SUPERSEDED, actor=actor, note=_("corrected by version %(v)d") % {"v": report.version})
    transition(report, S.APPROVED, actor=actor, approved_at=now)
    rollup.refresh_reports(report.village_id, parse(report.period))
    return report


@dataclass
class ValueRow:
    """One value to import: where it came from (a sheet row, or the index in a JSON list)."""

    row: int
    village: str
    period: str
    element: str
    value: Any


def values_import(*, actor: Any, rows: Iterable[ValueRow], submit: bool = True) -> ImportResult:
    """Import values all-or-nothing: each village-month's values are merged into its form
    (a draft, or a new version of an approved one) and the forms submitted for approval.

    1. Every row is checked on its own (the village exists and the actor enters for it, a
       month, a known entered element, a valid number); then every form as a whole.
    2. Any error: nothing is written, and the result lists every error by row.
    """
    require_actor(actor)
    result = ImportResult(errors=ErrorList())
    groups: dict[tuple[str, str], dict[str, tuple[int, Any]]] = {}
    villages = {r.code: r for r in Region.objects.filter(level=Level.VILLAGE)}
    for row in rows:
        result.rows += 1
        village = villages.get(row.village)
        if village is None:
            result.errors.append(RowError(row.row, "orgUnit", row.village, _("Unknown village code.")))
            continue
        if not may(actor, ENTRY_ROLES, village):
            result.errors.append(RowError(row.row, "orgUnit", row.village, _("You may not enter figures here.")))
            continue
        try:
            entry_period(row.period)
            parse_value(row.element, row.value)
        except ValidationError as exc:
            column = "period" if exc.code == "period" else "dataElement" if exc.code == "element" else "value"
            result.errors.append(RowError(row.row, column, str(row.value if column == "value" else
                                                               row.period if column == "period" else row.element),
                                          exc.messages[0]))
            continue
        form = groups.setdefault((row.village, row.period), {})
        if row.element in form:
            result.errors.append(RowError(row.row, "dataElement", row.element, _("The same value twice.")))
        form[row.element] = (row.row, row.value)
    if result.errors:
        return result
    try:
        with transaction.atomic():
            for (code, period), form in groups.items():
                first = min(r for r, _v in form.values())
                try:
                    report = report_save(actor=actor, village=villages[code], period=period,
                                         values={k: v for k, (_r, v) in form.items()}, replace=False,
                                         note=_("imported"))
                    if submit:
                        report_submit(actor=actor, report=report)
                except ValidationError as exc:
                    messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
                    for element, errs in messages.items():
                        row_no = form[element][0] if element in form else first
                        result.errors.append(RowError(row_no, "value", element, "; ".join(errs)))
                    continue
                result.created += len(form)
            if result.errors:
                raise _Rollback
    except _Rollback:
        result.created = 0
        return result
    result.ok = True
    return result


class _Rollback(Exception):
    pass

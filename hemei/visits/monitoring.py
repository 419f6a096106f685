"""Return-to-poverty monitoring (防返贫动态监测): entry, the procedure and risk removal.

Procedure (DOMAIN.md): 入户核实 → 村级评议 + 公示 ≥ 5 days → 乡镇审核 → 县级审定, normally within
15 days. Each open step has a deadline (`step_due`) in working days from `hemei.core.calendar`;
a missed one climbs a tier through the shared sweep (`hemei.visits.sweep`). Every step moves
with a conditional update on (pk, step) so two clerks never both act (rule 6), writes a
`MonitoringEvent` and an audit row.

The whole procedure also has its own clock, `procedure_due`: 15 calendar days from the lead (the
visit that found the household, else the entry), escalated through its own sweeper like a step.

Who acts: verification at the household's grid, the village review and notice at its village,
the township review at its township, the county decision at its county (a write post over that
region; a superuser anywhere).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.calendar import add_working_days
from hemei.core.pii import describe, find_health_details, find_personal_data
from hemei.core.scope import require_actor, user_of
from hemei.core.workflow import record, transition
from hemei.regions.access import scope_for
from hemei.regions.models import Household, Level, Region
from hemei.visits.models import (
    OPEN_STEPS,
    AssistanceMeasure,
    IncomeCheck,
    Monitoring,
    Visit,
)
from hemei.visits.services import _money, _text
from hemei.visits.workflow import MONITORING

St = Monitoring.Step
# Working days for each step (the notice itself runs in calendar days, then the village has
# NOTICE days to conclude): 3 + 2 + 5-day notice + 1 + 3 + 3 ≈ 15 days overall.
DEFAULT_STEP_DAYS: dict[str, int] = {St.VERIFY: 3, St.REVIEW: 2, St.NOTICE: 1, St.TOWNSHIP: 3, St.COUNTY: 3}
MIN_NOTICE_DAYS = 5
STABLE_MONTHS = 6
# Which region level decides each open step.
STEP_LEVEL: dict[str, str] = {
    St.VERIFY: Level.GRID,
    St.REVIEW: Level.VILLAGE,
    St.NOTICE: Level.VILLAGE,
    St.TOWNSHIP: Level.TOWNSHIP,
    St.COUNTY: Level.COUNTY,
}


# The whole procedure, from the lead to the county's decision (DOMAIN.md: normally 15 days), in
# calendar days; once missed, each tier it climbs to gets PROCEDURE_ESCALATED_DAYS working days.
DEFAULT_PROCEDURE_DAYS = 15
DEFAULT_PROCEDURE_ESCALATED_DAYS = 3


def procedure_days() -> int:
    return int(getattr(settings, "HEMEI_MONITORING_PROCEDURE_DAYS", DEFAULT_PROCEDURE_DAYS))


def procedure_escalated_days() -> int:
    return int(getattr(settings, "HEMEI_MONITORING_PROCEDURE_ESCALATED_DAYS", DEFAULT_PROCEDURE_ESCALATED_DAYS))


def procedure_deadline(lead_at: dt.datetime) -> dt.datetime:
    """The procedure's overall deadline: `procedure_days()` calendar days after the lead, at the
    end of that day (a lead in the morning and one at night get the same last day)."""
    last = timezone.localtime(lead_at).date() + dt.timedelta(days=procedure_days())
    return dt.datetime.combine(last, dt.time(23, 59), tzinfo=timezone.get_default_timezone())


def notice_problems(text: str) -> list[str]:
    """What the public notice must not carry: ID numbers, phones, bank cards, health details."""
    problems: list[str] = []
    findings = find_personal_data(text)
    if findings:
        problems.append(_("personal data: %(what)s") % {"what": describe(findings)})
    health = find_health_details(text)
    if health:
        problems.append(_("health details: %(what)s") % {"what": "、".join(health)})
    return problems


def notice_is_public(m: Monitoring, today: dt.date | None = None) -> bool:
    """A notice is public during its period only: not before, and not after (whatever became
    of the record since)."""
    today = today or timezone.localdate()
    return m.notice_from is not None and m.notice_until is not None and m.notice_from <= today <= m.notice_until


def step_days(step: str) -> int:
    days = getattr(settings, "HEMEI_MONITORING_STEP_DAYS", {}) or {}
    return int(days.get(step, DEFAULT_STEP_DAYS[step]))


def step_deadline(m: Monitoring, step: str, start: dt.datetime) -> dt.datetime | None:
    """When `step`, begun at `start`, must be done; None for a closed step."""
    if step not in DEFAULT_STEP_DAYS:
        return None
    if step == St.NOTICE and m.notice_until is not None:
        # The notice must run to its last day; the village then has a working day to conclude.
        end = dt.datetime.combine(m.notice_until, dt.time(23, 59), tzinfo=timezone.get_default_timezone())
        start = max(start, end)
    return add_working_days(start, step_days(step), county_code=m.county_code)


def open_monitoring(household: Household) -> Monitoring | None:
    """The household's record in procedure or under monitoring, if any."""
    return household.monitorings.filter(step__in=[*OPEN_STEPS, St.MONITORED]).first()


def with_deciding_regions(qs: QuerySet[Monitoring]) -> QuerySet[Monitoring]:
    """Records with the paths of the township and the county above them (`township_path`,
    `county_path`), from subqueries in the records' own query: a list deciding who acts on
    each record (`can_act`) then asks no query per record at those steps."""
    def above(level: str) -> Subquery:
        return Subquery(Region.objects.filter(level=level, path=Substr(OuterRef("region__path"), 1, Length("path")))
                        .values("path")[:1])

    return qs.annotate(township_path=above(Level.TOWNSHIP), county_path=above(Level.COUNTY))


def step_region(m: Monitoring, step: str) -> Region:
    """The region whose write post decides `step` (grid, village, township or county)."""
    level = STEP_LEVEL.get(step, Level.VILLAGE)
    if level == Level.GRID:
        return m.region
    if level == Level.VILLAGE:
        return m.household.village
    step_len = Region.steplen
    prefixes = [m.region.path[:i] for i in range(step_len, len(m.region.path), step_len)]
    region = Region.objects.filter(path__in=prefixes, level=level).first()
    if region is None:
        raise ValidationError(_("No %(level)s above this household.") % {"level": level})
    return region


def can_act(user: Any, m: Monitoring, step: str | None = None) -> bool:
    step = step or m.step
    if step not in STEP_LEVEL and step != St.MONITORED:
        return False
    step = step if step in STEP_LEVEL else St.VERIFY
    # A township's or county's path from `with_deciding_regions` when the record has it.
    path = getattr(m, f"{STEP_LEVEL[step]}_path", None) if STEP_LEVEL[step] in (Level.TOWNSHIP, Level.COUNTY) else None
    return scope_for(user).covers_path(path or step_region(m, step).path, write=True)


def _require(user: Any, m: Monitoring, step: str | None = None) -> None:
    if not can_act(user, m, step):
        raise ValidationError(_("This step is decided at another level."), code="scope")


def _clean_risks(risks: list[str] | None) -> list[str]:
    risks = list(dict.fromkeys(risks or []))
    bad = [r for r in risks if r not in Monitoring.Risk.values]
    if bad:
        raise ValidationError(_("Unknown risk type %(r)s.") % {"r": ", ".join(bad)})
    return risks


@transaction.atomic
def monitoring_enter(
    *,
    actor: Any,
    household: Household,
    source: str,
    kind: str = "",
    risks: list[str] | None = None,
    detail: str = "",
    income_per_capita: Any = None,
    has_labour: bool = True,
    department: str = "",
    visit: Visit | None = None,
    skip_scope: bool = False,
) -> Monitoring:
    """A household enters the procedure at 入户核实. Refused when it already has an open record.
    `skip_scope` only for callers that checked it (a villager's own household, a visit)."""
    require_actor(actor)
    if source not in Monitoring.Source.values:
        raise ValidationError(_("Unknown source %(s)s.") % {"s": source})
    if kind and kind not in Monitoring.Kind.values:
        raise ValidationError(_("Unknown kind %(k)s.") % {"k": kind})
    if not skip_scope and not scope_for(actor).covers_path(household.region.path, write=True):
        raise ValidationError(_("This is outside your area."), code="scope")
    Household.objects.select_for_update().filter(pk=household.pk).first()  # one open record per household
    if open_monitoring(household) is not None:
        raise ValidationError(_("This household is already under monitoring or in the procedure."), code="duplicate")
    now = timezone.now()
    m = Monitoring(
        household=household,
        county_id=household.county_id,
        region=household.region,
        kind=kind,
        risks=_clean_risks(risks),
        source=source,
        department=_text(department, _("Department"), limit=100),
        detail=_text(detail, _("Situation"), limit=2000),
        income_per_capita=_money(income_per_capita, _("Income")),
        has_labour=has_labour,
        visit=visit,
        step=St.VERIFY,
        step_started_at=now,
        created_by=user_of(actor),
        created_at=now,
        updated_at=now,
    )
    m.region = household.region
    m.step_due = step_deadline(m, St.VERIFY, now)
    # The lead is the visit that found the household, else the entry itself.
    m.procedure_due = procedure_deadline(min(visit.visited_at, now) if visit is not None else now)
    m.save()
    record(m, kind="entered", actor=actor, at=now, to_state=St.VERIFY, data={"source": source})
    audit_record(actor=actor, action="create", obj=m, changes={"step": [None, St.VERIFY], "source": [None, source]})
    return m


def _to_step(
    m: Monitoring,
    *,
    to: str,
    actor: Any,
    kind: str,
    note: str = "",
    fields: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Monitoring:
    """The move in the table (`hemei.visits.workflow`); the new step gets its deadline, the
    tier goes back to the village (a new step starts fresh; its own lateness escalates it)."""
    now = timezone.now()
    for key, value in (fields or {}).items():
        setattr(m, key, value)  # the deadline of the notice step reads notice_until
    values: dict[str, Any] = {"step_started_at": now, "step_due": step_deadline(m, to, now), **(fields or {})}
    if to in OPEN_STEPS:
        values["tier"] = Monitoring.Tier.VILLAGE
    changes = {"step": [m.step, to], **{k: [None, v] for k, v in (fields or {}).items()}}
    return transition(m, to, actor=actor, move=kind, note=note, data=data, at=now, changes=changes, **values)


def _refuse_step(m: Monitoring) -> ValidationError:
    return ValidationError(_("Not possible at the step %(s)s.") % {"s": St(m.step).label}, code="transition")


def _movable(m: Monitoring, to: str) -> None:
    """Refuse, before anything else is checked, a step the table has no move for."""
    if MONITORING.find(m.step, to) is None:
        raise _refuse_step(m)


@transaction.atomic
def monitoring_verify(
    *,
    actor: Any,
    monitoring: Monitoring,
    confirmed: bool,
    kind: str = "",
    risks: list[str] | None = None,
    has_labour: bool | None = None,
    note: str = "",
) -> Monitoring:
    """入户核实: confirmed → 村级评议 (kind and at least one risk type needed); else not included."""
    require_actor(actor)
    m = monitoring
    _movable(m, St.REVIEW if confirmed else St.NOT_INCLUDED)
    _require(actor, m)
    note = _text(note, _("Note"))
    if not confirmed:
        return _to_step(
            m, to=St.NOT_INCLUDED, actor=actor, kind="not_confirmed", note=note, fields={"decided_at": timezone.now()}
        )
    kind = kind or m.kind
    if kind not in Monitoring.Kind.values:
        raise ValidationError(_("Choose the kind of household."))
    risks = _clean_risks(risks if risks is not None else m.risks)
    if not risks:
        raise ValidationError(_("Choose at least one risk type."))
    fields: dict[str, Any] = {"kind": kind, "risks": risks}
    if has_labour is not None:
        fields["has_labour"] = has_labour
    return _to_step(m, to=St.REVIEW, actor=actor, kind="verified", note=note, fields=fields)


@transaction.atomic
def monitoring_publish_notice(
    *, actor: Any, monitoring: Monitoring, start: dt.date, days: int, text: str = ""
) -> Monitoring:
    """村级评议 held: the public notice runs `days` (≥ 5) calendar days from `start`."""
    require_actor(actor)
    m = monitoring
    _movable(m, St.NOTICE)
    _require(actor, m)
    if days < MIN_NOTICE_DAYS:
        raise ValidationError(_("A public notice runs at least %(n)d days.") % {"n": MIN_NOTICE_DAYS}, code="notice")
    if start < timezone.localdate() - dt.timedelta(days=1):
        raise ValidationError(_("The notice cannot start in the past."))
    problems = notice_problems(text)
    if problems:
        raise ValidationError(
            _("The public notice may not contain ID numbers, phones, bank cards or health details. Found %(what)s.")
            % {"what": "; ".join(problems)},
            code="personal",
        )
    until = start + dt.timedelta(days=days - 1)
    return _to_step(
        m,
        to=St.NOTICE,
        actor=actor,
        kind="notice",
        note=_text(text, _("Notice text")),
        fields={"notice_from": start, "notice_until": until, "notice_text": _text(text, _("Notice text"))},
        data={"from": start.isoformat(), "until": until.isoformat()},
    )


@transaction.atomic
def monitoring_village_decide(*, actor: Any, monitoring: Monitoring, agreed: bool, note: str = "") -> Monitoring:
    """After the notice has run its days (objections considered) the village passes it on."""
    require_actor(actor)
    m = monitoring
    _movable(m, St.TOWNSHIP if agreed else St.NOT_INCLUDED)
    _require(actor, m)
    if m.notice_until is None or timezone.localdate() <= m.notice_until:
        raise ValidationError(_("The public notice runs until %(d)s.") % {"d": m.notice_until}, code="notice")
    note = _text(note, _("Note"))
    if not agreed:
        return _to_step(
            m, to=St.NOT_INCLUDED, actor=actor, kind="village_refused", note=note, fields={"decided_at": timezone.now()}
        )
    return _to_step(m, to=St.TOWNSHIP, actor=actor, kind="village_agreed", note=note)


@transaction.atomic
def monitoring_township_decide(*, actor: Any, monitoring: Monitoring, agreed: bool, note: str = "") -> Monitoring:
    require_actor(actor)
    m = monitoring
    _movable(m, St.COUNTY if agreed else St.NOT_INCLUDED)
    _require(actor, m)
    note = _text(note, _("Note"))
    if not agreed:
        return _to_step(
            m,
            to=St.NOT_INCLUDED,
            actor=actor,
            kind="township_refused",
            note=note,
            fields={"decided_at": timezone.now()},
        )
    return _to_step(m, to=St.COUNTY, actor=actor, kind="township_agreed", note=note)


@transaction.atomic
def monitoring_county_decide(*, actor: Any, monitoring: Monitoring, agreed: bool, note: str = "") -> Monitoring:
    require_actor(actor)
    m = monitoring
    _movable(m, St.MONITORED if agreed else St.NOT_INCLUDED)
    _require(actor, m)
    note = _text(note, _("Note"))
    now = timezone.now()
    if not agreed:
        return _to_step(m, to=St.NOT_INCLUDED, actor=actor, kind="county_refused", note=note,
                        fields={"decided_at": now})
    return _to_step(m, to=St.MONITORED, actor=actor, kind="approved", note=note, fields={"decided_at": now})


ACTIONS = {
    St.VERIFY: "verify",
    St.REVIEW: "notice",
    St.NOTICE: "village",
    St.TOWNSHIP: "township",
    St.COUNTY: "county",
}


@transaction.atomic
def monitoring_add_measure(
    *, actor: Any, monitoring: Monitoring, measure: str, department: str, date: dt.date
) -> AssistanceMeasure:
    require_actor(actor)
    m = monitoring
    if m.step not in (St.MONITORED, *OPEN_STEPS):
        raise _refuse_step(m)
    _require(actor, m, St.VERIFY)
    row = AssistanceMeasure.objects.create(
        monitoring=m,
        measure=_text(measure, _("Measure"), limit=200, required=True),
        department=_text(department, _("Department"), limit=100, required=True),
        date=date,
        recorded_by=actor,
    )
    record(
        m,
        kind="measure",
        actor=actor,
        at=timezone.now(),
        note=row.measure,
        data={"department": row.department, "date": date.isoformat()},
    )
    audit_record(
        actor=actor, action="create", obj=row, county_code=m.county_code, changes={"measure": [None, row.measure]}
    )
    return row


@transaction.atomic
def monitoring_check_income(
    *, actor: Any, monitoring: Monitoring, checked_on: dt.date, income_per_capita: Any, stable: bool, note: str = ""
) -> IncomeCheck:
    require_actor(actor)
    m = monitoring
    if m.step != St.MONITORED:
        raise _refuse_step(m)
    _require(actor, m, St.VERIFY)
    if checked_on > timezone.localdate():
        raise ValidationError(_("A check cannot be dated in the future."))
    income = _money(income_per_capita, _("Per-capita yearly income"))
    if income is None:
        raise ValidationError(_("%(field)s is required.") % {"field": _("Per-capita yearly income")})
    row = IncomeCheck.objects.create(
        monitoring=m,
        checked_on=checked_on,
        income_per_capita=income,
        stable=stable,
        note=_text(note, _("Note"), limit=200),
        recorded_by=actor,
    )
    record(
        m,
        kind="income_check",
        actor=actor,
        at=timezone.now(),
        data={"checked_on": checked_on.isoformat(), "income": str(income), "stable": stable},
    )
    audit_record(
        actor=actor,
        action="create",
        obj=row,
        county_code=m.county_code,
        changes={"income": [None, income], "stable": [None, stable]},
    )
    return row


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def stable_since(m: Monitoring) -> dt.date | None:
    """The first check of the unbroken run of stable checks that ends with the latest check."""
    first: dt.date | None = None
    for check in reversed(list(m.income_checks.order_by("checked_on", "id"))):
        if not check.stable:
            break
        first = check.checked_on
    return first


def removal_blockers(m: Monitoring, on: dt.date | None = None) -> list[str]:
    """Why the risk cannot be removed (empty: it can)."""
    on = on or timezone.localdate()
    reasons: list[str] = []
    if m.step != St.MONITORED:
        reasons.append(_("Only a household under monitoring can have its risk removed."))
    if not m.has_labour:
        reasons.append(_("A household without labour capacity stays under monitoring (no risk removal)."))
    since = stable_since(m)
    if since is None or since > _months_before(on, STABLE_MONTHS):
        reasons.append(
            _("Risk removal needs at least %(n)d months of stable income, recorded in income checks.")
            % {"n": STABLE_MONTHS}
        )
    return reasons


@transaction.atomic
def monitoring_remove_risk(*, actor: Any, monitoring: Monitoring, note: str = "") -> Monitoring:
    """风险消除: only after ≥ 6 months of stable income and never without labour capacity."""
    require_actor(actor)
    m = monitoring
    _require(actor, m, St.VERIFY)
    reasons = removal_blockers(m)
    if reasons:
        raise ValidationError(reasons, code="removal")
    now = timezone.now()
    return _to_step(
        m,
        to=St.REMOVED,
        actor=actor,
        kind="removed",
        note=_text(note, _("Note")),
        fields={"removed_at": now},
        data={"stable_since": str(stable_since(m))},
    )


def parse_decimal(value: str) -> decimal.Decimal | None:
    return _money(value, _("Amount"))

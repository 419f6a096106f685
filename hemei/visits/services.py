"""Every write to visits and patrols (ARCHITECTURE rule 1): keyword-only, atomic, audited.

A problem found on a visit or patrol goes on the ledger through `hemei.cases.services.case_submit`
inside the same transaction, so a visit is never saved without its cases (or the other way
round). A visit that shows income under the province's threshold, or heavy rigid spending,
puts the household into return-to-poverty monitoring (`hemei.visits.monitoring`).
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.cases.models import Case, Category
from hemei.cases.services import case_submit
from hemei.core.audit import audit_record
from hemei.core.parsing import clean_text
from hemei.core.scope import require_actor
from hemei.regions.access import scope_for
from hemei.regions.models import Household, Level, Region
from hemei.visits.models import Monitoring, Patrol, PatrolFinding, PovertyThreshold, Visit, VisitProblem

NOTE_LIMIT = 1000


@dataclass(frozen=True)
class ProblemInput:
    """A problem to put on the ledger: category, one-line title, description."""

    category: Category
    title: str
    description: str


@dataclass(frozen=True)
class FindingInput:
    """A patrol finding; with a category it also becomes a case."""

    text: str
    category: Category | None = None
    title: str = ""


_text = partial(clean_text, limit=NOTE_LIMIT)


def _money(value: Any, label: str) -> decimal.Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01"))
    except (decimal.InvalidOperation, ValueError):
        raise ValidationError(_("%(field)s must be an amount in yuan.") % {"field": label}) from None
    if amount < 0 or amount >= decimal.Decimal("10000000000"):
        raise ValidationError(_("%(field)s must be an amount in yuan.") % {"field": label})
    return amount


def require_write(actor: Any, region: Region) -> None:
    """Writing at a grid needs a write post over it; anything else reads as not found."""
    require_actor(actor)
    if not scope_for(actor).covers_path(region.path, write=True):
        raise ValidationError(_("This is outside your area."), code="scope")


def threshold_for(region: Region, year: int) -> decimal.Decimal | None:
    """The province's monitoring income line for the year (None when not set)."""
    row = PovertyThreshold.objects.filter(province_code=region.code[:2], year=year).first()
    return row.amount if row else None


def _check_moment(value: dt.datetime, label: str, now: dt.datetime, code: str | None = None) -> dt.datetime:
    if timezone.is_naive(value):
        raise ValidationError(_("%(field)s needs a time zone.") % {"field": label}, code=code)
    if value > now + dt.timedelta(minutes=5):
        raise ValidationError(_("%(field)s cannot be in the future.") % {"field": label}, code=code)
    return value


@transaction.atomic
def visit_record(
    *,
    actor: Any,
    household: Household,
    visited_at: dt.datetime | None = None,
    present: bool = True,
    phone_contact: str = "",
    phone_outcome: str = "",
    health_ok: bool = True,
    health_note: str = "",
    housing_safe: bool = True,
    housing_note: str = "",
    water_safe: bool = True,
    water_note: str = "",
    income_per_capita: Any = None,
    heavy_spending: bool = False,
    heavy_spending_amount: Any = None,
    income_note: str = "",
    schooling_ok: bool = True,
    schooling_note: str = "",
    jobs_note: str = "",
    needs: str = "",
    notes: str = "",
    problems: list[ProblemInput] | None = None,
) -> Visit:
    """1. check scope and the form; 2. save the visit; 3. each problem → a case (source visit)
    linked by a `VisitProblem`; 4. income under the threshold or heavy rigid spending → the
    household enters monitoring (unless it already is); 5. audit."""
    require_actor(actor)
    require_write(actor, household.region)
    now = timezone.now()
    # Each refusal of a single field carries that field's name as its code (the API names it).
    visited_at = _check_moment(visited_at or now, _("Visit time"), now, code="visited_at")
    phone_contact = _text(phone_contact, _("Person phoned"), limit=50, required=not present, code="phone_contact")
    phone_outcome = _text(phone_outcome, _("Outcome of the phone call"), required=not present, code="phone_outcome")
    income = _money(income_per_capita, _("Per-capita yearly income"))
    spending = _money(heavy_spending_amount, _("Rigid spending amount"))
    if heavy_spending and spending is None:
        raise ValidationError(_("Give the amount of the heavy rigid spending."), code="heavy_spending_amount")
    visit = Visit.objects.create(
        household=household,
        county_id=household.county_id,
        region=household.region,
        visitor=actor,
        visited_at=visited_at,
        present=present,
        phone_contact=phone_contact,
        phone_outcome=phone_outcome,
        health_ok=health_ok,
        health_note=_text(health_note, _("Health care")),
        housing_safe=housing_safe,
        housing_note=_text(housing_note, _("Housing safety")),
        water_safe=water_safe,
        water_note=_text(water_note, _("Drinking-water safety")),
        income_per_capita=income,
        heavy_spending=heavy_spending,
        heavy_spending_amount=spending,
        income_note=_text(income_note, _("Income and spending")),
        schooling_ok=schooling_ok,
        schooling_note=_text(schooling_note, _("Children's schooling")),
        jobs_note=_text(jobs_note, _("Jobs")),
        needs=_text(needs, _("Needs"), limit=2000),
        notes=_text(notes, _("Notes"), limit=2000),
        created_at=now,
    )
    for problem in problems or []:
        case = case_submit(
            actor=actor,
            region=household.region,
            category=problem.category,
            title=problem.title,
            description=problem.description,
            source=Case.Source.VISIT,
            household=household,
            reporter_name=household.head.name if household.head else "",
        )
        VisitProblem.objects.create(visit=visit, case=case)
    audit_record(
        actor=actor,
        action="create",
        obj=visit,
        changes={
            "household": [None, household.pk],
            "present": [None, present],
            "problems": [None, len(problems or [])],
        },
    )
    threshold = threshold_for(household.region, timezone.localtime(visited_at).year)
    below = income is not None and threshold is not None and income < threshold
    if below or heavy_spending:
        from hemei.visits.monitoring import monitoring_enter, open_monitoring

        if open_monitoring(household) is None:
            risks: list[str] = [str(Monitoring.Risk.OTHER)] if below and not heavy_spending else []
            reason = (
                _("Per-capita income %(i)s under the threshold %(t)s.") % {"i": income, "t": threshold}
                if below
                else _("Heavy rigid spending of %(a)s yuan.") % {"a": spending}
            )
            monitoring_enter(
                actor=actor,
                household=household,
                source=Monitoring.Source.VISIT,
                visit=visit,
                risks=risks,
                detail=reason,
                income_per_capita=income,
                skip_scope=True,
            )
    return visit


@transaction.atomic
def patrol_record(
    *,
    actor: Any,
    grid: Region,
    route: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    summary: str = "",
    findings: list[FindingInput] | None = None,
) -> Patrol:
    """A patrol of one grid; findings with a category become cases (source patrol)."""
    require_actor(actor)
    if grid.level not in (Level.GRID, Level.VILLAGE):
        raise ValidationError(_("A patrol covers a grid or a village."))
    require_write(actor, grid)
    now = timezone.now()
    started_at = _check_moment(started_at, _("Start"), now)
    ended_at = _check_moment(ended_at, _("End"), now)
    if ended_at < started_at:
        raise ValidationError(_("The patrol cannot end before it starts."))
    county = grid.county_ancestor()
    if county is None:
        raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": grid})
    patrol = Patrol.objects.create(
        county=county,
        region=grid,
        patroller=actor,
        route=_text(route, _("Route"), required=True),
        started_at=started_at,
        ended_at=ended_at,
        summary=_text(summary, _("Summary"), limit=2000),
        created_at=now,
    )
    for finding in findings or []:
        text = _text(finding.text, _("Finding"), required=True)
        case = None
        if finding.category is not None:
            case = case_submit(
                actor=actor,
                region=grid,
                category=finding.category,
                title=finding.title or text[:100],
                description=text,
                source=Case.Source.PATROL,
            )
        PatrolFinding.objects.create(patrol=patrol, text=text, case=case)
    audit_record(
        actor=actor,
        action="create",
        obj=patrol,
        changes={"grid": [None, grid.code], "findings": [None, len(findings or [])]},
    )
    return patrol

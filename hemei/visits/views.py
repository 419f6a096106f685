"""Visit, patrol and monitoring pages. Thin: reads via `hemei.visits.access` (out of scope →
404), writes via `hemei.visits.services` / `hemei.visits.monitoring`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.cases.models import Category
from hemei.core.paging import page_of
from hemei.core.parsing import form_values, parse_date, parse_id, parse_int, picked
from hemei.core.pii import mask_health_details, redact
from hemei.core.views import error_text
from hemei.core.xlsx import XLSX_CONTENT_TYPE, xlsx_response
from hemei.core.xlsx_import import xlsx_import_page
from hemei.regions.access import access_household, access_region, access_regions, require_staff_scope, scope_for
from hemei.regions.models import Level, Post, Region, Role
from hemei.regions.selectors import with_village_names
from hemei.visits import monitoring as mon
from hemei.visits import services
from hemei.visits.access import access_monitoring, access_monitorings, access_patrols, access_visit, access_visits
from hemei.visits.export import monitoring_export, visits_export
from hemei.visits.forms import DeclarationForm, MonitoringActionForm, MonitoringNewForm, PatrolForm, VisitForm
from hemei.visits.importer import HEADERS as IMPORT_HEADERS
from hemei.visits.importer import import_department_list
from hemei.visits.models import OPEN_STEPS, Monitoring
from hemei.visits.selectors import coverage, missing_households, period_of

PAGE_SIZE = 50
PROBLEM_ROWS = 3
XLSX = XLSX_CONTENT_TYPE


def _categories(county_id: int) -> list[Category]:
    return list(Category.objects.filter(active=True).filter(Q(county__isnull=True) | Q(county_id=county_id)))


def _local_moment(value: str) -> dt.datetime | None:
    """A datetime-local input (Beijing time) → aware datetime; None when blank or bad."""
    try:
        naive = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if naive is None:
        return None
    return naive.replace(tzinfo=timezone.get_default_timezone()) if timezone.is_naive(naive) else naive


def _household_pk(request: HttpRequest) -> int:
    return parse_id(picked(request, "household")) or 0


def _region_param(request: HttpRequest) -> Region | None:
    code = request.GET.get("region", "")
    return access_region(request.user, code) if code else None


def _default_region(request: HttpRequest) -> Region | None:
    """The user's own post region (a grid worker's grid) when none is asked for."""
    regions = access_regions(request.user).exclude(level__in=[Level.PROVINCE, Level.CITY])
    return regions.order_by("depth", "path").first()


# --- visits ---------------------------------------------------------------------------------


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    region = _region_param(request)
    qs = access_visits(request.user)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    qs = qs.select_related("household__head", "region", "visitor").prefetch_related("problems__case")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "visits/visit_list.html", {"page": page, "region": region})


@login_required
def visit_ledger(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    region = _region_param(request) or _default_region(request)
    if region is None:
        raise Http404
    qs = access_visits(request.user).filter(region__path__startswith=region.path)
    start, end = parse_date(request.GET.get("from", "")), parse_date(request.GET.get("to", ""))
    if start:
        qs = qs.filter(visited_at__date__gte=start)
    if end:
        qs = qs.filter(visited_at__date__lte=end)
    return xlsx_response(visits_export(actor=request.user, region=region, visits=qs), f"visits-{region.code}.xlsx")


def _problems(sent: dict[str, Any], categories: list[Category]) -> list[services.ProblemInput]:
    by_pk = {c.pk: c for c in categories}
    problems = []
    for i in range(1, PROBLEM_ROWS + 1):
        text = sent.get(f"problem_text_{i}") or ""
        title = sent.get(f"problem_title_{i}") or ""
        if not text and not title:
            continue
        category = by_pk.get(sent.get(f"problem_category_{i}") or 0)
        if category is None:
            raise ValidationError(_("Choose a category for problem %(n)d.") % {"n": i})
        problems.append(services.ProblemInput(category, title or text[:100], text or title))
    return problems


VISIT_TEXT_FIELDS = VisitForm.TEXT
VISIT_FLAGS = VisitForm.FLAGS


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    household = access_household(request.user, _household_pk(request), write=True)
    categories = _categories(household.county_id)
    values: dict[str, Any] = {k: "" for k in VISIT_TEXT_FIELDS}
    values.update(
        {k: "1" for k in VISIT_FLAGS},
        present="1",
        heavy_spending="",
        visited_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    )
    errors: list[str] = []
    if request.method == "POST":
        sent = form_values(VisitForm(request.POST, rows=PROBLEM_ROWS))
        values = {k: sent.get(k, "") for k in (*VISIT_TEXT_FIELDS, *VISIT_FLAGS, *VisitForm.OTHER)}
        try:
            visited_at = _local_moment(values["visited_at"])
            if visited_at is None:
                raise ValidationError(_("Give the date and time of the visit."))
            text = {k: values[k] for k in VISIT_TEXT_FIELDS}
            visit = services.visit_record(
                actor=request.user,
                household=household,
                visited_at=visited_at,
                present=values["present"] == "1",
                heavy_spending=values["heavy_spending"] == "1",
                problems=_problems(sent, categories),
                **{k: values[k] == "1" for k in VISIT_FLAGS},
                **text,
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            messages.success(request, _("Visit saved."))
            return redirect("visit-detail", pk=visit.pk)
    return render(
        request,
        "visits/visit_form.html",
        {
            "household": household,
            "categories": categories,
            "values": values,
            "errors": errors,
            "problem_rows": range(1, PROBLEM_ROWS + 1),
            "last_visit": access_visits(request.user).filter(household=household).first(),
        },
    )


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    visit = access_visit(request.user, pk)
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "problems": visit.problems.select_related("case"),
            "monitorings": visit.monitorings.all(),
        },
    )


@login_required
def visit_coverage(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    region = _region_param(request) or _default_region(request)
    if region is None:
        raise Http404
    period = period_of(parse_date(request.GET.get("date", "")) or timezone.localdate())
    rows = coverage(region, period)
    missing = missing_households(region, period)
    total = sum(r.households for r in rows)
    seen = sum(r.visited for r in rows)
    return render(
        request,
        "visits/coverage.html",
        {
            "region": region,
            "period": period,
            "rows": rows,
            "missing": missing,
            "total": total,
            "seen": seen,
            "percent": round(100 * seen / total) if total else 100,
            "chart": [{"name": r.grid.name, "value": r.percent} for r in rows],
            "prev": period.start - dt.timedelta(days=1),
            "next": period.end,
        },
    )


# --- patrols --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def patrol_list(request: HttpRequest) -> HttpResponse:
    """The log and, below it, the form (a grid worker records a patrol of a grid they serve)."""
    require_staff_scope(request.user)
    scope = scope_for(request.user)
    grids = [
        g
        for g in access_regions(request.user, write=True).filter(level=Level.GRID).order_by("code")[:200]
        if scope.covers_path(g.path, write=True)
    ]
    errors: list[str] = []
    values = {"grid": "", "route": "", "started_at": "", "ended_at": "", "summary": ""}
    if request.method == "POST":
        sent = form_values(PatrolForm(request.POST, rows=PROBLEM_ROWS))
        values = {k: sent.get(k, "") for k in values}
        grid = next((g for g in grids if g.code == values["grid"]), None)
        try:
            if grid is None:
                raise ValidationError(_("Choose one of your grids."))
            start, end = _local_moment(values["started_at"]), _local_moment(values["ended_at"])
            if start is None or end is None:
                raise ValidationError(_("Give the start and end of the patrol."))
            county = grid.county_ancestor()
            categories = {c.pk: c for c in _categories(county.pk if county else 0)}
            findings = []
            for i in range(1, PROBLEM_ROWS + 1):
                text = sent.get(f"finding_{i}") or ""
                if text:
                    findings.append(services.FindingInput(text, categories.get(sent.get(f"finding_category_{i}") or 0)))
            services.patrol_record(
                actor=request.user,
                grid=grid,
                route=values["route"],
                started_at=start,
                ended_at=end,
                summary=values["summary"],
                findings=findings,
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            messages.success(request, _("Patrol saved."))
            return redirect("patrol-list")
    qs = access_patrols(request.user).select_related("region", "patroller").prefetch_related("findings__case")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    categories_list = list(Category.objects.filter(active=True, county__isnull=True))
    return render(
        request,
        "visits/patrol_list.html",
        {
            "page": page,
            "grids": grids,
            "errors": errors,
            "values": values,
            "categories": categories_list,
            "finding_rows": range(1, PROBLEM_ROWS + 1),
        },
    )


# --- monitoring -----------------------------------------------------------------------------


@login_required
def monitoring_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    region = _region_param(request)
    qs = access_monitorings(request.user)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    step = request.GET.get("step", "")
    if step in Monitoring.Step.values:
        qs = qs.filter(step=step)
    now = timezone.now()
    if request.GET.get("overdue") == "1":
        qs = qs.filter(Q(step__in=OPEN_STEPS, step_due__lt=now) | Q(was_overdue=True))
    page = page_of(request, with_village_names(qs.select_related("household__head", "region")), PAGE_SIZE)
    for m in page:
        setattr(m, "is_late", m.step in OPEN_STEPS and m.step_due is not None and m.step_due < now)  # noqa: B010
    return render(
        request,
        "visits/monitoring_list.html",
        {
            "page": page,
            "region": region,
            "steps": Monitoring.Step.choices,
            "step": step,
            "overdue": request.GET.get("overdue", ""),
        },
    )


@login_required
def monitoring_ledger(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    region = _region_param(request) or _default_region(request)
    if region is None:
        raise Http404
    qs = access_monitorings(request.user).filter(region__path__startswith=region.path)
    return xlsx_response(monitoring_export(actor=request.user, region=region, records=qs),
                         f"monitoring-{region.code}.xlsx")


@login_required
def monitoring_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    m = access_monitoring(request.user, pk)
    now = timezone.now()
    return render(
        request,
        "visits/monitoring_detail.html",
        {
            "m": m,
            "events": m.events.select_related("actor"),
            "measures": m.measures.all(),
            "checks": m.income_checks.all(),
            "can_act": mon.can_act(request.user, m),
            "can_follow": mon.can_act(request.user, m, Monitoring.Step.VERIFY),
            "action": mon.ACTIONS.get(Monitoring.Step(m.step), ""),
            "kinds": Monitoring.Kind.choices,
            "risks": Monitoring.Risk.choices,
            "is_late": m.step in OPEN_STEPS and m.step_due is not None and m.step_due < now,
            "blockers": mon.removal_blockers(m) if m.step == Monitoring.Step.MONITORED else [],
            "today": timezone.localdate(),
            "notice_ended": m.notice_until is not None and timezone.localdate() > m.notice_until,
        },
    )


@login_required
@require_POST
def monitoring_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require_staff_scope(request.user)
    m = access_monitoring(request.user, pk)
    sent = {**dict.fromkeys(MonitoringActionForm.base_fields, ""), **form_values(MonitoringActionForm(request.POST))}
    agreed, note = sent["agreed"], sent["note"]
    try:
        if action == "verify":
            mon.monitoring_verify(
                actor=request.user,
                monitoring=m,
                confirmed=agreed,
                kind=sent["kind"],
                risks=sent["risks"],
                has_labour=sent["has_labour"],
                note=note,
            )
        elif action == "notice":
            start = sent["start"]
            days = parse_int(sent["days"], minimum=0, maximum=3650) or 0
            if start is None:
                raise ValidationError(_("Give the first day of the notice."))
            mon.monitoring_publish_notice(
                actor=request.user, monitoring=m, start=start, days=days, text=sent["text"]
            )
        elif action == "village":
            mon.monitoring_village_decide(actor=request.user, monitoring=m, agreed=agreed, note=note)
        elif action == "township":
            mon.monitoring_township_decide(actor=request.user, monitoring=m, agreed=agreed, note=note)
        elif action == "county":
            mon.monitoring_county_decide(actor=request.user, monitoring=m, agreed=agreed, note=note)
        elif action == "measure":
            day = sent["date"]
            if day is None:
                raise ValidationError(_("Give the date of the measure."))
            mon.monitoring_add_measure(
                actor=request.user,
                monitoring=m,
                measure=sent["measure"],
                department=sent["department"],
                date=day,
            )
        elif action == "income":
            day = sent["checked_on"]
            if day is None:
                raise ValidationError(_("Give the date of the check."))
            mon.monitoring_check_income(
                actor=request.user,
                monitoring=m,
                checked_on=day,
                income_per_capita=sent["income"],
                stable=sent["stable"],
                note=note,
            )
        elif action == "remove":
            mon.monitoring_remove_risk(actor=request.user, monitoring=m, note=note)
        else:
            raise Http404
    except ValidationError as exc:
        if exc.code == "scope":
            raise PermissionDenied from exc
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("monitoring-detail", pk=m.pk)


@login_required
@require_http_methods(["GET", "POST"])
def monitoring_new(request: HttpRequest) -> HttpResponse:
    """Staff entering a household (a cadre's check or a declaration taken on paper)."""
    require_staff_scope(request.user)
    household = access_household(request.user, _household_pk(request), write=True)
    errors: list[str] = []
    if request.method == "POST":
        sent = {**dict.fromkeys(MonitoringNewForm.base_fields, ""), **form_values(MonitoringNewForm(request.POST))}
        source = sent["source"]
        if source not in (Monitoring.Source.STAFF, Monitoring.Source.SELF):
            source = Monitoring.Source.STAFF
        try:
            m = mon.monitoring_enter(
                actor=request.user,
                household=household,
                source=source,
                kind=sent["kind"],
                risks=sent["risks"],
                detail=sent["detail"],
                has_labour=sent["has_labour"],
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            return redirect("monitoring-detail", pk=m.pk)
    return render(
        request,
        "visits/monitoring_new.html",
        {
            "household": household,
            "errors": errors,
            "kinds": Monitoring.Kind.choices,
            "risks": Monitoring.Risk.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def monitoring_import(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    return xlsx_import_page(
        request, template="visits/monitoring_import.html",
        run=lambda data: import_department_list(actor=request.user, data=data),
        success=_("%(n)d households entered the procedure."),
        context={"headers": IMPORT_HEADERS},
    )


# --- villager and public pages --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def my_declaration(request: HttpRequest) -> HttpResponse:
    """农户申报: a villager declares their own household at risk."""
    post = (
        Post.objects.current()
        .filter(user_id=int(request.user.pk or 0), role=Role.VILLAGER, resident__isnull=False)
        .select_related("resident__household__region")
        .order_by("pk")
        .first()
    )
    if post is None or post.resident is None:
        raise Http404
    household = post.resident.household
    current = mon.open_monitoring(household)
    errors: list[str] = []
    if request.method == "POST" and current is None:
        sent = {**dict.fromkeys(DeclarationForm.base_fields, ""), **form_values(DeclarationForm(request.POST))}
        try:
            current = mon.monitoring_enter(
                actor=request.user,
                household=household,
                source=Monitoring.Source.SELF,
                risks=sent["risks"],
                detail=sent["detail"],
                skip_scope=True,
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            messages.success(request, _("Your declaration has been received. A grid worker will visit you."))
            return redirect("my-declaration")
    return render(
        request,
        "visits/my_declaration.html",
        {
            "current": current,
            "errors": errors,
            "risks": Monitoring.Risk.choices,
        },
    )


def public_notice(request: HttpRequest, village: str, public_id: str) -> HttpResponse:
    """The printable notice for the village board (no login): village, household number, head's
    name, kind and risk types only — never ID numbers, phones, bank accounts or health details.
    Found by its random `public_id` and only during its period; the text is checked before
    publication and redacted here again, so a notice stored before the check leaks nothing."""
    m = (
        Monitoring.objects.select_related("household__head", "household__village")
        .filter(public_id=public_id, household__village__code=village, notice_from__isnull=False)
        .first()
    )
    if m is None or not mon.notice_is_public(m):
        raise Http404
    text = mask_health_details(redact(m.notice_text))
    return render(request, "visits/public_notice.html", {"m": m, "village": m.household.village, "text": text})

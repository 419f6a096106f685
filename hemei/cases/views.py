"""Case pages: the villager's "我要反映" / "我的诉求" and the staff case list, detail, supervision
board and ledger export. Thin: reads via `hemei.cases.access`, writes via `hemei.cases.services`."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from hemei.accounts.models import User
from hemei.cases import services
from hemei.cases.access import access_case, access_cases, villager_resident
from hemei.cases.export import ledger_export
from hemei.cases.forms import CaseActionForm, ExtensionDecisionForm, RateForm, StaffCaseForm, VillagerCaseForm
from hemei.cases.models import Case, CaseEvent, CasePhoto, Category, DeadlineExtension
from hemei.cases.privacy import for_reader, text_findings
from hemei.cases.views_act import handler_of, next_action, reporter_contact, responsible_candidates
from hemei.core import throttle
from hemei.core.paging import page_of
from hemei.core.parsing import form_values, parse_date, parse_id, picked
from hemei.core.views import error_text, photo_response
from hemei.core.xlsx import xlsx_response
from hemei.dashboards.views import case_rates_context
from hemei.regions.access import access_household, access_region, access_regions, require_staff_scope, scope_for
from hemei.regions.models import Level, Post, Region, Resident, Role
from hemei.regions.selectors import with_village_names

PAGE_SIZE = 50
BOARD_LIMIT = 500
S = Case.Status
OPEN = services.OPEN_STATUSES
RESOLVING = (S.ACCEPTED, S.IN_PROGRESS)

# The timeline in plain words for the reporter (适老化: no jargon, no status codes).
PLAIN_EVENTS: dict[str, Any] = {
    CaseEvent.Kind.SUBMITTED: gettext_lazy("We have received your request."),
    CaseEvent.Kind.ACCEPTED: gettext_lazy("Your request has been taken on and someone is responsible for it."),
    CaseEvent.Kind.STARTED: gettext_lazy("Work on your request has started."),
    CaseEvent.Kind.RESOLVED: gettext_lazy("Your request has been dealt with. Please tell us if you are satisfied."),
    CaseEvent.Kind.RATED: gettext_lazy("Thank you for your rating. The request is closed."),
    CaseEvent.Kind.REOPENED: gettext_lazy("You were not satisfied, so the work continues."),
    CaseEvent.Kind.CLOSED: gettext_lazy("The request is closed."),
    CaseEvent.Kind.REJECTED: gettext_lazy("Your request could not be taken on."),
    CaseEvent.Kind.ESCALATED: gettext_lazy("It took too long, so the level above is now supervising it."),
    CaseEvent.Kind.REMINDED: gettext_lazy("The person responsible has been reminded."),
    CaseEvent.Kind.MERGED: gettext_lazy("Someone reported the same problem; both are handled together."),
    CaseEvent.Kind.TRANSFERRED: gettext_lazy("Your request has been passed to the unit that can solve it."),
    CaseEvent.Kind.EXTENSION_ASKED: gettext_lazy("The person responsible has asked for more time."),
    CaseEvent.Kind.EXTENSION_GRANTED: gettext_lazy("More time was granted to finish the work."),
    CaseEvent.Kind.EXTENSION_REFUSED: gettext_lazy("More time was not granted; the work must finish on time."),
    CaseEvent.Kind.PHOTO: gettext_lazy("Photos were added."),
    CaseEvent.Kind.TABLED: gettext_lazy("Your request will be discussed at a village meeting."),
    CaseEvent.Kind.DECIDED: gettext_lazy("The village meeting has decided on your request."),
    CaseEvent.Kind.ORDERED: gettext_lazy("The township has ordered the village to publish it by a deadline."),
    CaseEvent.Kind.ARRIVED: gettext_lazy("The carer has arrived at your home."),
}


def _overdue_q(now: dt.datetime) -> Q:
    """Late now (open and past its current deadline) or late at some point (frozen flags)."""
    return (Q(status=S.SUBMITTED, accept_by__lt=now) | Q(status__in=RESOLVING, resolve_by__lt=now)
            | Q(overdue_accept=True) | Q(overdue_resolve=True))


def _late_since(case: Case, now: dt.datetime) -> dt.datetime | None:
    """When an open case became late: the current deadline if it has passed, else the moment
    it was escalated (the sweep escalates at or just after the missed deadline)."""
    if case.status not in OPEN:
        return None
    deadline = case.accept_by if case.status == S.SUBMITTED else case.resolve_by
    candidates = [t for t in (deadline if deadline < now else None, case.late_since or case.escalated_at)
                  if t is not None]
    return min(candidates) if candidates else None


def _is_late(case: Case, now: dt.datetime) -> bool:
    return case.overdue_accept or case.overdue_resolve or _late_since(case, now) is not None


def _local_date(iso: str) -> str:
    try:
        return timezone.localtime(dt.datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


def _plain_timeline(case: Case) -> list[dict[str, Any]]:
    rows = []
    for event in case.events.order_by("at", "id"):
        text = str(PLAIN_EVENTS.get(event.kind, event.get_kind_display()))
        detail = ""
        if event.kind in (CaseEvent.Kind.RESOLVED, CaseEvent.Kind.REJECTED, CaseEvent.Kind.DECIDED):
            detail = event.note
        elif event.kind == CaseEvent.Kind.ACCEPTED and event.data.get("unit"):
            detail = event.data["unit"]
        elif event.kind == CaseEvent.Kind.TRANSFERRED:
            detail = event.data.get("to_unit", "")
        elif event.kind == CaseEvent.Kind.EXTENSION_GRANTED:
            detail = _("New deadline: %(d)s") % {"d": _local_date(event.data.get("until", ""))}
        elif event.kind == CaseEvent.Kind.MERGED and event.data.get("into"):
            detail = event.data["into"]
        rows.append({"at": event.at, "text": text, "detail": detail})
    return rows


# --- villager pages -------------------------------------------------------------------------


def _villager_cases(user: Any) -> QuerySet[Case]:
    """Only the cases of the villager's own household, even for a user who also holds staff posts."""
    scope = scope_for(user)
    if not scope.household_ids:
        raise Http404
    return access_cases(user).filter(reporter__household_id__in=scope.household_ids)


def _villager_case(user: Any, number: str) -> Case:
    case = _villager_cases(user).select_related("category", "region", "responsible").filter(number=number).first()
    if case is None:
        raise Http404
    return case


def _villager_resident(user: Any) -> Resident:
    resident = villager_resident(user)
    if resident is None:
        raise Http404
    return resident


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    cases = _villager_cases(request.user).select_related("category")[:100]
    return render(request, "cases/my_cases.html", {"cases": cases})


@login_required
@require_http_methods(["GET", "POST"])
def my_case_new(request: HttpRequest) -> HttpResponse:
    resident = _villager_resident(request.user)
    household = resident.household
    categories = list(Category.objects.filter(active=True, self_service=True)
                      .filter(Q(county__isnull=True) | Q(county_id=household.county_id)))
    values = {"category": "", "title": "", "description": "", "key": uuid.uuid4().hex, "lat": "", "long": ""}
    errors: list[str] = []
    findings: list[str] = []
    if request.method == "POST":
        sent = form_values(VillagerCaseForm(request.POST))
        values = {k: sent.get(k, "") for k in values}
        category = next((c for c in categories if str(c.pk) == values["category"]), None)
        findings = _unconfirmed_findings(values, confirmed=sent["confirm"])
        if category is None:
            errors.append(_("Please choose what kind of problem it is."))
        elif findings:
            pass  # the page asks: send anyway, or edit
        elif (wait := throttle.hit("case_create", throttle.account_or_source(request))) is not None:
            return throttle.too_many(wait)
        else:
            try:
                # The key rendered into the form makes a double tap (or a resend on a slow
                # network) return the first case instead of filing a second one.
                case = services.case_submit(
                    actor=request.user, region=household.region, category=category,
                    title=values["title"] or _title_from(values["description"]),
                    description=values["description"], source=Case.Source.VILLAGER, household=household,
                    reporter=resident, idempotency_key=values["key"][:64],
                    photos=request.FILES.getlist("photos"),
                    location=services.Location(lat=values["lat"] or None, long=values["long"] or None),
                )
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(request, _("Your request %(n)s has been sent.") % {"n": case.number})
                return redirect("my-case", number=case.number)
    return render(request, "cases/my_case_new.html",
                  {"categories": categories, "values": values, "errors": errors, "findings": findings})


def _unconfirmed_findings(values: dict[str, str], *, confirmed: bool) -> list[str]:
    """Personal data in the text the author has not yet confirmed sending (as disclosure
    authors are asked): labels with the numbers masked, or [] once `confirm=1` is sent."""
    if confirmed:
        return []
    return [f.label() for f in text_findings(values.get("title", ""), values.get("description", ""))]


def _title_from(description: str) -> str:
    """The first sentence, cut to 30 characters: elderly reporters write one text, not two."""
    first = description.strip().replace("\n", " ")
    for stop in "。！？!?；;，,":
        first = first.split(stop)[0]
    return first[:30]


@login_required
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    case = _villager_case(request.user, number)
    return render(request, "cases/my_case.html", {
        "case": case, "timeline": _plain_timeline(case), "ratings": Case.Rating.choices,
        "can_rate": case.status == S.RESOLVED, "photos": _photos_by_stage(case),
        "handler": handler_of(case), "is_open": case.status in OPEN,
    })


def _photos_by_stage(case: Case) -> list[CasePhoto]:
    """The problem's photos first, then the result's (the page labels the two groups)."""
    return sorted(case.photos.all(), key=lambda p: (p.stage != CasePhoto.Stage.REPORTED, p.uploaded_at, p.pk))


@login_required
def my_case_photo(request: HttpRequest, number: str, photo_id: int) -> FileResponse:
    return photo_response(_villager_case(request.user, number).photos.all(), photo_id)


@login_required
@require_POST
def my_case_rate(request: HttpRequest, number: str) -> HttpResponse:
    case = _villager_case(request.user, number)
    try:
        services.case_rate(actor=request.user, case=case, rating=form_values(RateForm(request.POST)).get("rating", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Thank you for your rating."))
    return redirect("my-case", number=case.number)


# --- staff pages ----------------------------------------------------------------------------


def _filtered_cases(request: HttpRequest, now: dt.datetime) -> tuple[QuerySet[Case], dict[str, Any]]:
    qs = access_cases(request.user)
    code = request.GET.get("region", "")
    region = access_region(request.user, code) if code else None
    f = {k: request.GET.get(k, "") for k in ("status", "category", "overdue", "tier")}
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    if f["status"] in S.values:
        qs = qs.filter(status=f["status"])
    if (category := parse_id(f["category"])) is not None:
        qs = qs.filter(category_id=category)
    if f["tier"] in Case.Tier.values:
        qs = qs.filter(tier=f["tier"])
    if f["overdue"] == "1":
        qs = qs.filter(_overdue_q(now))
    return qs, {"region": region, "f": f}


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    now = timezone.now()
    qs, context = _filtered_cases(request, now)
    page = page_of(request, with_village_names(qs.select_related("category", "region", "responsible")), PAGE_SIZE)
    for case in page:
        setattr(case, "is_late", _is_late(case, now))  # noqa: B010 (for the template)
    context.update({
        "page": page, "statuses": S.choices, "tiers": Case.Tier.choices,
        "categories": Category.objects.filter(active=True).only("pk", "name"),
    })
    return render(request, "cases/case_list.html", context)


STAFF_SOURCES = (Case.Source.PHONE, Case.Source.VISIT, Case.Source.PATROL)


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """Staff enter a case taken by phone, on a visit or on a patrol: for a household they may
    change (`?household=<id>`, e.g. from the household page) or for a village or grid."""
    require_staff_scope(request.user)
    household = None
    raw = picked(request, "household")
    if raw:
        pk = parse_id(raw)
        if pk is None:
            raise Http404
        household = access_household(request.user, pk, write=True)
    regions = list(access_regions(request.user, write=True).filter(level__in=(Level.VILLAGE, Level.GRID))
                   .order_by("path").only("pk", "name", "code", "level")[:500])
    categories = list(Category.objects.filter(active=True).order_by("sort", "name"))
    values = {"region": household.region.code if household else "", "category": "", "title": "",
              "description": "", "reporter_name": household.head.name if household and household.head else "",
              "source": Case.Source.PHONE, "key": uuid.uuid4().hex}
    errors: list[str] = []
    findings: list[str] = []
    if request.method == "POST":
        sent = form_values(StaffCaseForm(request.POST))
        values = {k: sent.get(k, "") for k in values}
        region = household.region if household else next((r for r in regions if r.code == values["region"]), None)
        category = next((c for c in categories if str(c.pk) == values["category"]), None)
        if region is None:
            errors.append(_("Choose a village or grid in your area."))
        if category is None:
            errors.append(_("Please choose what kind of problem it is."))
        if values["source"] not in STAFF_SOURCES:
            errors.append(_("Choose how the problem was reported."))
        findings = _unconfirmed_findings(values, confirmed=sent["confirm"])
        if not errors and not findings and region is not None and category is not None:
            if (wait := throttle.hit("case_create", throttle.account_or_source(request))) is not None:
                return throttle.too_many(wait)
            try:
                case = services.case_submit(
                    actor=request.user, region=region, category=category,
                    title=values["title"] or _title_from(values["description"]), description=values["description"],
                    source=values["source"], household=household, reporter_name=values["reporter_name"],
                    idempotency_key=values["key"][:64], photos=request.FILES.getlist("photos"))
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(request, _("Case %(n)s has been entered.") % {"n": case.number})
                return redirect("case-detail", number=case.number)
    return render(request, "cases/case_new.html", {
        "household": household, "regions": regions, "categories": categories, "values": values, "errors": errors,
        "findings": findings,
        "sources": [(v, label) for v, label in Case.Source.choices if v in STAFF_SOURCES],
    })


@login_required
def case_board(request: HttpRequest) -> HttpResponse:
    """督办: open cases in scope that are late now or were escalated, longest late first."""
    require_staff_scope(request.user)
    now = timezone.now()
    qs = access_cases(request.user).filter(status__in=OPEN).filter(
        Q(escalated_at__isnull=False) | Q(status=S.SUBMITTED, accept_by__lt=now)
        | Q(status__in=RESOLVING, resolve_by__lt=now))
    code = request.GET.get("region", "")
    region = access_region(request.user, code) if code else None
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    f = {k: request.GET.get(k, "") for k in ("category", "tier")}
    if (category := parse_id(f["category"])) is not None:
        qs = qs.filter(category_id=category)
    if f["tier"] in Case.Tier.values:
        qs = qs.filter(tier=f["tier"])
    rows = []
    for case in with_village_names(qs.select_related("category", "region", "responsible"))[:BOARD_LIMIT]:
        since = _late_since(case, now) or now
        rows.append(BoardRow(case=case, since=since, late_for=_duration(now - since)))
    rows.sort(key=lambda r: r.since)  # overdue first: the longest late at the top
    pending = (DeadlineExtension.objects.filter(status=DeadlineExtension.Status.PENDING, case__in=access_cases(
        request.user)).select_related("case", "asked_by").order_by("asked_at")[:50])
    context = {"rows": rows, "region": region, "f": f, "tiers": Case.Tier.choices,
               "categories": Category.objects.filter(active=True).only("pk", "name"),
               "pending_extensions": _decidable(request.user, list(pending))}
    context.update(case_rates_context(request, region))
    return render(request, "cases/case_board.html", context)


def _decidable(user: Any, pending: list[DeadlineExtension]) -> list[DeadlineExtension]:
    """The extensions this user may decide; one supervisor look-up per (region, tier), not per row."""
    memo: dict[tuple[int, str], bool] = {}
    out = []
    for ext in pending:
        key = (ext.case.region_id, ext.case.tier)
        if key not in memo:
            memo[key] = services.may_decide_extension(user, ext.case)
        if memo[key]:
            out.append(ext)
    return out


@dataclass(frozen=True)
class BoardRow:
    case: Case
    since: dt.datetime
    late_for: str


def _duration(delta: dt.timedelta) -> str:
    days, seconds = delta.days, delta.seconds
    hours = seconds // 3600
    if days:
        return _("%(d)d days %(h)d hours") % {"d": days, "h": hours}
    return _("%(h)d hours %(m)d minutes") % {"h": hours, "m": (seconds % 3600) // 60}


def _responsible_candidates(region: Region) -> QuerySet[User]:
    """Users holding a current staff post at the case's region, above it, or below it."""
    ancestors = [region.path[:i] for i in range(Region.steplen, len(region.path) + 1, Region.steplen)]
    user_ids = (Post.objects.current().exclude(role=Role.VILLAGER)
                .filter(Q(region__path__in=ancestors) | Q(region__path__startswith=region.path))
                .values("user_id"))
    return User.objects.filter(pk__in=user_ids, is_active=True).order_by("username")


@login_required
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    require_staff_scope(request.user)
    case = for_reader(request.user, access_case(request.user, number, related=("reporter__household",
                                                                              "household", "responsible")))
    can_write = scope_for(request.user).covers_path(case.region.path, write=True)
    allowed = services.ALLOWED.get(case.status, frozenset())
    pending = case.extensions.filter(status=DeadlineExtension.Status.PENDING).select_related("asked_by").first()
    working = case.status in RESOLVING
    can_decide = pending is not None and services.may_decide_extension(request.user, case)
    return render(request, "cases/case_detail.html", {
        "next": next_action(case, can_write=can_write, can_decide_extension=can_decide),
        "reporter": reporter_contact(case),
        "household": case.household or (case.reporter.household if case.reporter else None),
        "case": case,
        "events": case.events.select_related("actor").order_by("at", "id"),
        "photos": _photos_by_stage(case),
        "map_tiles": settings.HEMEI_MAP_TILES,
        "pending_extension": pending,
        "can_decide_extension": can_decide,
        "can_merge": can_write and S.MERGED in allowed,
        "can_transfer": can_write and working,
        "can_extend": can_write and working and pending is None,
        "can_add_photos": can_write and case.status in (*OPEN, S.RESOLVED),
        "can_write": can_write,
        "can_accept": can_write and S.ACCEPTED in allowed,
        "duplicates": case.duplicates.only("number", "title"),
        "can_start": can_write and S.IN_PROGRESS in allowed and case.status != S.RESOLVED,
        "can_resolve": can_write and S.RESOLVED in allowed,
        "can_reject": can_write and S.REJECTED in allowed,
        "candidates": responsible_candidates(case.region) if can_write and (S.ACCEPTED in allowed or working)
        else [],
        "is_late": _is_late(case, timezone.now()),
    })


@login_required
def case_photo(request: HttpRequest, number: str, photo_id: int) -> FileResponse:
    require_staff_scope(request.user)
    return photo_response(access_case(request.user, number).photos.all(), photo_id)


def _chosen_responsible(case: Case, value: str) -> User | None:
    if not value:
        return None
    pk = parse_id(value)
    responsible = _responsible_candidates(case.region).filter(pk=pk).first() if pk else None
    if responsible is None:
        raise ValidationError(_("Choose a responsible person from the list."))
    return responsible


def _parse_deadline(value: str) -> dt.datetime:
    """A date (end of that working day, 17:30) or a date and time from the form, Beijing time."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(_("Enter the new deadline as a date, e.g. 2026-12-31.")) from None
    if len(value) <= 10:
        moment = moment.replace(hour=17, minute=30)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@login_required
@require_POST
def case_extension_decide(request: HttpRequest, number: str) -> HttpResponse:
    """The tier above grants or refuses a pending extension (its scope is checked by the service)."""
    require_staff_scope(request.user)
    case = access_case(request.user, number)
    ext = case.extensions.filter(status=DeadlineExtension.Status.PENDING).first()
    if ext is None:
        raise Http404
    sent = {"note": "", **form_values(ExtensionDecisionForm(request.POST))}
    try:
        services.case_extension_decide(actor=request.user, extension=ext, grant=sent["grant"], note=sent["note"])
    except ValidationError as exc:
        if exc.code == "permission":
            raise PermissionDenied from None
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("case-detail", number=case.number)


@login_required
@require_POST
def case_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    require_staff_scope(request.user)
    case = access_case(request.user, number)
    if not scope_for(request.user).covers_path(case.region.path, write=True):
        raise PermissionDenied
    sent = {**dict.fromkeys(CaseActionForm.base_fields, ""), **form_values(CaseActionForm(request.POST))}
    try:
        if action == "accept":
            services.case_accept(actor=request.user, case=case,
                                 responsible=_chosen_responsible(case, sent["responsible"]), unit=sent["unit"])
        elif action == "transfer":
            services.case_transfer(actor=request.user, case=case, unit=sent["unit"],
                                   responsible=_chosen_responsible(case, sent["responsible"]), note=sent["note"])
        elif action == "merge":
            # The target must be a case the clerk may read; anything else reads as not found.
            into = access_cases(request.user).filter(number=sent["into"]).first()
            if into is None:
                raise ValidationError(_("No case with that number in your area."))
            services.case_merge(actor=request.user, case=case, into=into, note=sent["note"])
        elif action == "extend":
            services.case_extension_ask(actor=request.user, case=case, until=_parse_deadline(sent["until"]),
                                        reason=sent["reason"])
        elif action == "photos":
            services.case_photos_add(actor=request.user, case=case, photos=request.FILES.getlist("photos"),
                                     stage=sent["stage"])
        elif action == "start":
            services.case_start(actor=request.user, case=case, note=sent["note"])
        elif action == "resolve":
            services.case_resolve(actor=request.user, case=case, measures=sent["measures"],
                                  photos=request.FILES.getlist("photos"))
        elif action == "reject":
            services.case_reject(actor=request.user, case=case, reason=sent["reason"])
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("case-detail", number=case.number)




@login_required
def case_ledger(request: HttpRequest) -> HttpResponse:
    """台账 xlsx for a region (read scope) and an optional period of submission dates."""
    require_staff_scope(request.user)
    code = request.GET.get("region", "")
    if not code:
        messages.error(request, _("Choose a region for the ledger."))
        return redirect(reverse("case-list"))
    region = access_region(request.user, code)
    date_from, date_to = parse_date(request.GET.get("from", "")), parse_date(request.GET.get("to", ""))
    data = ledger_export(region=region, date_from=date_from, date_to=date_to, actor=request.user,
                         request=request)
    name = f"ledger-{region.code}-{date_from or ''}-{date_to or ''}.xlsx".replace("--", "-")
    return xlsx_response(data, name)

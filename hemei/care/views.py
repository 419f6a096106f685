"""Care pages: the carer's phone page (open calls with large buttons), a work order, elders
(masked; health data revealed with an audit row), visits and coverage, institutions; the
villager's one-key call button. Thin: reads through `hemei.care.selectors`/`access`, writes
through `hemei.care.services`."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hemei.care import selectors, services
from hemei.care.access import access_elder, access_institutions, access_order, access_visits
from hemei.care.forms import (
    AssessmentForm,
    BackForm,
    CallForm,
    NoteForm,
    OptionalNoteForm,
    RatingForm,
    ReadingForm,
)
from hemei.care.models import CareVisit, DutyShift, Elder, Metric, WorkOrder
from hemei.cases.access import villager_resident
from hemei.cases.models import Case
from hemei.core.masking import mask_name, mask_phone
from hemei.core.parsing import form_values
from hemei.core.scope import scope_for
from hemei.core.views import flash_errors
from hemei.regions.access import require_staff_scope


def _staff(request: HttpRequest) -> None:
    require_staff_scope(request.user)


@login_required
def carer_home(request: HttpRequest) -> HttpResponse:
    """The carer's phone page: every open call in scope, the most urgent first, each with the
    one button that moves it on (take on → arrived → finished)."""
    _staff(request)
    now = timezone.now()
    orders = list(selectors.open_orders(request.user)[:100])
    for order in orders:
        order.elder_name = mask_name(order.elder.resident.name)  # type: ignore[attr-defined]
        # The deadline of whoever has the call now: the carer's, then (escalated) the lead's,
        # which is the case's own acceptance deadline.
        order.take_on_by = (order.respond_by if order.step == WorkOrder.Step.CARER  # type: ignore[attr-defined]
                            else order.case.accept_by)
        order.late = order.case.status == Case.Status.SUBMITTED and order.take_on_by <= now  # type: ignore[attr-defined]
    shifts = list(DutyShift.objects.filter(starts_at__lte=now, ends_at__gt=now, carer_id=request.user.pk)
                  .select_related("region")[:5])
    due_visits = access_visits(request.user).filter(status=CareVisit.Status.DUE,
                                                    due_on=timezone.localdate()).count()
    return render(request, "care/home.html", {
        "orders": orders, "shifts": shifts, "due_visits": due_visits, "note_form": NoteForm(),
        "stats": selectors.response_stats(request.user),
    })


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = access_order(request.user, pk)
    events = list(order.case.events.order_by("at", "pk"))
    return render(request, "care/order.html", {
        "order": order, "events": events, "elder_name": mask_name(order.elder.resident.name),
        "note_form": NoteForm(), "rating_form": RatingForm(),
    })


@login_required
@require_POST
def order_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    order = access_order(request.user, pk)
    try:
        if step == "accept":
            services.order_accept(actor=request.user, order=order)
        elif step == "arrive":
            services.order_arrive(actor=request.user, order=order)
        elif step == "finish":
            form = NoteForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Write what was done."))
            services.order_finish(actor=request.user, order=order, note=form.cleaned_data["note"])
        elif step == "rate":
            rating = RatingForm(request.POST)
            if not rating.is_valid():
                raise ValidationError(_("Choose a rating."))
            services.order_rate(actor=request.user, order=order, rating=rating.cleaned_data["rating"])
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    if form_values(BackForm(request.POST)).get("back") == "home":
        return redirect("care-home")
    return redirect("care-order", pk=order.pk)


@login_required
def elder_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(request, "care/elders.html", {"rows": selectors.elder_rows(request.user)})


def _elder_context(elder: Elder) -> dict[str, Any]:
    week_ago = timezone.now() - dt.timedelta(days=7)
    return {
        "elder": elder, "name": mask_name(elder.resident.name),
        "contacts": [(c, mask_phone(c.phone)) for c in elder.contacts.all()],
        "agreement": elder.agreements.select_related("institution").first(),
        "assessments": list(elder.assessments.all()[:5]),
        "out_of_range": elder.readings.filter(at__gte=week_ago).exclude(flag="").count(),
        "orders": list(elder.orders.select_related("case").order_by("-created_at")[:10]),
        "reading_form": ReadingForm(initial={"key": uuid.uuid4().hex}),
        "assess_form": AssessmentForm(),
    }


@login_required
def elder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    return render(request, "care/elder.html", _elder_context(access_elder(request.user, pk)))


@login_required
@require_POST
def elder_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Health notes, latest values and the week's chart in clear: audited, like ID numbers."""
    elder = access_elder(request.user, pk)
    revealed = services.health_reveal(actor=request.user, elder=elder, request=request)
    chart = {m: selectors.series(elder).get(m, []) for m in Metric.values}
    labels = {m: str(Metric(m).label) for m in Metric.values}
    return render(request, "care/elder_health.html", {
        "elder": elder, "name": mask_name(elder.resident.name), "revealed": revealed,
        "chart_json": json.dumps({"series": chart, "labels": labels}, ensure_ascii=False),
        "readings": list(elder.readings.all()[:30]),
    })


@login_required
@require_POST
def elder_reading(request: HttpRequest, pk: int) -> HttpResponse:
    elder = access_elder(request.user, pk)
    form = ReadingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a metric and enter a number."))
        return redirect("care-elder", pk=elder.pk)
    try:
        reading = services.reading_submit(actor=request.user, elder=elder, metric=form.cleaned_data["metric"],
                                          value=form.cleaned_data["value"],
                                          message_id=form.cleaned_data.get("key") or "")
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Reading saved; out of range, a work order was opened.") if reading.flag
                         else _("Reading saved."))
    return redirect("care-elder", pk=elder.pk)


@login_required
@require_POST
def elder_assess(request: HttpRequest, pk: int) -> HttpResponse:
    elder = access_elder(request.user, pk)
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The ability score is a whole number from 0 to 90."))
        return redirect("care-elder", pk=elder.pk)
    try:
        services.elder_assess(actor=request.user, elder=elder, score=form.cleaned_data["score"])
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("care-elder", pk=elder.pk)


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    visits = list(access_visits(request.user).filter(due_on__gte=monday, due_on__lte=today)
                  .exclude(status=CareVisit.Status.DONE).select_related("elder__resident", "region")
                  .order_by("due_on", "pk")[:200])
    for visit in visits:
        visit.elder_name = mask_name(visit.elder.resident.name)  # type: ignore[attr-defined]
    villages, carers = selectors.coverage(request.user, since=today - dt.timedelta(days=28), until=today)
    return render(request, "care/visits.html", {"visits": visits, "villages": villages, "carers": carers,
                                                "form": OptionalNoteForm()})


@login_required
@require_POST
def visit_done(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        visit = access_visits(request.user).select_related("region").get(pk=pk)
    except (CareVisit.DoesNotExist, ValueError, OverflowError):
        raise Http404 from None
    form = OptionalNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.visit_done(actor=request.user, visit=visit, note=note)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("care-visits")


@login_required
def institution_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    rows = []
    for inst in access_institutions(request.user).prefetch_related("staff", "ratings").select_related("region"):
        ratings = sorted(inst.ratings.all(), key=lambda r: (r.month, r.computed_at), reverse=True)
        rows.append({"inst": inst, "certified": services.certified_share(inst),
                     "rating": ratings[0] if ratings else None, "staff": len(inst.staff.all())})
    return render(request, "care/institutions.html", {"rows": rows})


# --- the villager's one-key call -------------------------------------------------------------


def villager_elder(user: Any) -> Elder | None:
    """The elder a villager account calls for: the account's own resident if an elder, else
    the first elder of the household."""
    households = scope_for(user).household_ids
    if not households:
        return None
    elders = list(Elder.objects.filter(resident__household_id__in=households)
                  .select_related("resident__household", "region").order_by("pk"))
    resident = villager_resident(user)
    own = [e for e in elders if resident is not None and e.resident_id == resident.pk]
    chosen = own or elders
    return chosen[0] if chosen else None


@login_required
@require_POST
def my_call(request: HttpRequest) -> HttpResponse:
    elder = villager_elder(request.user)
    if elder is None:
        raise Http404
    form = CallForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please press the button again."))
        return redirect("villager-home")
    try:
        order = services.open_call(elder, actor=request.user, source_ref=form.cleaned_data.get("key") or "",
                                   kind=form.cleaned_data["kind"], source=Case.Source.VILLAGER)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("villager-home")
    messages.success(request, _("Help is on the way. A carer has been told."))
    return redirect("my-case", order.case.number)


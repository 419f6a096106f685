"""Emergency response pages (应急响应): the grid worker's phone page (the grids to check in,
each with its list of vulnerable households), the declaration form, the board of a response
(check-in progress per grid, the history of its level, raise / lower / lift) and its Excel
export. Thin: reads through `access`/`selectors`, writes through `hemei.services.response`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.masking import mask_name
from hemei.core.parsing import form_values
from hemei.core.scope import may, scope_for
from hemei.core.views import flash_errors
from hemei.core.xlsx import xlsx_response
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Household, Region
from hemei.services import response as services
from hemei.services.access import DECLARE_ROLES, access_check, access_checks, access_response, access_responses
from hemei.services.export import checkins_export
from hemei.services.forms import CheckInForm, DeclareForm, LevelForm
from hemei.services.models import GridCheck, Hazard, Response, ResponseLevel
from hemei.services.selectors import board, reason_labels, vulnerable_households

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _declare_areas(user: Any) -> list[Region]:
    """The areas the user may declare for: the regions of their county and township posts and
    the townships and villages below them."""
    scope = scope_for(user)
    roots = [path for path, role in scope.posts if role in DECLARE_ROLES]
    if scope.everything:
        roots = list(Region.objects.filter(level="county").values_list("path", flat=True))
    if not roots:
        return []
    from hemei.core.scope import paths_q

    return list(Region.objects.filter(paths_q(tuple(roots)), level__in=services.AREA_LEVELS)
                .order_by("path")[:500])


@login_required
def emergency_home(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    pending = list(access_checks(request.user).filter(status=GridCheck.Status.PENDING,
                                                      response__status=Response.Status.ACTIVE)
                   .select_related("response__region", "region").order_by("response__checkin_by", "pk")[:50])
    responses = list(access_responses(request.user).select_related("region").distinct()
                     .order_by("-declared_at", "-pk")[:50])
    return render(request, "services/emergency_home.html", {
        "pending": pending, "responses": responses, "may_declare": bool(_declare_areas(request.user)),
        "now": timezone.now(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def emergency_declare(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    areas = _declare_areas(request.user)
    values: dict[str, Any] = dict.fromkeys(("area", "hazard", "level", "reason", "hours"), "")
    errors: list[str] = []
    if request.method == "POST":
        values.update(form_values(DeclareForm(request.POST)))
        area = next((a for a in areas if a.pk == values["area"]), None)
        hours = values["hours"] or None
        if area is None:
            errors.append(_("Choose the area."))
        else:
            try:
                response = services.response_declare(actor=request.user, region=area, hazard=values["hazard"],
                                                     level=values["level"], reason=values["reason"],
                                                     checkin_within_hours=hours)
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(request, _("The response was declared and the grid staff told."))
                return redirect("emergency-board", pk=response.pk)
    return render(request, "services/emergency_declare.html", {
        "areas": areas, "values": values, "errors": errors, "hazards": Hazard.choices,
        "levels": ResponseLevel.choices,
    }, status=400 if errors else 200)


def _event_rows(response: Response) -> list[dict[str, Any]]:
    """The history in words: "启动 Ⅳ级（四级）", "提升 Ⅳ级（四级） → Ⅲ级（三级）", not move codes and numbers."""
    moves = {"declare": pgettext("emergency move", "declared"), "raise": pgettext("emergency move", "raised"),
             "lower": pgettext("emergency move", "lowered"), "lift": pgettext("emergency move", "lifted")}
    levels = dict(ResponseLevel.choices)
    return [{"at": e.at, "what": moves.get(e.kind, e.kind), "note": e.note,
             "from_level": levels.get(e.from_level, "") if e.from_level else "",
             "to_level": levels.get(e.to_level, "") if e.to_level else ""} for e in response.events.all()]


@login_required
def emergency_board(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    response = access_response(request.user, pk)
    rows, totals = board(request.user, response)
    return render(request, "services/emergency_board.html", {
        "response": response, "rows": rows, "totals": totals, "events": _event_rows(response),
        "manage": may(request.user, DECLARE_ROLES, response.region) and response.status == Response.Status.ACTIVE,
        "levels": ResponseLevel.choices, "now": timezone.now(),
    })


@login_required
@require_POST
def emergency_change(request: HttpRequest, pk: int) -> HttpResponse:
    response = access_response(request.user, pk)
    sent = form_values(LevelForm(request.POST))
    reason = sent.get("reason", "")
    try:
        if sent.get("step") == "lift":
            services.response_lift(actor=request.user, response=response, reason=reason)
        else:
            services.response_change_level(actor=request.user, response=response, level=sent.get("level"),
                                           reason=reason)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved; the grid staff have been told."))
    return redirect("emergency-board", pk=response.pk)


@login_required
def emergency_export(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    response = access_response(request.user, pk)
    return xlsx_response(checkins_export(actor=request.user, response=response), f"emergency-{response.pk}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def check_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid worker's phone page: the grid's vulnerable households, a tick for each one
    reached, a note for those who were not, one button."""
    require_staff_scope(request.user)
    check = access_check(request.user, pk)
    listed = vulnerable_households([check.region_id]).get(check.region_id, {})
    labels = reason_labels()
    houses = {h.pk: h for h in Household.objects.filter(pk__in=list(listed)).select_related("head")}
    rows = []
    for pk_, reasons in sorted(listed.items()):
        house = houses[pk_]
        rows.append({"pk": pk_, "number": house.number, "address": house.address,
                     "head": mask_name(house.head.name) if house.head is not None else "",
                     "reasons": [labels.get(r, r) for r in reasons]})
    errors: list[str] = []
    sent: dict[str, Any] = {}
    if request.method == "POST":
        sent = form_values(CheckInForm(request.POST))
        try:
            services.grid_check_in(actor=request.user, check=check, reached=sent.get("reached", frozenset()),
                                   note=sent.get("note", ""))
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            messages.success(request, _("Checked in. Thank you."))
            return redirect("emergency-home")
    # A refused check-in keeps the ticks and the note: nobody ticks 25 households twice on a phone.
    ticked = set(sent.get("reached", ()))
    for row in rows:
        row["ticked"] = row["pk"] in ticked
    return render(request, "services/emergency_check.html", {
        "check": check, "rows": rows, "errors": errors, "note": sent.get("note", ""),
        "contacts": list(check.contacts.all()),
        "may_check_in": may(request.user, "check_in", check), "now": timezone.now(),
    }, status=400 if errors else 200)

"""Meeting pages: staff list, record form, detail with agenda and vote entry, "put to a
meeting" from a case, and the public outcome list of a village. Thin: reads through
`hemei.meetings.access`, writes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.cases.access import access_case
from hemei.cases.deliberation import case_table
from hemei.core.parsing import form_values, parse_int
from hemei.core.views import error_text
from hemei.meetings import services
from hemei.meetings.access import access_item, access_meeting, access_meetings, can_record
from hemei.meetings.board import public_items
from hemei.meetings.forms import AttendanceForm, CaseTableForm, DecideForm, MeetingForm, MeetingStepForm
from hemei.meetings.models import AgendaItem, Meeting
from hemei.regions.access import access_region, access_regions, require_staff_scope
from hemei.regions.models import Level, Region

PAGE_SIZE = 50


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    qs = access_meetings(request.user)
    code = request.GET.get("region", "")
    region = access_region(request.user, code) if code else None
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    kind = request.GET.get("kind", "")
    if kind in Meeting.Kind.values:
        qs = qs.filter(kind=kind)
    qs = (
        qs.select_related("region")
        .order_by("-held_at", "-id")
        .annotate(
            n_items=Count("items"), n_decided=Count("items", filter=~Q(items__outcome=AgendaItem.Outcome.PENDING))
        )
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    may_record = access_regions(request.user, write=True).filter(level=Level.VILLAGE).exists()
    return render(
        request,
        "meetings/meeting_list.html",
        {"page": page, "region": region, "kind": kind, "kinds": Meeting.Kind.choices, "may_record": may_record},
    )


def _villages(user: Any) -> list[Region]:
    return list(access_regions(user, write=True).filter(level=Level.VILLAGE).order_by("code")[:2000])


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    villages = _villages(request.user)
    if not villages:
        raise PermissionDenied
    form = MeetingForm(request.POST or None, initial={"region": request.GET.get("region", "")})
    form.fields["region"].choices = [(v.code, v.name) for v in villages]  # type: ignore[attr-defined]
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = next(v for v in villages if v.code == data["region"])
        try:
            meeting = services.meeting_record(
                actor=request.user,
                region=region,
                kind=data["kind"],
                held_at=data["held_at"],
                place=data["place"],
                convened_by=data["convened_by"],
                attendees=data["attendees"],
                eligible=data["eligible"],
                households_total=data["households_total"],
                households_present=data["households_present"],
                minutes=data["minutes"],
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            messages.success(request, _("Meeting recorded."))
            return redirect("meeting-detail", pk=meeting.pk)
    return render(request, "meetings/meeting_new.html", {"form": form, "errors": errors})


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    meeting = access_meeting(request.user, pk)
    items = list(
        meeting.items.select_related("case", "corrects", "decided_by")
        .prefetch_related("corrections")
        .order_by("order", "id")
    )
    return render(
        request,
        "meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "items": items,
            "can_write": can_record(request.user, meeting.region.path),
            "quorum": meeting.quorum_met(),
            "attendance_form": AttendanceForm(),
        },
    )


def _int(value: str) -> Any:
    """Form text → int where it is one; anything else goes to the service as is, which
    answers with a clear error (never a silent 0)."""
    value = (value or "").strip()
    number = parse_int(value)
    return value if number is None else number


@login_required
@require_POST
def meeting_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require_staff_scope(request.user)
    meeting = access_meeting(request.user, pk)
    if not can_record(request.user, meeting.region.path):
        raise PermissionDenied
    post = form_values(MeetingStepForm(request.POST))
    try:
        if action == "attendance":
            services.meeting_attendance(
                actor=request.user,
                meeting=meeting,
                attendees=_int(post.get("attendees", "")),
                eligible=_int(post.get("eligible", "")),
                households_total=_int(post.get("households_total", "")),
                households_present=_int(post.get("households_present", "")),
                minutes=post.get("minutes", ""),
            )
        elif action == "add":
            corrects = None
            if post.get("corrects"):
                corrects = access_item(request.user, _int(post["corrects"]))
            services.agenda_item_add(
                actor=request.user,
                meeting=meeting,
                title=post.get("title", ""),
                description=post.get("description", ""),
                corrects=corrects,
            )
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("meeting-detail", pk=meeting.pk)


@login_required
@require_POST
def item_decide(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    item = access_item(request.user, pk)
    if not can_record(request.user, item.meeting.region.path):
        raise PermissionDenied
    post = form_values(DecideForm(request.POST))
    try:
        item = services.agenda_item_decide(
            actor=request.user,
            item=item,
            votes_for=_int(post.get("votes_for", "")),
            votes_against=_int(post.get("votes_against", "")),
            votes_abstain=_int(post.get("votes_abstain", "")),
            decision=post.get("decision", ""),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Decision recorded: %(o)s.") % {"o": item.get_outcome_display()})
    return redirect("meeting-detail", pk=item.meeting_id)


@login_required
@require_POST
def case_table_view(request: HttpRequest, number: str) -> HttpResponse:
    """ "Put to a meeting" from the staff case page."""
    require_staff_scope(request.user)
    case = access_case(request.user, number)
    if not can_record(request.user, case.region.path):
        raise PermissionDenied
    sent = form_values(CaseTableForm(request.POST))
    meeting = access_meeting(request.user, _int(sent.get("meeting", "")))
    try:
        case_table(actor=request.user, case=case, meeting=meeting, title=sent.get("title", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("case-detail", number=case.number)
    messages.success(request, _("The case is on the agenda."))
    return redirect("meeting-detail", pk=meeting.pk)


def public_outcomes(request: HttpRequest, code: str) -> HttpResponse:
    """No login: a village's decided items with votes and outcomes. Only counts and the
    decision text: no names, no minutes, no case numbers or reporters."""
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if village is None:
        raise Http404
    return render(request, "meetings/public_outcomes.html", {"village": village, "items": public_items(village)})

"""Party pages. Staff: the organisations in scope, a branch (members, the year's attendance,
sessions, the schedule), a member, a session (sign-in QR code, roll call, record). Members:
their own record and the sign-in page on their phone. Thin: reads through access/selectors,
writes through services; out of scope is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from hemei.core import throttle
from hemei.core.masking import mask_phone
from hemei.core.parsing import form_values, parse_id, parse_year
from hemei.core.scope import require_in_scope
from hemei.core.views import error_text, flash_errors, flash_form_errors
from hemei.core.xlsx import xlsx_response
from hemei.party import export, selectors, services
from hemei.party.access import (
    PARTY_MANAGE_ROLES,
    access_branch,
    access_branches,
    access_member,
    access_members,
    access_periods,
    access_session,
)
from hemei.party.forms import (
    BranchForm,
    CancelForm,
    CodeForm,
    ConfirmForm,
    GroupForm,
    MarkForm,
    MemberForm,
    RecordForm,
    SessionForm,
    StudyForm,
    TransferForm,
)
from hemei.party.models import Attendance, Branch, BranchKind, Member, PeriodCheck, Session
from hemei.regions.access import access_region, access_residents, require_staff_scope
from hemei.regions.models import HouseholdLink


def _year(request: HttpRequest) -> int:
    return parse_year(request.GET.get("year")) or timezone.localdate().year


def _may_manage(user: Any, branch: Branch) -> bool:
    return services.may_manage(user, branch.region)


# --- staff ---------------------------------------------------------------------------------


@login_required
def branch_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    branches = list(access_branches(request.user).order_by("region__path", "kind", "name"))
    counts: dict[int, int] = {}
    for row in access_members(request.user).filter(left_on__isnull=True).values_list("branch_id", "group_id"):
        counts[row[0]] = counts.get(row[0], 0) + 1
        if row[1]:
            counts[row[1]] = counts.get(row[1], 0) + 1
    for b in branches:
        b.n_members = counts.get(b.pk, 0)  # type: ignore[attr-defined]
    missed = access_periods(request.user).filter(status=PeriodCheck.Status.MISSED).order_by("-period_start")[:20]
    return render(request, "party/branches.html", {"branches": branches, "missed": missed, "form": BranchForm()})


@login_required
@require_POST
def branch_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    form = BranchForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("party-branches")
    region = access_region(request.user, form.cleaned_data["region"])
    parent = access_branch(request.user, form.cleaned_data["parent"]) if form.cleaned_data.get("parent") else None
    try:
        branch = services.branch_create(actor=request.user, region=region, kind=form.cleaned_data["kind"],
                                        name=form.cleaned_data["name"], parent=parent,
                                        secretary_name=form.cleaned_data.get("secretary_name") or "")
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("party-branches")
    return redirect("party-branch", pk=branch.pk)


@login_required
def branch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    branch = access_branch(request.user, pk)
    year = _year(request)
    per_member, total = selectors.branch_figures(request.user, branch, year)
    members = list(selectors.branch_members(request.user, branch).filter(left_on__isnull=True)
                   .order_by("region__path", "resident__name_initials", "pk"))
    for m in members:
        m.figures = per_member.get(m.pk, selectors.Figures())  # type: ignore[attr-defined]
        m.phone = mask_phone(m.resident.phone)  # type: ignore[attr-defined]
    manage = _may_manage(request.user, branch)
    candidates: list[Any] = []
    if manage and branch.kind == BranchKind.BRANCH:
        village = services._village_path(branch.region)
        registered = Member.objects.filter(left_on__isnull=True).values("resident_id")
        candidates = list(access_residents(request.user).filter(region__path__startswith=village, status="living",
                                                                is_party_member=True)
                          .exclude(pk__in=registered).order_by("name_initials")[:300])
    return render(request, "party/branch.html", {
        "branch": branch, "year": year, "years": selectors.years_with_data(branch), "members": members,
        "total": total, "sessions": list(selectors.branch_sessions(request.user, branch, year)[:100]),
        "children": list(access_branches(request.user).filter(parent=branch)),
        "checks": list(access_periods(request.user).filter(branch__in=selectors.branch_ids(branch),
                                                           period_start__year=year).order_by("-period_start")[:50]),
        "manage": manage, "session_form": SessionForm(), "member_form": MemberForm(), "candidates": candidates,
        "groups": list(Branch.objects.filter(parent=branch, kind=BranchKind.GROUP)),
    })


@login_required
@require_POST
def branch_plan(request: HttpRequest, pk: int) -> HttpResponse:
    branch = access_branch(request.user, pk)
    form = SessionForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("party-branch", pk=branch.pk)
    data = form.cleaned_data
    try:
        session = services.session_plan(actor=request.user, branch=branch, kind=data["kind"], title=data["title"],
                                        planned_at=data["planned_at"], place=data.get("place") or "",
                                        hours=data["hours"], materials=data.get("materials") or "")
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("party-branch", pk=branch.pk)
    return redirect("party-session", pk=session.pk)


@login_required
@require_POST
def branch_add_member(request: HttpRequest, pk: int) -> HttpResponse:
    branch = access_branch(request.user, pk)
    form = MemberForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("party-branch", pk=branch.pk)
    data = form.cleaned_data
    from hemei.regions.access import access_resident

    resident = access_resident(request.user, data["resident"])
    group = access_branch(request.user, data["group"]) if data.get("group") else None
    try:
        member = services.member_add(actor=request.user, branch=branch, resident=resident,
                                     joined_party_on=data["joined_party_on"], standing=data["standing"], group=group,
                                     transferred_from=data.get("transferred_from") or "")
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("party-branch", pk=branch.pk)
    return redirect("party-member", pk=member.pk)


@login_required
def branch_export_members(request: HttpRequest, pk: int) -> HttpResponse:
    branch = access_branch(request.user, pk)
    require_in_scope(request.user, PARTY_MANAGE_ROLES, branch.region)
    return xlsx_response(export.members_export(actor=request.user, branch=branch), f"party-members-{branch.pk}.xlsx")


@login_required
def branch_export_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    branch = access_branch(request.user, pk)
    require_in_scope(request.user, PARTY_MANAGE_ROLES, branch.region)
    year = _year(request)
    return xlsx_response(export.attendance_export(actor=request.user, branch=branch, year=year),
                 f"party-attendance-{branch.pk}-{year}.xlsx")


@login_required
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    member = access_member(request.user, pk)
    year = _year(request)
    absences = list(member.attendance.exclude(status=Attendance.Status.PRESENT)
                    .filter(make_up__isnull=True).select_related("session").order_by("-session__planned_at")[:50])
    return render(request, "party/member.html", {
        "member": member, "year": year, "figures": selectors.member_figures(member, year),
        "phone": mask_phone(member.resident.phone), "events": list(member.events.all()),
        "attendance": list(member.attendance.select_related("session__branch", "make_up")
                           .order_by("-session__planned_at")[:100]),
        "studies": list(member.studies.all()[:50]), "absences": absences,
        "links": list(HouseholdLink.objects.filter(resident=member.resident, kind=HouseholdLink.Kind.PARTY_MEMBER)
                      .select_related("household__head", "household__region")),
        "manage": _may_manage(request.user, member.branch) and member.is_current,
        "groups": list(Branch.objects.filter(parent=member.branch, kind=BranchKind.GROUP)),
        "transfer_form": TransferForm(initial={"on": timezone.localdate()}),
        "confirm_form": ConfirmForm(initial={"on": timezone.localdate()}),
        "study_form": StudyForm(initial={"studied_on": timezone.localdate()}),
    })


@login_required
@require_POST
def member_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    member = access_member(request.user, pk)
    try:
        if action == "confirm":
            form: Any = ConfirmForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Enter the date as YYYY-MM-DD."))
            services.member_confirm(actor=request.user, member=member, on=form.cleaned_data["on"])
        elif action == "transfer":
            form = TransferForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Check the transfer's date and destination."))
            data = form.cleaned_data
            to_branch = access_branch(request.user, data["to_branch"]) if data.get("to_branch") else None
            new = services.member_transfer_out(actor=request.user, member=member, on=data["on"],
                                               to=data.get("to") or "", to_branch=to_branch,
                                               note=data.get("note") or "")
            messages.success(request, _("Transferred."))
            return redirect("party-member", pk=new.pk) if new else redirect("party-branch", pk=member.branch_id)
        elif action == "group":
            group_id = parse_id(form_values(GroupForm(request.POST)).get("group"))
            group = access_branch(request.user, group_id) if group_id else None
            services.member_set_group(actor=request.user, member=member, group=group)
        elif action == "study":
            form = StudyForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Check the study's date, hours and content."))
            data = form.cleaned_data
            absence = None
            if data.get("absence"):
                absence = member.attendance.filter(pk=data["absence"]).select_related("session").first()
                if absence is None:
                    raise ValidationError(_("Choose an absence of this member."))
            services.study_record(actor=request.user, member=member, hours=data["hours"], content=data["content"],
                                  studied_on=data["studied_on"], absence=absence)
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("party-member", pk=member.pk)


def qr_svg(url: str) -> str:
    """The sign-in address as an inline SVG QR code (drawn here, no image service)."""
    return str(segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff"))


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    session = access_session(request.user, pk)
    manage = _may_manage(request.user, session.branch)
    rows = {a.member_id: a for a in session.attendance.all()}
    visible = set(access_members(request.user).values_list("pk", flat=True))
    expected = [m for m in services.expected_members(session).select_related("resident", "region")
                .order_by("region__path", "resident__name_initials") if m.pk in visible]
    for m in expected:
        m.row = rows.get(m.pk)  # type: ignore[attr-defined]
    now = timezone.now()
    qr = sign_url = ""
    live = session.status == Session.Status.HELD and bool(session.code) and session.code_expires_at is not None \
        and session.code_expires_at > now
    if manage and live:
        sign_url = request.build_absolute_uri(reverse("party-sign", args=[session.code]))
        qr = qr_svg(sign_url)
    return render(request, "party/session.html", {
        "session": session, "manage": manage, "expected": expected, "qr": qr, "sign_url": sign_url, "live": live,
        "present": sum(1 for a in rows.values() if a.status == Attendance.Status.PRESENT), "n_rows": len(rows),
        "n_expected": services.expected_members(session).count(),
        "events": _session_events(session), "record_form": RecordForm(initial={"hours": session.hours}),
        "cancel_form": CancelForm(), "statuses": Attendance.Status.choices,
    })


def _session_events(session: Session) -> list[dict[str, Any]]:
    """The session's history in words (会议开始, 显示新的签到码 …), not the move codes."""
    words = {"opened": pgettext("party session event", "session begun"),
             "recorded": pgettext("party session event", "minutes recorded"),
             "cancelled": pgettext("party session event", "cancelled"),
             "code": pgettext("party session event", "new sign-in code shown")}
    return [{"at": e.at, "what": words.get(e.kind, e.kind), "note": e.note} for e in session.events.all()]


@login_required
@require_POST
def session_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    session = access_session(request.user, pk)
    try:
        if action == "open":
            services.session_open(actor=request.user, session=session)
        elif action == "code":
            services.session_code_refresh(actor=request.user, session=session)
        elif action == "record":
            form: Any = RecordForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Write the minutes."))
            services.session_record(actor=request.user, session=session, minutes=form.cleaned_data["minutes"],
                                    hours=form.cleaned_data.get("hours"))
        elif action == "cancel":
            form = CancelForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give the reason."))
            services.session_cancel(actor=request.user, session=session, note=form.cleaned_data["note"])
        elif action == "mark":
            form = MarkForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose a member and their attendance."))
            member = access_member(request.user, form.cleaned_data["member"])
            services.attendance_mark(actor=request.user, session=session, member=member,
                                     status=form.cleaned_data["status"], reason=form.cleaned_data.get("reason") or "")
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("party-session", pk=session.pk)


# --- members' phone pages --------------------------------------------------------------------


@login_required
def my_party(request: HttpRequest) -> HttpResponse:
    """A member's own record: this year's attendance rate and hours, sessions, make-up study."""
    memberships = list(services.memberships_of(request.user).select_related("branch", "group"))
    if not memberships:  # a villager who followed a link or a code: say why, and where to go
        return render(request, "party/my.html", {"cards": [], "not_member": True})
    year = _year(request)
    cards = []
    for m in memberships:
        cards.append({
            "member": m, "figures": selectors.member_figures(m, year),
            "attendance": list(m.attendance.select_related("session", "make_up").order_by("-session__planned_at")[:30]),
            "upcoming": list(Session.objects.filter(branch_id__in=[m.branch_id, m.group_id or 0],
                                                    status=Session.Status.PLANNED,
                                                    planned_at__gte=timezone.now() - dt.timedelta(hours=3))
                             .order_by("planned_at")[:5]),
        })
    return render(request, "party/my.html", {"cards": cards, "year": year, "code_form": CodeForm()})


@login_required
def sign_in(request: HttpRequest, code: str = "") -> HttpResponse:
    """GET shows the session and one big button (a scan never signs in by itself: link
    previews and prefetchers open addresses too); POST signs in."""
    if request.method == "POST":
        # Wrong codes are counted per account: the code space is large and the code lives for
        # minutes, but nobody types ten wrong ones in an hour except to guess.
        who = throttle.account_or_source(request)
        if (wait := throttle.blocked("party_code_fail", who)) is not None:
            return throttle.too_many(wait)
        form = CodeForm(request.POST)
        typed = form.cleaned_data["code"] if form.is_valid() else ""
        try:
            row = services.attendance_sign_in(actor=request.user, code=typed or code)
        except ValidationError as exc:
            if exc.code == "code":
                throttle.hit("party_code_fail", who)
            return render(request, "party/sign.html", {"error": error_text(exc), "code": typed or code},
                          status=400)
        return render(request, "party/sign.html", {"done": row, "session": row.session})
    session = None
    if code:
        session = Session.objects.select_related("branch").filter(code=code.upper(),
                                                                   status=Session.Status.HELD).first()
    if session is not None:  # scanned again after signing in: say so, no second button
        done = session.attendance.filter(member__in=services.memberships_of(request.user),
                                         status=Attendance.Status.PRESENT).first()
        if done is not None:
            return render(request, "party/sign.html", {"done": done, "session": session})
    return render(request, "party/sign.html", {"session": session, "code": code})

"""Staff pages for disclosures (/w/disclosure/…). Thin: reads through `hemei.disclosure.access`
(out of scope → 404), writes through `hemei.disclosure.services`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.parsing import form_values
from hemei.core.views import error_text
from hemei.disclosure import access, forms, services
from hemei.disclosure.models import Disclosure, DisclosureAttachment, DisclosureVersion, Kind, ScheduleSettings
from hemei.regions.access import require_staff_scope

PAGE_SIZE = 50
S = DisclosureVersion.Status


@login_required
def disclosure_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    latest = Prefetch("versions", queryset=DisclosureVersion.objects.order_by("-number"), to_attr="ordered")
    qs = access.access_disclosures(request.user).select_related("village").prefetch_related(latest)
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        qs = qs.filter(kind=kind)
    village = request.GET.get("village", "")
    if village:
        qs = qs.filter(village__code=village)
    page = Paginator(qs.order_by("-period_end", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    dues = (
        access.access_dues(request.user)
        .filter(fulfilled_at__isnull=True)
        .select_related("village")
        .order_by("due_at")[:50]
    )
    return render(
        request,
        "disclosure/list.html",
        {
            "page": page,
            "kinds": Kind.choices,
            "kind": kind,
            "village_code": village,
            "dues": dues,
            "now": timezone.now(),
            "may_write": access.villages_for(request.user, access.AUTHOR_ROLES).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    villages = list(access.villages_for(request.user, access.AUTHOR_ROLES))
    if not villages:
        raise Http404
    errors: list[str] = []
    form = forms.DraftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        sent = form_values(form)
        village = next((v for v in villages if v.code == sent["village"]), None)
        start, end = sent["period_start"], sent["period_end"]
        if village is None:
            errors.append(_("Choose a village."))
        if start is None or end is None:
            errors.append(_("Enter the period covered."))
        if not errors and village is not None and start is not None and end is not None:
            try:
                version = services.disclosure_create(
                    actor=request.user,
                    village=village,
                    kind=sent["kind"],
                    title=sent["title"],
                    body=sent["body"],
                    period_start=start,
                    period_end=end,
                    major=sent["major"],
                )
                for upload in request.FILES.getlist("attachments"):
                    services.attachment_add(actor=request.user, version=version, upload=upload)
            except ValidationError as exc:
                errors = list(exc.messages)
            else:
                messages.success(request, _("Draft saved."))
                return redirect("disclosure-detail", pk=version.disclosure_id)
    return render(
        request,
        "disclosure/form.html",
        {"villages": villages, "kinds": Kind.choices, "errors": errors, "data": form.data, "new": True},
    )


def _open_version(disclosure: Disclosure) -> DisclosureVersion | None:
    return disclosure.versions.exclude(status=S.PUBLISHED).order_by("-number").first()


def _open_version_of(request: HttpRequest, pk: int) -> DisclosureVersion:
    """The version in work of a disclosure the staff user may read (submit, review and publish
    act on it; the service checks the role for each): a 404 when there is none."""
    require_staff_scope(request.user)
    version = _open_version(access.access_disclosure(request.user, pk))
    if version is None:
        raise Http404
    return version


@login_required
def disclosure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    disclosure = access.access_disclosure(request.user, pk)
    versions = list(
        disclosure.versions.select_related("author", "reviewed_by", "published_by")
        .prefetch_related("attachments", "events__actor")
        .order_by("-number")
    )
    current = next((v for v in versions if v.status != S.PUBLISHED), None)
    roles = access.roles_at(request.user, disclosure.village)
    return render(
        request,
        "disclosure/detail.html",
        {
            "d": disclosure,
            "versions": versions,
            "current": current,
            "may_write": bool(roles & access.AUTHOR_ROLES),
            "may_publish": bool(roles & access.PUBLISH_ROLES),
            "may_review": current is not None and access.can_review(request.user, current, disclosure.village),
            "has_published": any(v.status == S.PUBLISHED for v in versions),
            "warnings": request.session.pop(f"disclosure-warnings-{pk}", []),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    disclosure = access.access_disclosure(request.user, pk)
    access.require_role(request.user, disclosure.village, access.AUTHOR_ROLES)
    version = _open_version(disclosure)
    if version is None or not version.editable:
        messages.error(request, _("Only a draft or a returned version can be edited."))
        return redirect("disclosure-detail", pk=pk)
    errors: list[str] = []
    form = forms.DraftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        sent = form_values(form)
        try:
            services.version_edit(
                actor=request.user,
                version=version,
                title=sent["title"],
                body=sent["body"],
                period_start=sent["period_start"],
                period_end=sent["period_end"],
            )
            for upload in request.FILES.getlist("attachments"):
                services.attachment_add(actor=request.user, version=version, upload=upload)
        except ValidationError as exc:
            errors = list(exc.messages)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("disclosure-detail", pk=pk)
    data = form.data or {
        "title": version.title,
        "body": version.body,
        "period_start": disclosure.period_start.isoformat(),
        "period_end": disclosure.period_end.isoformat(),
    }
    return render(
        request,
        "disclosure/form.html",
        {"d": disclosure, "version": version, "errors": errors, "data": data, "new": False},
    )


@login_required
@require_POST
def disclosure_submit(request: HttpRequest, pk: int) -> HttpResponse:
    version = _open_version_of(request, pk)
    try:
        result = services.version_submit(
            actor=request.user, version=version, confirm=form_values(forms.SubmitForm(request.POST))["confirm"]
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("disclosure-detail", pk=pk)
    if not result.submitted:
        request.session[f"disclosure-warnings-{pk}"] = result.warnings
        messages.error(request, _("The text seems to contain personal data. Check it, then confirm to submit."))
    else:
        messages.success(request, _("Submitted for review."))
    return redirect("disclosure-detail", pk=pk)


@login_required
@require_POST
def disclosure_review(request: HttpRequest, pk: int) -> HttpResponse:
    version = _open_version_of(request, pk)
    sent = form_values(forms.ReviewForm(request.POST))
    try:
        services.version_review(
            actor=request.user,
            version=version,
            approve=sent["decision"] == "approve",
            comment=sent["comment"],
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Review recorded."))
    return redirect("disclosure-detail", pk=pk)


@login_required
@require_POST
def disclosure_publish(request: HttpRequest, pk: int) -> HttpResponse:
    version = _open_version_of(request, pk)
    try:
        services.version_publish(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Published on the village board."))
    return redirect("disclosure-detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_correct(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    disclosure = access.access_disclosure(request.user, pk)
    access.require_role(request.user, disclosure.village, access.AUTHOR_ROLES)
    latest = disclosure.versions.order_by("-number").first()
    errors: list[str] = []
    form = forms.CorrectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        sent = form_values(form)
        try:
            services.correction_start(
                actor=request.user,
                disclosure=disclosure,
                reason=sent["reason"],
                title=sent["title"],
                body=sent["body"],
            )
        except ValidationError as exc:
            errors = list(exc.messages)
        else:
            messages.success(request, _("Correction saved as a draft; it goes through review like the first."))
            return redirect("disclosure-detail", pk=pk)
    data = form.data or {"title": latest.title if latest else "", "body": latest.body if latest else ""}
    return render(request, "disclosure/correct.html", {"d": disclosure, "errors": errors, "data": data})


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    versions = (
        access.access_versions(request.user)
        .filter(status=S.SUBMITTED)
        .select_related("disclosure", "village", "author")
        .order_by("submitted_at")[:200]
    )
    submitted = list(versions)
    supervised = access.supervised_villages([v.village_id for v in submitted])
    rows = [v for v in submitted if access.can_review(request.user, v, v.village, supervised)]
    return render(request, "disclosure/review_queue.html", {"versions": rows})


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    require_staff_scope(request.user)
    attachment = (
        DisclosureAttachment.objects.select_related("version__disclosure")
        .filter(pk=pk, version__disclosure__in=access.access_disclosures(request.user))
        .first()
    )
    if attachment is None:
        raise Http404
    return _file(attachment)


def _file(attachment: DisclosureAttachment) -> FileResponse:
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        filename=attachment.name,
        as_attachment=attachment.content_type == "application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def schedule_view(request: HttpRequest) -> HttpResponse:
    """Schedule settings per village (defaults from the law) and the periods owed."""
    require_staff_scope(request.user)
    villages = list(access.villages_for(request.user, access.SCHEDULE_ROLES)[:500])
    errors: list[str] = []
    if request.method == "POST":
        sent = form_values(forms.ScheduleForm(request.POST, fields=list(schedule_fields())))
        village = next((v for v in villages if v.code == sent["village"]), None)
        start = sent["tracked_from"]
        if village is None or start is None:
            errors.append(_("Choose a village and the first period."))
        else:
            try:
                from hemei.disclosure.schedules import schedule_settings_save

                schedule_settings_save(
                    actor=request.user,
                    village=village,
                    tracked_from=start.replace(day=1),
                    values={k: sent[k] for k in schedule_fields()},
                )
            except ValidationError as exc:
                errors = list(exc.messages)
            else:
                messages.success(request, _("Schedule saved."))
                return redirect("disclosure-schedule")
    settings = (
        ScheduleSettings.objects.filter(village__in=[v.pk for v in villages])
        .select_related("village")
        .order_by("village__code")
    )
    dues = access.access_dues(request.user).select_related("village").order_by("-due_at")[:100]
    return render(
        request,
        "disclosure/schedule.html",
        {
            "villages": villages,
            "settings_rows": settings,
            "dues": dues,
            "errors": errors,
            "now": timezone.now(),
            "fields": schedule_fields(),
            "defaults": ScheduleSettings(tracked_from=timezone.localdate()),
        },
    )


def schedule_fields() -> tuple[str, ...]:
    return ("finance_months", "village_months", "party_months", "due_working_days", "major_working_days")

"""Staff pages for collective assets (/w/assets/…): the register, an asset, the township
idle-asset database with its map, revitalisation projects, Excel import and export.
Thin: reads go through `access` / `selectors`, writes through `services` / `io`."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.assets import access, io, selectors, services
from hemei.assets.forms import (
    AssetForm,
    CaptionForm,
    IncomeForm,
    KeyForm,
    NewStatusForm,
    PhotoForm,
    ProjectActionForm,
    ProjectForm,
    StatusForm,
)
from hemei.assets.models import Asset, RevitalisationProject
from hemei.core.parsing import form_values, picked
from hemei.core.scope import paths_q
from hemei.core.views import error_text, photo_response
from hemei.core.xlsx import XLSX_CONTENT_TYPE, xlsx_response
from hemei.core.xlsx_import import xlsx_import_page
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Region

PAGE_SIZE = 50
XLSX = XLSX_CONTENT_TYPE


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _editable_villages(user: Any) -> list[Region]:
    return list(access.villages_for(user, access.ASSET_ROLES))


def _choices(params: Any) -> dict[str, Any]:
    return {"categories": Asset.Category.choices, "statuses": Asset.Status.choices, "params": params}


@login_required
def asset_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    f = selectors.read_filter(request.user, request.GET)
    qs = f.apply(access.access_assets(request.user)).select_related("village").order_by("village__code", "code")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    editable = _editable_villages(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "assets/list.html", {
        "page": page, "filter": f, "villages": access.visible_villages(request.user), "editable": editable,
        "query": query.urlencode(), **_choices(request.GET),
    })


@login_required
@require_http_methods(["GET", "POST"])
def asset_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    editable = _editable_villages(request.user)
    code = picked(request, "village") or (editable[0].code if editable else "")
    village = access.access_village(request.user, code) if code else None
    if village is None:
        raise PermissionDenied
    access.require_edit(request.user, village)
    form = AssetForm(request.POST or None, initial={"unit": Asset.Unit.SQM, "original_value": "0.00",
                                                    "net_value": "0.00"})
    status = form_values(NewStatusForm(request.POST)).get("status", "")  # "" (unparsable): the service refuses
    if request.method == "POST" and form.is_valid():
        try:
            asset = services.asset_create(actor=request.user, village=village, data=form.to_data(), status=status)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Asset registered."))
            return redirect("asset-detail", pk=asset.pk)
    return render(request, "assets/form.html", {"form": form, "village": village, "editable": editable,
                                                "statuses": Asset.Status.choices, "status": status, "asset": None})


@login_required
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    asset = access.access_asset(request.user, pk)
    return render(request, "assets/detail.html", {
        "asset": asset,
        "photos": list(asset.photos.all()),
        "history": list(asset.status_changes.select_related("actor").order_by("-at", "-id")),
        "projects": list(access.access_projects(request.user).filter(assets=asset).select_related("region")),
        "may_edit": access.may_edit(request.user, asset.village),
        "photo_form": PhotoForm(), "status_form": StatusForm(initial={"status": asset.status}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def asset_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    asset = access.access_asset(request.user, pk)
    access.require_edit(request.user, asset.village)
    form = AssetForm(request.POST or None, initial=AssetForm.initial_for(asset))
    if request.method == "POST" and form.is_valid():
        try:
            services.asset_update(actor=request.user, asset=asset, data=form.to_data())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Asset saved."))
            return redirect("asset-detail", pk=asset.pk)
    return render(request, "assets/form.html", {"form": form, "village": asset.village, "asset": asset})


@login_required
@require_POST
def asset_photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    asset = access.access_asset(request.user, pk)
    access.require_edit(request.user, asset.village)
    try:
        rows = services.asset_photo_add(actor=request.user, asset=asset, uploads=request.FILES.getlist("photos"),
                                        caption=form_values(CaptionForm(request.POST)).get("caption", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(n)d photos added.") % {"n": len(rows)})
    return redirect("asset-detail", pk=asset.pk)


@login_required
def asset_photo(request: HttpRequest, pk: int, photo_id: int) -> FileResponse:
    require_staff_scope(request.user)
    asset = access.access_asset(request.user, pk)
    return photo_response(asset.photos.all(), photo_id)


@login_required
@require_POST
def asset_status(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    asset = access.access_asset(request.user, pk)
    access.require_edit(request.user, asset.village)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status and give the reason."))
    else:
        services.asset_status_change(asset=asset, status=form.cleaned_data["status"], actor=request.user,
                                     reason=form.cleaned_data["reason"])
        messages.success(request, _("Status changed."))
    return redirect("asset-detail", pk=asset.pk)


@login_required
def idle_database(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    f = selectors.read_filter(request.user, request.GET, default_status=Asset.Status.IDLE)
    db = selectors.idle_database(request.user, f)
    return render(request, "assets/idle.html", {
        "filter": f, "db": db, "villages": access.visible_villages(request.user),
        "tiles": getattr(settings, "HEMEI_MAP_TILES", "") or "", "status_value": request.GET.get("status", "idle"),
        **_choices(request.GET),
    })


def _village_param(request: HttpRequest) -> Region:
    code = picked(request, "village")
    if code:
        return access.access_village(request.user, code)
    village = access.visible_villages(request.user).first()
    if village is None:
        raise Http404
    return village


@login_required
@require_http_methods(["GET", "POST"])
def asset_import_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village_param(request)
    access.require_edit(request.user, village)
    return xlsx_import_page(
        request, template="assets/import.html",
        run=lambda data: io.asset_import(actor=request.user, village=village, data=data),
        success=_("%(n)d assets imported."),
        context={"village": village, "headers": io.HEADERS, "required": io.REQUIRED},
    )


@login_required
def asset_export_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village_param(request)
    return xlsx_response(io.asset_export(actor=request.user, village=village), f"assets-{village.code}.xlsx")


@login_required
def asset_template(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    return xlsx_response(io.template_bytes(), "assets-template.xlsx")


# --- revitalisation projects ---------------------------------------------------------------


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    code = request.GET.get("region", "")
    region = None
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None or not access.scope_for(request.user).covers_path(region.path):
            raise Http404
    year = request.GET.get("year", "")
    # isascii: "²".isdigit() is true and int("²") a 500.
    chosen = int(year) if year.isascii() and year.isdigit() and len(year) == 4 else None
    overview = selectors.projects_overview(request.user, region=region, year=chosen)
    return render(request, "assets/projects.html", {
        "o": overview, "region": region, "may_create": access.project_regions(request.user).exists(),
    })


def _choice_field(form: ProjectForm, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _project_form(user: Any, data: Any = None) -> ProjectForm:
    from hemei.meetings.models import AgendaItem

    form = ProjectForm(data)
    regions = list(access.project_regions(user))
    _choice_field(form, "region").choices = [(r.code, f"{r.name} ({r.get_level_display()})") for r in regions]
    under = tuple(r.path for r in regions)
    assets = (access.access_assets(user).filter(paths_q(under, "village__")).select_related("village")
              .order_by("village__code", "code")[:500])
    _choice_field(form, "assets").choices = [
        (str(a.pk), f"{a.village.name} · {a.code} {a.name} ({a.get_status_display()})") for a in assets
    ]
    items = (AgendaItem.objects.filter(paths_q(under, "meeting__region__"), outcome=AgendaItem.Outcome.PASSED)
             .select_related("meeting__region")
             .order_by("-decided_at")[:100])
    _choice_field(form, "decision_item").choices = [("", "—")] + [
        (str(i.pk), f"{i.meeting.region.name} {i.meeting.held_at:%Y-%m-%d} · {i.title}") for i in items
    ]
    return form


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    from hemei.meetings.models import AgendaItem

    require_staff_scope(request.user)
    if not access.project_regions(request.user).exists():
        raise PermissionDenied
    form = _project_form(request.user, request.POST or None)
    sent = form_values(KeyForm(request.POST)).get("key", "")
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        region = access.project_regions(request.user).get(code=c["region"])
        assets = list(access.access_assets(request.user).filter(pk__in=c["assets"]).select_related("village"))
        item = AgendaItem.objects.filter(pk=c["decision_item"]).first() if c["decision_item"] else None
        try:
            project = services.project_create(
                actor=request.user, region=region, name=c["name"], path=c["path"], assets=assets,
                partner=c["partner"], description=c["description"], decision_item=item,
                decision_date=c["decision_date"], decision_summary=c["decision_summary"],
                expected_annual_income=c["expected_annual_income"],
                idempotency_key=sent or uuid.uuid4().hex,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Project recorded."))
            return redirect("asset-project", pk=project.pk)
    # One key per form shown: a double-posted form records one project (kept on re-render).
    return render(request, "assets/project_form.html", {"form": form, "key": sent or uuid.uuid4().hex})


@login_required
@require_http_methods(["GET", "POST"])
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    project = access.access_project(request.user, pk)
    may_edit = access.may_edit_project(request.user, project.region)
    form = IncomeForm(request.POST or None)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        try:
            if form_values(ProjectActionForm(request.POST)).get("action") == "start":
                services.project_start(actor=request.user, project=project)
                messages.success(request, _("Project started; its assets are being revitalised."))
                return redirect("asset-project", pk=project.pk)
            if form.is_valid():
                services.project_income_record(actor=request.user, project=project, year=form.cleaned_data["year"],
                                               amount=form.cleaned_data["amount"], note=form.cleaned_data["note"])
                messages.success(request, _("Income recorded."))
                return redirect("asset-project", pk=project.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    incomes = list(project.incomes.select_related("recorded_by", "corrects").order_by("-year", "-id"))
    corrected = {i.corrects_id for i in incomes if i.corrects_id}
    for i in incomes:
        i.superseded = i.pk in corrected  # type: ignore[attr-defined]
    return render(request, "assets/project.html", {
        "project": project, "assets": list(project.assets.select_related("village")), "incomes": incomes,
        "may_edit": may_edit, "form": form, "planned": project.status == RevitalisationProject.Status.PLANNED,
    })

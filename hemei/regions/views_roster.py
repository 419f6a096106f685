"""Roster pages: upload an xlsx (imported in the background), follow its progress, download
the report, the empty template and a region's roster. Thin: the work is in
`hemei.regions.roster` and `hemei.regions.tasks`; scope comes from `hemei.regions.access`.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hemei.accounts.models import User
from hemei.core.parsing import form_values
from hemei.core.xlsx import XLSX_CONTENT_TYPE
from hemei.core.xlsx_import import XlsxUploadForm
from hemei.regions.access import access_region, access_regions, require_staff_scope, scope_for
from hemei.regions.forms import RegionCodeForm
from hemei.regions.models import Level, Region, RosterImport
from hemei.regions.roster import (
    ImportReport,
    report_to_xlsx,
    roster_export,
    roster_template,
)
from hemei.regions.tasks import roster_import_task

XLSX_TYPE = XLSX_CONTENT_TYPE
IMPORT_LEVELS = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID)
EXPORT_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID)
# A drop-down longer than this helps nobody (a province has tens of thousands of grids).
MAX_CHOICES = 2000
RECENT_IMPORTS = 20


def _signed_in(request: HttpRequest) -> User:
    # Every view here is behind login_required, so the user is a real account.
    assert isinstance(request.user, User)
    return request.user


def _staff_only(request: HttpRequest) -> None:
    require_staff_scope(request.user)


def writable_regions(user: Any) -> QuerySet[Region]:
    """Townships, villages and grids the user may change (their write subtrees)."""
    return access_regions(user, write=True).filter(level__in=IMPORT_LEVELS).order_by("path")


def _choices(regions: QuerySet[Region]) -> list[tuple[str, str]]:
    # Indent by depth so the list reads as the tree it is.
    return [
        (r.code, "\u3000" * max(r.depth - 3, 0) + f"{r.name} ({r.code})")
        for r in regions[:MAX_CHOICES]
    ]


class RosterImportForm(XlsxUploadForm):
    """The checks before queueing are those of every xlsx upload (`XlsxUploadForm.clean_file`):
    size, type, and what the zip expands to."""

    field_order = ["region", "file", "dry_run"]
    region = forms.ChoiceField(label=gettext_lazy("Import into region"))
    file = forms.FileField(label=gettext_lazy("Roster file (.xlsx)"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check the file and show what would change, write nothing"),
        required=False,
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = choices  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def roster_import_page(request: HttpRequest) -> HttpResponse:
    """The upload form, the export form and the user's recent imports.

    A POST naming a region outside the user's write scope is refused with 404/403 by
    `access_region` before the form is even looked at.
    """
    _staff_only(request)
    choices = _choices(writable_regions(request.user))
    if request.method == "POST":
        code = form_values(RegionCodeForm(request.POST)).get("region", "")
        region = access_region(request.user, code, write=True) if code else None
        form = RosterImportForm(request.POST, request.FILES, choices=choices)
        county = region.county_ancestor() if region is not None else None
        if form.is_valid() and region is not None:
            if county is None:
                form.add_error("region", _("This region is not inside a county."))
            else:
                upload = form.cleaned_data["file"]
                job = RosterImport(
                    user=_signed_in(request), region=region, county=county,
                    original_name=str(upload.name)[:255], dry_run=form.cleaned_data["dry_run"],
                )
                # A random stored name: the uploader's file name never becomes a path.
                job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
                job.save()
                result = roster_import_task.enqueue(job.pk, get_language() or "")
                RosterImport.objects.filter(pk=job.pk).update(task_id=result.id)
                return redirect("roster-import-status", pk=job.pk)
    else:
        initial = request.GET.get("region", "")
        form = RosterImportForm(choices=choices, initial={"region": initial})
    export_regions = writable_regions(request.user).filter(level__in=EXPORT_LEVELS).order_by("path")
    context = {
        "form": form,
        "can_import": bool(choices),
        "export_choices": _choices(export_regions),
        "can_reveal": scope_for(request.user).can_reveal,
        "max_mb": settings.HEMEI_UPLOAD_MAX_BYTES / 1048576,
        "imports": RosterImport.objects.filter(user=_signed_in(request)).select_related("region")[
            :RECENT_IMPORTS
        ],
    }
    return render(request, "regions/roster_import.html", context)


def _own_import(request: HttpRequest, pk: int) -> RosterImport:
    # Imports are private to their uploader: anyone else gets "not found".
    return get_object_or_404(RosterImport.objects.select_related("region"), pk=pk,
                             user=_signed_in(request))


def _status_context(job: RosterImport) -> dict[str, Any]:
    report = ImportReport.from_dict(job.report) if job.report else None
    return {"job": job, "report": report}


@login_required
@require_GET
def roster_import_status(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_import(request, pk)
    return render(request, "regions/roster_status.html", _status_context(job))


@login_required
@require_GET
def roster_import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial that htmx polls every second until the job has finished."""
    job = _own_import(request, pk)
    return render(request, "regions/roster_status.html#progress", _status_context(job))


@login_required
@require_GET
def roster_import_report(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _own_import(request, pk)
    if not job.report:
        raise Http404
    data = report_to_xlsx(ImportReport.from_dict(job.report))
    return FileResponse(io.BytesIO(data), as_attachment=True, content_type=XLSX_TYPE,
                        filename=f"roster-import-{job.pk}-report.xlsx")


@login_required
@require_GET
def roster_template_download(request: HttpRequest) -> HttpResponseBase:
    _staff_only(request)
    return FileResponse(io.BytesIO(roster_template()), as_attachment=True,
                        content_type=XLSX_TYPE, filename="roster-template.xlsx")


@login_required
@require_GET
def roster_export_view(request: HttpRequest) -> HttpResponseBase:
    """A region's roster as xlsx, masked like `hemei export-roster`; full ID numbers and phones
    only when asked for (`reveal=1`) by a holder of the reveal permission (403 otherwise).
    Either way the export writes its audit row saying which it was."""
    _staff_only(request)
    code = request.GET.get("region", "")
    if not code:
        raise Http404
    # The whole roster of a region is for the posts that keep it, not for read-only posts
    # (shop keeper, care worker …) who see households one at a time.
    region = access_region(request.user, code, write=True)
    reveal = request.GET.get("reveal") == "1"
    if reveal and not scope_for(request.user).can_reveal:
        raise PermissionDenied
    data = roster_export(
        region=region, reveal=reveal, actor=request.user,
        include_sub=request.GET.get("sub", "1") != "0", request=request,
    )
    return FileResponse(io.BytesIO(data), as_attachment=True, content_type=XLSX_TYPE,
                        filename=f"roster-{region.code}.xlsx")

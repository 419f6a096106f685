"""The one upload-then-import page every xlsx import uses (assets, contracts, trusteeship
parcels, finance entries, department monitoring lists), and the upload form the roster's
background import shares.

An app's view does its own access checks, then hands over what differs: the template, the
import function (bytes → `ImportResult`), the success message and where to go after success.
The form refuses what `hemei.core.xlsx.check_workbook` refuses (too big, not an xlsx, a zip
that expands too much) before the file is read into memory or queued."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hemei.core.xlsx import ErrorList, ImportResult, WorkbookRefused, check_workbook


class XlsxUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not str(upload.name).lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx)."))
        try:
            check_workbook(upload)
        except WorkbookRefused as exc:
            raise forms.ValidationError(exc.message) from None
        return upload


def xlsx_import_page(
    request: HttpRequest,
    *,
    template: str,
    run: Callable[[bytes], ImportResult],
    success: str,
    context: dict[str, Any],
    done_url: str | None = None,
) -> HttpResponse:
    """GET: the page. POST: check the upload, run the import, and either redirect to
    `done_url` (or show the page again) with `success % {"n": created}`, or show the page with
    every problem of the file (at most HEMEI_IMPORT_MAX_ERRORS, then how many more)."""
    result: ImportResult | None = None
    if request.method == "POST":
        form = XlsxUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            for error in form.errors.get("file", []):
                messages.error(request, str(error))
        else:
            result = run(form.cleaned_data["file"].read())
            if result.ok:
                messages.success(request, success % {"n": result.created})
                if done_url:
                    return redirect(done_url)
            elif isinstance(result.errors, ErrorList):
                result.errors = result.errors.listed()
    return render(request, template, {**context, "result": result})

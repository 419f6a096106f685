"""Staff pages for village finances (/w/finance/…): entries, import, export, monthly statement."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.parsing import form_values, parse_year, picked
from hemei.core.views import error_text
from hemei.core.xlsx import XLSX_CONTENT_TYPE, xlsx_response
from hemei.core.xlsx_import import xlsx_import_page
from hemei.disclosure import access, finance, finance_io
from hemei.disclosure.forms import FinanceEntryForm
from hemei.disclosure.models import FinanceEntry
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Region

PAGE_SIZE = 50
XLSX = XLSX_CONTENT_TYPE


def _village(request: HttpRequest) -> Region:
    """The village asked for (?village=code, in scope) or the first one the user may see."""
    code = picked(request, "village")
    if code:
        return access.access_village(request.user, code)
    from hemei.regions.access import access_regions
    from hemei.regions.models import Level

    village = access_regions(request.user).filter(level=Level.VILLAGE).order_by("code").first()
    if village is None:
        raise Http404
    return village


def _month(value: str) -> tuple[int, int]:
    try:
        year, month = (int(x) for x in value.split("-"))
        dt.date(year, month, 1)
        return year, month
    except (ValueError, TypeError):
        today = timezone.localdate()
        first = today.replace(day=1) - dt.timedelta(days=1)
        return first.year, first.month


@login_required
@require_http_methods(["GET", "POST"])
def finance_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    may_write = bool(access.roles_at(request.user, village) & access.FINANCE_ROLES)
    errors: list[str] = []
    if request.method == "POST":
        sent = {**dict.fromkeys(FinanceEntryForm.base_fields, ""), **form_values(FinanceEntryForm(request.POST))}
        day = sent["date"]  # a date or None: DateTextField reads anything else as None
        if day is None:
            errors.append(_("Enter the date as YYYY-MM-DD."))
        else:
            try:
                amount = finance.parse_amount(sent["amount"])
            except ValidationError as exc:
                errors += exc.messages
        if not errors:
            try:
                finance.finance_entry_create(
                    actor=request.user,
                    village=village,
                    date=day,
                    subject=sent["subject"],
                    direction=sent["direction"],
                    amount=amount,
                    voucher=sent["voucher"],
                    counterparty=sent["counterparty"],
                    summary=sent["summary"],
                    attachment=request.FILES.get("attachment"),
                )
            except ValidationError as exc:
                errors += exc.messages
            else:
                messages.success(request, _("Entry saved."))
                return redirect(f"{request.path}?village={village.code}")
    qs = access.access_entries(request.user).filter(village=village).order_by("-date", "-id")
    year = parse_year(request.GET.get("year"))
    if year is not None:
        qs = qs.filter(year=year)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.subject_label = finance.subject_name(entry.subject)  # type: ignore[attr-defined]
    return render(
        request,
        "disclosure/finance_list.html",
        {
            "village": village,
            "page": page,
            "may_write": may_write,
            "errors": errors,
            "data": request.POST,
            "subjects": [(code, s.name, s.side) for code, s in finance.SUBJECTS.items()],
            "directions": FinanceEntry.Direction.choices,
            "chart": finance.income_by_year(village),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def finance_import_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    access.require_role(request.user, village, access.FINANCE_ROLES)
    return xlsx_import_page(
        request, template="disclosure/finance_import.html",
        run=lambda data: finance_io.finance_import(actor=request.user, village=village, data=data),
        success=_("%(n)d entries imported."),
        context={"village": village, "headers": finance_io.HEADERS, "subjects": finance_io.template_rows()},
    )


@login_required
def finance_export_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    year = parse_year(request.GET.get("year"))
    data = finance_io.finance_export(actor=request.user, village=village, year=year)
    return xlsx_response(data, f"finance-{village.code}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def statement_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    year, month = _month(picked(request, "month"))
    if request.method == "POST":
        try:
            version = finance.statement_draft(actor=request.user, village=village, year=year, month=month)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The statement is a draft disclosure now; submit it for review."))
            return redirect("disclosure-detail", pk=version.disclosure_id)
    statement = finance.statement_for(village, year, month)
    existing = finance.statement_disclosure(village, year, month)
    return render(
        request,
        "disclosure/statement.html",
        {
            "village": village,
            "s": statement,
            "month": f"{year:04d}-{month:02d}",
            "existing": existing,
            "may_write": bool(access.roles_at(request.user, village) & access.FINANCE_ROLES),
        },
    )

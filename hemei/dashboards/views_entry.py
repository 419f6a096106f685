"""Entering a village's month, the township's approvals, and the Excel import."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hemei.core.parsing import form_values
from hemei.core.scope import may, scope_for
from hemei.core.xlsx import xlsx_response
from hemei.core.xlsx_import import xlsx_import_page
from hemei.dashboards.figures import default_period
from hemei.dashboards.forms import EntryActionForm
from hemei.indicators import io, services
from hemei.indicators.access import APPROVE_ROLES, ENTRY_ROLES, access_entry_villages, access_reports
from hemei.indicators.forms import ReportForm, ReturnForm
from hemei.indicators.models import Report
from hemei.indicators.periods import Period
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Region


def _village(request: HttpRequest, code: str) -> Region:
    village = access_entry_villages(request.user).filter(code=code).first()
    if village is None:
        raise Http404
    return village


def _month(code: str) -> Period:
    try:
        return services.entry_period(code)
    except ValidationError:
        raise Http404 from None


@login_required
def entry_list(request: HttpRequest) -> HttpResponse:
    """The villages in scope and the state of their form for a month."""
    require_staff_scope(request.user)
    period = _month(request.GET.get("period", "")) if request.GET.get("period") else default_period()
    villages = list(access_entry_villages(request.user)[:500])
    reports = {r.village_id: r for r in access_reports(request.user).filter(period=period.code, village__in=villages)
               .exclude(status=Report.Status.SUPERSEDED).order_by("version")}
    rows = [(v, reports.get(v.pk)) for v in villages]
    return render(request, "dashboards/entry_list.html", {"period": period, "rows": rows,
                                                          "previous": period.previous(), "next": period.next()})


@login_required
def entry(request: HttpRequest, code: str, period: str) -> HttpResponse:
    village = _village(request, code)
    month = _month(period)
    report, values = services.current_values(village, month)
    may_enter = may(request.user, ENTRY_ROLES, village)
    may_approve = may(request.user, APPROVE_ROLES, village)
    form = ReportForm(initial_values=values)
    if request.method == "POST":
        action = form_values(EntryActionForm(request.POST)).get("action", "")  # "": unparsable, nothing done
        try:
            if action in ("save", "submit"):
                if not may_enter:
                    raise PermissionDenied
                form = ReportForm(request.POST, initial_values=values)
                if form.is_valid():
                    report = services.report_save(actor=request.user, village=village, period=month.code,
                                                  values=form.values(), note=form.cleaned_data.get("note", ""))
                    if action == "submit":
                        services.report_submit(actor=request.user, report=report)
                        messages.success(request, _("Submitted to the township for approval."))
                    else:
                        messages.success(request, _("Saved as a draft."))
                    return redirect("dashboards:entry", code=code, period=month.code)
            elif report is not None and action == "approve":
                services.report_approve(actor=request.user, report=report)
                messages.success(request, _("Approved; the figures count in every dashboard now."))
                return redirect("dashboards:entry", code=code, period=month.code)
            elif report is not None and action == "return":
                reason = ReturnForm(request.POST)
                if reason.is_valid():
                    services.report_return(actor=request.user, report=report, reason=reason.cleaned_data["reason"])
                    messages.success(request, _("Returned to the village."))
                    return redirect("dashboards:entry", code=code, period=month.code)
                messages.error(request, _("Say why the report goes back."))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    name = f"status_{field.split('.')[0]}" if field.endswith((".started", ".done", ".piped")) \
                        else field.replace(".", "__")
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                for error in exc.messages:
                    messages.error(request, error)
    history = list(Report.objects.filter(village=village, period=month.code).order_by("-version")
                   .prefetch_related("events"))
    return render(request, "dashboards/entry.html", {
        "village": village, "period": month, "report": report, "form": form, "may_enter": may_enter,
        "may_approve": may_approve, "history": history, "return_form": ReturnForm(),
        "previous": month.previous(), "next": month.next(),
    })


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Submitted forms the township may approve."""
    require_staff_scope(request.user)
    reports = [r for r in access_reports(request.user).filter(status=Report.Status.SUBMITTED)
               .select_related("village").order_by("period", "village__code")[:500]
               if scope_for(request.user).roles_over(r.village.path) & APPROVE_ROLES]
    return render(request, "dashboards/approvals.html", {"reports": reports})


@login_required
def import_values(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    return xlsx_import_page(
        request, template="dashboards/import.html",
        run=lambda data: io.import_values(data, actor=request.user),
        success=_("%(n)d values imported and submitted to the township."),
        context={"headers": io.HEADERS},
    )


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    return xlsx_response(io.template(), "indicator-values.xlsx")

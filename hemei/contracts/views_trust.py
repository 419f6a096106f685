"""Land trusteeship pages: /w/trusteeship/ (village totals), the income report with its xlsx,
the register (parcels: list, new, detail with edit and end; a service on many parcels at once;
yearly income entry; xlsx import, template and export) and /me/trusteeship/ for a villager's
own parcels and income (phone-first). Thin: reads through `access`, writes through `trust`."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.cases.access import villager_resident
from hemei.contracts import access, trust, trust_io
from hemei.contracts.forms_trust import (
    EndForm,
    IncomeForm,
    ParcelActionForm,
    ParcelForm,
    ServiceAreasForm,
    ServiceForm,
    ServiceParcelsForm,
    find_household,
    households_matching,
)
from hemei.contracts.models import TrustIncome, TrustParcel, TrustService
from hemei.contracts.views import _village
from hemei.core.parsing import form_values, parse_year
from hemei.core.xlsx import xlsx_response
from hemei.core.xlsx_import import xlsx_import_page
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Level, Region

PAGE = 500

def _year(request: HttpRequest) -> int:
    year = parse_year(request.GET.get("year"))
    return year if year is not None and 2000 <= year <= 2100 else trust.this_year()


@login_required
def trusteeship_overview(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    rows = trust.village_totals(access.access_parcels(request.user))
    totals = {
        "parcels": sum(r["parcels"] for r in rows),
        "area": sum((r["area"] for r in rows), trust.ZERO),
        "households": sum(r["households"] for r in rows),
    }
    # Villages without parcels yet must be reachable too: the register starts empty.
    writable = [v for v in access.access_villages(request.user)[:50]
                if access.may(request.user, v, trust.TRUST_ROLES)]
    return render(request, "contracts/trust_overview.html", {"rows": rows, "totals": totals, "writable": writable})


@login_required
def trusteeship_income(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    year = _year(request)
    rows = trust.income_rows(access.access_parcels(request.user), access.access_incomes(request.user),
                             village=village, year=year)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(trust.income_export(actor=request.user, village=village, year=year, rows=rows),
                             f"trusteeship-{village.code}-{year}.xlsx")
    totals = {
        "area": sum((r.area_mu for r in rows), trust.ZERO),
        "yield_income": sum((r.yield_income for r in rows), trust.ZERO),
        "fees": sum((r.fees for r in rows), trust.ZERO),
        "net": sum((r.net for r in rows), trust.ZERO),
    }
    return render(request, "contracts/trust_income.html", {
        "village": village, "year": year, "rows": rows, "totals": totals,
        "villages": access.access_villages(request.user),
        "may_write": access.may(request.user, village, trust.TRUST_ROLES),
    })


@login_required
def my_trusteeship(request: HttpRequest) -> HttpResponse:
    resident = villager_resident(request.user)
    if resident is None:
        raise Http404
    household = resident.household
    parcels = list(access.access_parcels(request.user).filter(household=household).order_by("id"))
    services = list(TrustService.objects.filter(parcel__in=parcels).select_related("parcel")
                    .order_by("-on", "id")[:50])
    incomes = list(TrustIncome.objects.filter(household=household).order_by("-year"))
    fees = dict(
        TrustService.objects.filter(parcel__in=parcels).values("on__year").annotate(s=Sum("fee"))
        .values_list("on__year", "s")
    )
    years = [
        {"year": i.year, "yield_income": i.yield_income, "fees": trust.cents(fees.get(i.year)),
         "net": i.yield_income - trust.cents(fees.get(i.year))}
        for i in incomes
    ]
    return render(request, "contracts/my_trusteeship.html", {
        "parcels": parcels, "services": services, "years": years,
        "area": sum((p.area_mu for p in parcels), trust.ZERO),
    })


# --- the register: parcels, services, incomes, import and export ------------------------------


def _writable_village(request: HttpRequest) -> Region:
    """The village of a write page: in the user's read scope and theirs to change (the committee
    or township staff over it, `trust.TRUST_ROLES`), else 404."""
    require_staff_scope(request.user)
    village = _village(request)
    if not access.may(request.user, village, trust.TRUST_ROLES):
        raise Http404
    return village


def _staff_parcel(request: HttpRequest, pk: int) -> TrustParcel:
    require_staff_scope(request.user)
    villages = access.access_villages(request.user)
    parcel = (access.access_parcels(request.user).filter(pk=pk, village__in=villages)
              .select_related("village", "household__head", "household__region").first())
    if parcel is None:
        raise Http404
    return parcel


def _filters(request: HttpRequest) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip()[:100] for k in ("grid", "crop", "provider", "status", "q")}


def _filtered(qs: QuerySet[TrustParcel], f: dict[str, str]) -> QuerySet[TrustParcel]:
    if f["grid"]:
        qs = qs.filter(household__region__code=f["grid"])
    if f["crop"]:
        qs = qs.filter(crop=f["crop"])
    if f["provider"]:
        qs = qs.filter(provider=f["provider"])
    if f["status"] == "active":
        qs = qs.filter(ended_on__isnull=True)
    elif f["status"] == "ended":
        qs = qs.filter(ended_on__isnull=False)
    if f["q"]:
        qs = qs.filter(Q(household__number=f["q"]) | Q(household__head__name__contains=f["q"]) | Q(code=f["q"]))
    return qs


@login_required
def parcel_list(request: HttpRequest) -> HttpResponse:
    # The register names households and their land: the committee and the township, not every
    # post in the village (a shop keeper or a grid worker gets 404).
    village = _writable_village(request)
    f = _filters(request)
    base = access.access_parcels(request.user).filter(village=village)
    qs = _filtered(base, f)
    totals = qs.aggregate(n=Count("id"), area=Sum("area_mu"), households=Count("household", distinct=True))
    parcels = list(qs.select_related("household__head", "household__region").annotate(n_services=Count("services"))
                   .order_by("household__number", "id")[:PAGE])
    return render(request, "contracts/trust_parcels.html", {
        "village": village, "villages": access.access_villages(request.user), "f": f, "parcels": parcels,
        "totals": {"n": totals["n"], "area": trust.cents(totals["area"]), "households": totals["households"]},
        "shown": len(parcels), "page": PAGE,
        "grids": Region.objects.filter(path__startswith=village.path, level=Level.GRID).order_by("code"),
        "crops": base.exclude(crop="").values_list("crop", flat=True).distinct().order_by("crop"),
        "providers": base.values_list("provider", flat=True).distinct().order_by("provider"),
        "may_write": access.may(request.user, village, trust.TRUST_ROLES),
    })


@login_required
@require_http_methods(["GET", "POST"])
def parcel_new(request: HttpRequest) -> HttpResponse:
    village = _writable_village(request)
    form = ParcelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            household = find_household(village, d["household"])
            parcel = trust.parcel_register(
                actor=request.user, village=village, household=household, area_mu=d["area_mu"],
                provider=d["provider"], entrusted_from=d["entrusted_from"], entrusted_to=d["entrusted_to"],
                location=d["location"], crop=d["crop"], code=d["code"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Parcel registered for household %(n)s.") % {"n": household.number})
            return redirect("trust-parcel", pk=parcel.pk)
    matches = households_matching(village, request.GET.get("find", ""))
    return render(request, "contracts/trust_parcel_form.html", {
        "village": village, "form": form, "matches": matches, "may_write": True,
    })


@login_required
@require_http_methods(["GET", "POST"])
def parcel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    parcel = _staff_parcel(request, pk)
    may_write = access.may(request.user, parcel.village, trust.TRUST_ROLES)
    if not may_write:
        raise Http404
    initial = {k: getattr(parcel, k) for k in trust.EDITABLE_FIELDS}
    edit = ParcelForm(initial=initial, editing=True)
    end = EndForm()
    if request.method == "POST":
        action = form_values(ParcelActionForm(request.POST)).get("action", "")
        try:
            if action == "edit":
                edit = ParcelForm(request.POST, editing=True)
                if edit.is_valid():
                    trust.parcel_update(actor=request.user, parcel=parcel, **edit.cleaned_data)
                    messages.success(request, _("Parcel saved."))
                    return redirect("trust-parcel", pk=parcel.pk)
            elif action == "end":
                end = EndForm(request.POST)
                if end.is_valid():
                    trust.parcel_end(actor=request.user, parcel=parcel, on=end.cleaned_data["ended_on"])
                    messages.success(request, _("The entrustment is ended."))
                    return redirect("trust-parcel", pk=parcel.pk)
            else:
                raise Http404
        except ValidationError as exc:
            target = edit if action == "edit" else end
            for message in exc.messages:
                target.add_error(None, message)
    services = list(parcel.services.order_by("-on", "-id"))
    return render(request, "contracts/trust_parcel.html", {
        "parcel": parcel, "services": services, "edit": edit, "end": end, "may_write": may_write,
        "frozen": bool(services), "fees": sum((s.fee for s in services), trust.ZERO),
    })


@login_required
@require_http_methods(["GET", "POST"])
def service_new(request: HttpRequest) -> HttpResponse:
    """One service on many parcels: tick parcels (area served per parcel, blank = the whole
    parcel), or choose "all parcels of provider X". The hidden key makes a double submit one."""
    village = _writable_village(request)
    f = _filters(request)
    active = access.access_parcels(request.user).filter(village=village, ended_on__isnull=True)
    shown = list(_filtered(active, f).select_related("household__head").order_by("household__number", "id")[:PAGE])
    form = ServiceForm(request.POST or None, initial={"key": uuid.uuid4().hex, "on": timezone.localdate()})
    picks = form_values(ServiceParcelsForm(request.POST))
    ticked = {str(pk) for pk in picks.get("parcel", ())}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        provider = picks.get("all_of", "")
        if provider:
            chosen = list(active.filter(provider=provider))
        else:
            chosen = list(active.filter(pk__in=picks.get("parcel", ())))
        sent = form_values(ServiceAreasForm(request.POST, parcels=chosen))
        areas = {p.pk: sent.get(f"area_{p.pk}", "") for p in chosen}
        try:
            created, replayed = trust.services_batch(
                actor=request.user, village=village, parcels=chosen, kind=d["kind"], on=d["on"],
                fee_per_mu=d["fee_per_mu"], areas=areas, note=d["note"], idempotency_key=d["key"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            if replayed:
                messages.info(request, _("This form was already sent: the services were recorded once."))
            else:
                messages.success(request, _("%(n)d services recorded, %(a)s mu, %(f)s yuan.") % {
                    "n": len(created), "a": sum((s.area_mu for s in created), trust.ZERO),
                    "f": sum((s.fee for s in created), trust.ZERO)})
            return redirect(f"{reverse('trust-parcels')}?village={village.code}")
    return render(request, "contracts/trust_service_form.html", {
        "village": village, "form": form, "parcels": shown, "f": f, "ticked": ticked, "post": request.POST,
        "providers": active.values_list("provider", flat=True).distinct().order_by("provider"),
        "grids": Region.objects.filter(path__startswith=village.path, level=Level.GRID).order_by("code"), "page": PAGE,
        "may_write": True,
    })


@login_required
@require_http_methods(["GET", "POST"])
def income_new(request: HttpRequest) -> HttpResponse:
    village = _writable_village(request)
    form = IncomeForm(request.POST or None, initial={"year": _year(request)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            household = find_household(village, d["household"])
            if d["correct"]:
                trust.income_correct(actor=request.user, village=village, household=household, year=d["year"],
                                     yield_income=d["yield_income"], reason=d["reason"])
            else:
                trust.income_record(actor=request.user, village=village, household=household, year=d["year"],
                                    yield_income=d["yield_income"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Income of household %(n)s for %(y)d recorded.") % {
                "n": household.number, "y": d["year"]})
            return redirect(f"{reverse('trust-income-new')}?village={village.code}&year={d['year']}")
    year = form.cleaned_data["year"] if form.is_bound and form.is_valid() else _year(request)
    recent = list(access.access_incomes(request.user).filter(village=village, year=year)
                  .select_related("household__head").order_by("-id")[:20])
    return render(request, "contracts/trust_income_form.html", {
        "village": village, "form": form, "recent": recent, "year": year, "may_write": True,
    })


@login_required
@require_http_methods(["GET", "POST"])
def parcel_import_view(request: HttpRequest) -> HttpResponse:
    village = _writable_village(request)
    return xlsx_import_page(
        request, template="contracts/trust_import.html",
        run=lambda data: trust_io.parcel_import(actor=request.user, village=village, data=data),
        success=_("%(n)d parcels imported."),
        context={"village": village, "headers": trust_io.HEADERS, "may_write": True},
        done_url=f"{reverse('trust-parcels')}?village={village.code}",
    )


@login_required
def parcel_template_view(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    return xlsx_response(trust_io.parcel_template(), "trusteeship-parcels-template.xlsx")


@login_required
def parcel_export_view(request: HttpRequest) -> HttpResponse:
    village = _writable_village(request)
    return xlsx_response(trust_io.parcel_export(actor=request.user, village=village),
                         f"trusteeship-parcels-{village.code}.xlsx")

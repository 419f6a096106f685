"""Land trusteeship pages: /w/trusteeship/ (village totals), the income report with its xlsx,
and /me/trusteeship/ for a villager's own parcels and income (phone-first)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from hemei.cases.access import villager_resident
from hemei.contracts import access, trust
from hemei.contracts.models import TrustIncome, TrustService
from hemei.contracts.views import XLSX, _village
from hemei.regions.access import require_staff_scope


def _year(request: HttpRequest) -> int:
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else trust.this_year()


@login_required
def trusteeship_overview(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    rows = trust.village_totals(access.access_parcels(request.user))
    totals = {
        "parcels": sum(r["parcels"] for r in rows),
        "area": sum((r["area"] for r in rows), trust.ZERO),
        "households": sum(r["households"] for r in rows),
    }
    return render(request, "contracts/trust_overview.html", {"rows": rows, "totals": totals})


@login_required
def trusteeship_income(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    village = _village(request)
    year = _year(request)
    rows = trust.income_rows(access.access_parcels(request.user), access.access_incomes(request.user),
                             village=village, year=year)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(trust.income_export(actor=request.user, village=village, year=year, rows=rows),
                                content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="trusteeship-{village.code}-{year}.xlsx"'
        return response
    totals = {
        "area": sum((r.area_mu for r in rows), trust.ZERO),
        "yield_income": sum((r.yield_income for r in rows), trust.ZERO),
        "fees": sum((r.fees for r in rows), trust.ZERO),
        "net": sum((r.net for r in rows), trust.ZERO),
    }
    return render(request, "contracts/trust_income.html", {
        "village": village, "year": year, "rows": rows, "totals": totals,
        "villages": access.access_villages(request.user),
    })


@login_required
def my_trusteeship(request: HttpRequest) -> HttpResponse:
    resident = villager_resident(request.user)
    if resident is None:
        raise Http404
    household = resident.household
    parcels = list(access.access_parcels(request.user).filter(household=household).order_by("id"))
    services = list(TrustService.objects.filter(parcel__in=parcels).order_by("-on", "id")[:50])
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

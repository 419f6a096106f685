"""Land trusteeship (土地托管): the writes and the figures.

A household entrusts parcels to a provider (usually a cooperative); the provider's services
on a parcel carry a fee; the household's yearly yield income is recorded once a year. The
income report derives fees (sum of the services on the household's parcels that year) and net
(yield − fees); nothing derived is stored, so the figures always add up.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from hemei.contracts import access
from hemei.contracts.models import TrustIncome, TrustParcel, TrustService
from hemei.contracts.services import parse_area, parse_money
from hemei.core.audit import audit_record, audit_record_many
from hemei.core.models import AuditEntry
from hemei.regions.models import Household, Region
from hemei.regions.roster.template import neutralise

ZERO = Decimal("0.00")


def cents(value: Decimal | None) -> Decimal:
    """A sum as two-place Decimal (SQLite's SUM drops trailing zeros: 305 for 305.00)."""
    return (value or ZERO).quantize(ZERO)


@transaction.atomic
def parcel_register(*, actor: Any, household: Household, area_mu: Any, provider: str, entrusted_from: dt.date,
                    entrusted_to: dt.date, location: str = "", crop: str = "") -> TrustParcel:
    village = household.village
    access.require(actor, village, access.COMMITTEE_ROLES, access.no_scope_message())
    area = parse_area(area_mu)
    provider = (provider or "").strip()
    if not provider or len(provider) > 100:
        raise ValidationError(_("Name the service provider (at most 100 characters)."), code="provider")
    if not isinstance(entrusted_from, dt.date) or not isinstance(entrusted_to, dt.date) \
            or entrusted_to <= entrusted_from:
        raise ValidationError(_("The trusteeship cannot end before it starts."), code="term")
    parcel = TrustParcel.objects.create(
        county=household.county, village=village, household=household, area_mu=area, provider=provider,
        entrusted_from=entrusted_from, entrusted_to=entrusted_to, location=(location or "")[:100],
        crop=(crop or "")[:40],
    )
    audit_record(actor=actor, action="create", obj=parcel, changes={"area_mu": [None, area]})
    return parcel


@transaction.atomic
def service_record(*, actor: Any, parcel: TrustParcel, kind: str, on: dt.date, area_mu: Any, fee: Any,
                   note: str = "") -> TrustService:
    access.require(actor, parcel.village, access.COMMITTEE_ROLES, access.no_scope_message())
    if kind not in TrustService.Kind.values:
        raise ValidationError(_("Unknown kind of service."), code="kind")
    area = parse_area(area_mu)
    if area > parcel.area_mu:
        raise ValidationError(_("The area served is larger than the parcel."), code="area")
    value = parse_money(fee, allow_zero=True)
    service = TrustService.objects.create(parcel=parcel, kind=kind, on=on, area_mu=area, fee=value,
                                          note=(note or "")[:200])
    audit_record(actor=actor, action="create", obj=service, changes={"fee": [None, value], "kind": [None, kind]})
    return service


@transaction.atomic
def services_record_many(*, actor: Any, rows: list[tuple[TrustParcel, str, dt.date, Any, Any]]) -> int:
    """A provider's day of work on many parcels (drone spraying of a whole field): every row
    (parcel, kind, date, area, fee) checked as in `service_record`, then one bulk insert and
    one bulk audit. One bad row and nothing is saved."""
    good: list[TrustService] = []
    for village in {parcel.village for parcel, *_rest in rows}:
        access.require(actor, village, access.COMMITTEE_ROLES, access.no_scope_message())
    for parcel, kind, on, area_mu, fee in rows:
        if kind not in TrustService.Kind.values:
            raise ValidationError(_("Unknown kind of service."), code="kind")
        area = parse_area(area_mu)
        if area > parcel.area_mu:
            raise ValidationError(_("The area served is larger than the parcel."), code="area")
        good.append(TrustService(parcel=parcel, kind=kind, on=on, area_mu=area, fee=parse_money(fee, allow_zero=True)))
    created = TrustService.objects.bulk_create(good, batch_size=1000)
    if created:
        audit_record_many(
            actor=actor, action="create", object_type="contracts.trustservice",
            county_code=created[0].parcel.county_code,
            items=[(str(t.pk or ""), str(t), {"fee": t.fee, "kind": t.kind}) for t in created],
            note="services batch",
        )
    return len(created)


@transaction.atomic
def income_record(*, actor: Any, household: Household, year: int, yield_income: Any) -> TrustIncome:
    access.require(actor, household.village, access.COMMITTEE_ROLES, access.no_scope_message())
    value = parse_money(yield_income, allow_zero=True)
    if TrustIncome.objects.filter(household=household, year=year).exists():
        raise ValidationError(_("The income of this household for %(y)d is already recorded.") % {"y": year},
                              code="conflict")
    income = TrustIncome.objects.create(county=household.county, village=household.village, household=household,
                                        year=year, yield_income=value)
    audit_record(actor=actor, action="create", obj=income, changes={"yield_income": [None, value], "year": year})
    return income


@dataclass
class IncomeRow:
    household_id: int
    number: str
    head: str
    parcels: int
    area_mu: Decimal
    yield_income: Decimal
    fees: Decimal

    @property
    def net(self) -> Decimal:
        return self.yield_income - self.fees


def income_rows(parcels: QuerySet[TrustParcel], incomes: QuerySet[TrustIncome], *, village: Region,
                year: int) -> list[IncomeRow]:
    """One row per household with parcels in the village: three grouped queries."""
    by_house = {
        r["household"]: r
        for r in parcels.filter(village=village).values("household").annotate(n=Count("id"), area=Sum("area_mu"))
    }
    fees = dict(
        TrustService.objects.filter(parcel__in=parcels.filter(village=village), on__year=year)
        .values("parcel__household").annotate(s=Sum("fee")).values_list("parcel__household", "s")
    )
    yields = dict(incomes.filter(village=village, year=year).values_list("household", "yield_income"))
    houses = Household.objects.filter(pk__in=by_house).select_related("head").order_by("number")
    return [
        IncomeRow(h.pk, h.number, h.head.name if h.head else "", by_house[h.pk]["n"], cents(by_house[h.pk]["area"]),
                  cents(yields.get(h.pk)), cents(fees.get(h.pk)))
        for h in houses
    ]


def village_totals(parcels: QuerySet[TrustParcel]) -> list[dict[str, Any]]:
    """Per village: parcels, 亩, households (one grouped query)."""
    qs = parcels.values("village__code", "village__name").annotate(
        parcels=Count("id"), area=Sum("area_mu"), households=Count("household", distinct=True)
    )
    return [{**r, "area": cents(r["area"])} for r in qs.order_by("village__code")]


def income_export(*, actor: Any, village: Region, year: int, rows: list[IncomeRow]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"托管收益{year}")
    sheet.append(["户号", "户主", "地块数", "托管面积(亩)", "产量收入(元)", "服务费(元)", "净收益(元)"])
    for r in rows:
        sheet.append([neutralise(r.number), neutralise(r.head), r.parcels, r.area_mu, r.yield_income, r.fees, r.net])
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=village, county_code=village.code[:6],
                 object_repr=f"{village.name} ({village.code})",
                 changes={"what": "trusteeship income", "rows": len(rows), "year": year})
    return buffer.getvalue()


def this_year() -> int:
    return timezone.localdate().year

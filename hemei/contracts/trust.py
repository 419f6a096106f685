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
from decimal import ROUND_HALF_UP, Decimal
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
from hemei.core.idempotency import remembered
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import neutralise
from hemei.regions.models import Household, Region

ZERO = Decimal("0.00")


def cents(value: Decimal | None) -> Decimal:
    """A sum as two-place Decimal (SQLite's SUM drops trailing zeros: 305 for 305.00)."""
    return (value or ZERO).quantize(ZERO)


# Township staff keep the register for their villages as the committee does (the brief of the
# trusteeship pages): the same roles as the contract review, over the parcel's village.
TRUST_ROLES = access.REVIEW_ROLES
CENT = Decimal("0.01")
# Once a service is recorded its fee rests on these: they are frozen (see `parcel_update`).
FROZEN_FIELDS = ("area_mu", "provider", "entrusted_from", "entrusted_to")
EDITABLE_FIELDS = ("code", "location", "crop", *FROZEN_FIELDS)


def no_scope_message() -> str:
    return _("You may not change the land trusteeship of this village.")


def _require(actor: Any, village: Region) -> None:
    access.require(actor, village, TRUST_ROLES, no_scope_message())


def _provider(value: Any) -> str:
    provider = str(value or "").strip()
    if not provider or len(provider) > 100:
        raise ValidationError(_("Name the service provider (at most 100 characters)."), code="provider")
    return provider


def _term(entrusted_from: Any, entrusted_to: Any) -> None:
    if not isinstance(entrusted_from, dt.date) or not isinstance(entrusted_to, dt.date) \
            or entrusted_to <= entrusted_from:
        raise ValidationError(_("The trusteeship cannot end before it starts."), code="term")


def _code(village: Region, value: Any, *, exclude: int | None = None) -> str:
    code = str(value or "").strip()
    if len(code) > 40:
        raise ValidationError(_("A parcel code has at most 40 characters."), code="code")
    others = TrustParcel.objects.filter(village=village, code=code)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if code and others.exists():
        raise ValidationError(_("Parcel code %(c)s is already used in this village.") % {"c": code}, code="code")
    return code


@transaction.atomic
def parcel_register(*, actor: Any, household: Household, area_mu: Any, provider: str, entrusted_from: dt.date,
                    entrusted_to: dt.date, location: str = "", crop: str = "", code: str = "",
                    village: Region | None = None) -> TrustParcel:
    """`village`, when given, is the village the clerk works in: a household of another village
    is refused even if the clerk could also write there."""
    require_actor(actor)
    if village is not None and household.village_id != village.pk:
        raise ValidationError(_("The household is not of this village."), code="household")
    village = household.village
    _require(actor, village)
    area = parse_area(area_mu)
    provider = _provider(provider)
    _term(entrusted_from, entrusted_to)
    parcel = TrustParcel.objects.create(
        county=household.county, village=village, household=household, area_mu=area, provider=provider,
        entrusted_from=entrusted_from, entrusted_to=entrusted_to, location=(location or "").strip()[:100],
        crop=(crop or "").strip()[:40], code=_code(village, code),
    )
    audit_record(actor=actor, action="create", obj=parcel,
                 changes={"area_mu": [None, area], "code": [None, parcel.code]})
    return parcel


def _locked(parcel: TrustParcel) -> TrustParcel:
    return TrustParcel.objects.select_for_update().select_related("village", "household").get(pk=parcel.pk)


@transaction.atomic
def parcel_update(*, actor: Any, parcel: TrustParcel, **values: Any) -> TrustParcel:
    """Correct a parcel's record. The rule: code, location and crop can be corrected until the
    entrustment ends; area, provider and term only while no service is recorded on the parcel
    (the fees already charged rest on them) — after that, end the parcel and register anew."""
    require_actor(actor)
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be edited: %(f)s.") % {"f": ", ".join(sorted(unknown))},
                              code="fields")
    current = _locked(parcel)
    _require(actor, current.village)
    if current.ended_on is not None:
        raise ValidationError(_("An ended entrustment cannot be edited."), code="ended")
    new: dict[str, Any] = {}
    if "area_mu" in values:
        new["area_mu"] = parse_area(values["area_mu"])
    if "provider" in values:
        new["provider"] = _provider(values["provider"])
    if "code" in values:
        new["code"] = _code(current.village, values["code"], exclude=current.pk)
    if "location" in values:
        new["location"] = str(values["location"] or "").strip()[:100]
    if "crop" in values:
        new["crop"] = str(values["crop"] or "").strip()[:40]
    for name in ("entrusted_from", "entrusted_to"):
        if name in values:
            new[name] = values[name]
    _term(new.get("entrusted_from", current.entrusted_from), new.get("entrusted_to", current.entrusted_to))
    changes = {k: [getattr(current, k), v] for k, v in new.items() if getattr(current, k) != v}
    if not changes:
        return current
    if any(k in FROZEN_FIELDS for k in changes) and current.services.exists():
        raise ValidationError(
            _("Services are recorded on this parcel: its area, provider and term can no longer be changed."),
            code="frozen",
        )
    for k, (_old, v) in changes.items():
        setattr(current, k, v)
    current.save(update_fields=list(changes))
    audit_record(actor=actor, action="update", obj=current, changes=changes)
    return current


@transaction.atomic
def parcel_end(*, actor: Any, parcel: TrustParcel, on: dt.date) -> TrustParcel:
    """The household takes the land back on `on` (within the term, not before a recorded
    service). The same end sent twice is one end; another date on an ended parcel is refused."""
    require_actor(actor)
    current = _locked(parcel)
    _require(actor, current.village)
    if not isinstance(on, dt.date):
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), code="date")
    if current.ended_on is not None:
        if current.ended_on == on:
            return current
        raise ValidationError(_("This entrustment already ended on %(d)s.") % {"d": current.ended_on}, code="ended")
    if not current.entrusted_from <= on <= current.entrusted_to:
        raise ValidationError(_("The end date must lie within the term of the entrustment."), code="term")
    last = current.services.order_by("-on").values_list("on", flat=True).first()
    if last is not None and last > on:
        raise ValidationError(_("A service is recorded after this date (%(d)s).") % {"d": last}, code="term")
    current.ended_on = on
    current.save(update_fields=["ended_on"])
    audit_record(actor=actor, action="update", obj=current, changes={"ended_on": [None, on]})
    return current


def _check_service(parcel: TrustParcel, kind: str, on: Any, area_mu: Any) -> Decimal:
    if kind not in TrustService.Kind.values:
        raise ValidationError(_("Unknown kind of service."), code="kind")
    if not isinstance(on, dt.date):
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), code="date")
    if parcel.ended_on is not None and on > parcel.ended_on:
        raise ValidationError(_("The entrustment of this parcel ended on %(d)s.") % {"d": parcel.ended_on},
                              code="ended")
    area = parse_area(area_mu)
    if area > parcel.area_mu:
        raise ValidationError(_("The area served is larger than the parcel."), code="area")
    return area


@transaction.atomic
def service_record(*, actor: Any, parcel: TrustParcel, kind: str, on: dt.date, area_mu: Any, fee: Any,
                   note: str = "") -> TrustService:
    require_actor(actor)
    _require(actor, parcel.village)
    parcel = _locked(parcel)
    area = _check_service(parcel, kind, on, area_mu)
    value = parse_money(fee, allow_zero=True)
    service = TrustService.objects.create(parcel=parcel, kind=kind, on=on, area_mu=area, fee=value,
                                          note=(note or "")[:200])
    audit_record(actor=actor, action="create", obj=service, changes={"fee": [None, value], "kind": [None, kind]})
    return service


def _bulk_audit(actor: Any, created: list[TrustService], note: str) -> None:
    if created:
        audit_record_many(
            actor=actor, action="create", object_type="contracts.trustservice",
            county_code=created[0].parcel.county_code,
            items=[(str(t.pk or ""), str(t), {"fee": t.fee, "kind": t.kind, "area_mu": t.area_mu}) for t in created],
            note=note,
        )


@transaction.atomic
def services_record_many(*, actor: Any, rows: list[tuple[TrustParcel, str, dt.date, Any, Any]]) -> int:
    """A provider's day of work on many parcels (drone spraying of a whole field): every row
    (parcel, kind, date, area, fee) checked as in `service_record`, then one bulk insert and
    one bulk audit. One bad row and nothing is saved."""
    require_actor(actor)
    good: list[TrustService] = []
    for village in {parcel.village for parcel, *_rest in rows}:
        _require(actor, village)
    for parcel, kind, on, area_mu, fee in rows:
        area = _check_service(parcel, kind, on, area_mu)
        good.append(TrustService(parcel=parcel, kind=kind, on=on, area_mu=area, fee=parse_money(fee, allow_zero=True)))
    created = TrustService.objects.bulk_create(good, batch_size=1000)
    _bulk_audit(actor, created, "services batch")
    return len(created)


def parcel_label(parcel: TrustParcel) -> str:
    return parcel.code or f"#{parcel.pk}"


@transaction.atomic
def services_batch(*, actor: Any, village: Region, parcels: list[TrustParcel], kind: str, on: dt.date,
                   fee_per_mu: Any, areas: dict[int, Any] | None = None, note: str = "",
                   idempotency_key: str) -> tuple[list[TrustService], bool]:
    """One service on many parcels of a village at once (the form "record a service").

    Each parcel's area served defaults to its area and may not exceed it; its fee is the area
    times the fee per 亩, rounded half-up to the fen. Every parcel is checked first and all
    problems are reported together; one bad parcel and nothing is saved. The form's key makes a
    double submit one batch: (services, replayed)."""
    require_actor(actor)
    _require(actor, village)
    if not parcels:
        raise ValidationError(_("Choose at least one parcel."), code="parcels")
    if any(p.village_id != village.pk for p in parcels):
        raise ValidationError(_("A parcel is not of this village."), code="parcels")
    rate = parse_money(fee_per_mu, allow_zero=True)
    if kind not in TrustService.Kind.values:
        raise ValidationError(_("Unknown kind of service."), code="kind")
    if not isinstance(on, dt.date):
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), code="date")
    areas = areas or {}
    wanted = {p.pk: areas.get(p.pk) for p in parcels}
    payload = {"village": village.code, "kind": kind, "on": on.isoformat(), "rate": str(rate),
               "note": (note or "")[:200],
               "rows": sorted([pk, str(a or "")] for pk, a in wanted.items())}

    def write() -> list[TrustService]:
        locked = TrustParcel.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        good: list[TrustService] = []
        problems: list[str] = []
        for parcel in locked:
            raw = wanted[parcel.pk]
            try:
                area = _check_service(parcel, kind, on, parcel.area_mu if raw in (None, "") else raw)
            except ValidationError as exc:
                problems.append(f"{parcel_label(parcel)}: {exc.messages[0]}")
                continue
            fee = (area * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            good.append(TrustService(parcel=parcel, kind=kind, on=on, area_mu=area, fee=fee, note=(note or "")[:200]))
        if problems:
            raise ValidationError(problems, code="rows")
        created = TrustService.objects.bulk_create(good, batch_size=1000)
        _bulk_audit(actor, created, f"services batch {kind} {on.isoformat()} at {rate}/mu")
        return created

    return remembered(actor=actor, key=idempotency_key, operation="trust.services_batch", payload=payload,
                      model=TrustService, write=write)


@transaction.atomic
def income_record(*, actor: Any, household: Household, year: int, yield_income: Any,
                  village: Region | None = None) -> TrustIncome:
    """The household's yield income of a year, once. The same figure sent twice is one record;
    another figure for a recorded year is refused."""
    require_actor(actor)
    if village is not None and household.village_id != village.pk:
        raise ValidationError(_("The household is not of this village."), code="household")
    _require(actor, household.village)
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ValidationError(_("Enter a year between 2000 and 2100."), code="year")
    value = parse_money(yield_income, allow_zero=True)
    existing = TrustIncome.objects.select_for_update().filter(household=household, year=year).first()
    if existing is not None:
        if existing.yield_income == value:
            return existing
        raise ValidationError(_("The income of this household for %(y)d is already recorded.") % {"y": year},
                              code="conflict")
    income = TrustIncome.objects.create(county=household.county, village=household.village, household=household,
                                        year=year, yield_income=value)
    audit_record(actor=actor, action="create", obj=income, changes={"yield_income": [None, value], "year": year})
    return income


@transaction.atomic
def income_correct(*, actor: Any, household: Household, year: int, yield_income: Any, reason: str,
                   village: Region | None = None) -> TrustIncome:
    """Correct a recorded yearly income (a mistyped figure). The audit entry keeps the old and
    the new figure with the reason, so the history of the figure is never lost."""
    require_actor(actor)
    if village is not None and household.village_id != village.pk:
        raise ValidationError(_("The household is not of this village."), code="household")
    _require(actor, household.village)
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationError(_("Give the reason for the correction (at most 200 characters)."), code="reason")
    value = parse_money(yield_income, allow_zero=True)
    income = TrustIncome.objects.select_for_update().filter(household=household, year=year).first()
    if income is None:
        raise ValidationError(_("No income of this household is recorded for %(y)s.") % {"y": year},
                              code="missing")
    if income.yield_income == value:
        return income  # the same correction sent twice
    old = income.yield_income
    income.yield_income = value
    income.save(update_fields=["yield_income"])
    audit_record(actor=actor, action="update", obj=income, changes={"yield_income": [old, value], "year": year},
                 note=reason)
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
    require_actor(actor)
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

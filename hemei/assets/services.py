"""Every write to collective assets and revitalisation projects (ARCHITECTURE rule 1).

Validation lives here so the pages, the xlsx import and the demo refuse the same things:
areas and values are Decimal with at most two places and never negative (a float is refused,
not rounded), the asset code is unique in its village, coordinates come in pairs, and no text
field carries an ID, mobile or bank card number — the register is shown to the township and,
summarised, on the public board.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.assets import access
from hemei.assets.models import Asset, AssetPhoto, ProjectIncome, RevitalisationProject
from hemei.assets.workflow import REGISTERED
from hemei.cases.photos import clean_photos
from hemei.core.audit import audit_record, diff
from hemei.core.idempotency import remembered
from hemei.core.models import AuditEntry
from hemei.core.parsing import clean_text
from hemei.core.scope import require_actor, user_of
from hemei.core.workflow import record, transition
from hemei.disclosure.finance import parse_amount
from hemei.disclosure.personal import find_personal_data
from hemei.regions.models import Level, Region

CENT = Decimal("0.01")
MAX_QUANTITY = Decimal("999999999999.99")
MAX_PHOTOS_PER_ASSET = 12
TEXT_LIMITS = {"code": 40, "name": 120, "kind": 40, "location": 200, "ownership": 100, "notes": 2000}



@dataclass
class AssetData:
    """The editable fields of an asset (status changes go through `asset_status_change`)."""

    code: str
    name: str
    category: str
    area: Decimal
    unit: str = Asset.Unit.SQM
    kind: str = ""
    location: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    original_value: Decimal = Decimal("0.00")
    net_value: Decimal = Decimal("0.00")
    ownership: str = ""
    acquired: dt.date | None = None
    notes: str = ""
    # Filled by `check_asset_data`: field → messages. Not a model field.
    errors: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def as_fields(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("errors")
        return values


def parse_quantity(value: Any, *, from_cell: bool = False) -> Decimal:
    """An area or quantity: a decimal with at most two places, not negative. A float is
    refused in code (`from_cell=False`); a spreadsheet cell's float is read by its shortest
    decimal form, as finance amounts are."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(_("An area or quantity is required."), code="required")
    if isinstance(value, float):
        if not from_cell:
            raise ValidationError(_("Areas must be decimals, not floating-point numbers."), code="float")
        value = repr(value)
    if isinstance(value, str):
        value = value.strip().replace(",", "").replace("，", "")
    try:
        number = Decimal(value)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ValidationError(_("%(v)s is not a number.") % {"v": str(value)[:30]}, code="number") from None
    if not number.is_finite():
        raise ValidationError(_("%(v)s is not a number.") % {"v": str(value)[:30]}, code="number")
    if number < 0:
        raise ValidationError(_("An area or quantity cannot be negative."), code="negative")
    # Before quantize: "1e99999" is finite, but quantizing it raises InvalidOperation (a 500).
    if number > MAX_QUANTITY:
        raise ValidationError(_("The area or quantity is too large."), code="too_large")
    if number != number.quantize(CENT, rounding=decimal.ROUND_DOWN):
        raise ValidationError(_("An area or quantity has at most two decimal places."), code="places")
    if number > MAX_QUANTITY:
        raise ValidationError(_("The area or quantity is too large."), code="too_large")
    return number.quantize(CENT)


def parse_money(value: Any, *, from_cell: bool = False) -> Decimal:
    """Money in yuan (finance's parser: Decimal, two places, no floats), never negative."""
    try:
        amount = parse_amount(value, from_cell=from_cell)
    except decimal.InvalidOperation:
        # finance's parser quantizes before its size check: "1e99999" overflows there.
        raise ValidationError(_("The amount is too large."), code="amount") from None
    if amount < 0:
        raise ValidationError(_("A value cannot be negative."), code="negative")
    return amount


def _coordinate(value: Any, low: int, high: int, label: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        raise ValidationError(_("%(field)s is not a number.") % {"field": label}, code="number") from None
    if not number.is_finite() or not low <= number <= high:
        raise ValidationError(_("%(field)s must lie between %(low)d and %(high)d.")
                              % {"field": label, "low": low, "high": high}, code="range")
    return number.quantize(Decimal("0.000001"), rounding=decimal.ROUND_HALF_UP)


def no_personal_data(text: str, label: str) -> None:
    found = find_personal_data(text)
    if found:
        raise ValidationError(
            _("%(field)s contains personal data (%(what)s); the asset register is shown to the township "
              "and summarised in public.") % {"field": label, "what": found[0].label()},
            code="personal",
        )


def check_asset_data(data: AssetData) -> AssetData:
    """Normalise `data` in place and collect every problem in `data.errors` (field → messages)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, exc: ValidationError | str) -> None:
        errors.setdefault(name, []).extend(exc.messages if isinstance(exc, ValidationError) else [exc])

    labels = {"code": _("Asset code"), "name": _("Asset name"), "kind": _("Type"), "location": _("Location"),
              "ownership": _("Ownership"), "notes": _("Notes")}
    for name, limit in TEXT_LIMITS.items():
        value = (getattr(data, name) or "").strip()
        setattr(data, name, value)
        if len(value) > limit:
            add(name, _("%(field)s is longer than %(n)d characters.") % {"field": labels[name], "n": limit})
            continue
        try:
            no_personal_data(value, str(labels[name]))
        except ValidationError as exc:
            add(name, exc)
    for name in ("code", "name"):
        if not getattr(data, name):
            add(name, _("%(field)s is required.") % {"field": labels[name]})
    if data.category not in Asset.Category.values:
        add("category", _("Choose 资源性, 经营性 or 非经营性."))
    if data.unit not in Asset.Unit.values:
        add("unit", _("Unknown unit."))
    try:
        data.area = parse_quantity(data.area)
    except ValidationError as exc:
        add("area", exc)
    for name in ("original_value", "net_value"):
        try:
            setattr(data, name, parse_money(getattr(data, name)))
        except ValidationError as exc:
            add(name, exc)
    if not errors.get("original_value") and not errors.get("net_value") and data.net_value > data.original_value:
        add("net_value", _("The net value cannot exceed the original value."))
    if (data.latitude is None) != (data.longitude is None):
        add("latitude", _("Give both latitude and longitude, or neither."))
    elif data.latitude is not None and data.longitude is not None:
        try:
            data.latitude = _coordinate(data.latitude, -90, 90, str(_("Latitude")))
        except ValidationError as exc:
            add("latitude", exc)
        try:
            data.longitude = _coordinate(data.longitude, -180, 180, str(_("Longitude")))
        except ValidationError as exc:
            add("longitude", exc)
    data.errors = errors
    return data


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError({name: [ValidationError(m) for m in messages] for name, messages in errors.items()})


def _check_village(actor: Any, village: Region) -> None:
    """A signed-in actor needs an asset role at the village (pages check it too; this keeps
    the import or a tampered form from getting round them). No actor = the system (demo)."""
    if village.level != Level.VILLAGE:
        raise ValidationError(_("Assets belong to a village."))
    if not access.may_edit(actor, village):
        raise ValidationError(_("You may not change the assets of this village."), code="scope")


def _registered(asset: Asset, *, actor: Any, reason: str, at: dt.datetime) -> None:
    """An asset's first history row: registration is not a move, but its history starts here."""
    record(asset, kind=REGISTERED, actor=actor, at=at, to_state=asset.status, note=reason[:300])


@transaction.atomic
def asset_create(*, actor: Any, village: Region, data: AssetData, status: str = Asset.Status.IN_USE,
                 reason: str = "", at: dt.datetime | None = None) -> Asset:
    """1. check the fields and the scope; 2. lock-free uniqueness check (the database
    constraint catches a race); 3. create, the first status row and the audit row."""
    require_actor(actor)
    _check_village(actor, village)
    check_asset_data(data)
    errors = dict(data.errors)
    if status not in Asset.Status.values:
        errors.setdefault("status", []).append(_("Unknown status."))
    if data.code and Asset.objects.filter(village=village, code=data.code).exists():
        errors.setdefault("code", []).append(_("Asset code %(code)s is already used in this village.")
                                             % {"code": data.code})
    _raise(errors)
    county = village.county_ancestor()
    if county is None:
        raise ValidationError(_("The village is not in a county."))
    now = at or timezone.now()
    asset = Asset.objects.create(county=county, village=village, status=status, created_by=user_of(actor),
                                 created_at=now, **data.as_fields())
    _registered(asset, actor=actor, reason=reason or _("registered"), at=now)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=asset,
                 changes={k: [None, v] for k, v in {**data.as_fields(), "status": status}.items()})
    return asset


@transaction.atomic
def asset_update(*, actor: Any, asset: Asset, data: AssetData) -> Asset:
    require_actor(actor)
    locked = Asset.objects.select_for_update().select_related("village").get(pk=asset.pk)
    _check_village(actor, locked.village)
    check_asset_data(data)
    errors = dict(data.errors)
    if data.code and Asset.objects.filter(village_id=locked.village_id, code=data.code).exclude(pk=locked.pk).exists():
        errors.setdefault("code", []).append(_("Asset code %(code)s is already used in this village.")
                                             % {"code": data.code})
    _raise(errors)
    new = data.as_fields()
    old = {name: getattr(locked, name) for name in new}
    changes = diff(old, new)
    if not changes:
        return locked
    for name, value in new.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(new))
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=locked, changes=changes)
    return locked


@transaction.atomic
def asset_status_change(*, asset: Asset, status: str, actor: Any, reason: str = "", move: str = "") -> Asset:
    """Move an asset to another status (a lease signed → 出租, a lease ended → 闲置) through the
    `assets.asset` workflow; the same status again changes nothing.

    Other apps (contracts, revitalisation) call this rather than saving the field, so every
    change has one audit row and one `AssetStatusChange` row; `move` names the table's move
    when the change comes from another record (`contract_ended`). Re-reads the row under a
    lock: two contracts signed at once for the same asset must not both see it idle.
    """
    require_actor(actor)
    return _status_change(asset=asset, status=status, actor=actor, reason=reason, at=None, move=move)


def _status_change(*, asset: Asset, status: str, actor: Any, reason: str, at: dt.datetime | None,
                   move: str = "") -> Asset:
    if status not in Asset.Status.values:
        raise ValueError(f"unknown asset status {status!r}")
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    if locked.status == status:
        return locked
    transition(locked, status, actor=actor, move=move, at=at, note=reason[:300], audit_note=reason)
    asset.status = status
    return locked


@transaction.atomic
def asset_photo_add(*, actor: Any, asset: Asset, uploads: list[Any], caption: str = "") -> list[AssetPhoto]:
    """Check every file first (`hemei.cases.photos`: size, type, re-encode, no EXIF); one bad
    file and nothing is stored."""
    require_actor(actor)
    locked = Asset.objects.select_for_update().select_related("village").get(pk=asset.pk)
    _check_village(actor, locked.village)
    caption = (caption or "").strip()
    if len(caption) > 100:
        raise ValidationError(_("The caption is longer than 100 characters."))
    no_personal_data(caption, str(_("Caption")))
    cleaned = clean_photos(list(uploads))
    if not cleaned:
        raise ValidationError(_("Choose at least one photo."))
    if locked.photos.count() + len(cleaned) > MAX_PHOTOS_PER_ASSET:
        raise ValidationError(_("At most %(n)d photos per asset.") % {"n": MAX_PHOTOS_PER_ASSET}, code="too_many")
    rows = []
    for photo in cleaned:
        row = AssetPhoto(asset=locked, caption=caption, uploaded_by=user_of(actor))
        row.image.save("photo.jpg", photo.content, save=False)
        row.save()
        rows.append(row)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=locked, note="photos",
                 changes={"photos": [None, [r.pk for r in rows]]})
    return rows


# --- revitalisation projects ("1+3+N") ----------------------------------------------------


def _check_project_region(actor: Any, region: Region) -> None:
    if region.level not in (Level.VILLAGE, Level.TOWNSHIP):
        raise ValidationError(_("A project belongs to a village or a township."))
    if not access.may_edit_project(actor, region):
        raise ValidationError(_("You may not record projects here."), code="scope")


_text = clean_text


@transaction.atomic
def project_create(
    *,
    actor: Any,
    region: Region,
    name: str,
    path: str,
    assets: list[Asset],
    partner: str = "",
    description: str = "",
    decision_item: Any = None,
    decision_date: dt.date | None = None,
    decision_summary: str = "",
    expected_annual_income: Decimal | str = Decimal("0.00"),
    at: dt.datetime | None = None,
    idempotency_key: str = "",
) -> RevitalisationProject:
    """Record a project. Its assets must lie in its region (the village, or a village of the
    township); a meeting decision, if linked, must be a passed item of a meeting held there.
    With `idempotency_key` (the page's form sends one) a form sent twice records one project."""
    require_actor(actor)
    kwargs = {"actor": actor, "region": region, "name": name, "path": path, "assets": assets, "partner": partner,
              "description": description, "decision_item": decision_item, "decision_date": decision_date,
              "decision_summary": decision_summary, "expected_annual_income": expected_annual_income, "at": at}
    if not idempotency_key:
        return _project_create(**kwargs)
    payload = {"region": region.pk, "name": (name or "").strip(), "path": path, "assets": sorted(a.pk for a in assets),
               "partner": (partner or "").strip(), "income": str(expected_annual_income),
               "decision": getattr(decision_item, "pk", None), "date": str(decision_date)}
    results, _replayed = remembered(actor=actor, key=idempotency_key, operation="assets.project_create",
                                    payload=payload, model=RevitalisationProject,
                                    write=lambda: [_project_create(**kwargs)])
    return results[0]


def _project_create(
    *,
    actor: Any,
    region: Region,
    name: str,
    path: str,
    assets: list[Asset],
    partner: str,
    description: str,
    decision_item: Any,
    decision_date: dt.date | None,
    decision_summary: str,
    expected_annual_income: Decimal | str,
    at: dt.datetime | None,
) -> RevitalisationProject:
    _check_project_region(actor, region)
    name = _text(name, str(_("Project")), 120, required=True)
    partner = _text(partner, str(_("Partner")), 120)
    description = _text(description, str(_("Description")), 4000)
    decision_summary = _text(decision_summary, str(_("Decision")), 2000)
    if path not in RevitalisationProject.Path.values:
        raise ValidationError(_("Unknown revitalisation path."))
    income = parse_money(expected_annual_income)
    if not assets:
        raise ValidationError(_("Choose at least one asset."))
    if any(not a.village.path.startswith(region.path) for a in assets):
        raise ValidationError(_("Every asset must belong to the project's village or township."))
    if decision_item is not None:
        from hemei.meetings.models import AgendaItem

        item = AgendaItem.objects.select_related("meeting__region").get(pk=decision_item.pk)
        if not item.meeting.region.path.startswith(region.path) and not region.path.startswith(
            item.meeting.region.path
        ):
            raise ValidationError(_("The decision must come from a meeting of the project's village or township."))
        if item.outcome != AgendaItem.Outcome.PASSED:
            raise ValidationError(_("The linked agenda item was not passed."))
        decision_date = decision_date or (timezone.localdate(item.decided_at) if item.decided_at else None)
        decision_summary = decision_summary or item.decision[:2000]
    county = region.county_ancestor()
    if county is None:
        raise ValidationError(_("The region is not in a county."))
    for text, label in ((name, _("Project")), (partner, _("Partner")), (description, _("Description")),
                        (decision_summary, _("Decision"))):
        no_personal_data(text, str(label))
    project = RevitalisationProject.objects.create(
        county=county, region=region, name=name, path=path, partner=partner, description=description,
        decision_item=decision_item, decision_date=decision_date, decision_summary=decision_summary,
        expected_annual_income=income, created_by=user_of(actor), created_at=at or timezone.now(),
    )
    project.assets.set(assets)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=project,
                 changes={"name": [None, name], "path": [None, path], "assets": [None, [a.pk for a in assets]],
                          "expected_annual_income": [None, income]})
    return project


@transaction.atomic
def project_start(*, actor: Any, project: RevitalisationProject, on: dt.date | None = None) -> RevitalisationProject:
    """1. planned → under way (a conditional update: a second start changes nothing);
    2. each of its assets that is idle or in use moves to 盘活中 through `asset_status_change`
    (leased or contributed assets already earn and keep their status); 3. audit."""
    require_actor(actor)
    locked = RevitalisationProject.objects.select_for_update().select_related("region").get(pk=project.pk)
    _check_project_region(actor, locked.region)
    if locked.status != RevitalisationProject.Status.PLANNED:
        raise ValidationError(_("Only a planned project can be started."))
    started_on = on or timezone.localdate()
    transition(locked, RevitalisationProject.Status.RUNNING, actor=actor, started_on=started_on,
               changes={"status": [RevitalisationProject.Status.PLANNED, RevitalisationProject.Status.RUNNING]})
    when = dt.datetime.combine(started_on, dt.time(9), tzinfo=timezone.get_current_timezone())
    with_at = when if on is not None else None
    for asset in locked.assets.filter(status__in=[Asset.Status.IDLE, Asset.Status.IN_USE]):
        _status_change(asset=asset, status=Asset.Status.REVITALISING, actor=actor,
                       reason=_("project %(name)s started") % {"name": locked.name}, at=with_at,
                       move="project_started")
    project.status, project.started_on = locked.status, locked.started_on
    return locked


@transaction.atomic
def project_income_record(*, actor: Any, project: RevitalisationProject, year: int, amount: Decimal | str,
                          note: str = "", at: dt.datetime | None = None) -> ProjectIncome:
    """The actual income of one year. A second figure for the same year is a correction: a new
    row pointing at the one it replaces (history is rows)."""
    require_actor(actor)
    locked = RevitalisationProject.objects.select_for_update().select_related("region").get(pk=project.pk)
    _check_project_region(actor, locked.region)
    this_year = timezone.localdate(at).year if at else timezone.localdate().year
    if not isinstance(year, int) or not 2000 <= year <= this_year:
        raise ValidationError(_("The year must lie between 2000 and %(y)d.") % {"y": this_year})
    amount = parse_money(amount)
    note = _text(note, str(_("Note")), 200)
    no_personal_data(note, str(_("Note")))
    previous = locked.incomes.filter(year=year, corrected_by__isnull=True).first()
    if previous is not None and previous.amount == amount and previous.note == note:
        return previous  # the same figure sent twice: no correction row
    row = ProjectIncome.objects.create(project=locked, year=year, amount=amount, note=note, corrects=previous,
                                       recorded_by=user_of(actor), recorded_at=at or timezone.now())
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=locked, note="income",
                 changes={f"income {year}": [previous.amount if previous else None, amount]})
    return row

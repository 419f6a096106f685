"""Collective assets in and out of Excel.

Import (all or nothing, like the roster and finance imports): one village per upload, columns
by their Chinese headers in any order. Every row is checked with the service's own rules
(`check_asset_data`): required fields, known category / unit / status, area and values not
negative with at most two places (a money cell with more places, or text that is not a number,
is refused), codes unique in the village and within the file, no personal data. One bad row
and nothing is saved; the report lists every problem by row and column. Export: the same
columns, so an exported file imports into another village unchanged; text cells neutralised
against formula injection; one "export" audit row.
"""

from __future__ import annotations

import io
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.assets import access
from hemei.assets.models import Asset, AssetStatusChange
from hemei.assets.services import AssetData, check_asset_data, parse_money, parse_quantity
from hemei.assets.workflow import REGISTERED
from hemei.core.audit import audit_record, audit_record_many
from hemei.core.freshness import touch
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor, user_of
from hemei.core.workflow import past_event
from hemei.core.xlsx import ImportResult, RowError, neutralise, read_sheet
from hemei.core.xlsx import cell_code as _code
from hemei.core.xlsx import cell_date as _date
from hemei.core.xlsx import cell_text as _text
from hemei.disclosure.personal import redact
from hemei.regions.models import Region

COL_CODE, COL_NAME, COL_CATEGORY, COL_KIND = "资产编码", "资产名称", "资产类别", "资产类型"
COL_LOCATION, COL_AREA, COL_UNIT = "坐落位置", "面积或数量", "计量单位"
COL_ORIGINAL, COL_NET = "原值（元）", "净值（元）"
COL_OWNERSHIP, COL_STATUS, COL_ACQUIRED = "权属", "使用状态", "取得日期"
COL_LAT, COL_LNG, COL_NOTES = "纬度", "经度", "备注"
HEADERS = (COL_CODE, COL_NAME, COL_CATEGORY, COL_KIND, COL_LOCATION, COL_AREA, COL_UNIT, COL_ORIGINAL, COL_NET,
           COL_OWNERSHIP, COL_STATUS, COL_ACQUIRED, COL_LAT, COL_LNG, COL_NOTES)
REQUIRED = (COL_CODE, COL_NAME, COL_CATEGORY, COL_AREA)
MAX_ROWS = 5_000

CATEGORY_ZH: dict[str, str] = {Asset.Category.RESOURCE: "资源性", Asset.Category.OPERATING: "经营性",
               Asset.Category.NON_OPERATING: "非经营性"}
UNIT_ZH: dict[str, str] = {Asset.Unit.SQM: "平方米", Asset.Unit.MU: "亩", Asset.Unit.ROOM: "间", Asset.Unit.PIECE: "个"}
STATUS_ZH: dict[str, str] = {Asset.Status.IN_USE: "在用", Asset.Status.IDLE: "闲置", Asset.Status.LEASED: "出租",
             Asset.Status.SHARES: "入股", Asset.Status.REVITALISING: "盘活中"}
# Accept the Chinese words, the codes and a few common spellings.
CATEGORIES: dict[str, str] = {**{v: k for k, v in CATEGORY_ZH.items()}, **{k: k for k in CATEGORY_ZH},
              "资源性资产": Asset.Category.RESOURCE, "经营性资产": Asset.Category.OPERATING,
              "非经营性资产": Asset.Category.NON_OPERATING}
UNITS: dict[str, str] = {**{v: k for k, v in UNIT_ZH.items()}, **{k: k for k in UNIT_ZH}, "m²": Asset.Unit.SQM,
         "㎡": Asset.Unit.SQM, "m2": Asset.Unit.SQM, "件": Asset.Unit.PIECE, "台": Asset.Unit.PIECE,
         "套": Asset.Unit.PIECE}
STATUSES: dict[str, str] = {**{v: k for k, v in STATUS_ZH.items()}, **{k: k for k in STATUS_ZH}}
FIELD_COLUMN = {"code": COL_CODE, "name": COL_NAME, "category": COL_CATEGORY, "kind": COL_KIND,
                "location": COL_LOCATION, "area": COL_AREA, "unit": COL_UNIT, "original_value": COL_ORIGINAL,
                "net_value": COL_NET, "ownership": COL_OWNERSHIP, "acquired": COL_ACQUIRED, "latitude": COL_LAT,
                "longitude": COL_LNG, "notes": COL_NOTES}


AssetImportResult = ImportResult


def _row(number: int, raw: dict[str, Any], errors: list[RowError]) -> tuple[AssetData, str] | None:
    """One spreadsheet row → (checked data, status), or None with its problems in `errors`."""
    before = len(errors)

    def err(column: str, value: Any, message: str) -> None:
        # The report is shown and downloaded: an offending ID or phone appears masked.
        errors.append(RowError(number, column, redact(_text(value))[:30], message))

    for h in REQUIRED:
        if not _text(raw.get(h)):
            err(h, "", _("Required."))
    category = CATEGORIES.get(_text(raw.get(COL_CATEGORY)), "")
    if _text(raw.get(COL_CATEGORY)) and not category:
        err(COL_CATEGORY, raw.get(COL_CATEGORY), _("资源性, 经营性 or 非经营性."))
    unit = UNITS.get(_text(raw.get(COL_UNIT)) or "平方米", "")
    if not unit:
        err(COL_UNIT, raw.get(COL_UNIT), _("平方米, 亩, 间 or 个."))
    status = STATUSES.get(_text(raw.get(COL_STATUS)) or "在用", "")
    if not status:
        err(COL_STATUS, raw.get(COL_STATUS), _("在用, 闲置, 出租, 入股 or 盘活中."))
    area = None
    if _text(raw.get(COL_AREA)):
        try:
            area = parse_quantity(raw.get(COL_AREA), from_cell=True)
        except ValidationError as exc:
            err(COL_AREA, raw.get(COL_AREA), exc.messages[0])
    values = {}
    for name, column in (("original_value", COL_ORIGINAL), ("net_value", COL_NET)):
        cell = raw.get(column)
        if not _text(cell):
            values[name] = parse_money("0")
            continue
        try:
            values[name] = parse_money(cell, from_cell=True)
        except ValidationError as exc:
            err(column, cell, exc.messages[0])
    acquired = None
    if _text(raw.get(COL_ACQUIRED)):
        acquired = _date(raw.get(COL_ACQUIRED))
        if acquired is None:
            err(COL_ACQUIRED, raw.get(COL_ACQUIRED), _("Not a date (YYYY-MM-DD)."))
    if len(errors) > before or area is None:
        return None
    data = AssetData(
        code=_code(raw.get(COL_CODE)), name=_text(raw.get(COL_NAME)), category=category, area=area, unit=unit,
        kind=_text(raw.get(COL_KIND)), location=_text(raw.get(COL_LOCATION)),
        latitude=raw.get(COL_LAT) if _text(raw.get(COL_LAT)) else None,
        longitude=raw.get(COL_LNG) if _text(raw.get(COL_LNG)) else None,
        original_value=values["original_value"], net_value=values["net_value"],
        ownership=_text(raw.get(COL_OWNERSHIP)), acquired=acquired, notes=_text(raw.get(COL_NOTES)),
    )
    check_asset_data(data)
    for name, messages in data.errors.items():
        column = FIELD_COLUMN.get(name, name)
        for message in messages:
            err(column, raw.get(column), message)
    if len(errors) > before:
        return None
    return data, status


def asset_import(*, actor: Any, village: Region, data: bytes) -> AssetImportResult:
    """1. read and check every row; 2. any error → report all, save nothing; 3. else create
    every asset, its first status row and its audit row in one transaction."""
    require_actor(actor)
    access.require_edit(actor, village)
    result = AssetImportResult()
    sheet = read_sheet(data, required=REQUIRED, headers=HEADERS, max_rows=MAX_ROWS)
    if isinstance(sheet, RowError):
        result.errors.append(sheet)
        return result
    taken = set(Asset.objects.filter(village=village).values_list("code", flat=True))
    seen: dict[str, int] = {}
    good: list[tuple[AssetData, str]] = []
    for number, raw in sheet.records():
        result.rows += 1
        code = _code(raw.get(COL_CODE))
        if code in taken:
            result.errors.append(RowError(number, COL_CODE, code[:30],
                                          _("Asset code %(code)s is already used in this village.") % {"code": code}))
        elif code and code in seen:
            result.errors.append(RowError(number, COL_CODE, code[:30],
                                          _("Asset code %(code)s is repeated (row %(row)d).")
                                          % {"code": code, "row": seen[code]}))
        if code:
            seen.setdefault(code, number)
        checked = _row(number, raw, result.errors)
        if checked is not None:
            good.append(checked)
    if not result.rows and not result.errors:
        result.errors.append(RowError(0, "", "", _("The sheet has no rows.")))
    if result.errors:
        return result
    county = village.county_ancestor()
    if county is None:
        result.errors.append(RowError(0, "", "", _("The village is not in a county.")))
        return result
    user = user_of(actor)
    with transaction.atomic():
        created = Asset.objects.bulk_create(
            [Asset(county=county, village=village, status=status, created_by=user, **d.as_fields())
             for d, status in good],
            batch_size=1000,
        )
        touch("assets", village.pk)  # the public board counts them
        if any(a.pk is None for a in created):  # backends without RETURNING: read the ids back
            by_code = dict(Asset.objects.filter(village=village, code__in=[a.code for a in created])
                           .values_list("code", "pk"))
            for a in created:
                a.pk = by_code[a.code]
        # Each asset's first history row, as `asset_create` writes it one by one (not a move).
        now = timezone.now()
        first = [past_event(a, kind=REGISTERED, at=now, actor=actor, to_state=a.status, note="xlsx import",
                            county=county, village=village) for a in created]
        AssetStatusChange.objects.bulk_create(cast(list[AssetStatusChange], first), batch_size=1000)
        audit_record_many(
            actor=actor, action=AuditEntry.Action.CREATE, object_type="assets.asset", county_code=village.code[:6],
            items=[(str(a.pk), str(a), {"code": a.code, "area": a.area, "status": a.status}) for a in created],
            note="asset import",
        )
        audit_record(actor=actor, action=AuditEntry.Action.IMPORT, obj=village, county_code=village.code[:6],
                     object_repr=f"{village.name} ({village.code})",
                     changes={"what": "assets", "rows": len(created)})
    result.ok = True
    result.created = len(created)
    return result


def asset_export(*, actor: Any, village: Region) -> bytes:
    """The village's register in the import's columns (readers of the village may export)."""
    require_actor(actor)
    if not access.visible_villages(actor).filter(pk=village.pk).exists():
        from django.http import Http404

        raise Http404
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("集体资产台账")
    for i, width in enumerate((12, 20, 10, 10, 24, 12, 8, 14, 14, 16, 8, 12, 11, 11, 30), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append(list(HEADERS))
    count = 0
    for a in Asset.objects.filter(village=village).order_by("code").iterator(chunk_size=2000):
        sheet.append([
            neutralise(a.code), neutralise(a.name), CATEGORY_ZH.get(a.category, a.category), neutralise(a.kind),
            neutralise(a.location), a.area, UNIT_ZH.get(a.unit, a.unit), a.original_value, a.net_value,
            neutralise(a.ownership), STATUS_ZH.get(a.status, a.status), a.acquired,
            a.latitude, a.longitude, neutralise(a.notes),
        ])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=village, county_code=village.code[:6],
                 object_repr=f"{village.name} ({village.code})", changes={"what": "assets", "rows": count})
    return buffer.getvalue()


def template_bytes() -> bytes:
    """An empty workbook with the headers and one example row, for the import page."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("集体资产台账")
    sheet.append(list(HEADERS))
    sheet.append(["XS-001", "旧村委会大院", "非经营性", "房屋", "西邵村中街", "860.00", "平方米", "420000.00",
                  "180000.00", "西邵村股份经济合作社", "闲置", "1998-06-01", "37.712300", "112.451200", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""Entrusted parcels in and out of Excel (one village per file).

Import (all or nothing, like the roster, finance and contract imports, with their `RowError`
report): columns 地块编号 (optional), 户号, 面积(亩), 位置, 作物, 服务主体, 托管起始, 托管终止.
Each row goes through `trust.parcel_register` (the same checks as the form): the household
must exist in the village, the area is more than zero with at most two places (a float cell
counts by its shortest decimal form, so 2.005 is refused), the term ends after it starts, and
no parcel code appears twice (in the file or already in the village). One bad row and nothing
is saved; the report lists every problem by row and column.
Export: parcels and their services (two sheets), text cells neutralised, audited.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from hemei.contracts import trust
from hemei.contracts.models import TrustParcel, TrustService
from hemei.contracts.services import parse_area
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import ImportResult, RowError, neutralise, read_sheet
from hemei.core.xlsx import Rollback as _Rollback
from hemei.core.xlsx import cell_code as _text
from hemei.core.xlsx import cell_date as _date
from hemei.regions.models import Household, Region

COL_CODE, COL_HOUSE, COL_AREA, COL_LOCATION = "地块编号", "户号", "面积(亩)", "位置"
COL_CROP, COL_PROVIDER, COL_FROM, COL_TO = "作物", "服务主体", "托管起始", "托管终止"
HEADERS = (COL_CODE, COL_HOUSE, COL_AREA, COL_LOCATION, COL_CROP, COL_PROVIDER, COL_FROM, COL_TO)
REQUIRED = (COL_HOUSE, COL_AREA, COL_PROVIDER, COL_FROM, COL_TO)
MAX_ROWS = 20000
CODE_COLUMN = {"area": COL_AREA, "float": COL_AREA, "provider": COL_PROVIDER, "term": COL_TO, "code": COL_CODE,
               "household": COL_HOUSE}
# The template's help is Chinese: the file goes to village clerks as it is.
TEMPLATE_HELP = (
    (COL_CODE, "选填", "本村地块编号，同村内不得重复", "XPT-0001"),
    (COL_HOUSE, "必填", "本村已有的户号（文本，保留前导零）", "001"),
    (COL_AREA, "必填", "亩，大于 0，最多两位小数", "6.5"),
    (COL_LOCATION, "选填", "地块位置", "东沟"),
    (COL_CROP, "选填", "作物", "玉米"),
    (COL_PROVIDER, "必填", "托管服务主体（合作社等），最多 100 字", "西铺头农机合作社"),
    (COL_FROM, "必填", "日期 YYYY-MM-DD", "2026-01-01"),
    (COL_TO, "必填", "日期 YYYY-MM-DD，晚于起始日期", "2028-12-31"),
)


ParcelImportResult = ImportResult


def parcel_import(*, actor: Any, village: Region, data: bytes) -> ParcelImportResult:
    """1. read the sheet; 2. check and register every row inside one transaction; 3. any error
    → roll the whole file back and report every problem."""
    require_actor(actor)
    trust._require(actor, village)
    result = ParcelImportResult()
    sheet = read_sheet(data, required=REQUIRED, headers=HEADERS, max_rows=MAX_ROWS)
    if isinstance(sheet, RowError):
        result.errors.append(sheet)
        return result
    houses = {h.number: h for h in Household.objects.filter(village=village).select_related("village", "county")}
    seen_codes: dict[str, int] = {}
    try:
        with transaction.atomic():
            for number, raw in sheet.records():
                result.rows += 1
                if _row(actor, village, houses, seen_codes, number, raw, result.errors):
                    result.created += 1
            if result.errors or not result.rows:
                raise _Rollback
            audit_record(actor=actor, action=AuditEntry.Action.IMPORT, obj=village, county_code=village.code[:6],
                         object_repr=f"{village.name} ({village.code})",
                         changes={"what": "trusteeship parcels", "rows": result.created})
    except _Rollback:
        if not result.rows:
            result.errors.append(RowError(0, "", "", _("The sheet has no rows.")))
        result.created = 0
        return result
    result.ok = True
    return result


def _row(actor: Any, village: Region, houses: dict[str, Household], seen_codes: dict[str, int], number: int,
         raw: dict[str, Any], errors: list[RowError]) -> bool:
    found: list[RowError] = []
    for h in REQUIRED:
        if not _text(raw[h]):
            found.append(RowError(number, h, "", _("Required.")))
    house = houses.get(_text(raw[COL_HOUSE]))
    if _text(raw[COL_HOUSE]) and house is None:
        found.append(RowError(number, COL_HOUSE, _text(raw[COL_HOUSE])[:30],
                              _("No household with this number in the village.")))
    code = _text(raw.get(COL_CODE))
    if code:
        if code in seen_codes:
            found.append(RowError(number, COL_CODE, code[:30],
                                  _("The same parcel code is in row %(r)d.") % {"r": seen_codes[code]}))
        else:
            seen_codes[code] = number
    start, end = _date(raw[COL_FROM]), _date(raw[COL_TO])
    for h, day in ((COL_FROM, start), (COL_TO, end)):
        if _text(raw[h]) and day is None:
            found.append(RowError(number, h, _text(raw[h])[:30], _("Not a date (YYYY-MM-DD).")))
    if _text(raw[COL_AREA]):
        try:
            parse_area(raw[COL_AREA], from_cell=True)
        except ValidationError as exc:
            found.append(RowError(number, COL_AREA, _text(raw[COL_AREA])[:30], exc.messages[0]))
    if found or house is None or start is None or end is None:
        errors.extend(found)
        return False
    try:
        trust.parcel_register(
            actor=actor, village=village, household=house, area_mu=parse_area(raw[COL_AREA], from_cell=True),
            provider=_text(raw[COL_PROVIDER]), entrusted_from=start, entrusted_to=end,
            location=_text(raw.get(COL_LOCATION)), crop=_text(raw.get(COL_CROP)), code=code,
        )
    except ValidationError as exc:
        column = CODE_COLUMN.get(str(exc.code or ""), "")
        errors.append(RowError(number, column, _text(raw.get(column))[:30] if column else "", exc.messages[0]))
        return False
    return True


def parcel_template() -> bytes:
    """An empty sheet with the headers (text cells, so 户号 keeps its leading zeros) and a 说明 sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "托管地块"
    sheet.append(list(HEADERS))
    bold = Font(bold=True)
    for index in range(1, len(HEADERS) + 1):
        sheet.cell(row=1, column=index).font = bold
        for line in range(2, 502):
            sheet.cell(row=line, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet("说明")
    help_sheet.append(["列名", "是否必填", "格式", "示例"])
    for help_row in TEMPLATE_HELP:
        help_sheet.append(list(help_row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parcel_export(*, actor: Any, village: Region) -> bytes:
    """The village's parcels and their services, two sheets; audited as an export."""
    require_actor(actor)
    trust._require(actor, village)
    parcels = TrustParcel.objects.filter(village=village).select_related("household__head").order_by(
        "household__number", "id")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("托管地块")
    sheet.append([COL_CODE, COL_HOUSE, "户主", COL_AREA, COL_LOCATION, COL_CROP, COL_PROVIDER, COL_FROM, COL_TO,
                  "终止托管"])
    count = 0
    for p in parcels.iterator(chunk_size=2000):
        head = p.household.head.name if p.household.head else ""
        sheet.append([neutralise(p.code), neutralise(p.household.number), neutralise(head), p.area_mu,
                      neutralise(p.location), neutralise(p.crop), neutralise(p.provider), p.entrusted_from,
                      p.entrusted_to, p.ended_on])
        count += 1
    services = TrustService.objects.filter(parcel__village=village).select_related("parcel__household").order_by(
        "on", "id")
    sheet2 = workbook.create_sheet("托管服务")
    sheet2.append(["日期", COL_CODE, COL_HOUSE, "服务", "服务面积(亩)", "服务费(元)", "备注"])
    served = 0
    for s in services.iterator(chunk_size=2000):
        sheet2.append([s.on, neutralise(s.parcel.code), neutralise(s.parcel.household.number),
                       str(s.get_kind_display()), s.area_mu, s.fee, neutralise(s.note)])
        served += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=village, county_code=village.code[:6],
                 object_repr=f"{village.name} ({village.code})",
                 changes={"what": "trusteeship parcels and services", "rows": count, "services": served})
    return buffer.getvalue()

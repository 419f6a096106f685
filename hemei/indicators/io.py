"""Entered figures from Excel: one value per row, all-or-nothing (docs/indicators.md).

Columns (Chinese headers, as the template the page offers): 村代码 (the 12-digit village
code), 期间 (a month: 202611), 数据元 (a data element code from the definitions page), 数值.
Each village-month's values go into its form (merged with what it holds) and the form is
submitted to the township; any error in any row → nothing is written, every error listed.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from hemei.core.scope import require_actor
from hemei.core.xlsx import ErrorList, ImportResult, RowError, Sheet, cell_code, read_sheet
from hemei.indicators import catalogue
from hemei.indicators.services import ValueRow, values_import

HEADERS = ("村代码", "期间", "数据元", "数值")
MAX_ROWS = 50_000


def import_values(data: bytes, *, actor: Any) -> ImportResult:
    require_actor(actor)
    sheet = read_sheet(data, required=HEADERS, headers=HEADERS, max_rows=MAX_ROWS)
    if isinstance(sheet, RowError):
        return ImportResult(errors=ErrorList([sheet]))
    return values_import(actor=actor, rows=list(_rows(sheet)))


def _rows(sheet: Sheet) -> Any:
    col = sheet.col
    for number, row in enumerate(sheet.rows[1:], start=2):
        if not any(v not in (None, "") for v in row):
            continue

        def cell(name: str, row: tuple[Any, ...] = row) -> Any:
            index = col[name]
            return row[index] if index < len(row) else None

        value = cell("数值")
        yield ValueRow(row=number, village=cell_code(cell("村代码")), period=cell_code(cell("期间")),
                       element=cell_code(cell("数据元")), value="" if value is None else value)


def template() -> bytes:
    """An empty import sheet with the headers and one example row per entered element."""
    book = Workbook()
    sheet = book.active
    sheet.title = "数据"
    sheet.append(list(HEADERS))
    for spec in catalogue.ENTERED[:3]:
        sheet.append(["140110101201", "202611", spec.code, 0])
    codes = book.create_sheet("数据元")
    codes.append(["数据元", "名称", "单位"])
    for spec in catalogue.ENTERED:
        codes.append([spec.code, str(spec.name), str(spec.unit)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

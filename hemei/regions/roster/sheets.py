"""The small spreadsheet imports (assets, contracts, trusteeship parcels, finance entries): the
parts they share. Each reads one sheet with a header row, checks every row, and either creates
all rows in one transaction or reports every problem and saves nothing (ARCHITECTURE rule 7).
The roster has its own streaming reader (`reader.py`) for files of a million rows."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from hemei.regions.roster.report import RowError


@dataclass
class ImportResult:
    ok: bool = False
    rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)


class Rollback(Exception):
    """Raised inside the import's transaction when any row failed: undo the rows already made."""


@dataclass
class Sheet:
    rows: list[tuple[Any, ...]]  # the header row first, as read
    col: dict[str, int]  # known header → column index


def cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def cell_code(value: Any) -> str:
    """A code typed as a number (501 → the cell holds 501.0) read as text."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return cell_text(value)


def cell_date(value: Any) -> dt.date | None:
    """A date cell, or text as 2026-05-01, 2026/5/1 or 2026.05.01; None when it is neither."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(cell_code(value).replace("/", "-").replace(".", "-"))
    except ValueError:
        return None


def read_sheet(data: bytes, *, required: Iterable[str], headers: Iterable[str], max_rows: int) -> Sheet | RowError:
    """The first sheet's rows and header map, or the one problem that stops the whole file
    (not a workbook, empty, a required column missing, too many rows)."""
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True, max_row=max_rows + 2))
    except Exception:  # a broken or non-xlsx upload, whatever openpyxl raises
        return RowError(0, "", "", _("The file is not an xlsx workbook."))
    if not rows:
        return RowError(0, "", "", _("The sheet is empty."))
    header = [cell_code(v) for v in rows[0]]
    missing = [h for h in required if h not in header]
    if missing:
        return RowError(1, "、".join(missing), "", _("Required column missing."))
    if len(rows) > max_rows + 1:
        return RowError(0, "", "", _("At most %(n)d rows per file.") % {"n": max_rows})
    return Sheet(rows, {h: header.index(h) for h in headers if h in header})

"""Spreadsheets in and out, for every app: the limits an uploaded workbook must keep before
anything parses it, the small sheet reader, the capped error report, and `neutralise` for the
cells every export writes.

An xlsx file is a zip archive. A 1.3 MB upload can hold 610 MB of shared strings, and
openpyxl reads the shared strings whole even in read-only mode, so the size of the upload says
nothing about the memory it costs. `check_workbook` therefore reads only the zip's central
directory and refuses, before openpyxl sees the file:

1. an upload over ``HEMEI_UPLOAD_MAX_BYTES``;
2. anything that does not start as a zip archive (the xlsx magic);
3. an archive whose members add up to more than ``HEMEI_XLSX_MAX_UNCOMPRESSED_BYTES``;
4. a large member compressed more than ``HEMEI_XLSX_MAX_RATIO`` times (real sheets compress
   5–15 times; a bomb hundreds of times).

The sizes in the central directory can be trusted for this: Python's zipfile, which openpyxl
uses, stops every member at its declared size and fails its CRC check if the data was longer.

Imports then stream the sheet with openpyxl in read-only mode, stop at
``HEMEI_IMPORT_MAX_ROWS`` rows, and keep at most ``HEMEI_IMPORT_MAX_ERRORS`` errors, saying
how many more were found (`ErrorList`).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import load_workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAGIC = b"PK\x03\x04"

# Cells starting with one of these are run as formulas by spreadsheet programs (CSV/formula
# injection); exports prefix them with a quote, imports refuse formulas outright.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Members smaller than this are never refused for their ratio: small XML parts (styles,
# an empty sheet) compress well and cost nothing.
RATIO_FLOOR = 1024 * 1024
# A workbook has a dozen parts; thousands of members are an attack on the directory itself.
MAX_MEMBERS = 1000
MB = 1024 * 1024


def neutralise(value: Any) -> Any:
    """Make a text cell inert in spreadsheet programs: '=1+1 stays text, never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- the settings ----------------------------------------------------------------------------


def write_book(sheets: Iterable[tuple[str, Iterable[Any], Iterable[Iterable[Any]]]]) -> tuple[bytes, int]:
    """An export workbook: each (title, headers, rows) a sheet, written streaming (openpyxl's
    write-only mode, so a county's ledger is not held as cell objects), every cell neutralised;
    the data rows are counted for the audit row. Headers are in Chinese whatever the page
    language (the files go to offices that file them), so values rendered while writing (choice
    labels) are Chinese too."""
    from django.utils import translation
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    count = 0
    with translation.override("zh-hans"):
        for title, headers, rows in sheets:
            sheet = workbook.create_sheet(title)
            sheet.append([neutralise(h) for h in headers])
            for row in rows:
                sheet.append([neutralise(v) for v in row])
                count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    """A workbook as a download (the browser saves it as `filename`)."""
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def upload_max_bytes() -> int:
    return int(getattr(settings, "HEMEI_UPLOAD_MAX_BYTES", 20 * MB))


def max_uncompressed_bytes() -> int:
    return int(getattr(settings, "HEMEI_XLSX_MAX_UNCOMPRESSED_BYTES", 200 * MB))


def max_ratio() -> int:
    return int(getattr(settings, "HEMEI_XLSX_MAX_RATIO", 100))


def import_max_rows() -> int:
    return int(getattr(settings, "HEMEI_IMPORT_MAX_ROWS", 200_000))


def import_max_errors() -> int:
    return int(getattr(settings, "HEMEI_IMPORT_MAX_ERRORS", 1000))


# --- the limits before parsing ---------------------------------------------------------------


class WorkbookRefused(ValueError):
    """The upload breaks one of the limits; `message` says which, for the uploader."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _stream_size(stream: IO[bytes]) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def check_workbook(source: bytes | IO[bytes]) -> None:
    """Refuse an upload that is too big, not an xlsx, or expands too much (see the module
    docstring); raises `WorkbookRefused`. Reads the zip directory only, never a member; the
    stream is left at its start."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    size = _stream_size(stream)
    limit = upload_max_bytes()
    if size > limit:
        raise WorkbookRefused(_("The file is too large (%(size).1f MB); the limit is %(limit).1f MB.")
                              % {"size": size / MB, "limit": limit / MB})
    if stream.read(len(XLSX_MAGIC)) != XLSX_MAGIC:
        stream.seek(0)
        raise WorkbookRefused(_("This file is not an Excel workbook (.xlsx)."))
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise WorkbookRefused(_("The xlsx workbook cannot be read.")) from None
    finally:
        stream.seek(0)
    if len(members) > MAX_MEMBERS:
        raise WorkbookRefused(_("The xlsx workbook cannot be read."))
    total = 0
    ratio = max_ratio()
    for member in members:
        total += member.file_size
        if member.file_size > RATIO_FLOOR and member.file_size > ratio * max(member.compress_size, 1):
            raise WorkbookRefused(_(
                "The workbook expands %(ratio)d times when opened; at most %(limit)d times is accepted."
            ) % {"ratio": member.file_size // max(member.compress_size, 1), "limit": ratio})
    limit = max_uncompressed_bytes()
    if total > limit:
        raise WorkbookRefused(_(
            "The workbook holds %(size).0f MB of data when opened; the limit is %(limit).0f MB."
        ) % {"size": total / MB, "limit": limit / MB})


def open_workbook(source: bytes | IO[bytes], *, data_only: bool = True) -> Any:
    """`check_workbook`, then openpyxl in read-only (streaming) mode. Raises
    `WorkbookRefused` for a refused or unreadable file."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    check_workbook(stream)
    try:
        return load_workbook(stream, read_only=True, data_only=data_only)
    except Exception as exc:  # a broken archive, whatever openpyxl raises for it
        raise WorkbookRefused(_("The xlsx workbook cannot be read: %(e)s") % {"e": exc}) from None


# --- the error report ------------------------------------------------------------------------


@dataclass
class RowError:
    """One problem: spreadsheet row (1 = header, 0 = the whole file), column header, value."""

    row: int
    column: str
    value: str
    message: str


class ErrorList(list[RowError]):
    """A list that keeps the first `limit` errors and only counts the rest, so a broken
    million-row file yields a readable report of bounded size. `listed()` adds the line that
    says how many more were found."""

    def __init__(self, items: Iterable[RowError] = (), *, limit: int | None = None) -> None:
        super().__init__()
        self.limit = import_max_errors() if limit is None else limit
        self.hidden = 0
        self.extend(items)

    def append(self, error: RowError) -> None:
        if len(self) < self.limit:
            super().append(error)
        else:
            self.hidden += 1

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.append(error)

    @property
    def total(self) -> int:
        return len(self) + self.hidden

    @property
    def full(self) -> bool:
        return len(self) >= self.limit

    def listed(self) -> list[RowError]:
        errors = list(self)
        if self.hidden:
            errors.append(RowError(row=0, column="", value="", message=_(
                "%(n)d more errors are not listed; fix the ones above and import again."
            ) % {"n": self.hidden}))
        return errors


# --- the small imports: one sheet, a header row, all-or-nothing --------------------------------


@dataclass
class ImportResult:
    ok: bool = False
    rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=ErrorList)


class Rollback(Exception):
    """Raised inside an import's transaction when any row failed: undo the rows already made."""


@dataclass
class Sheet:
    rows: list[tuple[Any, ...]]  # the header row first, as read
    col: dict[str, int]  # known header → column index

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each data row as (its row number in the file, {known header: cell value}); a row
        whose every cell is blank is skipped (spreadsheets end in empty formatted rows)."""
        for number, values in enumerate(self.rows[1:], start=2):
            raw = {h: (values[i] if i < len(values) else None) for h, i in self.col.items()}
            if any(cell_text(v) for v in raw.values()):
                yield number, raw


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


def too_many_rows(limit: int) -> RowError:
    return RowError(0, "", "", _("At most %(n)d rows per file.") % {"n": limit})


def read_sheet(data: bytes, *, required: Iterable[str], headers: Iterable[str], max_rows: int) -> Sheet | RowError:
    """The first sheet's rows and header map, or the one problem that stops the whole file
    (refused by `check_workbook`, empty, a required column missing, too many rows). At most
    `max_rows` data rows (and never more than ``HEMEI_IMPORT_MAX_ROWS``) are read."""
    limit = min(max_rows, import_max_rows())
    try:
        workbook = open_workbook(data)
    except WorkbookRefused as exc:
        return RowError(0, "", "", exc.message)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True, max_row=limit + 2))
    except Exception:  # a broken sheet inside a valid archive, whatever openpyxl raises
        return RowError(0, "", "", _("The file is not an xlsx workbook."))
    finally:
        workbook.close()
    if not rows:
        return RowError(0, "", "", _("The sheet is empty."))
    header = [cell_code(v) for v in rows[0]]
    missing = [h for h in required if h not in header]
    if missing:
        return RowError(1, "、".join(missing), "", _("Required column missing."))
    if len(rows) > limit + 1:
        return too_many_rows(limit)
    return Sheet(rows, {h: header.index(h) for h in headers if h in header})

"""Pass 1 of the import: stream the sheet once and check every cell that can be checked alone.

Nothing here touches the register: the rows come out as `Row`s (flagged when they have an
error) for `hemei.regions.roster.plan` to check against the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hemei.core.xlsx import import_max_rows, too_many_rows
from hemei.regions import services
from hemei.regions.models import Resident, Tag
from hemei.regions.roster.report import Collector
from hemei.regions.roster.template import (
    COL_GRID,
    COL_ID,
    COL_NAME,
    COL_NUMBER,
    COL_PARTY,
    COL_PHONE,
    COL_RELATION,
    COL_TAGS,
    FORMULA_PREFIXES,
    HELP_SHEET_NAME,
    NO_WORDS,
    RELATION_WORDS,
    REQUIRED_COLUMNS,
    ROSTER_HEADERS,
    TAG_SPLIT,
    YES_WORDS,
)

PROGRESS_EVERY = 1000

# progress(done, total): see `roster_import`.
ProgressCallback = Callable[[int, int], None]

R = Resident.Relation


class _FormulaCell(Exception):
    pass


def _cell_text(value: Any) -> str:
    """A cell as trimmed text. Numbers typed into Excel come back as int/float: 1 → "1"."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        # Undo our own export's neutralising quote ('+86…), then refuse real formulas.
        if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
            text = text[1:].strip()
        if text.startswith("="):
            raise _FormulaCell
        return text
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    # openpyxl returns ArrayFormula / DataTableFormula objects for array formulas.
    raise _FormulaCell


def _header_name(value: Any) -> str:
    """Header cells may carry a required marker: "姓名*", "姓名（必填）"."""
    text = "" if value is None else str(value)
    text = re.sub(r"[（(].*?[)）]", "", text)
    return text.replace("*", "").replace("＊", "").strip()


@dataclass(slots=True)
class Row:
    """One data row after pass 1; `has_error` keeps it out of the plan's changes."""

    row: int
    number: str
    name: str
    relation: str
    id_number: str
    sex: str
    birth: dt.date
    phone: str | None  # None: the column is absent, keep what is stored
    grid_code: str
    tags: frozenset[int] | None  # None: the column is absent
    party: bool | None  # None: the column is absent
    has_error: bool = False


def _roster_sheet(workbook: Any) -> Any:
    for sheet in workbook.worksheets:
        if sheet.title != HELP_SHEET_NAME:
            return sheet
    return None


def _header(header: tuple[Any, ...], errors: Collector) -> dict[str, int] | None:
    """The header row as column name → index; None (and the errors) when a required column
    is missing."""
    columns: dict[str, int] = {}
    for index, value in enumerate(header):
        name = _header_name(value)
        if not name:
            continue
        if name in columns and name in ROSTER_HEADERS:
            errors.add(1, name, value, _("This column appears twice."))
        columns.setdefault(name, index)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    for name in missing:
        errors.add(1, name, "", _("Required column “%(c)s” is missing.") % {"c": name})
    return None if missing else columns


class _RowChecker:
    """Checks one data row at a time against the header found in the file. Each `_check_*`
    method reports its column's errors and returns the value and whether it was bad."""

    def __init__(self, columns: dict[str, int], errors: Collector) -> None:
        self.errors = errors
        self.tags_by_name = {t.name: t for t in Tag.objects.all()}
        self.seen_ids: dict[str, int] = {}
        self.i_number, self.i_name, self.i_relation, self.i_id, self.i_grid = (
            columns[c] for c in REQUIRED_COLUMNS
        )
        self.i_phone = columns.get(COL_PHONE)
        self.i_tags = columns.get(COL_TAGS)
        self.i_party = columns.get(COL_PARTY)
        self.wanted = [(c, columns[c]) for c in ROSTER_HEADERS if c in columns]
        self.width = max(columns[c] for c, _i in self.wanted) + 1
        # Per row: the known columns as text, and those that held a formula (reported once,
        # not also as "required").
        self.row_no = 0
        self.text: dict[int, str] = {}
        self.formula: set[int] = set()

    def check(self, row_no: int, raw: tuple[Any, ...]) -> Row | None:
        """The row, flagged when it has an error; None for a blank line."""
        if len(raw) < self.width:
            raw = tuple(raw) + (None,) * (self.width - len(raw))
        self._read_text(row_no, raw)
        if not self.formula and not any(self.text.values()):
            return None  # blank line (Excel often keeps formatted empty rows)
        number, bad_number = self._required(self.i_number, COL_NUMBER, 30, _("Household number is required."),
                                            _("Household number is longer than 30 characters."))
        name, bad_name = self._required(self.i_name, COL_NAME, 50, _("Name is required."),
                                        _("Name is longer than 50 characters."))
        relation, bad_relation = self._check_relation()
        (id_number, sex, birth), bad_id = self._check_id(raw[self.i_id])
        phone, bad_phone = self._check_phone()
        grid_code, bad_grid = self._required(self.i_grid, COL_GRID, 0, _("Grid code is required."), "")
        tags, bad_tags = self._check_tags()
        party, bad_party = self._check_party()
        return Row(
            row=row_no, number=number, name=name, relation=relation, id_number=id_number,
            sex=sex, birth=birth, phone=phone, grid_code=grid_code, tags=tags, party=party,
            has_error=bool(self.formula) or bad_number or bad_name or bad_relation or bad_id
            or bad_phone or bad_grid or bad_tags or bad_party,
        )

    def _read_text(self, row_no: int, raw: tuple[Any, ...]) -> None:
        """Read the known columns as text; a formula anywhere among them is an error."""
        self.row_no = row_no
        self.text = {}
        self.formula = set()
        for column, index in self.wanted:
            try:
                self.text[index] = _cell_text(raw[index])
            except _FormulaCell:
                self.errors.add(row_no, column, raw[index], _("Formulas are not allowed; type the value itself."))
                self.text[index] = ""
                self.formula.add(index)

    def _missing(self, index: int, column: str, message: str) -> None:
        if index not in self.formula:
            self.errors.add(self.row_no, column, "", message)

    def _required(self, index: int, column: str, longest: int, missing: str, too_long: str) -> tuple[str, bool]:
        value = self.text[index]
        if not value:
            self._missing(index, column, missing)
            return value, True
        if longest and len(value) > longest:
            self.errors.add(self.row_no, column, value, too_long)
            return value, True
        return value, False

    def _check_relation(self) -> tuple[str, bool]:
        word = self.text[self.i_relation]
        relation = RELATION_WORDS.get(word.replace(" ", ""))
        if relation is not None:
            return relation, False
        if word:
            self.errors.add(self.row_no, COL_RELATION, word, _(
                "Unknown relation to the head; use 户主, 配偶, 子, 女, 父亲, 母亲, 孙子, "
                "孙女, 祖父, 祖母, 兄弟, 姐妹, 儿媳, 女婿 or 其他."
            ))
        else:
            self._missing(self.i_relation, COL_RELATION, _("Relation to the head is required."))
        return R.OTHER, True

    def _check_id(self, cell: Any) -> tuple[tuple[str, str, dt.date], bool]:
        none = ("", "", dt.date.min)
        id_raw = self.text[self.i_id]
        if isinstance(cell, float):
            # 18 digits do not fit in a spreadsheet number: the last digits are already lost.
            self.errors.add(self.row_no, COL_ID, id_raw, _(
                "The ID number was stored as a number and has lost digits; format the column "
                "as text and type it again."
            ))
            return none, True
        if not id_raw:
            self._missing(self.i_id, COL_ID, _("ID number is required."))
            return none, True
        try:
            id_number, sex, birth, warnings = services.check_id_number(id_raw)
        except ValidationError as exc:
            self.errors.add(self.row_no, COL_ID, id_raw, "; ".join(exc.messages))
            return none, True
        for warning in warnings:
            self.errors.warn(self.row_no, COL_ID, id_raw, warning)
        first = self.seen_ids.setdefault(id_number, self.row_no)
        if first != self.row_no:
            self.errors.add(self.row_no, COL_ID, id_raw, _(
                "This ID number already appears in row %(row)d."
            ) % {"row": first})
            return none, True
        return (id_number, sex, birth), False

    def _check_phone(self) -> tuple[str | None, bool]:
        if self.i_phone is None:
            return None, False
        try:
            return services.normalise_phone(self.text[self.i_phone]), False
        except ValidationError as exc:
            self.errors.add(self.row_no, COL_PHONE, self.text[self.i_phone], "; ".join(exc.messages))
            return None, True

    def _check_tags(self) -> tuple[frozenset[int] | None, bool]:
        if self.i_tags is None:
            return None, False
        ids: set[int] = set()
        bad = False
        for tag_name in TAG_SPLIT.split(self.text[self.i_tags]):
            if not tag_name:
                continue
            tag = self.tags_by_name.get(tag_name)
            if tag is None or not tag.active:
                message = _("Unknown household type “%(t)s”.")
            elif tag.applies_to == Tag.AppliesTo.RESIDENT:
                message = _("“%(t)s” is a type of resident, not of household.")
            else:
                ids.add(tag.pk)
                continue
            self.errors.add(self.row_no, COL_TAGS, tag_name, message % {"t": tag_name})
            bad = True
        return frozenset(ids), bad

    def _check_party(self) -> tuple[bool | None, bool]:
        if self.i_party is None:
            return None, False
        word = self.text[self.i_party].lower()
        if word in YES_WORDS:
            return True, False
        if word in NO_WORDS:
            return False, False
        self.errors.add(self.row_no, COL_PARTY, self.text[self.i_party], _("Party member must be 是 or 否."))
        return None, True


def read_rows(workbook: Any, errors: Collector, tick: ProgressCallback) -> list[Row] | None:
    """Pass 1: stream the sheet and check every cell that can be checked on its own.

    Returns None when the header makes the rows unreadable (missing required columns) or the
    sheet has more than HEMEI_IMPORT_MAX_ROWS data rows (reading stops there).
    """
    sheet = _roster_sheet(workbook)
    if sheet is None:
        errors.add(0, "", "", _("The workbook has no roster sheet."))
        return None
    rows_iter: Iterator[tuple[Any, ...]] = sheet.iter_rows(values_only=True)
    header = next(rows_iter, None)
    if header is None:
        errors.add(1, "", "", _("The sheet is empty; the first row must hold the column headers."))
        return None
    columns = _header(header, errors)
    if columns is None:
        return None
    checker = _RowChecker(columns, errors)
    estimate = max((sheet.max_row or 0) - 1, 0)
    limit = import_max_rows()
    rows: list[Row] = []
    for row_no, raw in enumerate(rows_iter, start=2):
        if row_no - 1 > limit:
            errors.add(0, "", "", too_many_rows(limit).message)
            return None
        row = checker.check(row_no, raw)
        if row is None:
            continue
        rows.append(row)
        if len(rows) % PROGRESS_EVERY == 0:
            tick(len(rows), 2 * max(estimate, len(rows)) if estimate else 0)
    return rows

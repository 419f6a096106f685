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


def read_rows(workbook: Any, errors: Collector, tick: ProgressCallback) -> list[Row] | None:
    """Pass 1: stream the sheet and check every cell that can be checked on its own.

    Returns None when the header makes the rows unreadable (missing required columns).
    """
    sheet = _roster_sheet(workbook)
    if sheet is None:
        errors.add(0, "", "", _("The workbook has no roster sheet."))
        return None
    tags_by_name = {t.name: t for t in Tag.objects.all()}
    rows_iter: Iterator[tuple[Any, ...]] = sheet.iter_rows(values_only=True)
    header = next(rows_iter, None)
    if header is None:
        errors.add(1, "", "", _("The sheet is empty; the first row must hold the column headers."))
        return None
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
    if missing:
        return None

    estimate = max((sheet.max_row or 0) - 1, 0)
    i_number, i_name, i_relation, i_id, i_grid = (columns[c] for c in REQUIRED_COLUMNS)
    i_phone = columns.get(COL_PHONE)
    i_tags = columns.get(COL_TAGS)
    i_party = columns.get(COL_PARTY)
    wanted = [(c, columns[c]) for c in ROSTER_HEADERS if c in columns]
    width = max(columns[c] for c, _i in wanted) + 1

    rows: list[Row] = []
    seen_ids: dict[str, int] = {}
    for row_no, raw in enumerate(rows_iter, start=2):
        if len(raw) < width:
            raw = tuple(raw) + (None,) * (width - len(raw))
        # Read the known columns as text; a formula anywhere among them is an error.
        text: dict[int, str] = {}
        formula: set[int] = set()  # reported once; not also "required" below
        for column, index in wanted:
            try:
                text[index] = _cell_text(raw[index])
            except _FormulaCell:
                errors.add(row_no, column, raw[index], _(
                    "Formulas are not allowed; type the value itself."
                ))
                text[index] = ""
                formula.add(index)
        bad = bool(formula)
        if not bad and not any(text.values()):
            continue  # blank line (Excel often keeps formatted empty rows)

        number = text[i_number]
        if not number:
            if i_number not in formula:
                errors.add(row_no, COL_NUMBER, "", _("Household number is required."))
            bad = True
        elif len(number) > 30:
            errors.add(row_no, COL_NUMBER, number,
                       _("Household number is longer than 30 characters."))
            bad = True
        name = text[i_name]
        if not name:
            if i_name not in formula:
                errors.add(row_no, COL_NAME, "", _("Name is required."))
            bad = True
        elif len(name) > 50:
            errors.add(row_no, COL_NAME, name, _("Name is longer than 50 characters."))
            bad = True

        relation_word = text[i_relation]
        relation = RELATION_WORDS.get(relation_word.replace(" ", ""))
        if relation is None:
            if relation_word:
                errors.add(row_no, COL_RELATION, relation_word, _(
                    "Unknown relation to the head; use 户主, 配偶, 子, 女, 父亲, 母亲, 孙子, "
                    "孙女, 祖父, 祖母, 兄弟, 姐妹, 儿媳, 女婿 or 其他."
                ))
            elif i_relation not in formula:
                errors.add(row_no, COL_RELATION, "", _("Relation to the head is required."))
            bad = True
            relation = R.OTHER

        id_raw = text[i_id]
        id_number, sex, birth = "", "", dt.date.min
        if isinstance(raw[i_id], float):
            # 18 digits do not fit in a spreadsheet number: the last digits are already lost.
            errors.add(row_no, COL_ID, id_raw, _(
                "The ID number was stored as a number and has lost digits; format the column "
                "as text and type it again."
            ))
            bad = True
        elif not id_raw:
            if i_id not in formula:
                errors.add(row_no, COL_ID, "", _("ID number is required."))
            bad = True
        else:
            try:
                id_number, sex, birth, warnings = services.check_id_number(id_raw)
            except ValidationError as exc:
                errors.add(row_no, COL_ID, id_raw, "; ".join(exc.messages))
                bad = True
            else:
                for warning in warnings:
                    errors.warn(row_no, COL_ID, id_raw, warning)
                first = seen_ids.get(id_number)
                if first is not None:
                    errors.add(row_no, COL_ID, id_raw, _(
                        "This ID number already appears in row %(row)d."
                    ) % {"row": first})
                    bad = True
                else:
                    seen_ids[id_number] = row_no

        phone: str | None = None
        if i_phone is not None:
            try:
                phone = services.normalise_phone(text[i_phone])
            except ValidationError as exc:
                errors.add(row_no, COL_PHONE, text[i_phone], "; ".join(exc.messages))
                bad = True

        grid_code = text[i_grid]
        if not grid_code:
            if i_grid not in formula:
                errors.add(row_no, COL_GRID, "", _("Grid code is required."))
            bad = True

        tags: frozenset[int] | None = None
        if i_tags is not None:
            ids: set[int] = set()
            for tag_name in TAG_SPLIT.split(text[i_tags]):
                if not tag_name:
                    continue
                tag = tags_by_name.get(tag_name)
                if tag is None or not tag.active:
                    errors.add(row_no, COL_TAGS, tag_name, _(
                        "Unknown household type “%(t)s”."
                    ) % {"t": tag_name})
                    bad = True
                elif tag.applies_to == Tag.AppliesTo.RESIDENT:
                    errors.add(row_no, COL_TAGS, tag_name, _(
                        "“%(t)s” is a type of resident, not of household."
                    ) % {"t": tag_name})
                    bad = True
                else:
                    ids.add(tag.pk)
            tags = frozenset(ids)

        party: bool | None = None
        if i_party is not None:
            word = text[i_party].lower()
            if word in YES_WORDS:
                party = True
            elif word in NO_WORDS:
                party = False
            else:
                errors.add(row_no, COL_PARTY, text[i_party], _(
                    "Party member must be 是 or 否."
                ))
                bad = True

        rows.append(Row(
            row=row_no, number=number, name=name, relation=relation, id_number=id_number,
            sex=sex, birth=birth, phone=phone, grid_code=grid_code, tags=tags, party=party,
            has_error=bad,
        ))
        if len(rows) % PROGRESS_EVERY == 0:
            tick(len(rows), 2 * max(estimate, len(rows)) if estimate else 0)
    return rows

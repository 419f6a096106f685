"""Roster import and export: the village's household register as an xlsx file.

The template (documented in docs/roster.md) has one row per resident with the Chinese
headers in `ROSTER_HEADERS`; extra columns are ignored and the order is free.

Import is all-or-nothing and built for big files (a county is ~100k residents):

1. Stream the sheet once with openpyxl in read-only mode and check every cell that can be
   checked alone (ID number, phone, relation, party flag, formulas) — nothing is written.
2. Resolve grids, households and residents that already exist with a handful of queries
   (never one per row) and check the rules that span rows: one ID once, one head per
   household, one grid per household number, every grid under the import's region, no ID
   that already belongs to someone outside that region.
3. Only when there is no error at all, write everything inside one transaction with
   bulk_create / bulk_update; the rare moves go through the regular services so their
   history rows (MoveRecord, audit) are the same as for a move made by hand.

The per-row services (`resident_create` …) are deliberately not used for creation: they
cost several queries each. The same checks are reused instead (`check_id_number`,
`normalise_phone`, `pinyin_initials`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from hemei.core.audit import audit_record
from hemei.core.masking import mask_id_number, mask_phone
from hemei.core.models import AuditEntry
from hemei.core.text import pinyin_initials
from hemei.regions import services
from hemei.regions.access import scope_for
from hemei.regions.models import Household, Level, Region, Resident, Tag

# --- the template ---------------------------------------------------------------------

COL_NUMBER = "户号"
COL_NAME = "姓名"
COL_RELATION = "与户主关系"
COL_ID = "公民身份号码"
COL_PHONE = "联系电话"
COL_GRID = "网格编码"
COL_TAGS = "户类型"
COL_PARTY = "是否党员"

ROSTER_HEADERS: tuple[str, ...] = (
    COL_NUMBER, COL_NAME, COL_RELATION, COL_ID, COL_PHONE, COL_GRID, COL_TAGS, COL_PARTY,
)
REQUIRED_COLUMNS: tuple[str, ...] = (COL_NUMBER, COL_NAME, COL_RELATION, COL_ID, COL_GRID)
# Optional columns: when the column is absent the stored value is left alone; when it is
# present, a blank cell means "none" (no phone, no household type, not a party member).
OPTIONAL_COLUMNS: tuple[str, ...] = (COL_PHONE, COL_TAGS, COL_PARTY)

SHEET_NAME = "名册"
HELP_SHEET_NAME = "说明"

R = Resident.Relation
RELATION_WORDS: dict[str, str] = {
    "户主": R.HEAD, "本人": R.HEAD,
    "配偶": R.SPOUSE, "妻": R.SPOUSE, "妻子": R.SPOUSE, "夫": R.SPOUSE, "丈夫": R.SPOUSE,
    "子": R.CHILD, "女": R.CHILD, "儿子": R.CHILD, "女儿": R.CHILD, "子女": R.CHILD,
    "长子": R.CHILD, "次子": R.CHILD, "长女": R.CHILD, "次女": R.CHILD,
    "独生子": R.CHILD, "独生女": R.CHILD, "养子": R.CHILD, "养女": R.CHILD,
    "继子": R.CHILD, "继女": R.CHILD,
    "父亲": R.PARENT, "母亲": R.PARENT, "父母": R.PARENT, "父": R.PARENT, "母": R.PARENT,
    "孙子": R.GRANDCHILD, "孙女": R.GRANDCHILD, "孙子女": R.GRANDCHILD,
    "外孙子": R.GRANDCHILD, "外孙女": R.GRANDCHILD, "外孙": R.GRANDCHILD,
    "孙子孙女": R.GRANDCHILD,
    "祖父": R.GRANDPARENT, "祖母": R.GRANDPARENT, "祖父母": R.GRANDPARENT,
    "外祖父": R.GRANDPARENT, "外祖母": R.GRANDPARENT, "外祖父母": R.GRANDPARENT,
    "爷爷": R.GRANDPARENT, "奶奶": R.GRANDPARENT, "姥爷": R.GRANDPARENT, "姥姥": R.GRANDPARENT,
    "兄弟姐妹": R.SIBLING, "兄弟": R.SIBLING, "姐妹": R.SIBLING, "兄": R.SIBLING,
    "弟": R.SIBLING, "姐": R.SIBLING, "妹": R.SIBLING, "哥哥": R.SIBLING, "弟弟": R.SIBLING,
    "姐姐": R.SIBLING, "妹妹": R.SIBLING,
    "儿媳": R.CHILD_IN_LAW, "儿媳妇": R.CHILD_IN_LAW, "女婿": R.CHILD_IN_LAW,
    "子女配偶": R.CHILD_IN_LAW,
    "其他": R.OTHER, "其它": R.OTHER,
}
# The stored codes are accepted too, so a file written by another tool can use them.
RELATION_WORDS.update({value: value for value in R.values})

# Export writes the natural word for the resident's sex; every word maps back to the same
# relation on import, so an export re-imports without changes.
EXPORT_RELATION_WORDS: dict[str, tuple[str, str]] = {
    R.HEAD: ("户主", "户主"),
    R.SPOUSE: ("配偶", "配偶"),
    R.CHILD: ("子", "女"),
    R.PARENT: ("父亲", "母亲"),
    R.GRANDCHILD: ("孙子", "孙女"),
    R.GRANDPARENT: ("祖父", "祖母"),
    R.SIBLING: ("兄弟", "姐妹"),
    R.CHILD_IN_LAW: ("女婿", "儿媳"),
    R.OTHER: ("其他", "其他"),
}

YES_WORDS = frozenset({"是", "1", "y", "yes", "true", "党员", "√"})
NO_WORDS = frozenset({"否", "0", "n", "no", "false", "群众", "", "×"})
TAG_SPLIT = re.compile(r"[,，、;；/\s]+")

# Cells starting with one of these are run as formulas by spreadsheet programs (CSV/formula
# injection); exports prefix them with a quote, imports refuse formulas outright.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAGIC = b"PK\x03\x04"

MAX_REPORTED_ERRORS = 1000
ID_LOOKUP_CHUNK = 5000  # below SQLite's bound-parameter limit, few round trips for 100k
WRITE_BATCH = 2000
# bulk_update writes CASE WHEN pk=… per field; its cost grows with the square of the batch.
UPDATE_BATCH = 250
PROGRESS_EVERY = 1000

ProgressCallback = Callable[[int, int], None]


# --- the report -----------------------------------------------------------------------


@dataclass
class RowError:
    """One problem: spreadsheet row (1 = header, 0 = the whole file), column header, value."""

    row: int
    column: str
    value: str
    message: str


@dataclass
class ImportReport:
    ok: bool = False
    errors: list[RowError] = field(default_factory=list)
    created_households: int = 0
    created_residents: int = 0
    updated_residents: int = 0
    unchanged: int = 0
    rows: int = 0
    moved_residents: int = 0
    updated_households: int = 0
    warnings: list[RowError] = field(default_factory=list)
    error_count: int = 0  # all errors found; `errors` keeps the first MAX_REPORTED_ERRORS
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        data = dict(data)
        for key in ("errors", "warnings"):
            data[key] = [RowError(**e) for e in data.get(key, [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class _Collector:
    """Collects errors, keeping the first MAX_REPORTED_ERRORS so a broken 100k-row file
    yields a readable report instead of a huge one."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.count = 0

    def add(self, row: int, column: str, value: Any, message: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, _report_value(column, value), message))

    def warn(self, row: int, column: str, value: Any, message: str) -> None:
        if len(self.warnings) < MAX_REPORTED_ERRORS:
            self.warnings.append(RowError(row, column, _report_value(column, value), message))

    def finish(self) -> list[RowError]:
        errors = list(self.errors)
        if self.count > len(errors):
            errors.append(RowError(row=0, column="", value="", message=_(
                "%(n)d more errors are not listed; fix the ones above and import again."
            ) % {"n": self.count - len(errors)}))
        return errors


def _report_value(column: str, value: Any) -> str:
    """The offending value as the report shows it: short, and masked for personal data.

    Reports are stored (RosterImport.report), downloaded and printed; the row number and a
    masked value (first 6 + last 4 of an ID) are enough to find the cell.
    """
    text = "" if value is None else str(value)
    if column == COL_ID and len(text) >= 15:
        text = mask_id_number(text)
    elif column == COL_PHONE and len(text) >= 7:
        text = mask_phone(text)
    return text if len(text) <= 100 else text[:99] + "…"


# --- reading cells --------------------------------------------------------------------


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


@functools.lru_cache(maxsize=65536)
def _initials(name: str) -> str:
    # Names repeat a lot in a village (and pypinyin is the slow part of a row).
    return pinyin_initials(name)


def _header_name(value: Any) -> str:
    """Header cells may carry a required marker: "姓名*", "姓名（必填）"."""
    text = "" if value is None else str(value)
    text = re.sub(r"[（(].*?[)）]", "", text)
    return text.replace("*", "").replace("＊", "").strip()


@dataclass(slots=True)
class _Row:
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


@dataclass
class _Source:
    stream: IO[bytes]
    size: int
    name: str
    close: bool


def _open_source(source: str | Path | IO[bytes]) -> _Source:
    if isinstance(source, (str, Path)):
        path = Path(source)
        return _Source(stream=path.open("rb"), size=path.stat().st_size, name=path.name, close=True)
    stream = source
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return _Source(stream=stream, size=size, name=str(getattr(source, "name", "") or ""),
                   close=False)


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _roster_sheet(workbook: Any) -> Any:
    for sheet in workbook.worksheets:
        if sheet.title != HELP_SHEET_NAME:
            return sheet
    return None


# --- import -----------------------------------------------------------------------------


def roster_import(
    *,
    source: str | Path | IO[bytes],
    region: Region,
    actor: Any,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Check a roster file completely, then apply it in one transaction or not at all.

    1. Refuse a file over settings.HEMEI_UPLOAD_MAX_BYTES or one that is not an xlsx.
    2. Read the header row; every required column must be there.
    3. Stream the rows, checking each cell on its own (see `_read_rows`).
    4. Check grids, households and IDs against the database and across rows (`_Plan`).
    5. If anything is wrong, return the report: nothing was written.
    6. Unless `dry_run`, write it all in one transaction and append one "import" audit row.

    `progress(done, total)` is called now and then: each data row counts once when checked
    and once when written, so `total` is twice the row count; `total` is 0 while the row
    count is still unknown (the sheet gives no dimension). Re-importing an unchanged file
    changes nothing and only adds the import's audit row.
    """
    if not isinstance(actor, str) and not scope_for(actor).covers_path(region.path, write=True):
        raise PermissionDenied(_("This region is outside your posts."))
    report = ImportReport(dry_run=dry_run)
    errors = _Collector()
    tick: ProgressCallback = progress or (lambda done, total: None)

    src = _open_source(source)
    try:
        limit = int(getattr(settings, "HEMEI_UPLOAD_MAX_BYTES", 20 * 1024 * 1024))
        if src.size > limit:
            errors.add(0, "", src.name, _(
                "The file is %(size).1f MB; the limit is %(limit).1f MB."
            ) % {"size": src.size / 1048576, "limit": limit / 1048576})
            return _finish(report, errors)
        if src.stream.read(4) != XLSX_MAGIC:
            errors.add(0, "", src.name, _(
                "This is not an xlsx workbook. Save the roster as an Excel workbook (.xlsx)."
            ))
            return _finish(report, errors)
        src.stream.seek(0)
        checksum = _sha256(src.stream)
        try:
            workbook = load_workbook(src.stream, read_only=True, data_only=False)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
            errors.add(0, "", src.name, _("The xlsx workbook cannot be read: %(e)s") % {"e": exc})
            return _finish(report, errors)
        try:
            rows = _read_rows(workbook, errors, tick)
        finally:
            workbook.close()
    finally:
        if src.close:
            src.stream.close()
    if rows is None:
        return _finish(report, errors)
    report.rows = len(rows)
    total = 2 * len(rows)
    tick(len(rows), total)
    if not rows and not errors.count:
        errors.add(0, "", "", _("The file has no data rows."))
        return _finish(report, errors)

    plan = _Plan(region=region, rows=rows, errors=errors)
    plan.check()
    report.created_households = len(plan.new_households)
    report.created_residents = len(plan.new_rows)
    report.updated_residents = len(plan.updates)
    report.moved_residents = len(plan.moves)
    report.unchanged = plan.unchanged
    report.updated_households = len(
        set(plan.household_changes()) | {plan.households[k].pk for k in plan.household_moves}
    )
    if errors.count or dry_run:
        if not errors.count:
            tick(total, total)
        return _finish(report, errors)

    try:
        with transaction.atomic():
            plan.write(actor=actor, tick=lambda written: tick(len(rows) + written, total))
            audit_record(
                actor=actor, action=AuditEntry.Action.IMPORT, obj=region,
                object_repr=f"{region.name} ({region.code})", county_code=region.code[:6],
                changes={
                    "file": src.name, "sha256": checksum, "rows": report.rows,
                    "created_households": report.created_households,
                    "created_residents": report.created_residents,
                    "updated_residents": report.updated_residents,
                    "moved_residents": report.moved_residents,
                    "updated_households": report.updated_households,
                    "unchanged": report.unchanged,
                    # Which residents changed, without personal data (ids and field names).
                    "changed_fields": plan.changed_fields_summary(),
                },
            )
    except IntegrityError:
        # Someone registered the same person or household number between our check and
        # our write; the transaction rolled back, so still nothing was written.
        errors.add(0, "", "", _(
            "The register changed while the file was being imported; nothing was written. "
            "Please import the file again."
        ))
        return _finish(report, errors)
    tick(total, total)
    return _finish(report, errors)


def _finish(report: ImportReport, errors: _Collector) -> ImportReport:
    report.errors = errors.finish()
    report.warnings = list(errors.warnings)
    report.error_count = errors.count
    report.ok = errors.count == 0
    if not report.ok:
        # Nothing was (or would be) written: counts of a failed file would only mislead.
        report.created_households = report.created_residents = report.updated_residents = 0
        report.moved_residents = report.updated_households = report.unchanged = 0
    return report


def _read_rows(workbook: Any, errors: _Collector, tick: ProgressCallback) -> list[_Row] | None:
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

    rows: list[_Row] = []
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

        rows.append(_Row(
            row=row_no, number=number, name=name, relation=relation, id_number=id_number,
            sex=sex, birth=birth, phone=phone, grid_code=grid_code, tags=tags, party=party,
            has_error=bad,
        ))
        if len(rows) % PROGRESS_EVERY == 0:
            tick(len(rows), 2 * max(estimate, len(rows)) if estimate else 0)
    return rows


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(slots=True)
class _Existing:
    """What the database holds for a resident named in the file (one query per chunk)."""

    pk: int
    household_id: int
    village_id: int
    number: str
    path: str
    name: str
    phone: str
    relation: str
    party: bool


@dataclass
class _HouseholdRow:
    pk: int
    region_id: int
    head_id: int | None


HouseholdKey = tuple[int, str]  # (village id, household number)


class _Plan:
    """Pass 2: everything the file would change, checked against the database."""

    def __init__(self, *, region: Region, rows: list[_Row], errors: _Collector) -> None:
        self.region = region
        self.rows = rows
        self.errors = errors
        self.grids: dict[str, Region] = {}
        self.village_of: dict[int, int] = {}  # grid id → village id
        self.county_of: dict[int, int] = {}  # grid id → county id
        self.households: dict[HouseholdKey, _HouseholdRow] = {}
        self.key_grid: dict[HouseholdKey, tuple[int, int]] = {}  # key → (grid id, first row)
        self.new_households: dict[HouseholdKey, int] = {}  # key → grid id
        self.household_moves: dict[HouseholdKey, int] = {}  # existing key → new grid id
        self.existing: dict[str, _Existing] = {}
        self.new_rows: list[_Row] = []
        self.updates: dict[int, _Row] = {}  # resident id → row
        self.changed: dict[int, list[str]] = {}  # resident id → changed field names
        self.moves: dict[int, HouseholdKey] = {}  # resident id → target household
        self.unchanged = 0
        self.heads: dict[HouseholdKey, _Row] = {}
        self.tags: dict[HouseholdKey, set[int]] = {}
        self.current_tags: dict[int, set[int]] = {}
        self.has_tags = any(r.tags is not None for r in rows)
        self._household_changes: dict[int, set[int]] | None = None

    # -- checks --

    def check(self) -> None:
        self._resolve_grids()
        self._load_households()
        self._load_residents()
        self._check_rows()
        if self.has_tags:
            self._load_tags()

    def _resolve_grids(self) -> None:
        codes = sorted({r.grid_code for r in self.rows if r.grid_code})
        for chunk in _chunks(codes, ID_LOOKUP_CHUNK):
            for grid in Region.objects.filter(code__in=chunk):
                self.grids[grid.code] = grid
        # Villages and counties of the grids: ancestors are path prefixes (one query).
        steplen = Region.steplen
        prefixes = {
            g.path[:i] for g in self.grids.values() for i in range(steplen, len(g.path), steplen)
        }
        ancestors = {a.path: a for a in Region.objects.filter(path__in=prefixes)}
        for grid in self.grids.values():
            parent = ancestors.get(grid.path[:-steplen])
            if parent is not None and parent.level == Level.VILLAGE:
                self.village_of[grid.pk] = parent.pk
            for prefix in range(steplen, len(grid.path), steplen):
                ancestor = ancestors.get(grid.path[:prefix])
                if ancestor is not None and ancestor.level == Level.COUNTY:
                    self.county_of[grid.pk] = ancestor.pk

    def _load_households(self) -> None:
        villages = sorted(set(self.village_of.values()))
        for chunk in _chunks(villages, ID_LOOKUP_CHUNK):
            for pk, village_id, number, region_id, head_id in Household.objects.filter(
                village_id__in=chunk
            ).values_list("pk", "village_id", "number", "region_id", "head_id"):
                self.households[(village_id, number)] = _HouseholdRow(pk, region_id, head_id)

    def _load_residents(self) -> None:
        ids = [r.id_number for r in self.rows if r.id_number]
        for chunk in _chunks(ids, ID_LOOKUP_CHUNK):
            for values in Resident.objects.filter(id_number__in=chunk).values_list(
                "pk", "id_number", "household_id", "household__village_id", "household__number",
                "region__path", "name", "phone", "relation", "is_party_member",
            ):
                self.existing[values[1]] = _Existing(
                    values[0], values[2], values[3], values[4], values[5], values[6], values[7],
                    values[8], values[9],
                )

    def _check_rows(self) -> None:
        region_path = self.region.path
        grids_by_pk = {g.pk: g for g in self.grids.values()}
        for row in self.rows:
            grid = self.grids.get(row.grid_code) if row.grid_code else None
            problem = ""
            if row.grid_code and grid is None:
                problem = _("Unknown grid code.")
            elif grid is not None and (
                grid.level != Level.GRID or grid.pk not in self.village_of
                or grid.pk not in self.county_of
            ):
                problem = _("%(code)s is not the code of a grid in a village.") % {
                    "code": row.grid_code
                }
            elif grid is not None and not grid.path.startswith(region_path):
                problem = _("Grid %(code)s is outside %(region)s, the region of this import.") % {
                    "code": row.grid_code, "region": self.region.name
                }
            if problem:
                self.errors.add(row.row, COL_GRID, row.grid_code, problem)
                row.has_error = True
            if grid is None or problem or not row.number:
                continue
            key = (self.village_of[grid.pk], row.number)

            # One household number, one grid.
            first = self.key_grid.get(key)
            if first is None:
                self.key_grid[key] = (grid.pk, row.row)
            elif first[0] != grid.pk:
                self.errors.add(row.row, COL_GRID, row.grid_code, _(
                    "Household %(n)s is in grid %(code)s in row %(row)d."
                ) % {"n": row.number, "code": grids_by_pk[first[0]].code, "row": first[1]})
                row.has_error = True
                continue
            household = self.households.get(key)
            if household is not None and household.region_id != grid.pk and first is None:
                old_grid = Region.objects.filter(pk=household.region_id).only("path").first()
                if old_grid is None or not old_grid.path.startswith(region_path):
                    self.errors.add(row.row, COL_NUMBER, row.number, _(
                        "Household %(n)s already exists in a grid outside the region of this "
                        "import."
                    ) % {"n": row.number})
                    row.has_error = True
                    continue
                self.household_moves[key] = grid.pk

            # One head per household.
            if row.relation == R.HEAD:
                head = self.heads.get(key)
                if head is not None:
                    self.errors.add(row.row, COL_RELATION, "户主", _(
                        "Household %(n)s already has a head (户主) in row %(row)d."
                    ) % {"n": row.number, "row": head.row})
                    row.has_error = True
                    continue
                self.heads[key] = row

            # An ID that belongs to someone outside this region is another household's.
            existing = self.existing.get(row.id_number) if row.id_number else None
            if existing is not None and not existing.path.startswith(region_path):
                self.errors.add(row.row, COL_ID, row.id_number, _(
                    "This ID number is already registered in another household outside the "
                    "region of this import."
                ))
                row.has_error = True
                continue
            if row.has_error:
                continue

            if row.tags is not None:
                self.tags.setdefault(key, set()).update(row.tags)
            if household is None and key not in self.new_households:
                self.new_households[key] = grid.pk
            if existing is None:
                self.new_rows.append(row)
                continue
            fields = self._changes(existing, row)
            if (existing.village_id, existing.number) != key:
                self.moves[existing.pk] = key
                fields.append("household")
            if fields:
                self.updates[existing.pk] = row
                self.changed[existing.pk] = fields
            else:
                self.unchanged += 1

    @staticmethod
    def _changes(existing: _Existing, row: _Row) -> list[str]:
        fields: list[str] = []
        if existing.name != row.name:
            fields.append("name")
        if row.phone is not None and existing.phone != row.phone:
            fields.append("phone")
        if existing.relation != row.relation:
            fields.append("relation")
        if row.party is not None and existing.party != row.party:
            fields.append("is_party_member")
        return fields

    def _load_tags(self) -> None:
        through = Household.tags.through
        pks = sorted({h.pk for k, h in self.households.items() if k in self.tags})
        for chunk in _chunks(pks, ID_LOOKUP_CHUNK):
            for household_id, tag_id in through.objects.filter(household_id__in=chunk).values_list(
                "household_id", "tag_id"
            ):
                self.current_tags.setdefault(household_id, set()).add(tag_id)

    def household_changes(self) -> dict[int, set[int]]:
        """Existing households whose types differ from the file: pk → wanted tag ids."""
        if self._household_changes is None:
            self._household_changes = {}
            for key, wanted in self.tags.items():
                household = self.households.get(key)
                if household is not None and self.current_tags.get(household.pk, set()) != wanted:
                    self._household_changes[household.pk] = wanted
        return self._household_changes

    def changed_fields_summary(self) -> dict[str, list[str]]:
        # Audit rows are JSON; keep them bounded for huge changed files.
        items = list(self.changed.items())[:MAX_REPORTED_ERRORS]
        return {str(pk): fields for pk, fields in items}

    # -- writes --

    def write(self, *, actor: Any, tick: Callable[[int], None]) -> None:
        """Pass 3, inside the caller's transaction.

        1. Create the new households (bulk) and move households whose grid changed.
        2. Move residents whose household number changed (service: MoveRecord + audit).
        3. Create the new residents and update the changed ones (bulk).
        4. Set each household's head; a replaced head not named in the file becomes 其他.
        5. Set household types where the file has the column.
        """
        now = timezone.now()
        today = timezone.localdate()
        reason = _("roster import")
        keys = list(self.new_households)
        created = Household.objects.bulk_create(
            [
                Household(
                    county_id=self.county_of[grid_id], region_id=grid_id, village_id=key[0],
                    number=key[1],
                )
                for key, grid_id in self.new_households.items()
            ],
            batch_size=WRITE_BATCH,
        )
        for key, household in zip(keys, created, strict=True):
            self.households[key] = _HouseholdRow(household.pk, household.region_id, None)

        if self.household_moves:
            moving = Household.objects.in_bulk(
                [self.households[k].pk for k in self.household_moves]
            )
            grids = Region.objects.in_bulk(list(self.household_moves.values()))
            for key, grid_id in self.household_moves.items():
                services.household_move(
                    household=moving[self.households[key].pk], to_grid=grids[grid_id], on=today,
                    reason=reason, actor=actor,
                )
                self.households[key].region_id = grid_id

        if self.moves:
            movers = Resident.objects.select_related("household", "region").in_bulk(
                list(self.moves)
            )
            targets = Household.objects.select_related("region").in_bulk(
                [self.households[k].pk for k in self.moves.values()]
            )
            for pk, key in self.moves.items():
                services.resident_move(
                    resident=movers[pk], to_household=targets[self.households[key].pk], on=today,
                    reason=reason, actor=actor,
                )

        written = 0
        insert = _FastInsert(Resident, RESIDENT_INSERT_FIELDS)
        for batch in _chunks(self.new_rows, WRITE_BATCH):
            values = []
            for row in batch:
                grid_id = self.grids[row.grid_code].pk
                target = self.households[(self.village_of[grid_id], row.number)]
                phone = row.phone or ""
                values.append((
                    self.county_of[target.region_id], target.region_id, target.pk, row.name,
                    _initials(row.name), row.id_number, row.id_number[-4:], row.sex, row.birth,
                    phone, phone[-4:], row.relation, bool(row.party), now, now,
                ))
            insert.execute(values)
            written += len(batch)
            tick(written)

        for batch in _chunks(list(self.updates.items()), WRITE_BATCH):
            changed = []
            for pk, row in batch:
                existing = self.existing[row.id_number]
                phone = existing.phone if row.phone is None else row.phone
                party = existing.party if row.party is None else row.party
                changed.append(Resident(
                    pk=pk, name=row.name, name_initials=_initials(row.name), phone=phone,
                    phone_tail=phone[-4:], relation=row.relation, is_party_member=party,
                    updated_at=now,
                ))
            Resident.objects.bulk_update(
                changed,
                ["name", "name_initials", "phone", "phone_tail", "relation", "is_party_member",
                 "updated_at"],
                batch_size=UPDATE_BATCH,
            )
            written += len(batch)
            tick(written)

        self._write_heads(now)
        self._write_tags(now)

    def _write_heads(self, now: dt.datetime) -> None:
        in_file = {self.existing[r.id_number].pk for r in self.rows if r.id_number in self.existing}
        # New residents who head an existing household: their ids (the fast insert returns
        # none; there are few of these).
        new_heads = [
            row.id_number for key, row in self.heads.items()
            if key not in self.new_households and row.id_number not in self.existing
        ]
        new_ids: dict[str, int] = {}
        for chunk in _chunks(new_heads, ID_LOOKUP_CHUNK):
            new_ids.update(Resident.objects.filter(id_number__in=chunk).values_list("id_number", "pk"))
        set_head: list[Household] = []
        demote: list[int] = []
        new_with_head: list[int] = []
        for key in self.key_grid:
            household = self.households.get(key)
            if household is None:
                continue  # a household only named by rows with errors (not reached: no errors)
            head_row = self.heads.get(key)
            if key in self.new_households:
                if head_row is not None:
                    new_with_head.append(household.pk)
                continue
            old = household.head_id
            if head_row is not None:
                new: int | None = (
                    self.existing[head_row.id_number].pk if head_row.id_number in self.existing
                    else new_ids[head_row.id_number]
                )
                if old is not None and old != new and old not in in_file:
                    demote.append(old)  # as services._set_head does for a replaced head
            else:
                # The stored head stays unless the file gives that person another relation.
                new = old if old is not None and old not in in_file else None
            if new != old:
                set_head.append(Household(pk=household.pk, head_id=new, updated_at=now))
        for chunk in _chunks(demote, ID_LOOKUP_CHUNK):
            Resident.objects.filter(pk__in=chunk, relation=R.HEAD).update(
                relation=R.OTHER, updated_at=now
            )
        Household.objects.bulk_update(set_head, ["head", "updated_at"], batch_size=UPDATE_BATCH)
        # New households hold only the file's residents, exactly one of them the head: one
        # UPDATE … SET head = (subquery) per chunk is far cheaper than a CASE per row.
        head_of = Resident.objects.filter(household=OuterRef("pk"), relation=R.HEAD)
        for chunk in _chunks(new_with_head, ID_LOOKUP_CHUNK):
            Household.objects.filter(pk__in=chunk).update(
                head=Subquery(head_of.values("pk")[:1])
            )

    def _write_tags(self, now: dt.datetime) -> None:
        if not self.has_tags:
            return
        through = Household.tags.through
        links: list[Any] = []
        # New households carry only additions; existing ones may also lose types.
        for key, wanted in self.tags.items():
            if key in self.new_households:
                household_id = self.households[key].pk
                links.extend(through(household_id=household_id, tag_id=t) for t in wanted)
        for household_id, wanted in self.household_changes().items():
            current = self.current_tags.get(household_id, set())
            removed = current - wanted
            if removed:
                through.objects.filter(household_id=household_id, tag_id__in=removed).delete()
            links.extend(through(household_id=household_id, tag_id=t) for t in wanted - current)
        through.objects.bulk_create(links, batch_size=WRITE_BATCH, ignore_conflicts=True)
        for chunk in _chunks(list(self.household_changes()), ID_LOOKUP_CHUNK):
            Household.objects.filter(pk__in=chunk).update(updated_at=now)


# Columns the import gives for each new resident, in the order of the value tuples.
RESIDENT_INSERT_FIELDS = (
    "county_id", "region_id", "household_id", "name", "name_initials", "id_number", "id_tail",
    "sex", "birth_date", "phone", "phone_tail", "relation", "is_party_member", "created_at",
    "updated_at",
)
# Field types whose Python value is already what every database driver takes.
_PLAIN_TYPES = frozenset({
    "CharField", "TextField", "ForeignKey", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField",
})


class _FastInsert:
    """INSERT many rows of one model in few, short statements.

    Why not bulk_create: for 100k residents on SQLite, Django's bulk_create spent about 13
    of its 14 seconds compiling SQL value by value (the database itself took one), which
    alone broke the import's goal of at most 3x a bare openpyxl read. The statement here is
    still built from the model's metadata (table, columns, quoting, column types), values
    still pass through each field's get_db_prep_save (cached per distinct value: dates and
    flags repeat), and every field the import does not set gets its model default (computed
    once per import). Like bulk_create it sends no signals; it returns no primary keys, so
    callers look up what they need afterwards.

    - SQLite (and other backends): multi-row VALUES, within the bound-parameter limit.
    - PostgreSQL: one array per column through UNNEST, as Django's own bulk_create does
      there; a long VALUES list would be re-parsed by psycopg on every call.
    """

    def __init__(self, model: type[models.Model], given: tuple[str, ...]) -> None:
        self.connection = connections[router.db_for_write(model)]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_attname = {f.attname: f for f in fields}
        self.given = [by_attname[name] for name in given]
        self.rest = [f for f in fields if f.attname not in set(given)]
        self.defaults = tuple(
            f.get_db_prep_save(f.get_default(), self.connection) for f in self.rest
        )
        self.caches: list[dict[Any, Any] | None] = [
            None if f.get_internal_type() in _PLAIN_TYPES else {} for f in self.given
        ]
        quote = self.connection.ops.quote_name
        ordered = [*self.given, *self.rest]
        # Identifiers come from the model's metadata (quoted); every value is a parameter.
        insert = "INSERT INTO {} ({}) ".format(
            quote(model._meta.db_table), ", ".join(quote(str(f.column)) for f in ordered)
        )
        self.unnest = self.connection.vendor == "postgresql"
        if self.unnest:
            arrays = ", ".join(f"%s::{f.db_type(self.connection)}[]" for f in ordered)
            self.sql = insert + f"SELECT * FROM UNNEST({arrays})"  # noqa: S608
        else:
            self.sql = insert + "VALUES "
        self.row_marks = "(" + ", ".join(["%s"] * len(ordered)) + ")"
        max_params = self.connection.features.max_query_params or 65535
        self.rows_per_statement = max(1, min(1000, (max_params - 1) // len(ordered)))

    def _prep(self, index: int, value: Any) -> Any:
        cache = self.caches[index]
        if cache is None:
            return value
        try:
            return cache[value]
        except KeyError:
            prepared = cache[value] = self.given[index].get_db_prep_save(value, self.connection)
            return prepared

    def execute(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        converting = [i for i, cache in enumerate(self.caches) if cache is not None]
        with self.connection.cursor() as cursor:
            if self.unnest:
                columns = [list(column) for column in zip(*rows, strict=True)]
                for i in converting:
                    columns[i] = [self._prep(i, v) for v in columns[i]]
                columns.extend([value] * len(rows) for value in self.defaults)
                cursor.execute(self.sql, columns)
                return
            for chunk in _chunks(rows, self.rows_per_statement):
                params: list[Any] = []
                for row in chunk:
                    values = list(row)
                    for i in converting:
                        values[i] = self._prep(i, values[i])
                    params.extend(values)
                    params.extend(self.defaults)
                cursor.execute(self.sql + ", ".join([self.row_marks] * len(chunk)), params)


# --- export -----------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """Make a text cell inert in spreadsheet programs: '=1+1 stays text, never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def relation_word(relation: str, sex: str) -> str:
    male, female = EXPORT_RELATION_WORDS.get(relation, ("其他", "其他"))
    return female if sex == Resident.Sex.FEMALE else male


def _roster_rows(region: Region, *, reveal: bool, include_sub: bool) -> Iterable[list[Any]]:
    residents = Resident.objects.filter(status=Resident.Status.LIVING)
    households = Household.objects.all()
    if include_sub:
        residents = residents.filter(region__path__startswith=region.path)
        households = households.filter(region__path__startswith=region.path)
    else:
        residents = residents.filter(region=region)
        households = households.filter(region=region)
    tags: dict[int, list[str]] = {}
    for household_id, name in (
        Household.tags.through.objects.filter(household__in=households.values("pk"))
        .order_by("tag__sort", "tag__name").values_list("household_id", "tag__name")
    ):
        tags.setdefault(household_id, []).append(name)
    head_first = Case(When(relation=R.HEAD, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
    rows = (
        residents.annotate(head_first=head_first)
        .order_by("region__code", "household__number", "head_first", "birth_date", "pk")
        .values_list("household_id", "household__number", "name", "relation", "sex", "id_number",
                     "phone", "region__code", "is_party_member")
    )
    for household_id, number, name, relation, sex, id_number, phone, grid, party in rows.iterator(
        chunk_size=WRITE_BATCH
    ):
        yield [
            number, name, relation_word(relation, sex),
            id_number if reveal else mask_id_number(id_number),
            phone if reveal else mask_phone(phone),
            grid, "、".join(tags.get(household_id, [])), "是" if party else "否",
        ]


COLUMN_WIDTHS = {COL_NUMBER: 10, COL_NAME: 12, COL_RELATION: 12, COL_ID: 22, COL_PHONE: 15,
                 COL_GRID: 18, COL_TAGS: 20, COL_PARTY: 10}


def _write_sheet(sheet: Any, rows: Iterable[list[Any]]) -> int:
    from openpyxl.utils import get_column_letter

    for index, header in enumerate(ROSTER_HEADERS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = COLUMN_WIDTHS[header]
    sheet.freeze_panes = "A2"
    sheet.append(list(ROSTER_HEADERS))
    count = 0
    for row in rows:
        sheet.append([neutralise(v) for v in row])
        count += 1
    return count


def roster_export(
    *,
    region: Region,
    reveal: bool,
    actor: Any,
    include_sub: bool = True,
    request: HttpRequest | None = None,
) -> bytes:
    """Write the region's living residents in the import template; returns xlsx bytes.

    ID numbers and phones are masked unless `reveal` (the caller decides from the user's
    permission: scope_for(user).can_reveal, or the operator's --reveal). Every export leaves
    one "export" audit row saying how many rows and whether values were revealed. Text
    cells are neutralised against formula injection. A write-only workbook streams rows,
    so memory stays flat for a whole county.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    count = _write_sheet(sheet, _roster_rows(region, reveal=reveal, include_sub=include_sub))
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(
        actor=actor, action=AuditEntry.Action.EXPORT, obj=region,
        object_repr=f"{region.name} ({region.code})", county_code=region.code[:6],
        changes={"what": "roster", "rows": count, "reveal": reveal, "include_sub": include_sub},
        request=request,
    )
    return buffer.getvalue()


def roster_template() -> bytes:
    """An empty roster sheet with the headers, and a "说明" sheet explaining each column."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    bold = Font(bold=True)
    from openpyxl.utils import get_column_letter

    sheet.append(list(ROSTER_HEADERS))
    for index, header in enumerate(ROSTER_HEADERS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = COLUMN_WIDTHS[header]
        # Text format so Excel keeps leading zeros and all 18 digits of ID numbers.
        for row in range(2, 1002):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet(HELP_SHEET_NAME)
    help_sheet.append(["列名", "是否必填", "格式", "示例"])
    for cell in help_sheet[1]:
        cell.font = bold
    for column, required, fmt, example in TEMPLATE_HELP:
        help_sheet.append([column, required, fmt, example])
    help_sheet.append([])
    help_sheet.append(["示例行（复制到“名册”表）"])
    help_sheet.append(list(ROSTER_HEADERS))
    help_sheet.append([example for _c, _r, _f, example in TEMPLATE_HELP])
    for letter, width in zip("ABCD", (14, 10, 70, 22), strict=True):
        help_sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The template's own help text is Chinese: the file goes to village clerks as it is.
TEMPLATE_HELP: tuple[tuple[str, str, str, str], ...] = (
    (COL_NUMBER, "必填",
     "本村内唯一的户编号（文本，保留前导零）；同一户的每个成员填写相同户号", "001"),
    (COL_NAME, "必填", "姓名，最多 50 字", "王建国"),
    (COL_RELATION, "必填", "户主、配偶、子、女、父亲、母亲、孙子、孙女、祖父、祖母、兄弟、姐妹、"
                           "儿媳、女婿、其他 等；每户最多一名户主", "户主"),
    (COL_ID, "必填", "18 位公民身份号码（文本格式，末位可为 X）；校验码和出生日期必须正确，"
                     "同一号码只能出现一次", "140110197005061234"),
    (COL_PHONE, "选填", "11 位手机号；留空表示无", "13800001111"),
    (COL_GRID, "必填", "15 位网格编码，必须属于导入时选择的区域", "140110101201001"),
    (COL_TAGS, "选填",
     "户类型名称，多个用顿号或逗号分隔，如 脱贫户、低保户；留空表示无", "脱贫户、低保户"),
    (COL_PARTY, "选填", "是 / 否（也可填 1/0、Y/N）；留空表示否", "否"),
)


def report_to_xlsx(report: ImportReport) -> bytes:
    """The row-by-row report as a workbook: the problems first, then the counts."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Problems"))
    sheet.append([_("Row"), _("Column"), _("Value"), _("Problem")])
    for error in report.errors:
        sheet.append([error.row or "", neutralise(error.column), neutralise(error.value),
                      neutralise(error.message)])
    for warning in report.warnings:
        sheet.append([warning.row or "", neutralise(warning.column), neutralise(warning.value),
                      neutralise(_("Warning: %(m)s") % {"m": warning.message})])
    summary = workbook.create_sheet(_("Summary"))
    for label, value in (
        (_("Result"), _("imported") if report.ok and not report.dry_run
         else _("checked, nothing written") if report.ok else _("failed, nothing written")),
        (_("Rows"), report.rows),
        (_("Errors"), report.error_count),
        (_("Households created"), report.created_households),
        (_("Residents created"), report.created_residents),
        (_("Residents updated"), report.updated_residents),
        (_("Residents moved"), report.moved_residents),
        (_("Residents unchanged"), report.unchanged),
    ):
        summary.append([label, value])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

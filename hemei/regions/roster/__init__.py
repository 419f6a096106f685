"""Roster import and export: the village's household register as an xlsx file.

The template (documented in docs/roster.md) has one row per resident with the Chinese
headers in `ROSTER_HEADERS`; extra columns are ignored and the order is free. The import is
all-or-nothing with a row-by-row report; the export writes the same template, masked unless
the caller may reveal.

Modules: `template` (headers, accepted words, the empty template workbook), `report`
(`ImportReport`, `RowError`, `report_to_xlsx`), `reader` (pass 1: the sheet, cell by cell),
`plan` (passes 2 and 3: checks against the register, then the writes), `bulk` (batch sizes
and the fast insert), `importer` (`roster_import`), `export` (`roster_export`).
"""

from hemei.regions.roster.export import relation_word, roster_export
from hemei.regions.roster.importer import roster_import
from hemei.regions.roster.reader import ProgressCallback
from hemei.regions.roster.report import (
    MAX_REPORTED_ERRORS,
    ImportReport,
    RowError,
    report_to_xlsx,
)
from hemei.regions.roster.template import (
    COL_GRID,
    COL_ID,
    COL_NAME,
    COL_NUMBER,
    COL_PARTY,
    COL_PHONE,
    COL_RELATION,
    COL_TAGS,
    COLUMN_WIDTHS,
    EXPORT_RELATION_WORDS,
    FORMULA_PREFIXES,
    HELP_SHEET_NAME,
    NO_WORDS,
    OPTIONAL_COLUMNS,
    RELATION_WORDS,
    REQUIRED_COLUMNS,
    ROSTER_HEADERS,
    SHEET_NAME,
    TAG_SPLIT,
    TEMPLATE_HELP,
    XLSX_MAGIC,
    YES_WORDS,
    neutralise,
    roster_template,
)

__all__ = [
    "COLUMN_WIDTHS",
    "COL_GRID",
    "COL_ID",
    "COL_NAME",
    "COL_NUMBER",
    "COL_PARTY",
    "COL_PHONE",
    "COL_RELATION",
    "COL_TAGS",
    "EXPORT_RELATION_WORDS",
    "FORMULA_PREFIXES",
    "HELP_SHEET_NAME",
    "MAX_REPORTED_ERRORS",
    "NO_WORDS",
    "OPTIONAL_COLUMNS",
    "RELATION_WORDS",
    "REQUIRED_COLUMNS",
    "ROSTER_HEADERS",
    "SHEET_NAME",
    "TAG_SPLIT",
    "TEMPLATE_HELP",
    "XLSX_MAGIC",
    "YES_WORDS",
    "ImportReport",
    "ProgressCallback",
    "RowError",
    "neutralise",
    "relation_word",
    "report_to_xlsx",
    "roster_export",
    "roster_import",
    "roster_template",
]

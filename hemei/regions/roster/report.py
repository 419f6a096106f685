"""The import's row-by-row report: what went wrong where, what was (or would be) changed.

The report is stored as JSON on the `RosterImport` row, shown on the status page, printed by
`hemei import-roster` and downloaded as a workbook (`report_to_xlsx`), so the values in it
are short and ID numbers and phones in it are masked.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

from hemei.core.masking import mask_id_number, mask_phone
from hemei.core.xlsx import ErrorList, RowError, neutralise
from hemei.regions.roster.template import COL_ID, COL_PHONE

# Kept for callers of the old constant; the limit is the HEMEI_IMPORT_MAX_ERRORS setting.
MAX_REPORTED_ERRORS = 1000


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
    error_count: int = 0  # all errors found; `errors` keeps the first HEMEI_IMPORT_MAX_ERRORS
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


class Collector:
    """Collects errors and warnings, keeping the first HEMEI_IMPORT_MAX_ERRORS of each
    (`hemei.core.xlsx.ErrorList`) so a broken 100k-row file yields a readable report."""

    def __init__(self) -> None:
        self.errors = ErrorList()
        self.warnings = ErrorList()

    @property
    def count(self) -> int:
        """Every error found, listed or not."""
        return self.errors.total

    def add(self, row: int, column: str, value: Any, message: str) -> None:
        self.errors.append(RowError(row, column, _report_value(column, value), message))

    def warn(self, row: int, column: str, value: Any, message: str) -> None:
        self.warnings.append(RowError(row, column, _report_value(column, value), message))

    def finish(self) -> list[RowError]:
        return self.errors.listed()


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

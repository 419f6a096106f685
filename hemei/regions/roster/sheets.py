"""Moved to `hemei.core.xlsx`, the one xlsx module of the product; these names stay importable
from here while other branches still use the old path."""

from hemei.core.xlsx import ImportResult, Rollback, Sheet, cell_code, cell_date, cell_text, read_sheet

__all__ = ["ImportResult", "Rollback", "Sheet", "cell_code", "cell_date", "cell_text", "read_sheet"]

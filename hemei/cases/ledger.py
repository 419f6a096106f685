"""Renamed to `hemei.cases.export` (every app's xlsx export is its `export` module); the old
path stays importable while other branches still use it."""

from hemei.cases.export import LEDGER_HEADERS, ledger_cases, ledger_export

__all__ = ["LEDGER_HEADERS", "ledger_cases", "ledger_export"]

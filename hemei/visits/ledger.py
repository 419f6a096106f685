"""Renamed to `hemei.visits.export` (every app's xlsx export is its `export` module); the old
path stays importable while other branches still use it."""

from hemei.visits.export import MONITORING_HEADERS, VISIT_HEADERS, monitoring_export, visits_export

__all__ = ["MONITORING_HEADERS", "VISIT_HEADERS", "monitoring_export", "visits_export"]

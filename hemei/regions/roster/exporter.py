"""Renamed to `hemei.regions.roster.export` (every app's xlsx export is its `export` module);
the old path stays importable while other branches still use it."""

from hemei.regions.roster.export import relation_word, roster_export

__all__ = ["relation_word", "roster_export"]

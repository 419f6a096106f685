"""`hemei rollup [--rebuild] [--period 202611 ...]`: refresh the indicator summaries."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hemei.indicators import rollup
from hemei.indicators.periods import PeriodError, parse


class Command(BaseCommand):
    help = ("Refresh the indicator summaries of the open periods (this month and last month, their quarters "
            "and years); --rebuild recomputes every fact and summary of the window from scratch.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="recompute everything from the records")
        parser.add_argument("--period", action="append", default=[],
                            help="refresh these open periods only (202611, 2026Q4, 2026)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["rebuild"]:
            applied = rollup.rebuild()
            self.stdout.write(f"rebuilt: {applied.facts} facts, {applied.summaries} summaries "
                              f"({time.perf_counter() - started:.1f} s)")
            return
        try:
            periods = [parse(p) for p in options["period"]] or None
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        applied = rollup.refresh(periods)
        self.stdout.write(f"refreshed: {applied.facts} facts changed, {applied.summaries} summaries changed "
                          f"({time.perf_counter() - started:.1f} s)")

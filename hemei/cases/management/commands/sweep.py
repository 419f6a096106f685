"""`hemei sweep [--now 2027-01-01T09:00+08:00]`: act on every missed deadline (cases, monitoring,
disclosure schedules: every sweeper registered in `hemei.core.sweeps`)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.resilience import DB_ERRORS, Backoff, run_pass
from hemei.core.sweeps import seconds_until_due, sweep_all


def parse_now(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--now must be an ISO date and time, e.g. 2027-01-01T09:00+08:00.")) from None
    if moment.tzinfo is None:
        raise CommandError(_("--now needs a time zone, e.g. 2027-01-01T09:00+08:00."))
    return moment


def _wait(every: int) -> float:
    try:
        return seconds_until_due(timezone.now(), ceiling=every)
    except DB_ERRORS:
        return float(every)  # the next pass reconnects (run_pass)


def sweep_loop(every: int, stop: threading.Event, once: Callable[[], None]) -> None:
    """Sweep until `stop` is set (`sweep --every`, and a thread of `hemei background`)."""
    backoff = Backoff(first=1.0, ceiling=every)
    while not stop.is_set():
        if run_pass("sweep", once, backoff, sleep=stop.wait):
            stop.wait(_wait(every))


class Command(BaseCommand):
    help = ("Escalate everything past its deadline (cases, monitoring steps, disclosure schedules) one tier up "
            "(village → township → county). Safe to run repeatedly and from several processes.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="sweep as of this moment (ISO 8601 with a time zone); default: now")
        parser.add_argument("--every", type=int, metavar="SECONDS",
                            help="keep sweeping every SECONDS (what `hemei serve` runs beside the web server)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options.get("verbosity", 1))
        if options.get("every"):
            if options.get("now"):
                raise CommandError("--every and --now exclude each other")
            # A loop in one process; each pass is the same idempotent sweep, so a second
            # sweeper (cron, another node) running at the same time never double-acts. A pass
            # that loses its database connection is retried on a new one (`run_pass`), so a
            # database restart or a terminated backend never ends the loop.
            # Between passes it sleeps until the earliest registered deadline (never longer than
            # --every), so a 15-minute care deadline is acted on about a second after it passes
            # instead of up to --every seconds late at each tier (docs/care.md, "Sweep timing").
            sweep_loop(max(options["every"], 1), threading.Event(), lambda: self._sweep_once(None))
            return
        self._sweep_once(parse_now(options["now"]) if options.get("now") else None)

    def _sweep_once(self, now: dt.datetime | None) -> None:
        done = sweep_all(now)
        for item in done:
            self.stdout.write(f"{item.kind} {item.ref} {item.deadline} {item.from_tier} → {item.to_tier}")
        if done or self.verbosity >= 1:
            self.stdout.write(_("%(n)d item(s) escalated.") % {"n": len(done)})

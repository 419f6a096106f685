"""`hemei serve`: web server + task worker in one command, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Hemei with gunicorn, with the background task worker and the deadline sweeper beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--no-worker", action="store_true",
                            help="do not start the task worker and the deadline sweeper")

    def handle(self, *args: Any, **options: Any) -> None:
        """1. Collect static files (whitenoise serves them). 2. Start gunicorn and the
        django.tasks database worker as child processes. 3. Stop both on Ctrl-C or SIGTERM, and
        stop everything if either dies, so a half-running system never goes unnoticed."""
        call_command("collectstatic", interactive=False, verbosity=0)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="hemei.settings")
        bind = f"{options['host']}:{options['port']}"
        procs = [
            subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [sys.executable, "-m", "gunicorn", "hemei.wsgi:application", "--bind", bind,
                 "--workers", str(options["workers"]), "--threads", "4", "--access-logfile", "-"],
                env=env,
            )
        ]
        if not options["no_worker"]:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "django", "db_worker", "--queue-name", "default", "--interval", "1"],
                env=env,
            ))
            # Deadlines pass with no one acting: escalation within a minute of a deadline.
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "django", "sweep", "--every", "30", "--verbosity", "0"],
                env=env,
            ))
        self.stdout.write(f"Hemei is serving on http://{bind}/ (Ctrl-C to stop)")

        def stop(*_: Any) -> None:
            for p in procs:
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

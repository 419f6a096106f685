"""`hemei serve`: the web server and the background work (task worker, deadline sweeper and,
with HEMEI_MQTT_URL, the device listener), supervised.

`serve` collects static files, decides its children and then becomes their supervisor
(`hemei.core.supervise`, the same pid without Django in it). The children are gunicorn and
`hemei background` (the three loops in one process); `--separate` runs the task worker, the
sweeper and the listener as processes of their own instead. A village laptop on SQLite gets
one web worker with four threads (SQLite takes one writer at a time anyway), PostgreSQL two;
`--workers` says otherwise. A child that dies is started again after a back-off; SIGTERM or
SIGINT stops them all (docs/operations.md).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from hemei.core.supervise import exec_supervisor

ANY_ADDRESS = frozenset({"0.0.0.0", "", "::"})  # noqa: S104 (compared with, never bound here)


class Command(BaseCommand):
    help = "Serve Hemei with gunicorn, with the background task worker, deadline sweeper and device listener beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=None,
                            help="gunicorn worker processes (default 1 on SQLite, 2 on PostgreSQL)")
        parser.add_argument("--no-worker", action="store_true",
                            help="do not start the task worker and the deadline sweeper")
        parser.add_argument("--separate", action="store_true",
                            help="run the task worker, the sweeper and the device listener as separate processes")
        parser.add_argument("--access-log", default=os.environ.get("HEMEI_ACCESS_LOG", ""),
                            help="file for the request log (default var/log/access.log; '-' for the console)")

    def handle(self, *args: Any, **options: Any) -> None:
        """1. Collect static files (whitenoise serves them). 2. Decide the children: gunicorn and
        the background work. 3. Become their supervisor, which stops them all on SIGTERM or Ctrl-C."""
        call_command("collectstatic", interactive=False, verbosity=0)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="hemei.settings")
        first = float(os.environ.get("HEMEI_SERVE_BACKOFF", "1"))
        bind = f"{options['host']}:{options['port']}"
        access_log = options["access_log"] or str(_default_access_log())
        workers = options["workers"] or (1 if connections["default"].vendor == "sqlite" else 2)
        specs = [("web", [sys.executable, "-m", "gunicorn", "hemei.wsgi:application", "--bind", bind,
                          "--workers", str(workers), "--threads", "4", "--access-logfile", access_log])]
        mqtt = self._mqtt()
        # Deadlines pass with no one acting: escalation within a minute of a deadline.
        every = os.environ.get("HEMEI_SWEEP_EVERY", "30")
        django = [sys.executable, "-m", "django"]
        if options["no_worker"]:
            specs += [("mqtt", [*django, "mqtt"])] if mqtt else []
        elif options["separate"]:
            specs.append(("task worker", [*django, "task_worker", "--queue-name", "default", "--interval", "1"]))
            specs.append(("sweep", [*django, "sweep", "--every", every, "--verbosity", "0"]))
            specs += [("mqtt", [*django, "mqtt"])] if mqtt else []
        else:
            specs.append(("background", [*django, "background", "--every", every, *(["--mqtt"] if mqtt else [])]))
        where = "the console" if access_log == "-" else access_log
        self.stdout.write(f"Hemei is starting on http://{bind}/ (request log: {where}) …")
        self.stdout.flush()
        # A wildcard bind is probed on the loopback address.
        probe_host = "127.0.0.1" if options["host"] in ANY_ADDRESS else options["host"]
        connections.close_all()  # the supervisor holds no database connection
        exec_supervisor(specs, env=env, first=first, health=f"http://{probe_host}:{options['port']}/healthz",
                        ready_text=f"Hemei is serving on http://{bind}/ (Ctrl-C to stop)")

    def _mqtt(self) -> bool:
        """The device listener, when HEMEI_MQTT_URL names a broker (docs/devices.md). A broker
        that does not answer yet is said once here; the listener keeps retrying on its own."""
        from django.conf import settings

        if not settings.HEMEI_MQTT_URL:
            return False
        from hemei.devices.mqtt import Broker

        try:
            broker = Broker.from_url(settings.HEMEI_MQTT_URL)
        except ValueError as exc:
            self.stderr.write(f"hemei serve: HEMEI_MQTT_URL is not usable ({exc}); no device listener")
            return False
        if broker.answers():
            self.stdout.write(f"Device listener: MQTT broker at {broker}")
        else:
            self.stderr.write(f"hemei serve: no MQTT broker answers at {broker}; the device listener keeps retrying")
        return True


def _default_access_log() -> Any:
    """var/log/access.log beside the database: requests (static files too) stay off the console."""
    folder = settings.BASE_DIR / "var" / "log"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "access.log"

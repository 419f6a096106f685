"""`hemei mqtt`: the device listener; `hemei mqtt acl`: the broker's password and ACL files."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hemei.devices.mqtt import Broker, Listener, reload_broker, write_broker_files


class Command(BaseCommand):
    help = ("Listen to the devices' MQTT topics and ingest their messages (HEMEI_MQTT_URL); "
            "`acl` writes Mosquitto's password and ACL files from the device register.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", choices=["listen", "acl"], default="listen")
        parser.add_argument("--url", default=None, help="mqtt://user:password@host:port (default HEMEI_MQTT_URL)")
        parser.add_argument("--prefix", default=None, help="topic prefix (default HEMEI_MQTT_PREFIX)")
        parser.add_argument("--client-id", default="hemei-listener", help="MQTT client id of the listener")
        parser.add_argument("--batch", type=int, default=200, help="messages per database transaction")
        parser.add_argument("--password-file", default=None, help="acl: where to write the password file")
        parser.add_argument("--acl-file", default=None, help="acl: where to write the ACL file")
        parser.add_argument("--listener-user", default=None, help="acl: the listener's user (default: from the URL)")
        parser.add_argument("--listener-password", default=None, help="acl: the listener's password")
        parser.add_argument("--reload", default=None, metavar="PID_FILE",
                            help="acl: send SIGHUP to the Mosquitto whose pid is in this file")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"] or settings.HEMEI_MQTT_URL or "mqtt://127.0.0.1:1883"
        try:
            broker = Broker.from_url(url)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["action"] == "acl":
            self._acl(broker, options)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
        listener = Listener(broker, prefix=options["prefix"], client_id=options["client_id"],
                            batch=max(1, options["batch"]))
        listener.run(stop)
        s = listener.stats
        self.stdout.write(f"hemei mqtt: stopped ({s.received} received, {s.accepted} accepted, {s.refused} refused)")

    def _acl(self, broker: Broker, options: dict[str, Any]) -> None:
        if not options["password_file"] or not options["acl_file"]:
            raise CommandError("acl needs --password-file and --acl-file")
        user = options["listener_user"] or broker.username
        password = options["listener_password"] or broker.password
        try:
            count = write_broker_files(Path(options["password_file"]), Path(options["acl_file"]),
                                       listener_user=user, listener_password=password, prefix=options["prefix"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"wrote {count} device(s) and the listener {user!r} to "
                          f"{options['password_file']} and {options['acl_file']}")
        if options["reload"] and not reload_broker(Path(options["reload"])):
            self.stderr.write(f"no Mosquitto running with the pid in {options['reload']}; not reloaded")

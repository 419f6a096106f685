"""`hemei simulate-devices`: publish the demo devices' traffic to the broker."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hemei.devices.mqtt import Broker
from hemei.devices.simulate import simulate


class Command(BaseCommand):
    help = ("Publish realistic traffic of the demo devices (heartbeats, readings, a call-box press, an "
            "out-of-band temperature) to the MQTT broker, logged in as each device.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=None, help="broker (default HEMEI_MQTT_URL or mqtt://127.0.0.1:1883)")
        parser.add_argument("--prefix", default=None, help="topic prefix (default HEMEI_MQTT_PREFIX)")
        parser.add_argument("--rounds", type=int, default=2, help="rounds of traffic (default 2)")
        parser.add_argument("--every", type=float, default=30.0, help="seconds between rounds (default 30)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            broker = Broker.from_url(options["url"] or settings.HEMEI_MQTT_URL or "mqtt://127.0.0.1:1883")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not broker.answers():
            raise CommandError(f"no MQTT broker answers at {broker}")
        sent = simulate(broker, rounds=max(1, options["rounds"]), every=max(0.0, options["every"]),
                        prefix=options["prefix"], say=self.stdout.write)
        self.stdout.write(f"published {sent} messages to {broker}")

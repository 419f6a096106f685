"""`hemei background`: the task worker, the deadline sweeper and (with `--mqtt`) the device
listener in one process, what `hemei serve` runs beside the web server.

Each of the three is a loop that waits most of the time (for a task, for the next deadline, for
a message), so one process with a thread each costs one Django in memory instead of three:
about 170 MB instead of 470 on a village laptop. The task worker runs in the main thread (the
upstream worker expects it); the sweeper and the listener each run in a thread of their own
with their own database connection. Every loop already outlives a lost database or broker
(`hemei.core.resilience`); a thread that still ends with an error is logged and started again
after a back-off. SIGTERM or SIGINT stops all three; the process exits when they have.
`hemei serve --separate` runs them as three processes instead (a county's larger server).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from hemei.core.backoff import Backoff
from hemei.core.management.commands.task_worker import ResilientWorker

logger = logging.getLogger("hemei.background")


def keep_running(name: str, loop: Callable[[], None], stop: threading.Event) -> threading.Thread:
    """Run `loop` in a thread until `stop` is set; an error that ends it is logged and the loop
    started again after a back-off (a loop that returns while not stopped is started again too)."""

    def body() -> None:
        backoff = Backoff(first=1.0, ceiling=60.0)
        try:
            while not stop.is_set():
                try:
                    loop()
                except Exception:
                    logger.exception("%s stopped with an error; starting it again in %.0fs", name, backoff.next)
                backoff.wait(stop.wait)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread


class Command(BaseCommand):
    help = "Run the background task worker, the deadline sweeper and optionally the MQTT listener in one process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=int(os.environ.get("HEMEI_SWEEP_EVERY", "30")),
                            help="sweep at least every SECONDS (default HEMEI_SWEEP_EVERY or 30)")
        parser.add_argument("--mqtt", action="store_true", help="run the device listener too (HEMEI_MQTT_URL)")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between task queue polls")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        worker = ResilientWorker(queue_names=["default"], interval=options["interval"], batch=False,
                                 backend_name="default", startup_delay=False, max_tasks=None,
                                 worker_id=f"background-{os.getpid()}", excluded_queue_names=[])

        def on_signal(signum: int, _frame: Any) -> None:
            stop.set()
            worker.running = False

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        threads = [keep_running("sweep", self._sweeper(options["every"], stop), stop)]
        if options["mqtt"]:
            threads.append(keep_running("mqtt", self._listener(stop), stop))
        try:
            while not stop.is_set():
                worker.run()  # returns only when stopped
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)

    @staticmethod
    def _sweeper(every: int, stop: threading.Event) -> Callable[[], None]:
        from hemei.cases.management.commands.sweep import sweep_loop
        from hemei.core.sweeps import sweep_all

        def once() -> None:
            sweep_all(None)

        return lambda: sweep_loop(max(every, 1), stop, once)

    @staticmethod
    def _listener(stop: threading.Event) -> Callable[[], None]:
        from hemei.devices.management.commands.mqtt import Command as Mqtt
        from hemei.devices.mqtt import Broker, Listener

        # The listener's defaults are the `hemei mqtt` command's own.
        defaults = vars(Mqtt().create_parser("hemei", "mqtt").parse_args([]))
        broker = Broker.from_url(settings.HEMEI_MQTT_URL or "mqtt://127.0.0.1:1883")

        def listen() -> None:
            Listener(broker, prefix=defaults["prefix"], client_id=defaults["client_id"],
                     batch=max(1, defaults["batch"])).run(stop)

        return listen

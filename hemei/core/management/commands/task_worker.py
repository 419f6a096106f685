"""`manage.py task_worker`: django-tasks-db's `db_worker`, made to outlive lost connections.

The upstream worker re-raises every database error but "database is locked", so one
terminated connection or a database restart ends it. This one runs the same loop through
`hemei.core.resilience.run_pass`: the connection is closed and the loop resumed after a
back-off. (A task that was running when the connection went stays "running" in the queue;
its work is idempotent and its rows say what is left: notification deliveries stuck in
"sending" are picked up by the notify-retry sweeper.)
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from hemei.core.resilience import Backoff, run_pass


class ResilientWorker(Worker):
    def run(self) -> None:
        backoff = Backoff(first=1.0, ceiling=30.0)
        while self.running:
            if run_pass("task worker", super().run, backoff):
                return  # the upstream loop ended on its own (--batch, --max-tasks, a signal)


class Command(DbWorkerCommand):
    help = "Run the background task worker (django-tasks-db), reconnecting after database errors."

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()

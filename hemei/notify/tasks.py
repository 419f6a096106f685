"""Background work for notifications: sending email and SMS after the change committed.

Enqueued by `hemei.notify.services.notify` through `transaction.on_commit`; run by the
django-tasks-db worker that `hemei serve` starts (the immediate backend in tests).
"""

from __future__ import annotations

from django.tasks import task

from hemei.notify.services import deliver


@task()
def deliver_task(delivery_ids: list[int]) -> dict[str, int]:
    """Send the given deliveries; a row that is no longer pending (sent by a retry, or a
    task delivered twice) is skipped, so running it twice never sends twice."""
    return {"sent": deliver(delivery_ids)}

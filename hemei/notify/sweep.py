"""The delivery sweeper: `hemei sweep` retries notices that did not go out
(`hemei.notify.services`)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from hemei.core.sweeps import Escalation, sweeper
from hemei.notify.models import Delivery
from hemei.notify.services import MAX_ATTEMPTS, RETRY_AFTER, RETRY_BATCH, STUCK_AFTER, send_one


@sweeper("notify-retry")
def retry_deliveries(now: dt.datetime) -> list[Escalation]:
    """Retry what did not go out: pending rows whose queueing was lost, failed rows (up to
    MAX_ATTEMPTS, waiting longer after each attempt) and rows stuck in "sending" by a worker
    that died. Nothing escalates here, so the list is always empty."""
    due = (
        Q(status=Delivery.Status.PENDING, created_at__lte=now - RETRY_AFTER)
        | Q(status=Delivery.Status.SENDING, last_attempt_at__lte=now - STUCK_AFTER)
        | Q(status=Delivery.Status.FAILED, attempts__lt=MAX_ATTEMPTS, last_attempt_at__lte=now - RETRY_AFTER)
    )
    rows = Delivery.objects.filter(due).select_related("notification__recipient").order_by("pk")[:RETRY_BATCH]
    for delivery in rows:
        last = delivery.last_attempt_at
        if (
            delivery.status == Delivery.Status.FAILED
            and last is not None
            and last > now - RETRY_AFTER * delivery.attempts
        ):
            continue  # back off: 10, 20 minutes after the first and second attempts
        send_one(delivery)
    return []

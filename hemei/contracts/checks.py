"""`hemei verify` invariants of contracts (each returns the problems found, empty when sound)."""

from __future__ import annotations

from django.db.models import F, Q

from hemei.contracts.models import Contract
from hemei.contracts.sweep import with_paid
from hemei.core.verify import invariant
from hemei.meetings.models import AgendaItem

LIMIT = 10


@invariant("contracts-decisions")
def check_decisions() -> list[str]:
    """A signed contract rests on a passed item of a 村民(代表)会议 of its own village."""
    signed = Contract.objects.exclude(status__in=["draft", "deciding", "approved"])
    bad = signed.filter(
        Q(meeting_item__isnull=True)
        | ~Q(meeting_item__outcome=AgendaItem.Outcome.PASSED)
        | ~Q(meeting_item__meeting__region=F("village"))
        | ~Q(meeting_item__meeting__kind__in=["villagers", "representatives"])
    )
    ids = list(bad.values_list("number", flat=True)[:LIMIT])
    return [f"signed without a passed meeting decision: {', '.join(ids)}"] if ids else []


@invariant("contracts-payments")
def check_payments() -> list[str]:
    """No instalment is paid more than it was due."""
    from hemei.contracts.models import PaymentDue

    over = with_paid(PaymentDue.objects.all()).filter(paid__gt=F("amount"))
    ids = [str(pk) for pk in over.values_list("pk", flat=True)[:LIMIT]]
    return [f"instalments paid more than due: {', '.join(ids)}"] if ids else []

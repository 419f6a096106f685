"""`hemei verify` invariants of courtyard reviews: the stored results of every closed review
equal a recomputation from the current score sheets (totals, ranks, plaques), and every
plaque of an awarded review has its points entry for the same household."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from hemei.core.verify import LIMIT, invariant
from hemei.courtyard import scoring
from hemei.courtyard.models import Result, ReviewEvent
from hemei.courtyard.services import compute, plaque_for


@invariant("courtyard-results")
def check_results() -> list[str]:
    problems: list[str] = []
    events = ReviewEvent.objects.filter(status__in=[ReviewEvent.Status.CLOSED, ReviewEvent.Status.AWARDED])
    for event in events.order_by("pk").iterator():
        stored = {r.household_id: r for r in Result.objects.filter(event=event).select_related("entry")}
        try:
            rows = compute(event)
        except ValidationError:
            problems.append(f"review {event.pk}: score sheets incomplete after close")
            continue
        places = scoring.ranks([total for _h, total, _per in rows])
        tiers = list(event.tiers.all())
        for (household_id, total, _per), rank in zip(rows, places, strict=True):
            r = stored.get(household_id)
            tier = plaque_for(tiers, total, rank)
            if r is None or r.total != total or r.rank != rank or r.tier_id != (tier.pk if tier else None):
                problems.append(f"review {event.pk}: result of household {household_id} differs from its scores")
            elif event.status == ReviewEvent.Status.AWARDED and r.tier_id and (
                r.entry is None or r.entry.household_id != household_id
            ):
                problems.append(f"review {event.pk}: plaque of household {household_id} has no points entry")
        if len(stored) != len(rows):
            problems.append(f"review {event.pk}: {len(stored)} results for {len(rows)} households")
        if len(problems) >= LIMIT:
            break
    return problems

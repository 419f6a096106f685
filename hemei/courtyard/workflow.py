"""The courtyard review workflow as data (`hemei.core.workflow`): set up (draft), scored by
the panel, closed with results, awarded (points proposed through the ledger)."""

from __future__ import annotations

from typing import Any

from hemei.core.workflow import Move, Workflow, register
from hemei.courtyard.models import ReviewEvent, ReviewStatusChange

S = ReviewEvent.Status
COMMITTEE = "secretary, director, committee member of the village"


def _committee(user: Any, review: ReviewEvent) -> bool:
    from hemei.courtyard.access import is_committee

    return is_committee(user, review.village)


REVIEW = register(Workflow(
    name="courtyard.review",
    model=ReviewEvent,
    field="status",
    states=S,
    initial=S.DRAFT,
    event=ReviewStatusChange,
    subject="review",
    doc="美丽庭院: one review event from its set-up to the plaques' points.",
    moves=(
        Move("opened", (S.DRAFT,), S.SCORING, f"{COMMITTEE}, once criteria, panel and households are set",
             _committee, sets=("opened_at",)),
        Move("closed", (S.SCORING,), S.CLOSED, f"{COMMITTEE}, once every panel member scored every household",
             _committee, sets=("closed_at",)),
        Move("awarded", (S.CLOSED,), S.AWARDED, f"{COMMITTEE}; the plaques' points are proposed to the ledger",
             _committee, sets=("awarded_at",)),
    ),
))

"""The yearly star-rating round as data (`hemei.core.workflow`): the six official steps
自评/申报 → 群众互评 → 两委复评 → 乡镇认定 → 张榜公示 → 授牌, who takes each and what it sets.

The township's approval is a move that stays in 乡镇认定 (the step's work ends with it): it
sets `approved_at`, and the service makes it only once (`expect` approved_at empty); the
notice starts only after it. Each step leaves a `StarRoundStep` row."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hemei.core.scope import COMMITTEE_ROLES, TOWNSHIP_ROLES
from hemei.core.workflow import Move, Workflow, holds, register
from hemei.stars.models import Stage, StarRound, StarRoundStep

S = Stage
COMMITTEE = "secretary, director, committee member of the village"
TOWNSHIP = "township staff of the village's township"

# The kinds of step (history rows keep these words).
OPENED = "opened"
APPROVED = "approved"
PUBLICITY_STARTED = "publicity started"
AWARDED = "awarded"


def started(stage: str) -> str:
    """The kind of the step that starts `stage` (one of the first three moves)."""
    return f"start {stage}"


# The roles of each move (`hemei.stars.access` reads them from the same sets).
_committee = holds(COMMITTEE_ROLES)
_township = holds(TOWNSHIP_ROLES)


ROUND = register(Workflow(
    name="stars.round",
    model=StarRound,
    field="stage",
    states=S,
    initial=S.SELF,
    event=StarRoundStep,
    subject="round",
    refused=_("Steps are taken in order; this round is at: %(old)s."),
    conflict=_("The round was changed by someone else; reload it."),
    doc="星级文明户: one village's yearly rating round through the six official steps.",
    moves=(
        Move(started(S.PEER), (S.SELF,), S.PEER, f"{COMMITTEE}; each claim becomes the peer result", _committee),
        Move(started(S.COMMITTEE), (S.PEER,), S.COMMITTEE,
             f"{COMMITTEE}; each peer result becomes the committee's", _committee),
        Move(started(S.TOWNSHIP), (S.COMMITTEE,), S.TOWNSHIP, COMMITTEE, _committee),
        Move(APPROVED, (S.TOWNSHIP,), S.TOWNSHIP,
             f"{TOWNSHIP}, once; households without a correction get the committee's stars", _township,
             sets=("approved_at",)),
        Move(PUBLICITY_STARTED, (S.TOWNSHIP,), S.PUBLICITY, f"{COMMITTEE}, after the township's approval",
             _committee, sets=("publicity_from", "publicity_until")),
        Move(AWARDED, (S.PUBLICITY,), S.AWARDED,
             f"{COMMITTEE}, after the notice ends; writes the 挂星/摘星 changes", _committee, sets=("awarded_on",)),
    ),
))

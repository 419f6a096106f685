"""The contract workflow as data (`hemei.core.workflow`). The decision record between
`deciding` and `approved` lives in fields, not states: the 两委 discussion (`discussed_on`,
set by the `discussed` move), the meeting's vote (`meeting_item`, set by the meetings hook)
and the township's approval (the `approved` move, refused until the vote is recorded)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.contracts.models import Contract, ContractEvent
from hemei.core.workflow import Move, Workflow, register

S = Contract.Status
K = ContractEvent.Kind
LIVE = (S.SIGNED, S.ACTIVE)
COMMITTEE = "secretary, director, committee member, accountant of the village"
TOWNSHIP = "township staff, county administrator"


def _committee(user: Any, contract: Contract) -> bool:
    from hemei.contracts import access

    return access.may(user, contract.village, access.CONTRACT_ROLES)


def _township(user: Any, contract: Contract) -> bool:
    from hemei.contracts import access

    return access.may(user, contract.village, access.TOWNSHIP_REVIEW_ROLES)


def _reviewer(user: Any, contract: Contract) -> bool:
    from hemei.contracts import access

    return access.may(user, contract.village, access.REVIEW_ROLES)


CONTRACT = register(Workflow(
    name="contracts.contract",
    model=Contract,
    field="status",
    states=S,
    initial=S.DRAFT,
    event=ContractEvent,
    subject="contract",
    conflict=_("The contract changed meanwhile; reload the page."),
    doc="A collective contract (lease, contracting, shares) under a recorded decision, to its end.",
    moves=(
        Move(K.DISCUSSED, (S.DRAFT,), S.DECIDING, COMMITTEE, _committee,
             sets=("discussed_on", "discussion")),
        Move(K.APPROVED, (S.DECIDING,), S.APPROVED, f"{TOWNSHIP}, after the meeting passed it",
             _township, sets=("township_approved_at",)),
        Move(K.SIGNED, (S.APPROVED,), S.SIGNED, f"{COMMITTEE}, under the whole decision record",
             _committee, sets=("signed_on",)),
        Move(K.SIGNED, (S.APPROVED,), S.ACTIVE, f"{COMMITTEE}, when the term has begun", _committee,
             sets=("signed_on",)),
        Move(K.ACTIVATED, (S.SIGNED,), S.ACTIVE, "the sweep, once the term begins"),
        Move(K.TERMINATED, LIVE, S.TERMINATED, f"{COMMITTEE}; {TOWNSHIP} (清理 outcome)", _reviewer,
             sets=("ended_on",)),
        Move(K.EXPIRED, LIVE, S.EXPIRED, "the sweep, once the term is over", sets=("ended_on",)),
    ),
))

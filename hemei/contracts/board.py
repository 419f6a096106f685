"""The "contracts" section of the public village board (/v/<code>/): signed contracts only.

Public: subject, kind, party B (a company's name; a private person's surname only), term,
amount and the date of the meeting decision (the day the meeting was held). Never a phone or a full private name.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.contracts.models import Contract
from hemei.core.freshness import track
from hemei.disclosure.board import BoardQuery, Figure, board_section, page_of
from hemei.regions.models import Region

PUBLIC_STATUSES = (Contract.Status.SIGNED, Contract.Status.ACTIVE, Contract.Status.EXPIRED,
                   Contract.Status.TERMINATED)

track(Contract, "contracts")


def public_contracts(village: Region) -> Any:
    return (
        Contract.objects.filter(village=village, status__in=PUBLIC_STATUSES)
        .select_related("meeting_item__meeting")
        .order_by("-signed_on", "-id")
    )


def contracts_summary(village: Region) -> list[Figure] | None:
    n = Contract.objects.filter(village=village, status__in=PUBLIC_STATUSES).count()
    return [Figure(n, _("contracts signed"))] if n else None


@board_section("contracts", title=_("Collective contracts"), template="contracts/_board.html", order=40,
               topics=("contracts",), summary=contracts_summary)
def contracts_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    rows, page = page_of(
        public_contracts(village).only("subject", "party_name", "party_kind", "start", "end", "amount",
                                       "meeting_item__meeting__held_at"),
        query,
    )
    if not rows:
        return None
    return {"contracts": rows, "village": village, "page": page}

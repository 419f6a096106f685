"""The "contracts" section of the public village board (/v/<code>/): signed contracts only.

Public: subject, kind, party B (a company's name; a private person's surname only), term,
amount and the date of the meeting decision (the day the meeting was held). Never a phone or a full private name.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.contracts.models import Contract
from hemei.disclosure.board import board_section
from hemei.regions.models import Region

PUBLIC_STATUSES = (Contract.Status.SIGNED, Contract.Status.ACTIVE, Contract.Status.EXPIRED,
                   Contract.Status.TERMINATED)


def public_contracts(village: Region) -> Any:
    return (
        Contract.objects.filter(village=village, status__in=PUBLIC_STATUSES)
        .select_related("meeting_item__meeting")
        .order_by("-signed_on", "-id")
    )


@board_section("contracts", title=_("Collective contracts"), template="contracts/_board.html", order=40)
def contracts_section(village: Region) -> dict[str, Any] | None:
    rows = list(public_contracts(village)[:30])
    if not rows:
        return None
    return {"contracts": rows, "village": village}

"""The "assets" section of the public village board (/v/<code>/).

Public: how many assets the village has by status and by category, and its idle ones (code,
name, type, area, location) so that anyone can see what could be put to use. No values, no
ownership details, no person: text fields refuse personal data on entry, and the template
still passes them through `redact`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.assets.models import Asset
from hemei.assets.selectors import village_summary
from hemei.core.freshness import track
from hemei.disclosure.board import BoardQuery, Figure, board_section
from hemei.regions.models import Region

# Imports write in bulk (`hemei.assets.io` touches the topic).
track(Asset, "assets")


def assets_summary(village: Region) -> list[Figure] | None:
    qs = Asset.objects.filter(village=village)
    total = qs.count()
    if not total:
        return None
    return [Figure(total, _("assets registered")), Figure(qs.filter(status=Asset.Status.IDLE).count(), _("idle"))]


@board_section("assets", title=_("Collective assets (集体资产)"), template="assets/_board.html", order=45,
               topics=("assets",), summary=assets_summary)
def assets_section(village: Region, query: BoardQuery) -> dict[str, Any] | None:
    return village_summary(village, idle_page=query)

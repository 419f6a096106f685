"""The "assets" section of the public village board (/v/<code>/).

Public: how many assets the village has by status and by category, and its idle ones (code,
name, type, area, location) so that anyone can see what could be put to use. No values, no
ownership details, no person: text fields refuse personal data on entry, and the template
still passes them through `redact`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.assets.selectors import village_summary
from hemei.disclosure.board import board_section
from hemei.regions.models import Region


@board_section("assets", title=_("Collective assets (集体资产)"), template="assets/_board.html", order=45)
def assets_section(village: Region) -> dict[str, Any] | None:
    return village_summary(village)

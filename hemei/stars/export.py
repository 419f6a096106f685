"""Excel export of one round's ratings (openpyxl), text cells neutralised against formula
injection, one "export" audit row."""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import PermissionDenied
from openpyxl import Workbook

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import neutralise
from hemei.regions.models import Post, Region
from hemei.stars import access
from hemei.stars.models import ExclusionReason, StarRound

# The sheet goes to village clerks as it is: Chinese headers.
HEADERS = ["网格", "户号", "户主", "自评星", "互评星", "复评星", "认定星", "星数", "排除", "排除原因", "说明"]


def _grid_worker_in(actor: Any, village: Region) -> bool:
    """A grid post lies below the village, so `access.may(village)` never sees it; the rows
    are still cut to the worker's grid by `access_ratings`."""
    if not getattr(actor, "is_authenticated", False):
        return False
    return (Post.objects.current().filter(user=actor, role__in=access.GRID_ROLES, region__path__startswith=village.path)
            .exists())


def ratings_export(*, actor: Any, round: StarRound) -> bytes:
    """The ratings the actor may read (a grid worker: their grid), one row per household."""
    require_actor(actor)
    if not (access.may(actor, round.village, access.COMMITTEE_ROLES | access.TOWNSHIP_ROLES
                       | frozenset({"county_admin", "county_dispatcher"})) or _grid_worker_in(actor, round.village)):
        raise PermissionDenied
    names = dict(round.village.stars.values_list("pk", "name"))
    reasons = dict(ExclusionReason.choices)

    def stars(ids: list[int] | None) -> str:
        return "、".join(names.get(i, "?") for i in ids or [])

    qs = (access.access_ratings(actor).filter(round=round).select_related("household__head", "household__region")
          .order_by("household__region__code", "household__number"))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{round.year}星级文明户")
    sheet.append(HEADERS)
    count = 0
    for r in qs.iterator(chunk_size=2000):
        h = r.household
        sheet.append([
            neutralise(h.region.name), neutralise(h.number), neutralise(h.head.name if h.head else ""),
            neutralise(stars(r.claimed)), neutralise(stars(r.peer)), neutralise(stars(r.committee)),
            neutralise(stars(r.final)), len(r.final or []), "是" if r.excluded else "",
            neutralise(str(reasons.get(r.exclusion_reason, ""))) if r.excluded else "",
            neutralise(r.exclusion_note),
        ])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=round,
                 changes={"what": "star ratings", "rows": count})
    return buffer.getvalue()

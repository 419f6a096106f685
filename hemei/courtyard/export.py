"""The results of a closed review as an xlsx workbook (text cells neutralised against
formula injection with the roster's `neutralise`; the export is audited)."""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import neutralise
from hemei.courtyard.models import ReviewEvent
from hemei.courtyard.selectors import ranked_results


def results_export(*, actor: Any, event: ReviewEvent, limit: Q | None = None) -> bytes:
    require_actor(actor)
    panel = list(event.panel.order_by("pk"))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("评比结果")
    widths = (8, 10, 14, 10, 12, *(12 for _p in panel))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append(
        [_("Rank"), _("Household"), _("Head"), _("Total"), _("Plaque"), *(neutralise(str(u)) for u in panel)]
    )
    rows = ranked_results(event, limit=limit)
    for r in rows:
        sheet.append(
            [
                r.rank,
                neutralise(r.household.number),
                neutralise(r.head_name),
                r.total,
                neutralise(r.tier.name if r.tier else ""),
                *r.evaluator_totals_decimal,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        obj=event,
        changes={"what": "courtyard results", "rows": len(rows)},
    )
    return buffer.getvalue()

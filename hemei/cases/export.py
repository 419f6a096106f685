"""The problem ledger (台账) as xlsx: one row per case of a region and period.

The headers are Chinese whatever the page language: the file goes to village and township
clerks as it is. Text cells are neutralised against formula injection, and every export
leaves one "export" audit row.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.cases.models import Case
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.pii import redact
from hemei.core.scope import require_actor
from hemei.core.xlsx import neutralise
from hemei.regions.models import Region

LEDGER_HEADERS = ("序号", "编号", "来源", "户主/反映人", "问题", "责任人", "办结时限", "解决措施", "状态",
                  "是否超期", "群众评价")
WIDTHS = (6, 20, 10, 14, 40, 18, 18, 40, 10, 8, 10)
SHEET_NAME = "问题台账"
OPEN = (Case.Status.SUBMITTED, Case.Status.ACCEPTED, Case.Status.IN_PROGRESS)


def _late(case: Case, now: dt.datetime) -> bool:
    if case.overdue_accept or case.overdue_resolve:
        return True
    if case.status == Case.Status.SUBMITTED:
        return case.accept_by < now
    if case.status in OPEN:
        return case.resolve_by < now
    return bool(case.resolved_at and case.resolved_at > case.resolve_by)


def ledger_cases(region: Region, date_from: dt.date | None, date_to: dt.date | None) -> Any:
    qs = Case.objects.filter(region__path__startswith=region.path)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.select_related("category", "responsible", "household__head").order_by("created_at", "id")


def _rows(cases: Iterable[Case]) -> Iterable[list[Any]]:
    now = timezone.now()
    for index, case in enumerate(cases, start=1):
        head = case.household.head.name if case.household and case.household.head else ""
        people = "/".join(dict.fromkeys(n for n in (head, case.reporter_name) if n))
        responsible = "，".join(x for x in (str(case.responsible) if case.responsible else "",
                                            case.responsible_unit) if x)
        yield [
            index, case.number, case.get_source_display(), people,
            # An export leaves the system: free text is masked (hemei.core.pii).
            redact(f"{case.title}：{case.description}"), responsible,
            timezone.localtime(case.resolve_by).strftime("%Y-%m-%d %H:%M"), redact(case.measures),
            case.get_status_display(), "是" if _late(case, now) else "否",
            case.get_rating_display() if case.rating else "",
        ]


def ledger_export(*, region: Region, date_from: dt.date | None, date_to: dt.date | None, actor: Any,
                  request: HttpRequest | None = None) -> bytes:
    require_actor(actor)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    for i, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(list(LEDGER_HEADERS))
    count = 0
    with translation.override("zh-hans"):
        for row in _rows(ledger_cases(region, date_from, date_to).iterator(chunk_size=2000)):
            sheet.append([neutralise(v) for v in row])
            count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(
        actor=actor, action=AuditEntry.Action.EXPORT, obj=region,
        object_repr=f"{region.name} ({region.code})", county_code=region.code[:6],
        changes={"what": "case ledger", "rows": count, "from": str(date_from or ""), "to": str(date_to or "")},
        request=request,
    )
    return buffer.getvalue()

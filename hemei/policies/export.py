"""The "qualifies but has not applied" list in Excel (`hemei.core.xlsx.neutralise` on every
text cell): one row per household and policy (per member, for per-person policies). The head's
phone is masked unless the exporter asks for it in full (`reveal=True`) and may reveal personal
data, as the roster export (docs/access.md); each export is an audit row saying which it was."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import translation
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.core.audit import audit_record
from hemei.core.masking import mask_phone
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor, scope_for
from hemei.core.xlsx import neutralise
from hemei.policies.models import Policy
from hemei.policies.selectors import Pending, not_applied
from hemei.regions.models import Region

HEADERS = ("网格", "户号", "户主", "联系电话", "地址", "政策", "版本", "享受人", "符合条件")


def _write(sheet: Any, rows: list[Pending], reveal: bool) -> int:
    count = 0
    for row in rows:
        h = row.household
        head = h.head
        phone = (head.phone if reveal else mask_phone(head.phone)) if head else ""
        outcome = row.match.outcome
        checks = {o.member.id: o.checks for o in outcome.members}
        targets = [("全户", outcome.checks)] if not row.members else \
            [(m.name, (*outcome.checks, *checks[m.id])) for m in row.members]
        for name, reasons in targets:
            sheet.append([neutralise(h.region.name), neutralise(h.number), neutralise(head.name if head else ""),
                          neutralise(phone), neutralise(h.address), neutralise(row.match.policy.name),
                          neutralise(row.match.version.label), neutralise(name),
                          neutralise("；".join(c.text for c in reasons))])
            count += 1
    return count


def not_applied_export(*, actor: Any, region: Region | None = None, policy: Policy | None = None,
                       on: dt.date | None = None, reveal: bool = False) -> bytes:
    """The list as the actor's page shows it (their scope, the same filters) as a workbook.
    Phones in full only when asked for: holding the permission is not asking (the probes of
    2026-12-03 found the secretary's every download in clear)."""
    require_actor(actor)
    if reveal and not scope_for(actor).can_reveal:
        raise PermissionDenied
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("符合未申请")
    for i, width in enumerate((12, 8, 10, 14, 24, 20, 10, 14, 50), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append(list(HEADERS))
    with translation.override("zh-hans"):  # the sheet is Chinese (the reasons too), like its headers
        rows, _truncated = not_applied(actor, region=region, policy=policy, on=on)
        count = _write(sheet, rows, reveal)
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, object_type="policies.application",
                 county_code=region.code[:6] if region else (rows[0].household.county_code if rows else ""),
                 object_repr="符合条件未申请名单",
                 changes={"what": "policies_not_applied", "rows": count, "region": region.code if region else "",
                          "policy": policy.code if policy else "", "phones": "clear" if reveal else "masked"})
    return buffer.getvalue()

"""Points ledgers as xlsx: the entries of a village (积分台账) and the shop statistics.

Headers are Chinese whatever the page language (the files go to village and township clerks
as they are). Text cells go through the roster's `neutralise` against formula injection, and
each export leaves one "export" audit row.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import neutralise
from hemei.points.models import Entry
from hemei.points.stats import ShopStats
from hemei.regions.models import Region

LEDGER_HEADERS = ("序号", "户号", "户主", "网格", "类别", "积分项目", "分值", "事迹日期", "期间", "状态",
                  "公示截止", "生效时间", "链序号", "哈希", "说明")
LEDGER_WIDTHS = (6, 10, 10, 12, 10, 30, 8, 12, 9, 10, 12, 18, 8, 66, 30)


def month_start(period: str) -> dt.date:
    """"2026-07" → 2026-07-01 (ValueError for anything else)."""
    year, month = period.split("-")
    return dt.date(int(year), int(month), 1)


def ledger_entries(village: Region, period_from: str = "", period_to: str = "") -> Any:
    """Entries whose deed date lies in the months from … to. The deed date, not `period`: a
    reset entry's period is its redemption period ("2026Q3") and its deed date the last day of
    it, so it falls in the right month."""
    qs = Entry.objects.filter(village=village)
    if period_from:
        qs = qs.filter(deed_date__gte=month_start(period_from))
    if period_to:
        end = month_start(period_to)
        qs = qs.filter(deed_date__lt=dt.date(end.year + end.month // 12, end.month % 12 + 1, 1))
    return qs.select_related("household__head", "household__region", "item").order_by("proposed_at", "id")


def _sheet(workbook: Workbook, title: str, headers: Iterable[str], widths: Iterable[int]) -> Any:
    sheet = workbook.create_sheet(title)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(list(headers))
    return sheet


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ledger_export(*, actor: Any, village: Region, period_from: str = "", period_to: str = "") -> bytes:
    """Every entry of the village in the months (deed date), effective or not, with its chain
    position and hash."""
    require_actor(actor)
    workbook = Workbook(write_only=True)
    sheet = _sheet(workbook, "积分台账", LEDGER_HEADERS, LEDGER_WIDTHS)
    count = 0
    with translation.override("zh-hans"):
        for index, e in enumerate(ledger_entries(village, period_from, period_to).iterator(chunk_size=2000), 1):
            head = e.household.head
            item = f"{e.item.code} {e.item.description}" if e.item else ""
            row = [
                index,
                e.household.number,
                head.name if head else "",
                e.household.region.name,
                str(e.get_kind_display()),
                item,
                e.points,
                e.deed_date,
                e.period,
                str(e.get_state_display()),
                timezone.localtime(e.publicity_until).strftime("%Y-%m-%d") if e.publicity_until else "",
                timezone.localtime(e.effective_at).strftime("%Y-%m-%d %H:%M") if e.effective_at else "",
                e.sequence or "",
                e.entry_hash,
                e.reason or e.evidence,
            ]
            sheet.append([neutralise(v) for v in row])
            count += 1
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        obj=village,
        county_code=village.code[:6],
        object_repr=f"{village.name} ({village.code})",
        changes={"what": "points ledger", "rows": count, "from": period_from, "to": period_to},
    )
    return _save(workbook)


def stats_export(*, actor: Any, village: Region, stats: ShopStats, by: str, year: int | None) -> bytes:
    require_actor(actor)
    workbook = Workbook(write_only=True)
    headers = ("期间", "兑换户数", "户内村民人数", "兑换积分", "兑换笔数")
    sheet = _sheet(workbook, "兑换统计", headers, (10, 10, 12, 10, 10))
    for r in [*stats.rows, stats.total]:
        label = r.period if r is not stats.total else "合计"
        sheet.append([neutralise(label), r.households, r.villagers, r.points, r.redemptions])
    top = _sheet(workbook, "热门商品", ("商品", "数量", "积分"), (30, 10, 10))
    for reward in stats.top:
        top.append([neutralise(reward.name), reward.quantity, reward.points])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        obj=village,
        county_code=village.code[:6],
        object_repr=f"{village.name} ({village.code})",
        changes={"what": "points shop statistics", "by": by, "year": year or ""},
    )
    return _save(workbook)

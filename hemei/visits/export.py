"""Visit and monitoring ledgers (台账) as xlsx. Chinese headers whatever the page language;
text cells neutralised against formula injection; each export leaves an audit row. Neither
sheet carries ID numbers or phones."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import write_book
from hemei.regions.models import Region
from hemei.visits.models import Monitoring, Visit

VISIT_HEADERS = (
    "序号",
    "走访时间",
    "网格",
    "户号",
    "户主",
    "在家",
    "电话回访",
    "医疗保障",
    "住房安全",
    "饮水安全",
    "人均年收入",
    "刚性支出",
    "子女上学",
    "就业",
    "诉求",
    "备注",
    "问题台账编号",
    "走访人",
)
MONITORING_HEADERS = (
    "序号",
    "编号",
    "网格",
    "户号",
    "户主",
    "监测类型",
    "风险类型",
    "来源",
    "当前环节",
    "环节时限",
    "督办层级",
    "是否超期",
    "帮扶措施",
)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _visit_rows(visits: Iterable[Visit]) -> Iterable[list[Any]]:
    for i, v in enumerate(visits, start=1):
        head = v.household.head.name if v.household.head else ""
        yield [
            i,
            timezone.localtime(v.visited_at).strftime("%Y-%m-%d %H:%M"),
            v.region.name,
            v.household.number,
            head,
            _yes(v.present),
            f"{v.phone_contact} {v.phone_outcome}".strip(),
            "正常" if v.health_ok else f"问题：{v.health_note}",
            "安全" if v.housing_safe else f"问题：{v.housing_note}",
            "安全" if v.water_safe else f"问题：{v.water_note}",
            str(v.income_per_capita or ""),
            str(v.heavy_spending_amount or "") if v.heavy_spending else "",
            "正常" if v.schooling_ok else f"问题：{v.schooling_note}",
            v.jobs_note,
            v.needs,
            v.notes,
            "、".join(p.case.number for p in v.problems.all()),
            str(v.visitor or ""),
        ]


def _monitoring_rows(records: Iterable[Monitoring]) -> Iterable[list[Any]]:
    now = timezone.now()
    for i, m in enumerate(records, start=1):
        head = m.household.head.name if m.household.head else ""
        late = m.was_overdue or (m.step_due is not None and m.step_due < now)
        yield [
            i,
            m.ref,
            m.region.name,
            m.household.number,
            head,
            m.get_kind_display(),
            "、".join(m.risk_labels()),
            m.get_source_display(),
            m.get_step_display(),
            timezone.localtime(m.step_due).strftime("%Y-%m-%d %H:%M") if m.step_due else "",
            m.get_tier_display(),
            _yes(late),
            "；".join(f"{x.measure}（{x.department}）" for x in m.measures.all()),
        ]


def _audit(actor: Any, region: Region, what: str, count: int) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        obj=region,
        object_repr=f"{region.name} ({region.code})",
        county_code=region.code[:6],
        changes={"what": what, "rows": count},
    )


def visits_export(*, actor: Any, region: Region, visits: QuerySet[Visit]) -> bytes:
    require_actor(actor)
    qs = visits.select_related("household__head", "region", "visitor").prefetch_related("problems__case")
    data, count = write_book([("入户走访台账", VISIT_HEADERS, _visit_rows(qs.order_by("visited_at", "id")))])
    _audit(actor, region, "visit ledger", count)
    return data


def monitoring_export(*, actor: Any, region: Region, records: QuerySet[Monitoring]) -> bytes:
    require_actor(actor)
    qs = records.select_related("household__head", "region").prefetch_related("measures")
    rows = _monitoring_rows(qs.order_by("created_at", "id"))
    data, count = write_book([("防返贫监测台账", MONITORING_HEADERS, rows)])
    _audit(actor, region, "monitoring ledger", count)
    return data

"""The device register and the alarm ledger (告警台账) as xlsx: Chinese headers, cells
neutralised against formula injection, an audit row per export. No secrets, no phones."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import write_book
from hemei.devices.models import Alarm, Device

DEVICE_HEADERS = ("序号", "设备编码", "名称", "类型", "所属区域", "区域编码", "配置", "在用", "在线", "最后通信")
ALARM_HEADERS = ("序号", "设备编码", "设备名称", "区域", "告警代码", "级别", "内容", "状态", "次数", "首次告警",
                 "最近告警", "确认人", "确认时间", "解除时间", "案件编号")


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _device_rows(devices: Iterable[Device]) -> Iterable[list[Any]]:
    for i, d in enumerate(devices, start=1):
        yield [i, d.code, d.name, d.get_kind_display(), d.region.name, d.region.code, d.profile, _yes(d.active),
               _yes(d.online), _when(d.last_seen_at)]


def _alarm_rows(alarms: Iterable[Alarm]) -> Iterable[list[Any]]:
    for i, a in enumerate(alarms, start=1):
        yield [i, a.device.code, a.device.name, a.region.name, a.code, a.get_severity_display(), a.text,
               a.get_state_display(), a.count, _when(a.raised_at), _when(a.last_at),
               str(a.acknowledged_by or ""), _when(a.acknowledged_at), _when(a.cleared_at),
               a.case.number if a.case else ""]


def _audit(actor: Any, what: str, count: int) -> None:
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, object_type="devices.ledger", object_repr=what,
                 changes={"what": what, "rows": count})


def devices_export(*, actor: Any, devices: QuerySet[Device]) -> bytes:
    require_actor(actor)
    rows = _device_rows(devices.select_related("region").order_by("code"))
    data, count = write_book([("设备台账", DEVICE_HEADERS, rows)])
    _audit(actor, "device register", count)
    return data


def alarms_export(*, actor: Any, alarms: QuerySet[Alarm]) -> bytes:
    require_actor(actor)
    qs = alarms.select_related("device", "region", "acknowledged_by", "case").order_by("raised_at", "id")
    data, count = write_book([("告警台账", ALARM_HEADERS, _alarm_rows(qs))])
    _audit(actor, "alarm ledger", count)
    return data

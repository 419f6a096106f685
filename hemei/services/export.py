"""The study-tour register in Excel (`hemei.core.xlsx.neutralise` on every text cell): one
sheet of a venue's slots with their fill, one of the bookings. Contacts are masked unless the
exporter asks for them in full and may reveal personal data; each export is an audit row."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.core.audit import audit_record
from hemei.core.masking import mask_name, mask_phone
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor, scope_for
from hemei.core.xlsx import neutralise, write_book
from hemei.services.access import access_bookings
from hemei.services.models import GridCheck, Response, Venue
from hemei.services.selectors import board, venue_slots

SLOT_HEADERS = ("开始", "结束", "容量", "已订人数", "剩余", "满额率", "团队数")
BOOKING_HEADERS = ("编号", "时段", "团队类型", "学校或单位", "人数", "联系人", "联系电话", "状态", "预订时间")
KIND_ZH = {"school": "学校", "company": "企业或单位", "other": "其他团队"}
STATUS_ZH = {"requested": "待确认", "confirmed": "已确认", "visited": "已到访", "no_show": "未到",
             "cancelled": "已取消"}


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value).replace(tzinfo=None)  # openpyxl writes naive times


def _asked_to_reveal(actor: Any, reveal: bool) -> bool:
    """Contacts in full only when asked for (`reveal=1`) by a holder of the permission, as the
    roster export: holding it is not asking (the probes of 2026-12-03 found every download of
    the secretary in clear)."""
    if reveal and not scope_for(actor).can_reveal:
        raise PermissionDenied
    return reveal


def slots_export(*, actor: Any, venue: Venue, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, reveal: bool = False) -> bytes:
    """The venue (already fetched in the actor's scope) as a workbook."""
    require_actor(actor)
    reveal = _asked_to_reveal(actor, reveal)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("研学时段")
    for i, width in enumerate((18, 18, 8, 10, 8, 8, 8), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append(list(SLOT_HEADERS))
    slots = list(venue_slots(venue, date_from=date_from, date_to=date_to))
    for s in slots:
        sheet.append([_local(s.starts_at), _local(s.ends_at), s.capacity, s.booked, s.free,
                      f"{s.fill:.0%}", s.groups])  # type: ignore[attr-defined]
    bookings = workbook.create_sheet("研学预订")
    for i, width in enumerate((14, 18, 10, 24, 6, 10, 14, 8, 18), start=1):
        bookings.column_dimensions[get_column_letter(i)].width = width
    bookings.append(list(BOOKING_HEADERS))
    rows = (access_bookings(actor).filter(slot__in=[s.pk for s in slots]).select_related("slot")
            .order_by("slot__starts_at", "created_at", "pk"))
    count = 0
    for b in rows.iterator(chunk_size=2000):
        name = b.contact_name if reveal else mask_name(b.contact_name)
        phone = b.contact_phone if reveal else mask_phone(b.contact_phone)
        bookings.append([b.ref, _local(b.slot.starts_at), KIND_ZH.get(b.group_kind, b.group_kind),
                         neutralise(b.organisation), b.group_size, neutralise(name), neutralise(phone),
                         STATUS_ZH.get(b.status, b.status), _local(b.created_at)])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=venue,
                 changes={"what": "study_tour_slots", "slots": len(slots), "bookings": count,
                          "contacts": "clear" if reveal else "masked"})
    return buffer.getvalue()




CHECKIN_HEADERS = ("村", "网格", "网格编码", "重点户", "已联系", "状态", "报到人", "报到时间", "督办层级", "说明")
TIER_ZH = {"village": "村", "township": "乡镇", "county": "县"}


def checkins_export(*, actor: Any, response: Response) -> bytes:
    """An emergency response's grid check-ins (already fetched in the actor's scope): the board
    as a workbook, one row per grid; an audit row."""
    require_actor(actor)
    checks, _totals = board(actor, response)

    def rows() -> Iterable[list[Any]]:
        for r in checks:
            c = r.check
            yield [r.village, c.region.name, c.region.code, c.households, c.reached,
                   "已报到" if c.status == GridCheck.Status.DONE else "未报到", str(c.checked_in_by or ""),
                   _local(c.checked_in_at) if c.checked_in_at else None, TIER_ZH.get(c.tier, c.tier), c.note]

    data, count = write_book([("网格报到", CHECKIN_HEADERS, rows())])
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=response,
                 changes={"what": "emergency_checkins", "rows": count})
    return data
# --- childcare places (托育) -------------------------------------------------------------------

CHILD_HEADERS = ("序号", "幼儿姓名", "出生日期", "月龄", "监护人", "联系电话", "入托日期", "申请时间")
OFFER_HEADERS = ("序号", "幼儿姓名", "出生日期", "月龄", "监护人", "联系电话", "发放名额时间", "申请时间")
WAITING_HEADERS = ("排位", "幼儿姓名", "出生日期", "月龄", "监护人", "联系电话", "期望入托日期", "申请时间")


def childcare_export(*, actor: Any, provider: Any, reveal: bool = False) -> bytes:
    """A centre's register (already fetched in the actor's scope) as a workbook: the enrolled
    children, the open offers and the waiting list in its order. Children's names and birth
    dates are data of minors: in clear only when a reader who may reveal personal data asks
    (`reveal`), otherwise the surname and the birth month; phones likewise (`write_book`
    neutralises every cell). Each export is an audit row."""
    from hemei.services.access import access_applications
    from hemei.services.childcare import months_old
    from hemei.services.models import ChildcareApplication

    require_actor(actor)
    S = ChildcareApplication.Status
    reveal = _asked_to_reveal(actor, reveal)
    today = timezone.localdate()
    rows = (access_applications(actor).filter(provider=provider, status__in=[S.ENROLLED, S.OFFERED, S.APPLIED])
            .order_by("applied_at", "pk"))
    sheets: dict[str, list[list[Any]]] = {S.ENROLLED.value: [], S.OFFERED.value: [], S.APPLIED.value: []}
    for a in rows:
        name = a.child_name if reveal else mask_name(a.child_name)
        born = a.child_birth_date.isoformat() if reveal else f"{a.child_birth_date:%Y-%m}"
        guardian = a.guardian_name if reveal else mask_name(a.guardian_name)
        phone = a.guardian_phone if reveal else mask_phone(a.guardian_phone)
        when: Any = {S.ENROLLED.value: a.enrolled_on, S.APPLIED.value: a.desired_start,
                     S.OFFERED.value: _local(a.offered_at) if a.offered_at else None}[a.status]
        rows_of = sheets[a.status]
        rows_of.append([len(rows_of) + 1, name, born, months_old(a.child_birth_date, today), guardian, phone, when,
                        _local(a.applied_at)])
    data, _count = write_book([("在托幼儿", CHILD_HEADERS, sheets[S.ENROLLED]),
                               ("已发放名额", OFFER_HEADERS, sheets[S.OFFERED]),
                               ("排队名单", WAITING_HEADERS, sheets[S.APPLIED])])
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=provider,
                 changes={"what": "childcare_register", "enrolled": len(sheets[S.ENROLLED]),
                          "offered": len(sheets[S.OFFERED]), "waiting": len(sheets[S.APPLIED]),
                          "names": "clear" if reveal else "masked"})
    return data

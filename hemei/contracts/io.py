"""Contracts in and out of Excel (one village per file).

Import (all or nothing, like the roster and finance imports): columns 合同编号 (optional),
合同类型, 标的, 面积(亩) (optional), 乙方, 乙方类型, 联系电话 (optional), 起始日期, 终止日期,
合同金额. Each row goes through `contract_create` (the same checks as the form: term, money
as two-place decimals — a float cell counts by its shortest decimal form, so 3333.333 or
0.30000000000000004 is refused —, no negative amounts or areas). Imported contracts are drafts:
an old contract found in a drawer still needs its decision record before it counts as signed.
One bad row and nothing is saved; the report lists every problem by row and column.
Export: the same columns plus status, received and review, text cells neutralised.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from openpyxl import Workbook

from hemei.contracts import access
from hemei.contracts.models import Contract, ContractReview, Payment
from hemei.contracts.services import contract_create, parse_area, parse_money
from hemei.core.audit import audit_record
from hemei.core.masking import mask_phone
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import ImportResult, RowError, neutralise, read_sheet
from hemei.core.xlsx import Rollback as _Rollback
from hemei.core.xlsx import cell_code as _text
from hemei.core.xlsx import cell_date as _date
from hemei.regions.models import Region

COL_NUMBER, COL_KIND, COL_SUBJECT, COL_AREA = "合同编号", "合同类型", "标的", "面积(亩)"
COL_PARTY, COL_PARTY_KIND, COL_PHONE = "乙方", "乙方类型", "联系电话"
COL_START, COL_END, COL_AMOUNT = "起始日期", "终止日期", "合同金额"
HEADERS = (COL_NUMBER, COL_KIND, COL_SUBJECT, COL_AREA, COL_PARTY, COL_PARTY_KIND, COL_PHONE, COL_START, COL_END,
           COL_AMOUNT)
REQUIRED = (COL_KIND, COL_SUBJECT, COL_PARTY, COL_PARTY_KIND, COL_START, COL_END, COL_AMOUNT)
KINDS = {"租赁": "lease", "承包": "contracting", "入股": "shares", "合作经营": "cooperation", "合作": "cooperation",
         "其他": "other"}
PARTY_KINDS = {"个人": "person", "自然人": "person", "企业": "company", "公司": "company", "合作社": "cooperative"}
KIND_ZH = {v: k for k, v in KINDS.items() if k != "合作"}
PARTY_ZH = {"person": "个人", "company": "企业", "cooperative": "合作社"}
MAX_ROWS = 5000
CODE_COLUMN = {"kind": COL_KIND, "party": COL_PARTY, "phone": COL_PHONE, "term": COL_END, "subject": COL_SUBJECT,
               "number": COL_NUMBER, "amount": COL_AMOUNT, "float": COL_AMOUNT, "places": COL_AMOUNT,
               "negative": COL_AMOUNT, "area": COL_AREA}


ContractImportResult = ImportResult


def contract_import(*, actor: Any, village: Region, data: bytes) -> ContractImportResult:
    """1. read the sheet; 2. check and create every row inside one transaction; 3. any error →
    roll the whole file back and report every problem."""
    require_actor(actor)
    access.require(actor, village, access.CONTRACT_ROLES, access.no_scope_message())
    result = ContractImportResult()
    sheet = read_sheet(data, required=REQUIRED, headers=HEADERS, max_rows=MAX_ROWS)
    if isinstance(sheet, RowError):
        result.errors.append(sheet)
        return result
    try:
        with transaction.atomic():
            for number, raw in sheet.records():
                result.rows += 1
                if _row(actor, village, number, raw, result.errors):
                    result.created += 1
            if result.errors or not result.rows:
                raise _Rollback
    except _Rollback:
        if not result.rows:
            result.errors.append(RowError(0, "", "", _("The sheet has no rows.")))
        result.created = 0
        return result
    result.ok = True
    return result


def _row(actor: Any, village: Region, number: int, raw: dict[str, Any], errors: list[RowError]) -> bool:
    found: list[RowError] = []
    for h in REQUIRED:
        if not _text(raw[h]):
            found.append(RowError(number, h, "", _("Required.")))
    kind = KINDS.get(_text(raw[COL_KIND]), "")
    if _text(raw[COL_KIND]) and not kind:
        found.append(RowError(number, COL_KIND, _text(raw[COL_KIND])[:30], "、".join(KIND_ZH.values())))
    party_kind = PARTY_KINDS.get(_text(raw[COL_PARTY_KIND]), "")
    if _text(raw[COL_PARTY_KIND]) and not party_kind:
        found.append(RowError(number, COL_PARTY_KIND, _text(raw[COL_PARTY_KIND])[:30], "个人、企业、合作社"))
    start, end = _date(raw[COL_START]), _date(raw[COL_END])
    for h, day in ((COL_START, start), (COL_END, end)):
        if _text(raw[h]) and day is None:
            found.append(RowError(number, h, _text(raw[h])[:30], _("Not a date (YYYY-MM-DD).")))
    amount: Decimal | None = None
    if _text(raw[COL_AMOUNT]):
        try:
            amount = parse_money(raw[COL_AMOUNT], from_cell=True, allow_zero=True)
        except ValidationError as exc:
            found.append(RowError(number, COL_AMOUNT, _text(raw[COL_AMOUNT])[:30], exc.messages[0]))
    area: Decimal | None = None
    if _text(raw.get(COL_AREA)):
        try:
            area = parse_area(raw[COL_AREA], from_cell=True)
        except ValidationError as exc:
            found.append(RowError(number, COL_AREA, _text(raw[COL_AREA])[:30], exc.messages[0]))
    if found or start is None or end is None or amount is None:
        errors.extend(found)
        return False
    try:
        contract_create(
            actor=actor, village=village, kind=kind, subject=_text(raw[COL_SUBJECT]), party_name=_text(raw[COL_PARTY]),
            party_kind=party_kind, party_phone=_text(raw.get(COL_PHONE)), start=start, end=end, amount=amount,
            area_mu=area, number=_text(raw.get(COL_NUMBER)),
        )
    except ValidationError as exc:
        column = CODE_COLUMN.get(str(exc.code or ""), "")
        shown = _text(raw.get(column))[:30] if column else ""
        if column == COL_PHONE:  # the report is shown and kept: never a full phone number
            shown = mask_phone(shown)
        errors.append(RowError(number, column, shown, exc.messages[0]))
        return False
    return True


def contract_export(*, actor: Any, village: Region) -> bytes:
    require_actor(actor)
    access.require(actor, village, access.REVIEW_ROLES, access.no_scope_message())
    qs = Contract.objects.filter(village=village).order_by("number")
    received = dict(
        Payment.objects.filter(due__contract__village=village).values("due__contract")
        .annotate(s=Sum("amount")).values_list("due__contract", "s")
    )
    reviews = dict(ContractReview.objects.filter(contract__village=village).order_by("flagged_on", "id")
                   .values_list("contract", "outcome"))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("合同台账")
    sheet.append([*HEADERS, "状态", "已收金额", "清理"])
    count = 0
    for c in qs.iterator(chunk_size=2000):
        review = reviews.get(c.pk)
        sheet.append([
            neutralise(c.number), KIND_ZH.get(c.kind, c.kind), neutralise(c.subject), c.area_mu,
            neutralise(c.party_name), PARTY_ZH.get(c.party_kind, ""), neutralise(c.phone_masked), c.start, c.end,
            c.amount, str(c.get_status_display()), received.get(c.pk) or Decimal("0.00"),
            str(ContractReview.Outcome(review).label) if review else "",
        ])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=village, county_code=village.code[:6],
                 object_repr=f"{village.name} ({village.code})", changes={"what": "contracts", "rows": count})
    return buffer.getvalue()

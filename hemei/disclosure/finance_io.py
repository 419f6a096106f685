"""Finance entries in and out of Excel.

Import (all or nothing, like the roster): columns 日期, 科目编码, 收支 (收入/支出), 金额, 凭证号,
往来单位 (optional), 摘要 (optional), any order, one village per upload. Every row is checked
first with the same rules as `finance_entry_create` (amount with at most two places — a
float cell counts by its shortest decimal form —, subject, direction, sign, voucher unique in
the village and year and within the file, month not yet published); one bad row and nothing
is saved, with a row-by-row report. Export: the same columns, Chinese headers, text cells
neutralised against formula injection, one "export" audit row.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.core.audit import audit_record, audit_record_many
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor, user_of
from hemei.core.xlsx import ImportResult, RowError, neutralise, read_sheet
from hemei.core.xlsx import cell_code as _code
from hemei.core.xlsx import cell_date as _date
from hemei.core.xlsx import cell_text as _text
from hemei.disclosure import access
from hemei.disclosure.finance import SUBJECTS, check_entry, parse_amount, subject_zh
from hemei.disclosure.models import Disclosure, DisclosureVersion, FinanceEntry, Kind
from hemei.regions.models import Region

COL_DATE, COL_SUBJECT, COL_DIRECTION, COL_AMOUNT = "日期", "科目编码", "收支", "金额"
COL_VOUCHER, COL_COUNTERPARTY, COL_SUMMARY = "凭证号", "往来单位", "摘要"
HEADERS = (COL_DATE, COL_SUBJECT, COL_DIRECTION, COL_AMOUNT, COL_VOUCHER, COL_COUNTERPARTY, COL_SUMMARY)
REQUIRED = (COL_DATE, COL_SUBJECT, COL_DIRECTION, COL_AMOUNT, COL_VOUCHER)
DIRECTIONS = {
    "收入": FinanceEntry.Direction.INCOME,
    "支出": FinanceEntry.Direction.EXPENSE,
    "income": FinanceEntry.Direction.INCOME,
    "expense": FinanceEntry.Direction.EXPENSE,
}
MAX_ROWS = 10_000


FinanceImportResult = ImportResult


def _published_months(village: Region) -> list[tuple[dt.date, dt.date]]:
    return list(
        Disclosure.objects.filter(
            village=village, kind=Kind.FINANCE, versions__status=DisclosureVersion.Status.PUBLISHED
        )
        .values_list("period_start", "period_end")
        .distinct()
    )


_Good = tuple[dt.date, str, str, Decimal, str]  # date, subject, direction, amount, voucher


def _check_row(
    number: int, raw: dict[str, Any], *, taken: set[tuple[int, str]], closed: list[tuple[dt.date, dt.date]]
) -> tuple[list[RowError], _Good | None]:
    """One row's problems, and its values when it has none: required cells, the date, the
    direction, the amount and its subject, the voucher (unused in its year) and the month
    (not yet published)."""
    errors = [RowError(number, h, "", _("Required.")) for h in REQUIRED if not _text(raw[h])]
    day = _date(raw[COL_DATE]) if _text(raw[COL_DATE]) else None
    if _text(raw[COL_DATE]) and day is None:
        errors.append(RowError(number, COL_DATE, _text(raw[COL_DATE])[:30], _("Not a date (YYYY-MM-DD).")))
    subject = _code(raw[COL_SUBJECT])
    direction = DIRECTIONS.get(_text(raw[COL_DIRECTION]), "")
    if _text(raw[COL_DIRECTION]) and not direction:
        errors.append(RowError(number, COL_DIRECTION, _text(raw[COL_DIRECTION])[:30], _("收入 or 支出.")))
    amount = _check_amount(number, raw, subject, direction, errors)
    voucher = _code(raw[COL_VOUCHER])
    if len(voucher) > 30:
        errors.append(RowError(number, COL_VOUCHER, voucher[:30], _("Too long.")))
    elif day and voucher and (day.year, voucher) in taken:
        errors.append(RowError(number, COL_VOUCHER, voucher,
                               _("Voucher %(v)s is already used in %(y)d.") % {"v": voucher, "y": day.year}))
    if day and any(start <= day <= end for start, end in closed):
        errors.append(
            RowError(number, COL_DATE, day.isoformat(), _("The statement for this month is already published."))
        )
    if errors or day is None or amount is None:
        return errors, None
    return errors, (day, subject, direction, amount, voucher)


def _check_amount(
    number: int, raw: dict[str, Any], subject: str, direction: str, errors: list[RowError]
) -> Decimal | None:
    """The amount cell, and whether subject, direction and amount fit (`check_entry`)."""
    if not _text(raw[COL_AMOUNT]):
        return None
    try:
        amount = parse_amount(raw[COL_AMOUNT], from_cell=True)
    except ValidationError as exc:
        errors.append(RowError(number, COL_AMOUNT, _text(raw[COL_AMOUNT])[:30], exc.messages[0]))
        return None
    if subject and direction:
        try:
            check_entry(subject=subject, direction=direction, amount=amount)
        except ValidationError as exc:
            column = COL_SUBJECT if exc.code in ("subject", "direction") else COL_AMOUNT
            errors.append(
                RowError(number, column, subject if column == COL_SUBJECT else str(amount), exc.messages[0])
            )
    return amount


def finance_import(*, actor: Any, village: Region, data: bytes) -> FinanceImportResult:
    """1. read and check every row; 2. any error → report all, save nothing; 3. else create all
    in one transaction with one audit row per entry."""
    require_actor(actor)
    access.require_role(actor, village, access.FINANCE_ROLES)
    result = FinanceImportResult()
    sheet = read_sheet(data, required=REQUIRED, headers=HEADERS, max_rows=MAX_ROWS)
    if isinstance(sheet, RowError):
        result.errors.append(sheet)
        return result
    taken = set(FinanceEntry.objects.filter(village=village).values_list("year", "voucher"))
    closed = _published_months(village)
    good: list[FinanceEntry] = []
    county = village.county_ancestor()
    for number, raw in sheet.records():
        result.rows += 1
        errors, row = _check_row(number, raw, taken=taken, closed=closed)
        if errors or row is None or county is None:
            result.errors.extend(errors)
            continue
        day, subject, direction, amount, voucher = row
        taken.add((day.year, voucher))
        good.append(
            FinanceEntry(
                county=county,
                village=village,
                date=day,
                year=day.year,
                subject=subject,
                direction=direction,
                amount=amount,
                voucher=voucher,
                counterparty=_text(raw.get(COL_COUNTERPARTY))[:100],
                summary=_text(raw.get(COL_SUMMARY))[:200],
                created_by=user_of(actor),
            )
        )
    if not result.rows and not result.errors:
        result.errors.append(RowError(0, "", "", _("The sheet has no rows.")))
    if result.errors:
        return result
    with transaction.atomic():
        created = FinanceEntry.objects.bulk_create(good, batch_size=1000)
        audit_record_many(
            actor=actor,
            action="create",
            object_type="disclosure.financeentry",
            county_code=village.code[:6],
            items=[(str(e.pk or ""), str(e), {"voucher": e.voucher, "amount": e.amount}) for e in created],
            note="finance import",
        )
    result.ok = True
    result.created = len(created)
    return result


def finance_export(*, actor: Any, village: Region, year: int | None = None) -> bytes:
    require_actor(actor)
    access.require_role(actor, village, access.FINANCE_ROLES | access.AUTHOR_ROLES | access.PUBLISH_ROLES)
    qs = FinanceEntry.objects.filter(village=village).order_by("date", "id")
    if year:
        qs = qs.filter(year=year)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("财务收支明细")
    for i, width in enumerate((12, 10, 8, 14, 12, 24, 40, 20), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append([*HEADERS, "科目名称"])
    count = 0
    for e in qs.iterator(chunk_size=2000):
        sheet.append(
            [
                e.date,
                neutralise(e.subject),
                "收入" if e.direction == FinanceEntry.Direction.INCOME else "支出",
                e.amount,
                neutralise(e.voucher),
                neutralise(e.counterparty),
                neutralise(e.summary),
                neutralise(subject_zh(e.subject)),
            ]
        )
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        obj=village,
        county_code=village.code[:6],
        object_repr=f"{village.name} ({village.code})",
        changes={"what": "finance entries", "rows": count, "year": year or ""},
    )
    return buffer.getvalue()


def template_rows() -> list[list[str]]:
    """The subject list for the import page."""
    return [
        [code, str(s.name), "收入" if s.side == FinanceEntry.Direction.INCOME else "支出"]
        for code, s in SUBJECTS.items()
    ]

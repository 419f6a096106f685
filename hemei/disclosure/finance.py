"""Village collective finances: entries, the monthly statement, collective income by year.

Money is `Decimal` with two places everywhere. A float is refused by the service (binary
fractions are not money: 0.1 + 0.2 != 0.3); a spreadsheet cell, which Excel stores as a
float, is accepted only if its shortest decimal form has at most two places (`parse_amount`
with `from_cell=True`) — so 1234.5 is 1234.50, while 0.30000000000000004 is refused.

Subjects: a small standard list after the 村集体经济组织会计制度 income and expense accounts.
Each subject is income or expense; an entry's direction must match. Amounts are positive,
except for subjects that can lose (投资收益: an investment loss is a negative gain).

Statement of a month: opening balance = all income − all expense before the month; totals by
subject within the month; closing = opening + income − expense.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hemei.core.audit import audit_record
from hemei.core.scope import require_actor, user_of
from hemei.disclosure import access
from hemei.disclosure.models import AnnualIncome, Disclosure, DisclosureVersion, FinanceEntry, Kind
from hemei.regions.models import Level, Region

INCOME = FinanceEntry.Direction.INCOME
EXPENSE = FinanceEntry.Direction.EXPENSE
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True)
class Subject:
    code: str
    name: Promise
    side: str
    zh: str  # the official name: statements and exports are Chinese whatever the page language
    may_be_negative: bool = False


SUBJECTS: dict[str, Subject] = {
    s.code: s
    for s in (
        Subject("501", gettext_lazy("operating income"), INCOME, "经营收入"),
        Subject("502", gettext_lazy("contracting and remitted income"), INCOME, "发包及上交收入"),
        Subject("503", gettext_lazy("investment income"), INCOME, "投资收益", may_be_negative=True),
        Subject("504", gettext_lazy("subsidy income"), INCOME, "补助收入"),
        Subject("505", gettext_lazy("other income"), INCOME, "其他收入"),
        Subject("511", gettext_lazy("operating expenses"), EXPENSE, "经营支出"),
        Subject("512", gettext_lazy("administrative expenses"), EXPENSE, "管理费用"),
        Subject("513", gettext_lazy("public welfare expenses"), EXPENSE, "公益支出"),
        Subject("514", gettext_lazy("other expenses"), EXPENSE, "其他支出"),
    )
}


def subject_zh(code: str) -> str:
    subject = SUBJECTS.get(code)
    return subject.zh if subject else code


def subject_name(code: str) -> str:
    subject = SUBJECTS.get(code)
    return str(subject.name) if subject else code


def parse_amount(value: Any, *, from_cell: bool = False) -> Decimal:
    """An amount of money as Decimal with two places, or a ValidationError (see the module)."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(_("An amount is required."), code="amount")
    if isinstance(value, float):
        if not from_cell:
            raise ValidationError(_("Amounts must be decimals, not floating-point numbers."), code="float")
        value = repr(value)  # the shortest decimal that reads back as this float
    if isinstance(value, str):
        value = value.strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(value)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ValidationError(_("%(v)s is not an amount.") % {"v": str(value)[:30]}, code="amount") from None
    if not amount.is_finite():
        raise ValidationError(_("%(v)s is not an amount.") % {"v": str(value)[:30]}, code="amount")
    # Size before places: quantize() of 1e99999 raises InvalidOperation (a 500, not a message).
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(_("The amount is too large."), code="amount")
    if amount != amount.quantize(CENT, rounding=decimal.ROUND_DOWN):
        raise ValidationError(_("An amount has at most two decimal places."), code="places")
    return amount.quantize(CENT)


def check_entry(*, subject: str, direction: str, amount: Decimal) -> None:
    spec = SUBJECTS.get(subject)
    if spec is None:
        raise ValidationError(_("Unknown accounting subject %(code)s.") % {"code": subject}, code="subject")
    if direction != spec.side:
        raise ValidationError(
            _("Subject %(code)s is %(side)s, not %(direction)s.")
            % {
                "code": subject,
                "side": FinanceEntry.Direction(spec.side).label,
                "direction": FinanceEntry.Direction(direction).label
                if direction in FinanceEntry.Direction.values
                else direction,
            },
            code="direction",
        )
    if amount == 0:
        raise ValidationError(_("An amount of zero is not an entry."), code="zero")
    if amount < 0 and not spec.may_be_negative:
        raise ValidationError(
            _("Subject %(code)s does not allow a negative amount.") % {"code": subject}, code="negative"
        )


def month_published(village: Region, day: dt.date) -> bool:
    """Whether the finance statement covering `day` is already public: its entries are fixed."""
    return DisclosureVersion.objects.filter(
        village=village,
        status=DisclosureVersion.Status.PUBLISHED,
        disclosure__kind=Kind.FINANCE,
        disclosure__period_start__lte=day,
        disclosure__period_end__gte=day,
    ).exists()


@transaction.atomic
def finance_entry_create(
    *,
    actor: Any,
    village: Region,
    date: dt.date,
    subject: str,
    direction: str,
    amount: Decimal,
    voucher: str,
    counterparty: str = "",
    summary: str = "",
    attachment: Any = None,
) -> FinanceEntry:
    require_actor(actor)
    if village.level != Level.VILLAGE:
        raise ValidationError(_("Finance entries belong to a village."))
    access.require_role(actor, village, access.FINANCE_ROLES)
    if not isinstance(amount, (Decimal, int)) or isinstance(amount, bool):
        raise ValidationError(_("Amounts must be decimals, not floating-point numbers."), code="float")
    amount = parse_amount(amount)
    check_entry(subject=subject, direction=direction, amount=amount)
    voucher = (voucher or "").strip()
    if not voucher or len(voucher) > 30:
        raise ValidationError(_("A voucher number of at most 30 characters is required."), code="voucher")
    if FinanceEntry.objects.filter(village=village, year=date.year, voucher=voucher).exists():
        raise ValidationError(
            _("Voucher %(v)s is already used in %(y)d.") % {"v": voucher, "y": date.year}, code="voucher_taken"
        )
    if month_published(village, date):
        raise ValidationError(
            _("The statement for this month is already published; enter the item in the current month."), code="closed"
        )
    county = village.county_ancestor()
    if county is None:
        raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": village})
    try:
        with transaction.atomic():
            entry = FinanceEntry.objects.create(
                county=county,
                village=village,
                date=date,
                year=date.year,
                subject=subject,
                direction=direction,
                amount=amount,
                voucher=voucher,
                counterparty=(counterparty or "").strip()[:100],
                summary=(summary or "").strip()[:200],
                created_by=user_of(actor),
            )
    except IntegrityError:
        raise ValidationError(
            _("Voucher %(v)s is already used in %(y)d.") % {"v": voucher, "y": date.year}, code="voucher_taken"
        ) from None
    if attachment is not None:
        from hemei.disclosure.attachments import as_django_file, clean_attachment

        clean = clean_attachment(attachment)
        entry.attachment.save(clean.name, as_django_file(clean), save=False)
        FinanceEntry.objects.filter(pk=entry.pk).update(attachment=entry.attachment.name)
    audit_record(
        actor=actor,
        action="create",
        obj=entry,
        county_code=county.code,
        changes={"date": date, "subject": subject, "direction": direction, "amount": amount, "voucher": voucher},
    )
    return entry


# --- the monthly statement ------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    code: str
    name: str
    direction: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class Statement:
    village: Region
    year: int
    month: int
    opening: Decimal
    income: Decimal
    expense: Decimal
    lines: list[StatementLine]

    @property
    def closing(self) -> Decimal:
        return self.opening + self.income - self.expense

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return next_month(self.start) - dt.timedelta(days=1)

    def as_data(self) -> dict[str, Any]:
        """The figures stored on the disclosure version (and hashed with it)."""
        return {
            "statement": f"{self.year:04d}-{self.month:02d}",
            "opening": str(self.opening),
            "income": str(self.income),
            "expense": str(self.expense),
            "closing": str(self.closing),
            "lines": [
                {"code": line.code, "direction": line.direction, "amount": str(line.amount), "count": line.count}
                for line in self.lines
            ],
        }

    def as_text(self) -> str:
        """The statement as the text of the disclosure (Chinese: it goes on the notice board)."""
        rows = [
            f"{self.village.name} {self.year}年{self.month}月 财务收支公开",
            "",
            f"期初余额：{self.opening:,.2f} 元",
        ]
        rows.append("本月收入：")
        rows += [
            f"  {line.code} {line.name}：{line.amount:,.2f} 元（{line.count} 笔）"
            for line in self.lines
            if line.direction == INCOME
        ]
        rows.append(f"  收入合计：{self.income:,.2f} 元")
        rows.append("本月支出：")
        rows += [
            f"  {line.code} {line.name}：{line.amount:,.2f} 元（{line.count} 笔）"
            for line in self.lines
            if line.direction == EXPENSE
        ]
        rows.append(f"  支出合计：{self.expense:,.2f} 元")
        rows.append(f"期末余额：{self.closing:,.2f} 元")
        return "\n".join(rows)


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def statement_for(village: Region, year: int, month: int) -> Statement:
    """Two grouped queries, whatever the number of entries."""
    start = dt.date(year, month, 1)
    end = next_month(start)
    before = FinanceEntry.objects.filter(village=village, date__lt=start).aggregate(
        income=Sum("amount", filter=Q(direction=INCOME)), expense=Sum("amount", filter=Q(direction=EXPENSE))
    )
    opening = (before["income"] or Decimal(0)) - (before["expense"] or Decimal(0))
    rows = (
        FinanceEntry.objects.filter(village=village, date__gte=start, date__lt=end)
        .values("subject", "direction")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by("subject")
    )
    lines = [
        StatementLine(
            r["subject"], subject_zh(r["subject"]), r["direction"], Decimal(r["total"]).quantize(CENT), r["n"]
        )
        for r in rows
    ]
    income = sum((line.amount for line in lines if line.direction == INCOME), Decimal(0))
    expense = sum((line.amount for line in lines if line.direction == EXPENSE), Decimal(0))
    return Statement(
        village, year, month, Decimal(opening).quantize(CENT), income.quantize(CENT), expense.quantize(CENT), lines
    )


def statement_disclosure(village: Region, year: int, month: int) -> Disclosure | None:
    start = dt.date(year, month, 1)
    return Disclosure.objects.filter(
        village=village, kind=Kind.FINANCE, period_start=start, period_end=next_month(start) - dt.timedelta(days=1)
    ).first()


@transaction.atomic
def statement_draft(
    *, actor: Any, village: Region, year: int, month: int, now: dt.datetime | None = None
) -> DisclosureVersion:
    """The month's statement as a draft 财务 disclosure; it then goes through review like any
    other. If the month already has one, a new draft or correction is refused here: edit the
    open version or start a correction of the published one."""
    require_actor(actor)
    from hemei.disclosure.services import disclosure_create

    access.require_role(actor, village, access.FINANCE_ROLES)
    if statement_disclosure(village, year, month) is not None:
        raise ValidationError(_("This month's statement already exists; open it to edit or correct it."), code="exists")
    statement = statement_for(village, year, month)
    return disclosure_create(
        actor=actor,
        village=village,
        kind=Kind.FINANCE,
        title=f"{year}年{month}月财务收支公开",
        body=statement.as_text(),
        period_start=statement.start,
        period_end=statement.end,
        data=statement.as_data(),
        now=now,
    )


# --- collective income by year --------------------------------------------------------------


def income_by_year(village: Region) -> list[dict[str, Any]]:
    """Chart rows {name: year, value: 万元}: an audited annual figure where recorded, else the
    sum of the year's income entries. One query each."""
    recorded = dict(AnnualIncome.objects.filter(village=village).values_list("year", "amount"))
    summed = dict(
        FinanceEntry.objects.filter(village=village, direction=INCOME)
        .annotate(y=ExtractYear("date"))
        .values("y")
        .annotate(total=Sum("amount"))
        .values_list("y", "total")
    )
    years = sorted(set(recorded) | set(summed))
    return [
        {"name": str(y), "value": float(round(Decimal(recorded.get(y, summed.get(y)) or 0) / 10000, 1))} for y in years
    ]


@transaction.atomic
def annual_income_set(*, actor: Any, village: Region, year: int, amount: Decimal, source: str = "") -> AnnualIncome:
    require_actor(actor)
    access.require_role(actor, village, access.FINANCE_ROLES)
    if isinstance(amount, float):
        raise ValidationError(_("Amounts must be decimals, not floating-point numbers."), code="float")
    amount = parse_amount(amount)
    if amount < 0:
        raise ValidationError(_("Annual income cannot be negative."), code="negative")
    row, created = AnnualIncome.objects.update_or_create(
        village=village, year=year, defaults={"amount": amount, "source": source[:200]}
    )
    audit_record(
        actor=actor,
        action="create" if created else "update",
        obj=row,
        county_code=village.code[:6],
        changes={"year": year, "amount": amount},
    )
    return row


def today() -> dt.date:
    return timezone.localdate()

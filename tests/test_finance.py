"""Village finances: money as Decimal (floats refused), subjects and signs, vouchers, the monthly
statement and its way through review to the board, Excel import (all or nothing) and export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from openpyxl import Workbook, load_workbook

from hemei.disclosure import finance, finance_io, services
from hemei.disclosure.models import AnnualIncome, DisclosureVersion, FinanceEntry, Kind
from hemei.regions.models import Role
from tests.conftest import World, make_user

D = Decimal
THOUSAND = Decimal("1000.00")


@pytest.fixture
def accountant(world: World) -> Any:
    return make_user("accountant", region=world.village, role=Role.ACCOUNTANT)


def entry(
    world: World,
    actor: Any,
    *,
    day: dt.date = dt.date(2026, 9, 5),
    subject: str = "501",
    direction: str = "income",
    amount: Any = THOUSAND,
    voucher: str = "记-001",
    **kw: Any,
) -> FinanceEntry:
    return finance.finance_entry_create(
        actor=actor,
        village=world.village,
        date=day,
        subject=subject,
        direction=direction,
        amount=amount,
        voucher=voucher,
        **kw,
    )


def test_it_refuses_floats_for_money(world: World, accountant: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        entry(world, accountant, amount=1000.5)
    assert exc.value.code == "float"
    with pytest.raises(ValidationError):
        finance.annual_income_set(actor=accountant, village=world.village, year=2020, amount=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        finance.parse_amount(0.1 + 0.2)
    with pytest.raises(ValidationError):  # a spreadsheet float counts by its shortest decimal form
        finance.parse_amount(0.1 + 0.2, from_cell=True)
    assert finance.parse_amount(1234.5, from_cell=True) == D("1234.50")
    for huge in ("1e99999", "-1e99999", "1E+30"):  # refused as too large, not a crash in quantize()
        with pytest.raises(ValidationError) as exc:
            finance.parse_amount(huge)
        assert exc.value.code == "amount"
    assert not FinanceEntry.objects.exists() and not AnnualIncome.objects.exists()


def test_it_refuses_negative_amounts_except_where_the_subject_allows(world: World, accountant: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        entry(world, accountant, amount=D("-5.00"))
    assert exc.value.code == "negative"
    with pytest.raises(ValidationError) as exc:
        entry(world, accountant, subject="511", direction="expense", amount=D("-5"), voucher="记-002")
    assert exc.value.code == "negative"
    with pytest.raises(ValidationError) as exc:
        entry(world, accountant, amount=D("0"))
    assert exc.value.code == "zero"
    assert FinanceEntry.objects.count() == 0
    loss = entry(world, accountant, subject="503", amount=D("-1200.50"), voucher="记-003")  # an investment loss
    assert loss.amount == D("-1200.50")


def test_it_checks_subject_direction_places_and_vouchers(world: World, accountant: Any) -> None:
    for kw, code in (
        ({"subject": "999"}, "subject"),
        ({"direction": "expense"}, "direction"),
        ({"amount": D("1.005")}, "places"),
    ):
        with pytest.raises(ValidationError) as exc:
            entry(world, accountant, **kw)
        assert exc.value.code == code
    entry(world, accountant)
    with pytest.raises(ValidationError) as exc:
        entry(world, accountant, amount=D("5"))
    assert exc.value.code == "voucher_taken"
    entry(world, accountant, day=dt.date(2027, 1, 3))  # numbers restart each year
    assert FinanceEntry.objects.count() == 2


def test_only_finance_roles_in_scope_enter_money(world: World, accountant: Any) -> None:
    with pytest.raises(Http404):
        entry(world, world.user("grid_b"))
    with pytest.raises(Http404):
        entry(world, world.user("outsider"))
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        entry(world, world.user("township"))
    assert not FinanceEntry.objects.exists()


def _month(world: World, accountant: Any) -> None:
    entry(world, accountant, day=dt.date(2026, 8, 20), amount=D("5000.00"), voucher="记-0801")
    entry(
        world,
        accountant,
        day=dt.date(2026, 8, 25),
        subject="512",
        direction="expense",
        amount=D("800.00"),
        voucher="记-0802",
    )
    entry(
        world,
        accountant,
        day=dt.date(2026, 9, 1),
        subject="502",
        amount=D("120000.00"),
        voucher="记-0901",
        counterparty="晋源果蔬合作社",
    )
    entry(world, accountant, day=dt.date(2026, 9, 10), subject="502", amount=D("30000.50"), voucher="记-0902")
    entry(
        world,
        accountant,
        day=dt.date(2026, 9, 15),
        subject="513",
        direction="expense",
        amount=D("45000.25"),
        voucher="记-0903",
    )
    entry(world, accountant, day=dt.date(2026, 9, 30), subject="503", amount=D("-100.00"), voucher="记-0904")
    entry(world, accountant, day=dt.date(2026, 10, 1), amount=D("999.00"), voucher="记-1001")


def test_the_monthly_statement_totals_subjects_and_balances(
    world: World, accountant: Any, django_assert_max_num_queries: Any
) -> None:
    _month(world, accountant)
    with django_assert_max_num_queries(2):
        s = finance.statement_for(world.village, 2026, 9)
    assert s.opening == D("4200.00")  # August: 5000 − 800
    assert {(line.code, line.amount, line.count) for line in s.lines} == {
        ("502", D("150000.50"), 2),
        ("503", D("-100.00"), 1),
        ("513", D("45000.25"), 1),
    }
    assert s.income == D("149900.50") and s.expense == D("45000.25")
    assert s.closing == D("109100.25")
    assert finance.statement_for(world.village, 2026, 10).opening == s.closing
    assert "期末余额：109,100.25 元" in s.as_text()
    # The text is hashed when published: official Chinese subject names, whatever the page language.
    from django.utils import translation

    with translation.override("en"):
        assert "502 发包及上交收入：150,000.50 元（2 笔）" in s.as_text()


def test_a_statement_goes_through_review_to_the_board_and_closes_its_month(
    world: World, accountant: Any, client: Any
) -> None:
    _month(world, accountant)
    supervisor = make_user("supervisor", region=world.village, role=Role.SUPERVISION)
    version = finance.statement_draft(actor=accountant, village=world.village, year=2026, month=9)
    assert version.disclosure.kind == Kind.FINANCE and version.data["closing"] == "109100.25"
    with pytest.raises(ValidationError):
        finance.statement_draft(actor=accountant, village=world.village, year=2026, month=9)
    services.version_submit(actor=accountant, version=version)
    services.version_review(actor=supervisor, version=version, approve=True)
    services.version_publish(actor=world.user("secretary"), version=version)
    html = client.get(f"/v/{world.village.code}/finance/").content.decode()
    assert "2026年9月财务收支公开" in html and "109,100.25" in html
    before = FinanceEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        entry(world, accountant, day=dt.date(2026, 9, 29), voucher="记-0999")
    assert exc.value.code == "closed"
    assert FinanceEntry.objects.count() == before
    assert DisclosureVersion.objects.get().status == DisclosureVersion.Status.PUBLISHED


def test_the_statement_page_makes_a_draft(world: World, accountant: Any, client: Any) -> None:
    _month(world, accountant)
    client.force_login(accountant)
    page = client.get(f"/w/finance/statement/?village={world.village.code}&month=2026-09")
    assert page.status_code == 200 and "109100.25" in page.content.decode()
    response = client.post("/w/finance/statement/", {"village": world.village.code, "month": "2026-09"})
    assert response.status_code == 302 and DisclosureVersion.objects.count() == 1


def test_income_by_year_prefers_the_audited_figure(world: World, accountant: Any) -> None:
    finance.annual_income_set(actor=accountant, village=world.village, year=2019, amount=D("237000"))
    entry(world, accountant, day=dt.date(2019, 5, 1), amount=D("1.00"), voucher="x")
    entry(world, accountant, day=dt.date(2026, 5, 1), amount=D("1949000.00"), voucher="y")
    assert finance.income_by_year(world.village) == [{"name": "2019", "value": 23.7}, {"name": "2026", "value": 194.9}]


# --- Excel -------------------------------------------------------------------------------------


def _xlsx(rows: list[list[Any]], header: tuple[str, ...] = finance_io.HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(header))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD = [
    [dt.date(2026, 9, 1), "502", "收入", 120000, "记-1", "合作社", "土地承包费"],
    [dt.date(2026, 9, 2), 512, "支出", 1234.5, "记-2", "", "办公用品"],  # a float cell with one place
    ["2026-09-03", "503", "收入", "-50.00", "记-3", "", "投资损失"],
]


def test_import_is_all_or_nothing_with_a_row_report(world: World, accountant: Any) -> None:
    bad = [
        *GOOD,
        [dt.date(2026, 9, 4), "501", "收入", 12.345, "记-4", "", ""],  # a float cell with three places
        [dt.date(2026, 9, 5), "511", "支出", "-3", "记-5", "", ""],  # negative not allowed
        [dt.date(2026, 9, 6), "501", "支出", "3", "记-6", "", ""],  # wrong direction
        ["昨天", "501", "收入", "3", "记-1", "", ""],  # bad date
        [dt.date(2026, 9, 7), "501", "收入", "3", "记-1", "", ""],
    ]  # voucher twice in the file
    result = finance_io.finance_import(actor=accountant, village=world.village, data=_xlsx(bad))
    assert not result.ok and FinanceEntry.objects.count() == 0
    assert sorted({e.row for e in result.errors}) == [5, 6, 7, 8, 9]
    assert {e.column for e in result.errors} >= {"金额", "科目编码", "日期", "凭证号"}
    good = finance_io.finance_import(actor=accountant, village=world.village, data=_xlsx(GOOD))
    assert good.ok and good.created == 3
    assert sorted(FinanceEntry.objects.values_list("amount", flat=True)) == [D("-50.00"), D("1234.50"), D("120000.00")]
    again = finance_io.finance_import(actor=accountant, village=world.village, data=_xlsx(GOOD[:1]))
    assert not again.ok and again.errors[0].column == "凭证号" and again.errors[0].row == 2
    assert FinanceEntry.objects.count() == 3


def test_import_refuses_a_missing_column_or_a_broken_file(world: World, accountant: Any) -> None:
    result = finance_io.finance_import(actor=accountant, village=world.village, data=_xlsx([], header=("日期", "金额")))
    assert not result.ok and "科目编码" in result.errors[0].column
    assert not finance_io.finance_import(actor=accountant, village=world.village, data=b"not a workbook").ok
    assert FinanceEntry.objects.count() == 0


def test_import_page_and_export_are_neutralised(world: World, accountant: Any, client: Any) -> None:
    client.force_login(accountant)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("f.xlsx", _xlsx(GOOD[:1]))
    response = client.post(
        f"/w/finance/import/?village={world.village.code}", {"file": upload, "village": world.village.code}
    )
    assert response.status_code == 200 and FinanceEntry.objects.count() == 1
    entry(world, accountant, voucher="=1+1", counterparty='=HYPERLINK("http://x")', summary="@SUM(A1)")
    export = client.get(f"/w/finance/export.xlsx?village={world.village.code}")
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    values = [c.value for c in sheet[3]]
    assert values[4] == "'=1+1" and str(values[5]).startswith("'=") and values[6] == "'@SUM(A1)"
    assert sheet[1][0].value == "日期" and sheet.max_row == 3


def test_finance_pages_are_scoped(
    world: World, accountant: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        entry(world, accountant, voucher=f"记-{i:03d}", day=dt.date(2026, 9, 1) + dt.timedelta(days=i % 28))
    for who in (world.user("grid_b"), world.user("outsider")):
        client.force_login(who)
        assert client.get(f"/w/finance/?village={world.village.code}").status_code == 404
        assert client.get(f"/w/finance/export.xlsx?village={world.village.code}").status_code == 404
    secretary2 = make_user("secretary2", region=world.village2, role=Role.SECRETARY)
    client.force_login(secretary2)
    assert client.get(f"/w/finance/?village={world.village.code}").status_code == 404
    client.force_login(accountant)
    with django_assert_max_num_queries(20):
        response = client.get(f"/w/finance/?village={world.village.code}")
    assert response.status_code == 200 and "记-029" in response.content.decode()
    post = client.post(
        "/w/finance/",
        {
            "village": world.village.code,
            "date": "2026-10-02",
            "subject": "501",
            "direction": "income",
            "amount": "12.345",
            "voucher": "记-900",
        },
    )
    assert post.status_code == 200 and 'class="errorlist"' in post.content.decode()
    assert FinanceEntry.objects.count() == 30


def test_finance_form_drops_malformed_fields_without_a_500(world: World, accountant: Any, client: Any) -> None:
    client.force_login(accountant)
    sent = {"village": world.village.code, "date": "2026-10-02", "subject": "501", "direction": "income",
            "amount": "12.00", "voucher": "记-901"}
    for bad in ({"voucher": "记-901\x00"}, {"date": "2026-13-45"}, {"date": "2026-10-02\x00"},
                {"date": "20261002"}, {"amount": "1e999999"}, {"amount": ""}):
        response = client.post("/w/finance/", {**sent, **bad})
        assert response.status_code == 200 and 'class="errorlist"' in response.content.decode(), bad
    assert not FinanceEntry.objects.exists()
    response = client.post("/w/finance/", {**sent, "summary": "x"})
    assert response.status_code == 302 and response["Location"].endswith(f"?village={world.village.code}")
    assert FinanceEntry.objects.get().voucher == "记-901"
    # The statement's month from the query string, else the form; a bad one is last month.
    assert client.get(f"/w/finance/statement/?village={world.village.code}&month=2026-10").context["month"] == "2026-10"
    last = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert client.get(f"/w/finance/statement/?village={world.village.code}&month={'9' * 40}").context["month"] == last

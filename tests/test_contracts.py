"""Contracts: the decision record before signing, payments, reminders, expiry, the board."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from openpyxl import Workbook, load_workbook

from hemei.assets.models import Asset
from hemei.contracts import io as contracts_io
from hemei.contracts import services
from hemei.contracts.models import Contract, ContractEvent, ContractReview, Payment, PaymentDue
from hemei.contracts.sweep import sweep_contracts
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.meetings.models import Meeting
from hemei.meetings.services import agenda_item_decide, meeting_record
from hemei.notify.models import Notification
from hemei.regions.models import Role
from tests.conftest import World, at, make_user

D = dt.date
S = Contract.Status


def idle_asset(world: World, code: str = "XS-IDLE-02", village: Any = None) -> Asset:
    village = village or world.village
    return Asset.objects.create(
        county=world.county, village=village, code=code, name="旧村委会大院", category=Asset.Category.OPERATING,
        area=Decimal("600"), status=Asset.Status.IDLE,
    )


def draft(world: World, *, asset: Asset | None = None, **kw: Any) -> Contract:
    args: dict[str, Any] = dict(
        actor=world.user("secretary"), village=world.village, kind="lease", subject="旧村委会大院",
        party_name="王小明", party_kind="person", party_phone="13912345678", start=D(2026, 1, 1),
        end=D(2030, 12, 31), amount=Decimal("50000.00"),
        schedule=[(D(2026, 1, 1), Decimal("10000")), (D(2026, 11, 5), Decimal("10000")),
                  (D(2027, 11, 5), Decimal("30000"))],
        asset=asset,
    )
    args.update(kw)
    return services.contract_create(**args)


def decide(world: World, contract: Contract, *, when: dt.datetime | None = None) -> Contract:
    """两委 → 村民代表会议 (votes through the meetings services) → township approval."""
    when = when or at(2025, 12, 10)
    services.contract_discuss(actor=world.user("secretary"), contract=contract, on=when.date(),
                              summary="两委会议研究同意出租", at=when)
    meeting = meeting_record(actor=world.user("secretary"), region=world.village, kind=Meeting.Kind.REPRESENTATIVES,
                             held_at=when + dt.timedelta(days=2), attendees=30, eligible=40,
                             at=when + dt.timedelta(days=2, hours=2))
    item = services.contract_table(actor=world.user("secretary"), contract=contract, meeting=meeting,
                                   at=when + dt.timedelta(days=1))
    agenda_item_decide(actor=world.user("secretary"), item=item, votes_for=26, votes_against=2, votes_abstain=2,
                       decision="同意出租", at=when + dt.timedelta(days=2, hours=2))
    contract.refresh_from_db()
    services.contract_township_review(actor=world.user("township"), contract=contract, approve=True,
                                      at=when + dt.timedelta(days=5))
    contract.refresh_from_db()
    return contract


def test_full_decision_then_sign_leases_the_asset(world: World) -> None:
    asset = idle_asset(world)
    contract = decide(world, draft(world, asset=asset))
    assert contract.status == S.APPROVED and contract.meeting_item is not None
    assert contract.meeting_item.outcome == "passed"
    services.contract_sign(actor=world.user("secretary"), contract=contract, on=D(2025, 12, 20),
                           at=at(2025, 12, 20))
    contract.refresh_from_db()
    asset.refresh_from_db()
    assert contract.status == S.SIGNED and asset.status == Asset.Status.LEASED
    kinds = list(contract.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "discussed", "tabled", "decided", "approved", "signed"]


def test_sign_refused_without_the_decision_record(world: World) -> None:
    asset = idle_asset(world)
    contract = draft(world, asset=asset)
    services.contract_discuss(actor=world.user("secretary"), contract=contract, on=D(2025, 12, 1), summary="研究")
    events, audits = ContractEvent.objects.count(), AuditEntry.objects.count()
    with translation.override("en"), pytest.raises(ValidationError, match="recorded decision"):
        services.contract_sign(actor=world.user("secretary"), contract=contract, on=D(2025, 12, 20))
    contract.refresh_from_db()
    asset.refresh_from_db()
    assert contract.status == S.DECIDING and contract.signed_on is None
    assert asset.status == Asset.Status.IDLE
    assert (ContractEvent.objects.count(), AuditEntry.objects.count()) == (events, audits)
    # And the database refuses a "signed" row without the record whatever code writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.filter(pk=contract.pk).update(status=S.SIGNED, signed_on=D(2025, 12, 20))


def test_failed_vote_does_not_record_a_decision(world: World) -> None:
    contract = draft(world)
    services.contract_discuss(actor=world.user("secretary"), contract=contract, on=D(2025, 12, 1), summary="研究")
    meeting = meeting_record(actor=SYSTEM, region=world.village, kind=Meeting.Kind.REPRESENTATIVES,
                             held_at=at(2025, 12, 3), attendees=30, eligible=40, at=at(2025, 12, 3, 12))
    item = services.contract_table(actor=SYSTEM, contract=contract, meeting=meeting, at=at(2025, 12, 2))
    agenda_item_decide(actor=SYSTEM, item=item, votes_for=10, votes_against=18, votes_abstain=2, decision="不同意",
                       at=at(2025, 12, 3, 12))
    contract.refresh_from_db()
    assert contract.meeting_item is None
    with pytest.raises(ValidationError):
        services.contract_township_review(actor=world.user("township"), contract=contract, approve=True)


def test_end_before_start_refused_by_service_and_database(world: World) -> None:
    with translation.override("en"), pytest.raises(ValidationError, match="cannot end before it starts"):
        draft(world, start=D(2026, 5, 1), end=D(2026, 4, 30), schedule=[])
    assert not Contract.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.create(county=world.county, village=world.village, number="X1", kind="lease", subject="地",
                                party_name="某公司", party_kind="company", start=D(2026, 5, 1), end=D(2026, 5, 1),
                                amount=Decimal("1"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", 50000.0, "floating-point"),
        ("amount", Decimal("-1.00"), "more than zero"),
        ("amount", Decimal("100.005"), "two decimal places"),
        ("area_mu", Decimal("-3"), "more than zero"),
        ("area_mu", 3.5, "floating-point"),
    ],
)
def test_bad_money_and_areas_refused(world: World, field: str, value: Any, message: str) -> None:
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        draft(world, schedule=[], **{field: value})
    assert not Contract.objects.exists() and not PaymentDue.objects.exists()


def test_schedule_must_add_up(world: World) -> None:
    with translation.override("en"), pytest.raises(ValidationError, match="adds up"):
        draft(world, schedule=[(D(2026, 1, 1), Decimal("100"))])
    assert not Contract.objects.exists()


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(contracts_io.HEADERS))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = ["", "承包", "东沟地 20亩", 20, "晋源农业公司", "企业", "", D(2025, 1, 1), D(2034, 12, 31), 40000]


def test_import_is_all_or_nothing_and_refuses_bad_money(world: World) -> None:
    bad_rows = [
        ["", "租赁", "门面房", "", "李四", "个人", "", D(2025, 1, 1), D(2027, 1, 1), 3333.333],
        ["", "租赁", "门面房2", "", "李五", "个人", "", D(2025, 1, 1), D(2027, 1, 1), "1000.005"],
        ["", "租赁", "库房", "", "赵六", "个人", "", D(2026, 1, 1), D(2025, 1, 1), 100],
        ["", "租赁", "场地", -5, "钱七", "个人", "", D(2025, 1, 1), D(2027, 1, 1), -100],
        # a phone refused for its length (here a mobile number with a digit too many): never shown whole
        ["", "租赁", "大棚", "", "孙八", "个人", "139123456789012345678", D(2025, 1, 1), D(2027, 1, 1), 100],
    ]
    with translation.override("en"):
        result = contracts_io.contract_import(actor=world.user("secretary"), village=world.village,
                                              data=_xlsx([GOOD, *bad_rows]))
    assert not result.ok and result.created == 0
    assert not Contract.objects.exists() and not ContractEvent.objects.exists()
    by_row = {(e.row, e.column) for e in result.errors}
    assert (3, "合同金额") in by_row and (4, "合同金额") in by_row
    assert (5, "终止日期") in by_row and (6, "面积(亩)") in by_row and (6, "合同金额") in by_row
    phone_errors = [e for e in result.errors if e.column == "联系电话"]
    assert [e.row for e in phone_errors] == [7] and "139123456789012345678" not in str(result.errors)
    result = contracts_io.contract_import(actor=world.user("secretary"), village=world.village,
                                          data=_xlsx([GOOD, [*GOOD[:2], "西沟地", 12.5, *GOOD[4:9], 1234.5]]))
    assert result.ok and result.created == 2
    assert set(Contract.objects.values_list("status", flat=True)) == {S.DRAFT}
    assert Contract.objects.get(subject="西沟地").amount == Decimal("1234.50")


def test_export_neutralises_formulas_and_masks_phones(world: World, login: Any) -> None:
    draft(world, party_name="=HYPERLINK(\"x\")", party_kind="company", schedule=[])
    response = login(world.user("secretary")).get(f"/w/contracts/export.xlsx?village={world.village.code}")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    row = [c.value for c in ws[2]]
    assert row[4].startswith("'=") and row[6] == "139****5678"


def _signed(world: World, **kw: Any) -> Contract:
    contract = decide(world, draft(world, **kw))
    return services.contract_sign(actor=world.user("secretary"), contract=contract, on=D(2025, 12, 20),
                                  at=at(2025, 12, 20))


def test_reminders_are_sent_once_per_item(world: World) -> None:
    contract = _signed(world, end=D(2027, 2, 5), schedule=[
        (D(2026, 1, 1), Decimal("10000")), (D(2026, 11, 5), Decimal("10000")), (D(2027, 1, 5), Decimal("30000"))])
    services.payment_record(actor=world.user("secretary"), due=contract.schedule.get(due_on=D(2026, 1, 1)),
                            amount=Decimal("10000"), paid_on=D(2026, 1, 2))
    # 2026-11-01: the 11-05 instalment is due within 7 days; nothing overdue; the end is > 90 days off.
    with time_machine.travel(at(2026, 11, 1), tick=False):
        sweep_contracts(at(2026, 11, 1))
        sweep_contracts(at(2026, 11, 1))
    kinds = list(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["contract_payment_due"]  # the secretary, once
    # 2026-11-10: now overdue (once), and the contract ends within 90 days (once).
    with time_machine.travel(at(2026, 11, 10), tick=False):
        sweep_contracts(at(2026, 11, 10))
        sweep_contracts(at(2026, 11, 11))
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["contract_expiring", "contract_payment_due", "contract_payment_overdue"]
    assert Notification.objects.filter(recipient=world.user("secretary")).count() == 3


def test_paid_instalment_is_not_reminded(world: World) -> None:
    contract = _signed(world)
    for due in contract.schedule.filter(due_on__lte=D(2026, 11, 5)):
        services.payment_record(actor=world.user("secretary"), due=due, amount=due.amount, paid_on=D(2026, 1, 2))
    sweep_contracts(at(2026, 11, 10))
    assert not Notification.objects.exists()


def test_overpayment_refused(world: World) -> None:
    contract = _signed(world)
    due = contract.schedule.first()
    assert due is not None
    with translation.override("en"), pytest.raises(ValidationError, match="outstanding"):
        services.payment_record(actor=world.user("secretary"), due=due, amount=Decimal("10000.01"),
                                paid_on=D(2026, 1, 2))
    assert not Payment.objects.exists()


def test_expiry_marks_the_contract_and_returns_the_asset(world: World) -> None:
    asset = idle_asset(world)
    contract = _signed(world, asset=asset, end=D(2026, 10, 31), schedule=[])
    asset.refresh_from_db()
    assert asset.status == Asset.Status.LEASED
    sweep_contracts(at(2026, 11, 2))
    sweep_contracts(at(2026, 11, 3))
    contract.refresh_from_db()
    asset.refresh_from_db()
    assert contract.status == S.EXPIRED and contract.ended_on == D(2026, 10, 31)
    assert asset.status == Asset.Status.IDLE
    assert contract.events.filter(kind="expired").count() == 1
    assert contract.events.filter(kind="activated").count() == 1


def test_review_flag_and_terminating_outcome(world: World) -> None:
    asset = idle_asset(world)
    contract = _signed(world, asset=asset, schedule=[])
    review = services.contract_flag(actor=world.user("township"), contract=contract, reason="租金明显低于市场价")
    with pytest.raises(ValidationError):
        services.contract_flag(actor=world.user("secretary"), contract=contract, reason="again")
    services.review_conclude(actor=world.user("township"), review=review, outcome="terminated", note="协商解除")
    contract.refresh_from_db()
    asset.refresh_from_db()
    assert contract.status == S.TERMINATED and asset.status == Asset.Status.IDLE
    with pytest.raises(ValidationError):
        services.review_conclude(actor=world.user("township"), review=review, outcome="kept")
    assert ContractReview.objects.get().outcome == "terminated"


def test_other_village_committee_gets_404(world: World, login: Any) -> None:
    contract = draft(world)
    other = make_user("sec2", region=world.village2, role=Role.SECRETARY)
    client = login(other)
    assert client.get(f"/w/contracts/{contract.pk}/").status_code == 404
    assert client.post(f"/w/contracts/{contract.pk}/flag/", {"reason": "x"}).status_code == 404
    assert contract.number not in client.get("/w/contracts/").content.decode()
    assert login(world.user("grid_a")).get(f"/w/contracts/{contract.pk}/").status_code == 404
    with pytest.raises(ValidationError):
        services.contract_discuss(actor=other, contract=contract, on=D(2025, 1, 1), summary="x")


def test_pages_work_through_the_steps(world: World, login: Any, django_assert_max_num_queries: Any) -> None:
    idle_asset(world)
    client = login(world.user("secretary"))
    page = client.get(f"/w/contracts/new/?village={world.village.code}")
    assert "XS-IDLE-02" in page.content.decode()
    asset = Asset.objects.get()
    response = client.post("/w/contracts/new/", {
        "village": world.village.code, "asset": asset.pk, "kind": "lease", "subject": "", "party_name": "晋源商贸公司",
        "party_kind": "company", "start": "2026-01-01", "end": "2028-12-31", "amount": "36000.00",
        "due_on": ["2026-01-01", "2027-01-01", "", ""], "due_amount": ["18000", "18000", "", ""],
    })
    assert response.status_code == 302
    contract = Contract.objects.get()
    assert contract.subject == "旧村委会大院" and contract.schedule.count() == 2
    client.post(f"/w/contracts/{contract.pk}/discuss/", {"on": "2025-12-01", "summary": "两委研究"})
    contract.refresh_from_db()
    assert contract.status == S.DECIDING
    for i in range(8):
        draft(world, number=f"N{i}", schedule=[(D(2026, 1, 1), Decimal("50000"))])
    with django_assert_max_num_queries(14):  # no query per contract
        assert client.get("/w/contracts/?overdue=&status=").status_code == 200
    assert client.get(f"/w/contracts/{contract.pk}/").status_code == 200
    assert client.get("/w/contracts/review/").status_code == 200


def test_board_shows_signed_contract_masked(world: World, client: Any) -> None:
    _signed(world, asset=idle_asset(world))
    draft(world, number="UNSIGNED", subject="未签合同", schedule=[])
    page = client.get(f"/v/{world.village.code}/contracts/").content.decode()
    assert "旧村委会大院" in page and "王*" in page
    assert "王小明" not in page and "13912345678" not in page and "139****5678" not in page
    assert "未签合同" not in page
    contract = Contract.objects.get(status=S.SIGNED)
    detail = client.get(f"/v/{world.village.code}/contracts/{contract.pk}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "王*" in text and "王小明" not in text and "5678" not in text
    unsigned = Contract.objects.get(number="UNSIGNED")
    assert client.get(f"/v/{world.village.code}/contracts/{unsigned.pk}/").status_code == 404
    assert client.get(f"/v/{world.village2.code}/contracts/{contract.pk}/").status_code == 404


def test_verify_invariants_hold_and_catch_a_bad_row(world: World) -> None:
    from hemei.contracts.checks import check_decisions, check_payments

    contract = _signed(world)
    due = contract.schedule.order_by("due_on").first()
    assert due is not None
    services.payment_record(actor=SYSTEM, due=due, amount=due.amount, paid_on=D(2026, 1, 2))
    assert check_decisions() == [] and check_payments() == []
    # Rows written behind the services' back (a restore of a tampered backup) are reported.
    Payment.objects.create(due=due, amount=Decimal("1.00"), paid_on=D(2026, 1, 3))
    assert check_payments() and str(due.pk) in check_payments()[0]


def test_signed_contract_pages_record_payment_and_flag(world: World, login: Any) -> None:
    contract = _signed(world)
    client = login(world.user("secretary"))
    page = client.get(f"/w/contracts/{contract.pk}/").content.decode()
    assert "139****5678" in page and "13912345678" not in page
    due = contract.schedule.order_by("due_on").first()
    assert due is not None
    key = re.search(r'name="key" value="([0-9a-f]{32})"', page)
    assert key is not None
    form = {"due": due.pk, "amount": "4000.00", "on": "2026-01-02", "key": key.group(1)}
    client.post(f"/w/contracts/{contract.pk}/pay/", form)
    client.post(f"/w/contracts/{contract.pk}/pay/", form)  # a double tap: the part payment fits twice, records once
    assert Payment.objects.get().amount == Decimal("4000.00")
    for bad in ("abc", "²", "1e99999"):  # a broken instalment id or amount is a message, not a 500
        assert client.post(f"/w/contracts/{contract.pk}/pay/", {**form, "due": bad, "key": ""}).status_code == 302
        assert client.post(f"/w/contracts/{contract.pk}/pay/", {**form, "amount": bad, "key": ""}).status_code == 302
    assert client.post(f"/w/contracts/{contract.pk}/table/", {"meeting": "abc"}).status_code == 302
    assert Payment.objects.count() == 1
    with translation.override("en"):
        client.post(f"/w/contracts/{contract.pk}/pay/", {"due": due.pk, "amount": "6000.001", "on": "2026-01-02"})
    assert Payment.objects.count() == 1
    township = login(world.user("township"))
    assert township.get(f"/w/contracts/{contract.pk}/").status_code == 200
    township.post(f"/w/contracts/{contract.pk}/flag/", {"reason": "租金偏低"})
    assert ContractReview.objects.get().outcome == "pending"
    listing = township.get("/w/contracts/?flagged=1").content.decode()
    assert contract.number in listing
    overview = township.get("/w/contracts/review/").content.decode()
    assert "西邵村" in overview


def test_a_payment_key_longer_than_100_characters_is_refused_not_cut(world: World, login: Any) -> None:
    from django.contrib.messages import get_messages

    contract = _signed(world)
    due = contract.schedule.order_by("due_on").first()
    assert due is not None
    client = login(world.user("secretary"))
    form = {"due": due.pk, "amount": "100.00", "on": "2026-01-02"}
    response = client.post(f"/w/contracts/{contract.pk}/pay/", {**form, "key": "k" * 101})
    assert response.status_code == 302 and not Payment.objects.exists()
    assert [m.level_tag for m in get_messages(response.wsgi_request) if "100" in m.message] == ["error"]
    # A note that is not text (a NUL) is left out; the payment itself is recorded once.
    for _ in range(2):
        client.post(f"/w/contracts/{contract.pk}/pay/", {**form, "key": "k" * 100, "note": "a\x00b"})
    assert [(p.amount, p.note) for p in Payment.objects.all()] == [(Decimal("100.00"), "")]

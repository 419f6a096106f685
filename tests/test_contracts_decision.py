"""Contracts: the meeting step of the decision record — tabled once, only the current item's
vote counts, the decision dated by the meeting, the township's queue, names in the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from hemei.assets.models import AssetStatusChange
from hemei.contracts import services
from hemei.contracts.models import Contract, ContractEvent
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.services import agenda_item_add, agenda_item_decide, meeting_record
from tests.conftest import World, at
from tests.test_contracts import D, _signed, draft, idle_asset

S = Contract.Status


def discussed(world: World, **kw: Any) -> Contract:
    contract = draft(world, **kw)
    return services.contract_discuss(actor=world.user("secretary"), contract=contract, on=D(2025, 12, 1),
                                     summary="两委研究同意", at=at(2025, 12, 1))


def meeting(world: World, held: dt.datetime, *, region: Any = None) -> Meeting:
    return meeting_record(actor=SYSTEM, region=region or world.village, kind=Meeting.Kind.REPRESENTATIVES,
                          held_at=held, attendees=30, eligible=40, at=held)


def vote(item: AgendaItem, *, passed: bool, when: dt.datetime) -> AgendaItem:
    yes, no = (26, 2) if passed else (5, 23)
    return agenda_item_decide(actor=SYSTEM, item=item, votes_for=yes, votes_against=no, votes_abstain=2,
                              decision="同意" if passed else "不同意", at=when)


def snapshot() -> tuple[int, int, int]:
    return AgendaItem.objects.count(), ContractEvent.objects.count(), AuditEntry.objects.count()


def test_tabling_twice_refused_while_the_first_item_waits(world: World) -> None:
    contract = discussed(world)
    first = services.contract_table(actor=world.user("secretary"), contract=contract,
                                    meeting=meeting(world, at(2025, 12, 5)), at=at(2025, 12, 2))
    other = meeting(world, at(2025, 12, 8))
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="already on the agenda"):
        services.contract_table(actor=world.user("secretary"), contract=contract, meeting=other)
    assert snapshot() == before and not other.items.exists()
    # Once its vote failed the contract may be tabled again; once passed, never.
    vote(first, passed=False, when=at(2025, 12, 5, 12))
    second = services.contract_table(actor=world.user("secretary"), contract=contract, meeting=other)
    vote(second, passed=True, when=at(2025, 12, 8, 12))
    third = meeting(world, at(2025, 12, 9))
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match="once"):
        services.contract_table(actor=world.user("secretary"), contract=contract, meeting=third)
    assert snapshot() == before


@pytest.mark.parametrize("case", ["before_discussion", "other_village"])
def test_tabling_on_a_wrong_meeting_refused(world: World, case: str) -> None:
    contract = discussed(world)
    if case == "before_discussion":  # held the evening before the 两委 discussion of 12-01
        wrong, message = meeting(world, at(2025, 11, 30, 23, 30)), "held before the two committees"
    else:
        wrong, message = meeting(world, at(2025, 12, 5), region=world.village2), "of its village"
    before = snapshot()
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        services.contract_table(actor=world.user("secretary"), contract=contract, meeting=wrong)
    assert snapshot() == before and not wrong.items.exists()
    contract.refresh_from_db()
    assert contract.status == S.DECIDING and contract.meeting_item_id is None


def test_discussion_day_meeting_is_accepted(world: World) -> None:
    contract = discussed(world)
    item = services.contract_table(actor=SYSTEM, contract=contract, meeting=meeting(world, at(2025, 12, 1, 0, 30)))
    assert item.subject_id == str(contract.pk)


def test_detail_page_shows_the_agenda_instead_of_the_form(world: World, login: Any) -> None:
    contract = discussed(world)
    client = login(world.user("secretary"))
    page = client.get(f"/w/contracts/{contract.pk}/").content.decode()
    assert f"/w/contracts/{contract.pk}/table/" in page
    services.contract_table(actor=SYSTEM, contract=contract, meeting=meeting(world, at(2025, 12, 5)))
    page = client.get(f"/w/contracts/{contract.pk}/").content.decode()
    assert f"/w/contracts/{contract.pk}/table/" not in page
    # The meeting's date is shown only by the "on the agenda of" line (the form with its list is gone).
    assert "2025-12-05" in page and str(Meeting.Kind.REPRESENTATIVES.label) in page


def test_only_the_current_item_decides_and_a_stale_vote_leaves_the_signed_contract_alone(world: World) -> None:
    contract = discussed(world, asset=idle_asset(world))
    current = services.contract_table(actor=SYSTEM, contract=contract, meeting=meeting(world, at(2025, 12, 5)))
    # An item about the contract added on the meetings pages (not through tabling): its vote is
    # the meeting's record only.
    stray = agenda_item_add(actor=SYSTEM, meeting=meeting(world, at(2025, 12, 4)), title="合同（重复）",
                            subject_type=services.SUBJECT_TYPE, subject_id=str(contract.pk))
    vote(stray, passed=True, when=at(2025, 12, 4, 12))
    contract.refresh_from_db()
    assert contract.meeting_item_id is None
    assert not contract.events.filter(kind__in=["decided", "rejected"]).exists()
    vote(current, passed=True, when=at(2025, 12, 5, 12))
    contract.refresh_from_db()
    assert contract.meeting_item_id == current.pk
    services.contract_township_review(actor=world.user("township"), contract=contract, approve=True,
                                      at=at(2025, 12, 7))
    services.contract_sign(actor=world.user("secretary"), contract=contract, on=D(2025, 12, 20), at=at(2025, 12, 20))
    late = agenda_item_add(actor=SYSTEM, meeting=meeting(world, at(2025, 12, 22)), title="合同（旧议题）",
                           subject_type=services.SUBJECT_TYPE, subject_id=str(contract.pk))
    events = ContractEvent.objects.count()
    vote(late, passed=False, when=at(2025, 12, 22, 12))
    late.refresh_from_db()
    contract.refresh_from_db()
    assert late.outcome == AgendaItem.Outcome.FAILED  # the meeting's own record stays
    assert ContractEvent.objects.count() == events
    assert contract.status == S.SIGNED and contract.meeting_item_id == current.pk
    assert list(contract.events.order_by("id").values_list("kind", flat=True)) == [
        "created", "discussed", "tabled", "decided", "approved", "signed"]


def test_decision_is_dated_by_the_meeting_not_the_typing(world: World, client: Any) -> None:
    contract = discussed(world)
    # Held at 00:30 Beijing time on 12-03 (still 12-02 in UTC); the votes typed in on 12-06.
    item = services.contract_table(actor=SYSTEM, contract=contract, meeting=meeting(world, at(2025, 12, 3, 0, 30)))
    vote(item, passed=True, when=at(2025, 12, 6, 9))
    decided = contract.events.get(kind="decided")
    assert decided.on == D(2025, 12, 3)
    contract.refresh_from_db()
    services.contract_township_review(actor=SYSTEM, contract=contract, approve=True, at=at(2025, 12, 8))
    services.contract_sign(actor=SYSTEM, contract=contract, on=D(2025, 12, 20), at=at(2025, 12, 20))
    board = client.get(f"/v/{world.village.code}/contracts/").content.decode()
    public = client.get(f"/v/{world.village.code}/contracts/{contract.pk}/").content.decode()
    for page in (board, public):
        assert "2025-12-03" in page and "2025-12-06" not in page and "2025-12-02" not in page


def test_township_lands_on_its_review_queue(world: World, login: Any) -> None:
    waiting = discussed(world, number="WAIT-1", subject="待审合同")
    item = services.contract_table(actor=SYSTEM, contract=waiting, meeting=meeting(world, at(2025, 12, 5)))
    vote(item, passed=True, when=at(2025, 12, 5, 12))
    draft(world, number="DRAFT-1", subject="草稿合同", schedule=[])
    township = login(world.user("township"))
    page = township.get("/w/contracts/").content.decode()
    assert "WAIT-1" in page and "DRAFT-1" not in page
    everything = township.get("/w/contracts/?all=1").content.decode()
    assert "WAIT-1" in everything and "DRAFT-1" in everything
    assert "DRAFT-1" not in township.get("/w/contracts/?awaiting=1").content.decode()
    # Once approved the queue is empty and the default is the whole list again.
    services.contract_township_review(actor=world.user("township"), contract=Contract.objects.get(number="WAIT-1"),
                                      approve=True)
    assert "DRAFT-1" in township.get("/w/contracts/").content.decode()
    # The committee's default list is everything.
    secretary = login(world.user("secretary"))
    assert "DRAFT-1" in secretary.get("/w/contracts/").content.decode()


def test_history_shows_the_persons_name(world: World, login: Any) -> None:
    secretary = world.user("secretary")
    secretary.display_name = "李书记"
    secretary.save(update_fields=["display_name"])
    contract = discussed(world)
    page = login(secretary).get(f"/w/contracts/{contract.pk}/").content.decode()
    history = page[page.rindex("<table>"):]  # the history is the page's last table
    assert "<td>李书记</td>" in history and "<td>secretary</td>" not in history


def test_signing_stores_a_language_neutral_asset_reason(world: World) -> None:
    asset = idle_asset(world)
    contract = _signed(world, asset=asset)
    change = AssetStatusChange.objects.filter(asset=asset).order_by("-id").first()
    assert change is not None and change.note == contract.number
    assert "signed" not in change.note

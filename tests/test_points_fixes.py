"""Fixes from a newcomer's walkthrough of the points pages: adoption date, what a grid worker
may propose, the villager's objections, the counter's phone search, meetings to table at,
frozen tabled drafts, batch approval, period labels, the objection button, oversight reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from hemei.core.scope import SYSTEM
from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.services import agenda_item_add, agenda_item_decide, meeting_record
from hemei.points import ledger, rules, rules_edit
from hemei.points.models import Entry, Objection, RuleItem, RuleSet, RuleVersion
from hemei.points.review import entry_approve_batch
from hemei.points.stats import period_display
from hemei.points.testing import DEFAULT_ITEMS, Adopted, adopted_rules
from hemei.regions.models import Role
from tests.conftest import SH, World, at, make_user

NOW = dt.datetime(2026, 10, 20, 10, tzinfo=SH)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pts(world: World) -> Adopted:
    return adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1))


def zh(msgid: str) -> str:
    """What the (Chinese) pages show for a msgid, before and after the translations are merged."""
    with translation.override("zh-hans"):
        return gettext(msgid)


def propose(world: World, pts: Adopted, household: Any, code: str, day: int, key: str, actor: str = "grid_a") -> Entry:
    return ledger.entry_propose(actor=world.user(actor), household=household, item=pts.rule(code),
                                deed_date=dt.date(2026, 10, day), idempotency_key=key, at=at(2026, 10, day))


# 1 -------------------------------------------------------------------------------------------


def test_a_version_is_adopted_on_the_meetings_day_not_the_day_the_votes_were_typed(world: World) -> None:
    secretary = world.user("secretary")
    rule_set = rules.rule_set_create(actor=secretary, village=world.village, name="规则", at=at(2026, 8, 20))
    version = rules.rule_version_create(actor=secretary, rule_set=rule_set, at=at(2026, 8, 20))
    for code, kind, description, points, cap, proposer in DEFAULT_ITEMS:
        rules.rule_item_add(actor=secretary, version=version, code=code, kind=kind, description=description,
                            points=points, cap_per_period=cap, proposer=proposer)
    meeting = meeting_record(actor=secretary, region=world.village, kind=Meeting.Kind.REPRESENTATIVES,
                             held_at=at(2026, 9, 1, 19), attendees=30, eligible=40, at=at(2026, 9, 10))
    item = agenda_item_add(actor=secretary, meeting=meeting, title="积分", subject_type=rules.SUBJECT_TYPE,
                           subject_id=str(version.pk), at=at(2026, 8, 25))
    # The votes are typed in nine days after the meeting.
    agenda_item_decide(actor=secretary, item=item, votes_for=25, votes_against=3, votes_abstain=2, decision="通过",
                       at=at(2026, 9, 10))
    version.refresh_from_db()
    assert version.state == RuleVersion.State.ADOPTED and version.adopted_on == dt.date(2026, 9, 1)
    # A deed between the meeting and the vote entry is scored under the version.
    entry = ledger.entry_propose(actor=world.user("grid_a"), household=world.house_a, item=version.items.get(code="G1"),
                                 deed_date=dt.date(2026, 9, 5), idempotency_key="k", at=at(2026, 9, 12))
    assert entry.state == Entry.State.PROPOSED
    # Before the meeting is still refused.
    with pytest.raises(ValidationError):
        ledger.entry_propose(actor=world.user("grid_a"), household=world.house_a, item=version.items.get(code="G1"),
                             deed_date=dt.date(2026, 8, 31), idempotency_key="k2", at=at(2026, 9, 12))
    assert Entry.objects.count() == 1


# 2 -------------------------------------------------------------------------------------------


def test_propose_page_lists_only_items_the_user_may_propose(world: World, login: Any) -> None:
    items = [*DEFAULT_ITEMS, ("P1", "contribution", "卫生示范户评定", 15, None, "panel")]
    adopted_rules(actor=world.user("secretary"), village=world.village, held_at=at(2026, 9, 1), items=items)
    grid_page = login(world.user("grid_a")).get("/w/points/propose/").content.decode()
    assert "志愿服务" in grid_page and "庭院整洁" in grid_page
    for committee_only in ("见义勇为", "违反村规民约", "卫生示范户"):
        assert committee_only not in grid_page
    committee_page = login(world.user("secretary")).get("/w/points/propose/").content.decode()
    assert all(text in committee_page for text in ("志愿服务", "见义勇为", "违反村规民约", "卫生示范户"))


# 3 and 9 --------------------------------------------------------------------------------------


def test_villager_sees_what_became_of_their_objections(world: World, pts: Adopted, login: Any) -> None:
    first = propose(world, pts, world.house_b, "G1", 5, "p1", actor="grid_b")
    second = propose(world, pts, world.house_b, "J1", 6, "p2", actor="grid_b")
    for e in (first, second):
        ledger.entry_review(actor=world.user("secretary"), entry=e, approve=True, idempotency_key=f"r{e.pk}",
                            at=at(2026, 10, 18))
    villager = login(world.user("villager"))
    page = villager.get("/me/points/").content.decode()
    # The button says what it does (提出异议), not the noun "object" (对象).
    assert f'{zh("Raise an objection")}</button>' in page and ">对象</button>" not in page
    villager.post(f"/me/points/{first.pk}/object/", {"reason": "他那天不在村里", "key": "o1"})
    villager.post(f"/me/points/{second.pk}/object/", {"reason": "门前有杂物", "key": "o2"})
    page = villager.get("/me/points/").content.decode()
    assert "他那天不在村里" in page and zh("Open: the supervision committee has not decided yet.") in page
    supervisor = make_user("sup", region=world.village, role=Role.SUPERVISION)
    with time_machine.travel(dt.datetime(2026, 10, 21, 9, tzinfo=SH), tick=False):
        for o, uphold in ((Objection.objects.get(entry=first), True), (Objection.objects.get(entry=second), False)):
            ledger.objection_decide(actor=supervisor, objection=o, uphold=uphold, decision=f"核实{o.pk}",
                                    idempotency_key=f"d{o.pk}")
        page = login(world.user("villager")).get("/me/points/").content.decode()
    assert zh("Upheld: the entry was voided.") in page and zh("Dismissed: the entry stands.") in page
    assert "2026-10-21" in page and f"核实{Objection.objects.get(entry=first).pk}" in page
    assert zh("Open: the supervision committee has not decided yet.") not in page


# 4 -------------------------------------------------------------------------------------------


def test_counter_finds_a_household_by_phone_without_showing_the_number(
    world: World, pts: Adopted, login: Any
) -> None:
    client = login(world.user("shop"))
    url = f"/w/shop/counter/?village={world.village.code}"

    def find(q: str) -> str:
        return str(client.post(url, {"action": "find", "q": q}).content.decode())

    full = find("13800001111")
    assert f"household={world.house_a.pk}" in full and "138****1111" in full and "13800001111" not in full
    assert "138****2222" not in full  # only the number that matched
    tail = find("3333")
    assert f"household={world.house_b.pk}" in tail and "139****3333" in tail and "13900003333" not in tail
    spaced = find("138 0000 2222")
    assert f"household={world.house_a.pk}" in spaced and "138****2222" in spaced
    # 东邵村's resident is outside this shop's village.
    other = find("13700004444")
    assert "刘德华" not in other and zh("No household found.") in other


# 5 and 6 ---------------------------------------------------------------------------------------


def _meeting(world: World, village: Any, held: dt.datetime, kind: str = Meeting.Kind.REPRESENTATIVES) -> Meeting:
    return meeting_record(actor=world.user("secretary") if village == world.village else SYSTEM, region=village,
                          kind=kind, held_at=held, attendees=30 if held <= NOW else None, eligible=40,
                          at=min(held, NOW))


def test_only_open_meetings_of_the_village_are_offered_for_tabling(world: World, pts: Adopted, login: Any) -> None:
    old = _meeting(world, world.village, at(2012, 3, 1))
    stale = _meeting(world, world.village, at(2026, 9, 15))  # 35 days ago
    recent = _meeting(world, world.village, at(2026, 10, 1))
    planned = _meeting(world, world.village, at(2026, 11, 5))
    _meeting(world, world.village2, at(2026, 10, 10))
    _meeting(world, world.village, at(2026, 10, 12), kind=Meeting.Kind.COMMITTEES)
    assert list(rules_edit.tableable_meetings(world.village)) == [planned, recent]
    draft = rules.rule_version_create(actor=world.user("secretary"), rule_set=pts.rule_set, copy_from=pts.version)
    client = login(world.user("secretary"))
    page = client.get(f"/w/points/rules/v/{draft.pk}/").content.decode()
    assert page.index(f'<option value="{planned.pk}">') < page.index(f'<option value="{recent.pk}">')
    assert "2012-03-01" not in page and "2026-09-15" not in page and "2026-10-10" not in page
    # A closed meeting is refused by the service too; nothing is tabled.
    with pytest.raises(ValidationError):
        rules_edit.rule_version_table(actor=world.user("secretary"), version=draft, meeting=old)
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": stale.pk})
    assert not AgendaItem.objects.filter(subject_id=str(draft.pk)).exists()


def test_a_tabled_draft_is_frozen_until_the_meeting_decides(world: World, pts: Adopted, login: Any) -> None:
    secretary = world.user("secretary")
    draft = rules.rule_version_create(actor=secretary, rule_set=pts.rule_set, copy_from=pts.version)
    meeting = _meeting(world, world.village, at(2026, 10, 15))
    client = login(secretary)
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": meeting.pk})
    agenda = AgendaItem.objects.get(subject_id=str(draft.pk))
    page = client.get(f"/w/points/rules/v/{draft.pk}/").content.decode()
    assert 'value="update"' not in page and 'value="table"' not in page and 'value="add"' not in page
    g1 = draft.items.get(code="G1")
    fields = {"code": "G1", "kind": "contribution", "description": "改了", "points": "50", "proposer": "grid"}
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "update", "item": g1.pk,
                                                   **{f"i{g1.pk}-{k}": v for k, v in fields.items()}})
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "remove", "item": draft.items.get(code="K2").pk})
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "add", **{f"new-{k}": v for k, v in
                                                                     (fields | {"code": "N1"}).items()}})
    with pytest.raises(ValidationError):
        rules.rule_item_add(actor=secretary, version=draft, code="N2", kind="contribution", description="x", points=1)
    other = _meeting(world, world.village, at(2026, 10, 16))
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": other.pk})
    draft.refresh_from_db()
    assert RuleItem.objects.get(pk=g1.pk).points == 10 and draft.items.count() == 6
    assert AgendaItem.objects.filter(subject_id=str(draft.pk)).count() == 1
    # The meeting does not pass it: the draft can be changed and tabled again.
    agenda_item_decide(actor=secretary, item=agenda, votes_for=5, votes_against=20, votes_abstain=5,
                       decision="不通过")
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "update", "item": g1.pk,
                                                   **{f"i{g1.pk}-{k}": v for k, v in fields.items()}})
    assert RuleItem.objects.get(pk=g1.pk).points == 50
    client.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": other.pk})
    assert AgendaItem.objects.filter(subject_id=str(draft.pk)).count() == 2


# 7 -------------------------------------------------------------------------------------------


def test_committee_approves_all_shown_in_one_step_four_eyes_still_hold(
    world: World, pts: Adopted, login: Any
) -> None:
    a1 = propose(world, pts, world.house_a, "G1", 5, "a1")
    a2 = propose(world, pts, world.house_a, "J2", 6, "a2")
    own = propose(world, pts, world.house_a, "J1", 7, "a3", actor="secretary")
    b1 = propose(world, pts, world.house_b, "G1", 5, "b1", actor="grid_b")
    client = login(world.user("secretary"))
    page = client.get(f"/w/points/review/?grid={world.grid_a.code}&month=2026-10").content.decode()
    assert 'value="approve_all"' in page and f'name="entries" value="{b1.pk}"' not in page
    shown = {"action": "approve_all", "grid": world.grid_a.code, "month": "2026-10", "key": "batch1",
             "entries": [a1.pk, a2.pk, own.pk]}
    # Without the confirmation nothing happens.
    client.post("/w/points/review/", shown)
    assert set(Entry.objects.values_list("state", flat=True)) == {Entry.State.PROPOSED}
    response = client.post("/w/points/review/", shown | {"confirm": "1"}, follow=True)
    states = {e.pk: e.state for e in Entry.objects.all()}
    assert states == {a1.pk: "publicity", a2.pk: "publicity", own.pk: "proposed", b1.pk: "proposed"}
    assert world.house_a.number in response.content.decode()  # the skipped one is reported
    # Sent twice: replayed, nothing more.
    client.post("/w/points/review/", shown | {"confirm": "1"})
    assert Entry.objects.filter(state="publicity").count() == 2


def test_a_batch_is_all_or_nothing(world: World, pts: Adopted, login: Any) -> None:
    a1 = propose(world, pts, world.house_a, "G1", 5, "a1")
    b1 = propose(world, pts, world.house_b, "G1", 5, "b1", actor="grid_b")
    ledger.entry_review(actor=world.user("secretary"), entry=b1, approve=False, reason="无照片", idempotency_key="x")
    with translation.override("en"), pytest.raises(ValidationError, match="Nothing was approved"):
        entry_approve_batch(actor=world.user("secretary"), entries=[a1, b1], idempotency_key="b")
    assert Entry.objects.get(pk=a1.pk).state == Entry.State.PROPOSED
    # Another village's entry cannot be slipped into the form.
    other_sec = make_user("sec2", region=world.village2, role=Role.SECRETARY)
    response = login(other_sec).post("/w/points/review/", {"action": "approve_all", "entries": [a1.pk],
                                                            "confirm": "1", "key": "z"})
    assert response.status_code == 404 and Entry.objects.get(pk=a1.pk).state == Entry.State.PROPOSED


# 8 -------------------------------------------------------------------------------------------


def test_periods_are_labelled_in_the_active_language() -> None:
    with translation.override("en"):
        assert [period_display(k) for k in ("2026Q4", "2026-11", "2026")] == ["2026 Q4", "2026-11", "year 2026"]
    with translation.override("zh-hans"):
        assert period_display("2026Q4") == gettext("%(year)s Q%(quarter)s") % {"year": "2026", "quarter": "4"}


# 10 ------------------------------------------------------------------------------------------


def test_township_and_county_read_rules_and_shop_stats_but_do_not_write(
    world: World, pts: Adopted, login: Any
) -> None:
    for persona in ("township", "county"):
        client = login(world.user(persona))
        page = client.get("/w/points/rules/").content.decode()
        assert "志愿服务" in page and 'value="draft"' not in page and 'value="settings"' not in page
        assert client.get(f"/w/points/rules/?village={world.village.code}").status_code == 200
        assert client.get(f"/w/points/rules/v/{pts.version.pk}/").status_code == 200
        assert client.post("/w/points/rules/", {"village": world.village.code, "action": "draft"}).status_code == 404
        stats = client.get(f"/w/shop/stats/?village={world.village.code}")
        assert stats.status_code == 200
    assert not RuleVersion.objects.filter(state=RuleVersion.State.DRAFT).exists()
    assert RuleSet.objects.get().publicity_days == 7
    # 东邵村 has no rules: the township reads that (not a 404), with nothing to write.
    page = login(world.user("township")).get(f"/w/points/rules/?village={world.village2.code}")
    assert page.status_code == 200 and page.context["rule_set"] is None
    assert 'value="create_set"' not in page.content.decode()
    # Outside the township: 404.
    assert login(world.user("township")).get("/w/points/rules/?village=140110001201").status_code == 404
    for persona in ("grid_a", "shop", "villager"):
        assert login(world.user(persona)).get("/w/points/rules/").status_code == 404


def test_broken_ids_in_points_forms_are_messages_not_500s(world: World, pts: Adopted, login: Any) -> None:
    """'²'.isdigit() is True but int('²') raises: every id taken from a request is ASCII-checked."""
    sec = login(world.user("secretary"))
    before = (Entry.objects.count(), RuleVersion.objects.count(), RuleItem.objects.count())
    code = world.village.code
    assert sec.get(f"/w/shop/counter/?village={code}&household=²").status_code == 200
    assert sec.get(f"/w/shop/stats/?village={code}&year=²").status_code == 200
    response = sec.post(f"/w/points/propose/?village={code}",
                        {"item": pts.rule("J1").pk, "household": ["²"], "deed_date": "2026-10-19", "key": "k1"})
    assert response.status_code in (200, 302)
    # Starting a draft twice opens the same draft.
    first = sec.post(f"/w/points/rules/?village={code}", {"action": "draft", "title": "修订"})
    second = sec.post(f"/w/points/rules/?village={code}", {"action": "draft", "title": "修订"})
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    draft = RuleVersion.objects.get(state=RuleVersion.State.DRAFT)
    assert sec.post(f"/w/points/rules/v/{draft.pk}/", {"action": "remove", "item": "²"}).status_code == 404
    assert sec.post(f"/w/points/rules/v/{draft.pk}/", {"action": "table", "meeting": "abc"}).status_code in (200, 302)
    assert (Entry.objects.count(), RuleVersion.objects.count() - 1, RuleItem.objects.count()) == (
        before[0], before[1], before[2] + draft.items.count())

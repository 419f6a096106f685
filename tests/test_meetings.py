"""Village meetings and case deliberation (issue 3 "Deliberation", issue 4 rule adoption,
issue 5 decision records): quorum and majority, vote validation, immutable decisions,
scope, 网格听事—民主议事—群众评事 end to end, and the public outcome page."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from hemei.cases.deliberation import case_decide_from_meeting, case_table
from hemei.cases.models import Case, CaseEvent, Category
from hemei.cases.services import case_accept, case_rate, case_submit
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM, system
from hemei.meetings import rules
from hemei.meetings.models import AgendaItem, DecidedItemError, Meeting
from hemei.meetings.services import agenda_item_add, agenda_item_decide, meeting_attendance, meeting_record
from tests.conftest import at

pytestmark = pytest.mark.usefixtures("migration_seeds")
K = Meeting.Kind


@pytest.fixture(autouse=True)
def _english():
    """Service errors are matched in English whatever the lead's translations say."""
    with translation.override("en"):
        yield


def meeting(world, *, kind=K.REPRESENTATIVES, attendees=30, eligible=40, village=None, held=None, **kw):
    kw.setdefault("convened_by", "村党支部")
    return meeting_record(
        actor=world.user("secretary") if village is None else system("clerk"),
        region=village or world.village,
        kind=kind,
        held_at=held or at(2026, 3, 1, 9),
        place="村委会议室",
        attendees=attendees,
        eligible=eligible,
        **kw,
    )


def open_case(world, reporter=None) -> Case:
    reporter = reporter or world.head_a
    case = case_submit(
        actor=SYSTEM,
        region=reporter.region,
        category=Category.objects.get(name="矛盾纠纷", county__isnull=True),
        title="排水引起邻里矛盾",
        description="邻居家雨水排到我家院子",
        source=Case.Source.PHONE,
        reporter=reporter,
    )
    return case_accept(actor=world.user("secretary"), case=case, unit="村调解委员会")


# --- rules ----------------------------------------------------------------------------------


def test_majority_is_more_than_half_of_those_present():
    assert rules.passes(K.DELIBERATION, attendees=10, votes_for=6, eligible=None)
    assert not rules.passes(K.DELIBERATION, attendees=10, votes_for=5, eligible=None)  # exactly half
    # Abstentions count against: 5 for, 1 against, 4 abstain of 10 present fails.
    assert not rules.passes(K.DELIBERATION, attendees=10, votes_for=5, eligible=None)


def test_villagers_assembly_quorum_by_adults_or_households():
    q = rules.quorum_met
    assert q(K.VILLAGERS, attendees=501, eligible=1000)
    assert not q(K.VILLAGERS, attendees=500, eligible=1000)  # exactly half is not 过半数
    # two thirds of households (以上 includes the figure) even with few adults present
    assert q(K.VILLAGERS, attendees=300, eligible=1000, households_total=448, households_present=299)
    assert not q(K.VILLAGERS, attendees=300, eligible=1000, households_total=448, households_present=298)
    assert q(K.VILLAGERS, attendees=30, eligible=None, households_total=3, households_present=2)
    assert not q(K.VILLAGERS, attendees=30, eligible=None)


def test_representatives_need_two_thirds_of_members():
    assert rules.quorum_met(K.REPRESENTATIVES, attendees=30, eligible=45)
    assert not rules.quorum_met(K.REPRESENTATIVES, attendees=29, eligible=45)
    assert not rules.passes(K.REPRESENTATIVES, attendees=29, votes_for=29, eligible=45)


def test_decision_without_quorum_fails(world):
    m = meeting(world, kind=K.VILLAGERS, attendees=2, eligible=5)  # 2 of 5 adults: no quorum
    item = agenda_item_add(actor=world.user("secretary"), meeting=m, title="修订村规民约")
    with time_machine.travel(at(2026, 3, 1, 11), tick=False):
        item = agenda_item_decide(
            actor=world.user("secretary"), item=item, votes_for=2, votes_against=0, votes_abstain=0, decision="同意修订"
        )
    assert item.outcome == AgendaItem.Outcome.FAILED and m.quorum_met() is False


def test_villagers_assembly_needs_quorum_figures(world):
    with pytest.raises(ValidationError, match="adult villagers or of households"):
        meeting(world, kind=K.VILLAGERS, attendees=20, eligible=None)
    with pytest.raises(ValidationError, match="members"):
        meeting(world, kind=K.REPRESENTATIVES, attendees=20, eligible=None)
    assert Meeting.objects.count() == 0


# --- votes, immutability --------------------------------------------------------------------


@time_machine.travel(at(2026, 3, 2), tick=False)
@pytest.mark.parametrize(
    ("votes", "message"),
    [
        ((-1, 0, 0), "cannot be negative"),
        ((20, 10, 1), "31 votes but only 30 attendees"),
        (("many", 0, 0), "whole number"),
        ((2.5, 0, 0), "whole number"),
        ((None, 0, 0), "Votes for is required"),
        ((20, 5, 5), "Decision is required"),
    ],
)
def test_bad_votes_change_nothing(world, votes, message):
    item = agenda_item_add(actor=world.user("secretary"), meeting=meeting(world), title="道路硬化")
    audits = AuditEntry.objects.count()
    decision = "" if message.startswith("Decision") else "同意"
    with pytest.raises(ValidationError, match=message):
        agenda_item_decide(
            actor=world.user("secretary"),
            item=item,
            votes_for=votes[0],
            votes_against=votes[1],
            votes_abstain=votes[2],
            decision=decision,
        )
    item.refresh_from_db()
    assert item.outcome == AgendaItem.Outcome.PENDING and item.votes_for is None and item.decided_at is None
    assert AuditEntry.objects.count() == audits


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_decision_is_recorded_once_and_immutable(world):
    sec = world.user("secretary")
    item = agenda_item_add(actor=sec, meeting=meeting(world), title="道路硬化")
    item = agenda_item_decide(
        actor=sec, item=item, votes_for=25, votes_against=3, votes_abstain=2, decision="同意硬化村东路"
    )
    assert (item.outcome, item.votes_for, item.decided_by) == (AgendaItem.Outcome.PASSED, 25, sec)
    assert (
        AuditEntry.objects.filter(object_type="meetings.agendaitem", object_id=str(item.pk), note="decided").count()
        == 1
    )
    stale = AgendaItem.objects.get(pk=item.pk)
    with pytest.raises(ValidationError, match="already decided"):
        agenda_item_decide(actor=sec, item=stale, votes_for=1, votes_against=29, votes_abstain=0, decision="否决")
    stale.decision = "偷偷改掉"
    with pytest.raises(DecidedItemError):
        stale.save()
    with pytest.raises(DecidedItemError):
        stale.delete()
    item.refresh_from_db()
    assert (item.votes_for, item.decision) == (25, "同意硬化村东路")
    # A correction is a new item pointing at the old one.
    fix = agenda_item_add(
        actor=sec, meeting=meeting(world, held=at(2026, 3, 2, 8)), title="更正：道路硬化范围", corrects=item
    )
    assert fix.corrects == item and list(item.corrections.all()) == [fix]
    with pytest.raises(ValidationError, match="Only a decided item"):
        agenda_item_add(actor=sec, meeting=fix.meeting, title="再更正", corrects=fix)


def test_planned_meeting_attendance_then_votes(world):
    sec = world.user("secretary")
    with time_machine.travel(at(2026, 3, 2), tick=False):
        m = meeting(world, kind=K.DELIBERATION, attendees=None, eligible=15, held=at(2026, 3, 6, 9))
        item = agenda_item_add(actor=sec, meeting=m, title="广场停车")
        with pytest.raises(ValidationError, match="not taken place"):
            agenda_item_decide(actor=sec, item=item, votes_for=1, votes_against=0, votes_abstain=0, decision="x")
        with pytest.raises(ValidationError, match="once the meeting has taken place"):
            meeting_attendance(actor=sec, meeting=m, attendees=12, eligible=15)
    with time_machine.travel(at(2026, 3, 6, 11), tick=False):
        with pytest.raises(ValidationError, match="attendance"):
            agenda_item_decide(actor=sec, item=item, votes_for=1, votes_against=0, votes_abstain=0, decision="x")
        with pytest.raises(ValidationError, match="More attendees than members"):
            meeting_attendance(actor=sec, meeting=m, attendees=16, eligible=15)
        m = meeting_attendance(actor=sec, meeting=m, attendees=12, eligible=15)
        with pytest.raises(ValidationError, match="already recorded"):
            meeting_attendance(actor=sec, meeting=m, attendees=13, eligible=15)
        item = agenda_item_decide(
            actor=sec, item=item, votes_for=7, votes_against=5, votes_abstain=0, decision="划定停车区"
        )
    assert item.outcome == AgendaItem.Outcome.PASSED and Meeting.objects.get(pk=m.pk).attendees == 12


def test_service_refuses_actor_without_write_scope(world):
    with pytest.raises(ValidationError, match="may not record"):
        meeting_record(
            actor=world.user("township"), region=world.village, kind=K.OTHER, held_at=at(2026, 1, 1), attendees=3
        ) if False else meeting_record(
            actor=world.user("shop"), region=world.village, kind=K.OTHER, held_at=at(2026, 1, 1), attendees=3
        )
    with pytest.raises(ValidationError, match="may not record"):
        meeting_record(
            actor=world.user("grid_b"), region=world.village2, kind=K.OTHER, held_at=at(2026, 1, 1), attendees=3
        )
    assert Meeting.objects.count() == 0


# --- cases: 网格听事—民主议事—群众评事 ------------------------------------------------------


def test_case_tabled_decided_resolved_and_rated(world, login):
    sec = world.user("secretary")
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = open_case(world)
        submitted = case_submit(
            actor=SYSTEM,
            region=world.grid_a,
            category=case.category,
            title="未受理",
            description="x",
            source=Case.Source.PHONE,
            reporter=world.head_a,
        )
        m = meeting(world, kind=K.DELIBERATION, attendees=None, eligible=15, held=at(2026, 3, 5, 9))
        with pytest.raises(ValidationError, match="accepted"):
            case_table(actor=sec, case=submitted, meeting=m)
        other = meeting(
            world, kind=K.DELIBERATION, attendees=None, eligible=5, village=world.village2, held=at(2026, 3, 5, 9)
        )
        with pytest.raises(ValidationError, match="not in this meeting's village"):
            case_table(actor=sec, case=case, meeting=other)
        # the page: the staff case detail offers the meeting, the button puts the case on the agenda
        client = login(sec)
        page = client.get(reverse("case-detail", args=[case.number])).content.decode()
        assert reverse("meeting-case-table", args=[case.number]) in page
        response = client.post(reverse("meeting-case-table", args=[case.number]), {"meeting": m.pk})
        assert response.status_code == 302 and response["Location"] == reverse("meeting-detail", args=[m.pk])
        item = AgendaItem.objects.get(case=case)
        with translation.override("en"), pytest.raises(ValidationError, match="already on a meeting's agenda"):
            case_table(actor=sec, case=case, meeting=m)
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    assert case.events.filter(kind=CaseEvent.Kind.TABLED, data__item=item.pk).count() == 1
    with time_machine.travel(at(2026, 3, 5, 11), tick=False):
        client = login(sec)  # three days later: a new session (idle logout)
        client.post(reverse("meeting-action", args=[m.pk, "attendance"]), {"attendees": "13", "eligible": "15"})
        assert Meeting.objects.get(pk=m.pk).attendees == 13
        response = client.post(
            reverse("meeting-item-decide", args=[item.pk]),
            {
                "votes_for": "11",
                "votes_against": "1",
                "votes_abstain": "1",
                "decision": "由村集体出资修建排水沟，两户各让半米。",
            },
            follow=True,
        )
        assert "两户各让半米" in response.content.decode()
        assert AgendaItem.objects.get(pk=item.pk).outcome == AgendaItem.Outcome.PASSED
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and case.measures == "由村集体出资修建排水沟，两户各让半米。"
    kinds = list(case.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds[-3:] == [CaseEvent.Kind.TABLED, CaseEvent.Kind.DECIDED, CaseEvent.Kind.RESOLVED]
    decided = case.events.get(kind=CaseEvent.Kind.DECIDED)
    assert decided.data["outcome"] == "passed" and decided.data["votes_for"] == 11
    # 群众评事: the reporter sees the outcome and rates it.
    villager = login(world.user("villager"))
    page = villager.get(reverse("my-case", args=[case.number])).content.decode()
    assert "两户各让半米" in page
    assert villager.post(reverse("my-case-rate", args=[case.number]), {"rating": "satisfied"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.rating == Case.Rating.SATISFIED


@time_machine.travel(at(2026, 3, 2, 9), tick=False)
def test_failed_vote_keeps_case_open(world):
    sec = world.user("secretary")
    case = open_case(world)
    m = meeting(world, kind=K.DELIBERATION, attendees=10, eligible=15, held=at(2026, 3, 2, 8))
    item = case_table(actor=sec, case=case, meeting=m)
    agenda_item_decide(
        actor=sec, item=item, votes_for=5, votes_against=3, votes_abstain=2, decision="方案未获通过，由调委会再协商。"
    )
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED and case.measures == "" and case.resolved_at is None
    decided = case.events.get(kind=CaseEvent.Kind.DECIDED)
    assert decided.data["outcome"] == "failed" and decided.note == "方案未获通过，由调委会再协商。"
    # the case may go to a later meeting
    again = case_table(
        actor=sec,
        case=case,
        meeting=meeting(world, kind=K.DELIBERATION, attendees=12, eligible=15, held=at(2026, 3, 2, 8, 30)),
    )
    assert again.case == case
    with pytest.raises(ValidationError):
        case_decide_from_meeting(actor=sec, item=AgendaItem.objects.get(pk=again.pk))  # not decided yet
    assert case_rate  # rating only after a resolution (tested above)


# --- pages and scope -----------------------------------------------------------------------


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_scope_on_pages(world, login):
    mine = meeting(world)
    theirs = meeting(world, village=world.village2, kind=K.OTHER, attendees=5, eligible=None)
    item = agenda_item_add(actor=SYSTEM, meeting=theirs, title="东邵村的事")
    for persona in ("outsider", "grid_b", "secretary", "villager"):
        client = login(world.user(persona))
        assert client.get(reverse("meeting-detail", args=[theirs.pk])).status_code == 404, persona
        assert (
            client.post(
                reverse("meeting-item-decide", args=[item.pk]),
                {"votes_for": "5", "votes_against": "0", "votes_abstain": "0", "decision": "x"},
            ).status_code
            == 404
        )
        assert client.post(reverse("meeting-action", args=[theirs.pk, "add"]), {"title": "x"}).status_code == 404
    assert AgendaItem.objects.get(pk=item.pk).outcome == AgendaItem.Outcome.PENDING
    assert AgendaItem.objects.filter(meeting=theirs).count() == 1
    for persona, code in (("outsider", 404), ("villager", 404), ("grid_b", 200), ("township", 200)):
        assert login(world.user(persona)).get(reverse("meeting-detail", args=[mine.pk])).status_code == code
    # a grid worker reads their village's meetings but may not record votes
    assert (
        login(world.user("grid_b")).post(reverse("meeting-action", args=[mine.pk, "add"]), {"title": "x"}).status_code
        == 403
    )
    page = login(world.user("township")).get(reverse("meeting-list")).content.decode()
    assert "东邵村" in page and "西邵村" in page
    page = login(world.user("grid_b")).get(reverse("meeting-list")).content.decode()
    assert "西邵村" in page and "东邵村" not in page


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_new_meeting_form(world, login):
    client = login(world.user("secretary"))
    assert client.get(reverse("meeting-new")).status_code == 200
    response = client.post(
        reverse("meeting-new"),
        {
            "region": world.village.code,
            "kind": K.REPRESENTATIVES,
            "held_at": "2026-03-01T09:00",
            "attendees": "50",
            "eligible": "40",
        },
    )
    assert response.status_code == 200 and "到会人数多于应到人数" in response.content.decode()
    assert Meeting.objects.count() == 0
    response = client.post(
        reverse("meeting-new"), {"region": world.village2.code, "kind": K.OTHER, "held_at": "2026-03-01T09:00"}
    )
    assert response.status_code == 200 and Meeting.objects.count() == 0  # not a choice for this secretary
    response = client.post(
        reverse("meeting-new"),
        {
            "region": world.village.code,
            "kind": K.REPRESENTATIVES,
            "held_at": "2026-03-01T09:00",
            "attendees": "35",
            "eligible": "40",
            "place": "村委会",
        },
    )
    m = Meeting.objects.get()
    assert response["Location"] == reverse("meeting-detail", args=[m.pk])
    assert (m.region, m.county, m.attendees, m.created_by) == (world.village, world.county, 35, world.user("secretary"))
    # a grid worker writes in their grid only, not the village's meetings
    assert login(world.user("grid_a")).get(reverse("meeting-new")).status_code == 403


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_meeting_list_queries(world, login, django_assert_max_num_queries):
    """The list costs the same few queries for 1 meeting or a page of them (no N+1)."""
    sec = world.user("secretary")

    def add(day: int) -> Meeting:
        m = meeting(world, held=at(2026, 2, day, 9))
        for n in range(3):
            agenda_item_add(actor=sec, meeting=m, title=f"事项{n}")
        return m

    add(1)
    client = login(sec)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("meeting-list"))
    for day in range(2, 25):
        last = add(day)
    with django_assert_max_num_queries(len(one)):
        response = client.get(reverse("meeting-list"))
    assert response.status_code == 200 and reverse("meeting-detail", args=[last.pk]) in response.content.decode()
    with django_assert_max_num_queries(len(one) + 3):  # detail: meeting, items, corrections
        assert client.get(reverse("meeting-detail", args=[last.pk])).status_code == 200
    assert len(one) <= 15


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_public_outcomes_have_no_personal_data(world, client):
    sec = world.user("secretary")
    case = open_case(world)
    m = meeting(
        world,
        kind=K.DELIBERATION,
        attendees=12,
        eligible=15,
        minutes="王建国发言：同意。",
        convened_by="支书李明",
        named_attendees=[world.head_a],
    )
    item = case_table(actor=sec, case=case, meeting=m, title="修排水沟")
    agenda_item_decide(actor=sec, item=item, votes_for=10, votes_against=1, votes_abstain=1, decision="同意修建")
    pending = agenda_item_add(actor=sec, meeting=m, title="尚未表决的事项")
    response = client.get(reverse("public-meetings", args=[world.village.code]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "修排水沟" in page and "同意修建" in page and "12" in page
    assert pending.title not in page
    for secret in ("王建国", "李明", case.number, world.head_a.phone, world.head_a.id_number, "13800001111"):
        assert secret not in page
    assert client.get(reverse("public-meetings", args=["999999999999"])).status_code == 404
    assert client.get(reverse("public-meetings", args=[world.grid_a.code])).status_code == 404
    # The village board lists the same decided item in its meetings section, never the pending one.
    board = client.get(reverse("village-board", args=[world.village.code])).content.decode()
    assert 'id="summary-meetings"' in board and reverse("public-meetings", args=[world.village.code]) in board
    assert pending.title not in board
    for secret in ("王建国", "李明", case.number):
        assert secret not in board


def test_named_attendees_must_live_in_the_village(world):
    with pytest.raises(ValidationError, match="does not live"):
        meeting(world, named_attendees=[world.head_c])
    with pytest.raises(ValidationError, match="More named attendees"):
        meeting(world, attendees=1, named_attendees=[world.head_a, world.head_b])
    assert Meeting.objects.count() == 0
    assert dt  # keep the import for the timestamps above


# --- demo ----------------------------------------------------------------------------------


def test_demo_meetings_decide_cases_of_xishao(world):
    from hemei.cases.demo import DEMO_NOW, demo_cases
    from hemei.meetings.demo import demo_meetings

    demo_cases(seed=7)
    assert demo_meetings() == 6
    meetings = Meeting.objects.filter(region=world.village)
    assert {m.kind for m in meetings} == {K.REPRESENTATIVES, K.VILLAGERS, K.DELIBERATION}
    assert all(m.held_at < DEMO_NOW and m.attendees for m in meetings)
    items = AgendaItem.objects.filter(meeting__region=world.village)
    assert not items.filter(outcome=AgendaItem.Outcome.PENDING).exists()
    assert items.filter(outcome=AgendaItem.Outcome.FAILED).exists()
    tabled = list(items.filter(case__isnull=False).select_related("case"))
    assert 3 <= len(tabled) <= 5
    for item in tabled:
        # written after the case's own history, and in time order: nothing after the vote
        kinds = list(item.case.events.order_by("id").values_list("kind", "at"))
        assert all(a <= b for (_, a), (_, b) in itertools.pairwise(kinds))
        assert all(at_ <= DEMO_NOW for _, at_ in kinds)
        expected = Case.Status.RESOLVED if item.outcome == AgendaItem.Outcome.PASSED else item.case.status
        assert item.case.status == expected and item.case.status != Case.Status.SUBMITTED
        assert [k for k, _ in kinds].count(CaseEvent.Kind.DECIDED) == 1
    assert sum(i.outcome == AgendaItem.Outcome.FAILED for i in tabled) == 1


def test_page_values_that_are_not_numbers_or_meetings_change_nothing(world, login):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = open_case(world)
        m = meeting(world, kind=K.DELIBERATION, attendees=None, eligible=15, held=at(2026, 3, 5, 9))
        client = login(world.user("secretary"))
        table = reverse("meeting-case-table", args=[case.number])
        for bad in ("abc", "²", "99999999999999999999", f"{m.pk}\x00", ""):  # no such meeting: 404
            assert client.post(table, {"meeting": bad}).status_code == 404, bad
        assert not AgendaItem.objects.filter(case=case).exists()
        audit = AuditEntry.objects.count()
        attendance = reverse("meeting-action", args=[m.pk, "attendance"])
        for bad in ("²", "1e9", "13\x00"):  # a message on the meeting page, never a 500
            assert client.post(attendance, {"attendees": bad, "eligible": "15"}).status_code == 302, bad
        assert Meeting.objects.get(pk=m.pk).attendees is None and AuditEntry.objects.count() == audit

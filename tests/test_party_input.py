"""Bad input gets a clear error and changes nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hemei.core.scope import SYSTEM
from hemei.party import services
from hemei.party.models import Attendance, Branch, Member, MemberEvent, Session, StudyRecord
from tests.partykit import build_party


@pytest.fixture
def party(world):
    return build_party(world)


def _refused(code: str, fn, **kwargs):
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        fn(**kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


def test_organisations_keep_their_shape(world, party):
    before = Branch.objects.count()
    _refused("parent", services.branch_create, actor=SYSTEM, region=world.grid_a, kind="group", name="x")
    _refused("parent", services.branch_create, actor=SYSTEM, region=world.grid_a, kind="group", name="x",
             parent=party.group_b)  # a group under a group
    _refused("parent", services.branch_create, actor=SYSTEM, region=world.grid_c, kind="group", name="x",
             parent=party.branch)  # outside the branch's village
    _refused("kind", services.branch_create, actor=SYSTEM, region=world.village, kind="cell", name="x")
    _refused("region", services.branch_create, actor=SYSTEM, region=world.county, kind="branch", name="x")
    _refused("duplicate", services.branch_create, actor=SYSTEM, region=world.village, kind="branch",
             name="西邵村党支部")
    with pytest.raises(ValidationError):
        services.branch_create(actor=SYSTEM, region=world.village, kind="branch", name="  ")
    assert Branch.objects.count() == before


def test_the_register_refuses_what_cannot_be(world, party):
    from hemei.regions import services as regions
    from tests.conftest import new_id

    before = (Member.objects.count(), MemberEvent.objects.count())
    _refused("duplicate", services.member_add, actor=SYSTEM, branch=party.branch, resident=world.head_a,
             joined_party_on=dt.date(2000, 1, 1))
    _refused("resident", services.member_add, actor=SYSTEM, branch=party.branch, resident=world.head_c,
             joined_party_on=dt.date(2000, 1, 1))  # lives in 东邵村
    _refused("branch", services.member_add, actor=SYSTEM, branch=party.group_a, resident=world.head_b,
             joined_party_on=dt.date(2000, 1, 1))  # groups hold no register of their own
    _refused("group", services.member_add, actor=SYSTEM, branch=party.branch, resident=world.head_b,
             joined_party_on=dt.date(2000, 1, 1), group=party.branch2)
    _refused("standing", services.member_add, actor=SYSTEM, branch=party.branch, resident=world.head_b,
             joined_party_on=dt.date(2000, 1, 1), standing="honorary")
    _refused("date", services.member_add, actor=SYSTEM, branch=party.branch, resident=world.head_b,
             joined_party_on=timezone.localdate() + dt.timedelta(days=1))
    gone = regions.resident_create(actor=SYSTEM, household=world.house_b, name="钱某", id_number=new_id(),
                                   relation="child")
    Member.objects.none()
    from hemei.regions.models import Resident

    Resident.objects.filter(pk=gone.pk).update(status="deceased")
    gone.refresh_from_db()
    _refused("resident", services.member_add, actor=SYSTEM, branch=party.branch, resident=gone,
             joined_party_on=dt.date(2000, 1, 1))
    _refused("standing", services.member_confirm, actor=SYSTEM, member=party.wang, on=timezone.localdate())
    _refused("to", services.member_transfer_out, actor=SYSTEM, member=party.wang, on=timezone.localdate())
    _refused("date", services.member_transfer_out, actor=SYSTEM, member=party.wang, on=dt.date(2020, 1, 1), to="x")
    assert (Member.objects.count(), MemberEvent.objects.count()) == before


def test_a_transfer_is_rows_of_history(world, party):
    today = timezone.localdate()
    elders = services.branch_create(actor=SYSTEM, region=world.village, kind="branch", name="西邵村老年党支部")
    _refused("resident", services.member_transfer_out, actor=SYSTEM, member=party.zhao, on=today,
             to_branch=party.branch2)  # she does not live in 东邵村: nothing changes
    new = services.member_transfer_out(actor=SYSTEM, member=party.zhao, on=today, to_branch=elders)
    party.zhao.refresh_from_db()
    assert party.zhao.left_on == today and new.branch == elders and new.standing == "probationary"
    assert list(party.zhao.events.values_list("kind", flat=True)) == ["joined", "transfer_out"]
    assert list(new.events.values_list("kind", "other")) == [("transfer_in", "西邵村党支部")]
    _refused("ended", services.member_confirm, actor=SYSTEM, member=party.zhao, on=today)
    services.member_confirm(actor=SYSTEM, member=new, on=today)
    assert Member.objects.get(pk=new.pk).standing == "full"


def test_sessions_refuse_bad_plans(party):
    now = timezone.now()
    before = Session.objects.count()
    _refused("kind", services.session_plan, actor=SYSTEM, branch=party.branch, kind="group", title="t",
             planned_at=now)  # a 党小组会 belongs to a group
    _refused("kind", services.session_plan, actor=SYSTEM, branch=party.group_a, kind="committee", title="t",
             planned_at=now)
    _refused("kind", services.session_plan, actor=SYSTEM, branch=party.group_a, kind="party", title="t",
             planned_at=now)
    for hours in ("0", "-1", "25", "abc", "NaN", "Infinity", None):
        _refused("hours", services.session_plan, actor=SYSTEM, branch=party.group_a, kind="group", title="t",
                 planned_at=now, hours=hours)
    _refused("time", services.session_plan, actor=SYSTEM, branch=party.group_a, kind="group", title="t",
             planned_at=dt.datetime(2026, 1, 1, 10))
    with pytest.raises(ValidationError):
        services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="", planned_at=now)
    assert Session.objects.count() == before


def test_the_lifecycle_follows_the_table(party):
    session = services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="t",
                                    planned_at=timezone.now())
    _refused("transition", services.session_record, actor=SYSTEM, session=session, minutes="x")
    _refused("state", services.attendance_mark, actor=SYSTEM, session=session, member=party.wang, status="present")
    _refused("time", services.session_open, actor=SYSTEM, session=session,
             at=timezone.now() + dt.timedelta(hours=2))
    session = services.session_open(actor=SYSTEM, session=session)
    with pytest.raises(ValidationError):
        services.session_record(actor=SYSTEM, session=session, minutes="  ")
    _refused("transition", services.session_cancel, actor=SYSTEM, session=session, note="x")
    services.session_record(actor=SYSTEM, session=session, minutes="学习了")
    session.refresh_from_db()
    assert session.status == "recorded" and session.code == ""
    assert list(session.events.values_list("kind", flat=True)) == ["opened", "recorded"]


def test_roll_call_and_make_up_refuse_bad_marks(party):
    session = services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="t",
                                    planned_at=timezone.now())
    session = services.session_open(actor=SYSTEM, session=session)
    _refused("reason", services.attendance_mark, actor=SYSTEM, session=session, member=party.wang, status="excused")
    _refused("status", services.attendance_mark, actor=SYSTEM, session=session, member=party.wang, status="late")
    _refused("member", services.attendance_mark, actor=SYSTEM, session=session, member=party.zhao, status="present")
    assert not Attendance.objects.filter(session=session).exists()
    row = services.attendance_mark(actor=SYSTEM, session=session, member=party.wang, status="absent", reason="生病")
    today = timezone.localdate()
    _refused("absence", services.study_record, actor=SYSTEM, member=party.zhao, hours="1", content="补学",
             studied_on=today, absence=row)
    _refused("date", services.study_record, actor=SYSTEM, member=party.wang, hours="1", content="补学",
             studied_on=today + dt.timedelta(days=1), absence=row)
    _refused("hours", services.study_record, actor=SYSTEM, member=party.wang, hours="0", content="补学",
             studied_on=today, absence=row)
    services.study_record(actor=SYSTEM, member=party.wang, hours="1", content="补学", studied_on=today, absence=row)
    _refused("duplicate", services.study_record, actor=SYSTEM, member=party.wang, hours="1", content="补学",
             studied_on=today, absence=row)
    _refused("made_up", services.attendance_mark, actor=SYSTEM, session=session, member=party.wang,
             status="present")
    assert StudyRecord.objects.count() == 1


def test_pages_answer_bad_input_with_a_message(world, party, client):
    client.force_login(world.user("secretary"))
    url = reverse("party-branch-plan", args=[party.branch.pk])
    response = client.post(url, {"kind": "group", "title": "t", "planned_at": "2026-13-45T10:00", "hours": "1"},
                           follow=True)
    assert response.status_code == 200 and not Session.objects.exists()
    response = client.post(url, {"kind": "group", "title": "t", "planned_at": "2026-06-01T10:00", "hours": "1"},
                           follow=True)
    assert response.status_code == 200 and not Session.objects.exists()
    assert "does not hold" in response.content.decode() or "不召开" in response.content.decode()
    assert client.get(reverse("party-branch", args=[999999999999])).status_code == 404
    assert client.get("/w/party/branches/99999999999999999999999/").status_code == 404
    assert client.post(reverse("party-member-action", args=[party.wang.pk, "explode"])).status_code == 404
    response = client.post(reverse("party-member-action", args=[party.wang.pk, "study"]),
                           {"studied_on": "x", "hours": "1", "content": "c"}, follow=True)
    assert response.status_code == 200 and not StudyRecord.objects.exists()
    response = client.post(reverse("party-branch-new"), {"name": "新支部", "kind": "branch", "region": "999"})
    assert response.status_code == 404 and not Branch.objects.filter(name="新支部").exists()


def test_a_membership_moves_through_its_workflow(world, party):
    """转正, a group change and a transfer are moves of `party.member`: each leaves one event in
    the workflow's shape (states before and after) and one audit row."""
    from hemei.core.models import AuditEntry

    today = timezone.localdate()
    audits = AuditEntry.objects.filter(object_type="party.member", object_id=str(party.zhao.pk))
    before = audits.count()
    services.member_set_group(actor=SYSTEM, member=party.zhao, group=None)
    services.member_confirm(actor=SYSTEM, member=party.zhao, on=today)
    services.member_transfer_out(actor=SYSTEM, member=party.zhao, on=today, to="太原市委组织部")
    rows = list(party.zhao.events.values_list("kind", "from_state", "to_state", "other"))
    assert rows == [("joined", "", "current", ""), ("group", "current", "current", ""),
                    ("confirmed", "current", "current", ""), ("transfer_out", "current", "left", "太原市委组织部")]
    zhao = Member.objects.get(pk=party.zhao.pk)
    assert (zhao.status, zhao.standing, zhao.left_on, zhao.group) == ("left", "full", today, None)
    assert audits.count() == before + 3
    _refused("ended", services.member_set_group, actor=SYSTEM, member=zhao, group=party.group_a)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_three_clerks_transferring_one_member_at_once_transfer_once(world):
    """Each clerk read the membership as current; the workflow's conditional update lets one
    transfer through and refuses the others, so the resident is never in two registers."""
    from tests.test_contracts_concurrency import _race

    party = build_party(world)
    targets = [services.branch_create(actor=SYSTEM, region=world.village, kind="branch", name=f"第{i}党支部")
               for i in range(3)]
    turn = iter(targets)
    lock = threading.Lock()

    def transfer():
        with lock:
            target = next(turn)
        return services.member_transfer_out(actor=SYSTEM, member=Member.objects.get(pk=party.zhao.pk),
                                            on=timezone.localdate(), to_branch=target)

    results, errors = _race(3, transfer)
    assert len(results) == 1 and len(errors) == 2, errors
    assert all(isinstance(e, ValidationError) for e in errors)
    assert Member.objects.filter(resident=party.zhao.resident, status="current").count() == 1
    assert MemberEvent.objects.filter(member=party.zhao, kind="transfer_out").count() == 1

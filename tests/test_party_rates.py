"""Attendance rate and hours arithmetic, per member and per branch per year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from hemei.core.scope import SYSTEM
from hemei.party import selectors, services
from hemei.party.models import Attendance
from tests.conftest import at
from tests.partykit import build_party, held_session


def test_rate_rounds_half_up_to_one_decimal():
    assert selectors.rate(2, 3) == Decimal("66.7")
    assert selectors.rate(1, 8) == Decimal("12.5")
    assert selectors.rate(0, 4) == Decimal("0.0")
    assert selectors.rate(0, 0) is None


@pytest.fixture
def party(world):
    with time_machine.travel(at(2026, 6, 15), tick=False):
        yield build_party(world)


@pytest.fixture
def year(party):
    """Four 党小组会 of group A in 2026 (2 h each): 王建国 present at three (one by roll call),
    excused at one, which he made up (1.5 h); one more study on his own (1 h). A session of
    2025 and one still being held in 2026 without him do not count for him."""
    with time_machine.travel(at(2026, 6, 15), tick=False):
        sessions = [held_session(party.group_a, "group", at(2026, m, 10)) for m in (1, 2, 3, 4)]
        for s in sessions[:2]:
            services.attendance_mark(actor=SYSTEM, session=s, member=party.wang, status="present")
        services.attendance_mark(actor=SYSTEM, session=sessions[2], member=party.wang, status="excused",
                                 reason="外出务工")
        services.attendance_mark(actor=SYSTEM, session=sessions[3], member=party.wang, status="present")
        for s in sessions:
            services.session_record(actor=SYSTEM, session=s, minutes="学习")
        absence = Attendance.objects.get(session=sessions[2], member=party.wang)
        services.study_record(actor=SYSTEM, member=party.wang, hours="1.5", content="补学党章",
                              studied_on=dt.date(2026, 3, 20), absence=absence)
        services.study_record(actor=SYSTEM, member=party.wang, hours="1", content="自学",
                              studied_on=dt.date(2026, 5, 1))
        # 赵红梅's group: one session, she is recorded absent by the write-up.
        other = held_session(party.group_b, "group", at(2026, 5, 10))
        services.session_record(actor=SYSTEM, session=other, minutes="学习")
        yield sessions


def test_a_members_year(party, year):
    f = selectors.member_figures(party.wang, 2026)
    assert (f.expected, f.present, f.excused, f.absent, f.made_up) == (4, 3, 1, 0, 1)
    assert f.rate == Decimal("75.0") and f.rate_with_make_up == Decimal("100.0")
    assert f.session_hours == Decimal("6.0") and f.study_hours == Decimal("2.5") and f.hours == Decimal("8.5")
    assert selectors.member_figures(party.wang, 2025).rate is None


def test_the_branch_year_sums_its_groups(world, party, year):
    per_member, total = selectors.branch_figures(world.user("secretary"), party.branch, 2026)
    assert per_member[party.zhao.pk].rate == Decimal("0.0")
    assert (total.expected, total.present, total.made_up) == (5, 3, 1)
    assert total.rate == Decimal("60.0") and total.rate_with_make_up == Decimal("80.0")


def test_a_grid_worker_counts_only_their_grid(world, party, year):
    per_member, total = selectors.branch_figures(world.user("grid_b"), party.branch, 2026)
    assert set(per_member) == {party.zhao.pk}
    assert (total.expected, total.present) == (1, 0)


def test_recording_adds_the_absent_once(party, year):
    assert Attendance.objects.filter(member=party.zhao).count() == 1
    assert Attendance.objects.get(member=party.zhao).status == "absent"


def test_the_rate_changes_when_a_member_signs_in(party, year):
    """The newcomer's path of issue 17: run a 党小组会 with phone sign-in and watch the rate."""
    before = selectors.member_figures(party.zhao, 2026)
    with time_machine.travel(at(2026, 6, 15, 19), tick=False):
        session = services.session_plan(actor=SYSTEM, branch=party.group_b, kind="group", title="学习",
                                        planned_at=at(2026, 6, 15, 19))
        session = services.session_open(actor=SYSTEM, session=session)
        services.attendance_sign_in(actor=party.users["zhao"], code=session.code)
    after = selectors.member_figures(party.zhao, 2026)
    assert (before.present, before.expected, before.rate) == (0, 1, Decimal("0.0"))
    assert (after.present, after.expected, after.rate) == (1, 2, Decimal("50.0"))


def test_the_branch_page_shows_the_year(world, party, year, client):
    client.force_login(world.user("secretary"))
    page = client.get(f"/w/party/branches/{party.branch.pk}/?year=2026").content.decode()
    assert "60.0 %" in page and "王建国" in page and "赵红梅" in page
    # A bad year falls back to this year; it is no error.
    assert client.get(f"/w/party/branches/{party.branch.pk}/?year=20x6").status_code == 200

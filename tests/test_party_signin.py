"""Sign-in by the code shown in the room: valid only for its session while held and before it
expires, only for the members expected there, and idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.party import services
from hemei.party.models import Attendance, Session
from tests.partykit import build_party


@pytest.fixture
def party(world):
    return build_party(world)


def _open(branch, kind="group"):
    session = services.session_plan(actor=SYSTEM, branch=branch, kind=kind, title="学习党章", planned_at=timezone.now())
    return services.session_open(actor=SYSTEM, session=session)


def test_a_member_signs_in_with_the_code(party):
    session = _open(party.group_a)
    row = services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    assert row.member == party.wang and row.status == Attendance.Status.PRESENT and row.how == Attendance.How.CODE


def test_signing_in_twice_is_one_row(party):
    session = _open(party.group_a)
    first = services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    audits = AuditEntry.objects.filter(object_type="party.attendance").count()
    second = services.attendance_sign_in(actor=party.users["villager"], code=session.code.lower())
    assert first.pk == second.pk
    assert Attendance.objects.filter(session=session).count() == 1
    assert AuditEntry.objects.filter(object_type="party.attendance").count() == audits


def test_an_expired_code_is_refused(party):
    session = _open(party.group_a)
    later = session.code_expires_at + dt.timedelta(seconds=1)
    with pytest.raises(ValidationError) as exc:
        services.attendance_sign_in(actor=party.users["villager"], code=session.code, now=later)
    assert exc.value.code == "expired"
    assert not Attendance.objects.filter(session=session).exists()


def test_a_refreshed_code_replaces_the_old_one(party):
    session = _open(party.group_a)
    old = session.code
    session = services.session_code_refresh(actor=SYSTEM, session=session)
    assert session.code != old
    with pytest.raises(ValidationError) as exc:
        services.attendance_sign_in(actor=party.users["villager"], code=old)
    assert exc.value.code == "code"


def test_a_member_of_another_branch_is_refused(party):
    session = _open(party.group_a)
    for persona in ("zhao", "liu"):  # the other 党小组 of the same branch; another village's branch
        with pytest.raises(ValidationError) as exc:
            services.attendance_sign_in(actor=party.users[persona], code=session.code)
        assert exc.value.code == "branch"
    assert not Attendance.objects.filter(session=session).exists()


def test_a_branch_session_takes_the_members_of_its_groups(party):
    session = _open(party.branch, kind="theme_day")
    services.attendance_sign_in(actor=party.users["zhao"], code=session.code)
    services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    assert Attendance.objects.filter(session=session, status="present").count() == 2


def test_a_non_member_is_refused(world, party):
    session = _open(party.group_a)
    for user in (party.users["nonmember"], world.user("secretary")):  # a villager; staff without a resident
        with pytest.raises(ValidationError) as exc:
            services.attendance_sign_in(actor=user, code=session.code)
        assert exc.value.code == "member"


def test_a_transferred_out_member_is_refused(party):
    services.member_transfer_out(actor=SYSTEM, member=party.wang, on=timezone.localdate(), to="太原市某单位党支部")
    session = _open(party.group_a)
    with pytest.raises(ValidationError) as exc:
        services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    assert exc.value.code == "member"


@pytest.mark.parametrize("code", ["", "ABC", "0000OOOO", "ZZZZZZZZ", "'; drop table--", "x" * 500])
def test_bad_codes_are_refused(party, code):
    _open(party.group_a)
    with pytest.raises(ValidationError) as exc:
        services.attendance_sign_in(actor=party.users["villager"], code=code)
    assert exc.value.code == "code"


def test_no_sign_in_before_the_session_begins_or_after_it_is_recorded(party):
    session = services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="t",
                                    planned_at=timezone.now())
    session = services.session_open(actor=SYSTEM, session=session)
    code = session.code
    services.session_record(actor=SYSTEM, session=session, minutes="学习了党章")
    with pytest.raises(ValidationError):
        services.attendance_sign_in(actor=party.users["villager"], code=code)


def test_a_roll_call_absence_becomes_present_on_sign_in(party):
    session = _open(party.group_a)
    services.attendance_mark(actor=SYSTEM, session=session, member=party.wang, status="absent")
    row = services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    assert row.status == "present" and row.how == "code"


def test_the_phone_page_signs_in_on_post_only(party, client):
    session = _open(party.group_a)
    client.force_login(party.users["villager"])
    url = reverse("party-sign", args=[session.code])
    page = client.get(url)
    assert page.status_code == 200 and "学习党章" in page.content.decode()
    assert not Attendance.objects.filter(session=session).exists()
    assert client.post(url).status_code == 200
    assert Attendance.objects.filter(session=session, member=party.wang, status="present").count() == 1
    assert client.post(reverse("party-sign-typed"), {"code": session.code}).status_code == 200
    assert Attendance.objects.filter(session=session).count() == 1


def test_the_phone_page_explains_a_refusal(party, client):
    session = _open(party.group_a)
    client.force_login(party.users["liu"])
    response = client.post(reverse("party-sign", args=[session.code]))
    assert response.status_code == 400
    assert not Attendance.objects.filter(session=session).exists()


def test_the_secretary_sees_the_qr_code_while_it_is_valid(world, party, client):
    session = _open(party.group_a)
    client.force_login(world.user("secretary"))
    page = client.get(reverse("party-session", args=[session.pk])).content.decode()
    assert "<svg" in page and session.code in page
    Session.objects.filter(pk=session.pk).update(code_expires_at=timezone.now() - dt.timedelta(minutes=1))
    page = client.get(reverse("party-session", args=[session.pk])).content.decode()
    assert "<svg" not in page


def test_guessing_codes_is_stopped_after_ten_wrong_ones_an_hour(party, client, settings):
    """Wrong codes count per account (`party_code_fail`); the eleventh attempt is a 429 even
    with the right code, and nothing is signed in. A right code does not count."""
    from hemei.core import throttle

    settings.HEMEI_RATES_ENABLED = True
    settings.HEMEI_RATES = {}
    session = _open(party.group_a)
    client.force_login(party.users["villager"])
    url = reverse("party-sign-typed")
    limit = throttle.parse_rate(throttle.DEFAULT_RATES["party_code_fail"])[0]
    for n in range(limit):
        assert client.post(url, {"code": f"WRONG{n:03d}"}).status_code == 400
    refused = client.post(url, {"code": session.code})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert not Attendance.objects.filter(session=session).exists()
    other = party.users["zhao"]  # another account is not held up by this one's guesses
    client.force_login(other)
    assert client.post(url, {"code": "WRONG999"}).status_code == 400


def test_attendance_pages_say_present_members_and_sign_in_in_chinese(world, party, client):
    """The walk of issue 17 read 在家 ("at home") for present, 家庭成员 for the register and 登录
    ("log in") on the sign-in button: the party pages use their own words."""
    session = _open(party.group_a)
    services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    services.session_record(actor=SYSTEM, session=session, minutes="学习党章第一章", hours=1)
    client.force_login(world.user("secretary"))
    page = client.get(reverse("party-session", args=[session.pk])).content.decode()
    assert "出席 1 / 应到" in page and "在家" not in page
    assert "已记录" in page and "记录时间" not in page
    assert "会议开始" in page and "登记会议记录" in page and "opened" not in page
    branch = client.get(reverse("party-branch", args=[party.group_a.pk])).content.decode()
    assert "<h2>党员</h2>" in branch and "家庭成员" not in branch and "在家" not in branch
    client.force_login(party.users["villager"])
    mine = client.get(reverse("my-party")).content.decode()
    assert "签到</button>" in mine and "登录</button>" not in mine


def test_scanning_again_after_signing_in_says_so_without_a_second_button(party, client):
    session = _open(party.group_a)
    client.force_login(party.users["villager"])
    url = reverse("party-sign", args=[session.code])
    assert 'class="bigbutton"' in client.get(url).content.decode()  # not signed in yet: the button
    client.post(url)
    page = client.get(url)
    assert page.status_code == 200 and page.context["done"].member == party.wang
    assert '<button type="submit" class="bigbutton"' not in page.content.decode()

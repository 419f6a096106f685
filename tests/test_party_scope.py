"""Scope of party data: another village's secretary gets 404, a grid worker reads only their
grid's members, villagers only their own record; exports need the manage role in scope."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from hemei.core.scope import SYSTEM
from hemei.party import services
from hemei.party.access import access_members
from tests.partykit import build_party


@pytest.fixture
def party(world):
    return build_party(world)


@pytest.fixture
def session(party):
    s = services.session_plan(actor=SYSTEM, branch=party.group_a, kind="group", title="学习", planned_at=timezone.now())
    return services.session_open(actor=SYSTEM, session=s)


def _pages(party, session):
    return [
        reverse("party-branch", args=[party.branch.pk]),
        reverse("party-member", args=[party.wang.pk]),
        reverse("party-session", args=[session.pk]),
        reverse("party-export-members", args=[party.branch.pk]),
        reverse("party-export-attendance", args=[party.branch.pk]),
    ]


def test_another_villages_secretary_gets_404(party, session, client):
    client.force_login(party.users["secretary2"])
    for url in _pages(party, session):
        assert client.get(url).status_code == 404, url
    for url in (reverse("party-session-action", args=[session.pk, "record"]),
                reverse("party-member-action", args=[party.wang.pk, "transfer"]),
                reverse("party-branch-plan", args=[party.branch.pk])):
        assert client.post(url, {"minutes": "x", "on": "2026-01-01", "to": "x"}).status_code == 404, url
    assert party.branch.name not in client.get(reverse("party-branches")).content.decode()


def test_the_villages_secretary_and_the_township_reach_everything(world, party, session, client):
    for persona in ("secretary", "township"):
        client.force_login(world.user(persona))
        for url in _pages(party, session):
            assert client.get(url).status_code == 200, (persona, url)


def test_a_grid_worker_sees_the_branch_but_only_their_grids_members(world, party, session, client):
    client.force_login(world.user("grid_b"))
    page = client.get(reverse("party-branch", args=[party.branch.pk])).content.decode()
    assert "赵红梅" in page and "王建国" not in page
    assert client.get(reverse("party-member", args=[party.wang.pk])).status_code == 404
    assert client.get(reverse("party-member", args=[party.zhao.pk])).status_code == 200
    # No export of the register without the secretary's role, and no roll call.
    # (404: the village itself is beyond a grid post, as everywhere)
    assert client.get(reverse("party-export-members", args=[party.branch.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.attendance_mark(actor=world.user("grid_a"), session=session, member=party.wang, status="present")
    assert set(access_members(world.user("grid_a"))) == {party.wang}


def test_the_register_masks_phones_and_id_numbers(world, party, client):
    client.force_login(world.user("secretary"))
    page = client.get(reverse("party-member", args=[party.wang.pk])).content.decode()
    assert world.head_a.id_number not in page and "13800001111" not in page
    assert "138****1111" in page


def test_the_export_is_the_scope_and_masked(world, party, client):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(world.user("secretary"))
    response = client.get(reverse("party-export-members", args=[party.branch.pk]))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][1] == "姓名" and {r[1] for r in rows[1:]} == {"王建国", "赵红梅"}
    assert all(world.head_a.id_number not in str(cell) for r in rows for cell in r)
    response = client.get(reverse("party-export-attendance", args=[party.branch.pk]) + "?year=2026")
    assert response.status_code == 200


def test_members_see_their_own_record_only(world, party, session, client):
    services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    client.force_login(party.users["villager"])
    page = client.get(reverse("my-party")).content.decode()
    assert "西邵村党支部" in page and "赵红梅" not in page
    assert client.get(reverse("party-branch", args=[party.branch.pk])).status_code in (403, 404)
    client.force_login(party.users["nonmember"])
    response = client.get(reverse("my-party"))
    # Not a member: a page that says so (no record, no sign-in form), not a bare 404.
    assert response.status_code == 200
    text = response.content.decode()
    assert "西邵村党支部" not in text and 'name="code"' not in text and reverse("villager-home") in text


def test_the_api_lists_what_is_in_scope(world, party, session, client):
    services.attendance_sign_in(actor=party.users["villager"], code=session.code)
    client.force_login(party.users["secretary2"])
    assert {b["name"] for b in client.get("/api/v1/party/branches/").json()["results"]} == {"东邵村党支部"}
    assert client.get("/api/v1/party/sessions/").json()["results"] == []
    assert client.get(f"/api/v1/party/sessions/{session.pk}/").status_code == 404
    assert client.get("/api/v1/party/attendance/").json()["results"] == []
    client.force_login(world.user("secretary"))
    rows = client.get("/api/v1/party/attendance/").json()["results"]
    assert [r["name"] for r in rows] == ["王**"]
    assert client.get(f"/api/v1/party/sessions/?branch={party.group_a.pk}").json()["results"][0]["id"] == session.pk
    assert client.get("/api/v1/party/sessions/?branch=abc").status_code == 400
    client.force_login(world.user("grid_b"))
    assert client.get("/api/v1/party/attendance/").json()["results"] == []


def test_the_villager_home_links_a_members_record_only(party, client):
    client.force_login(party.users["villager"])
    assert reverse("my-party") in client.get(reverse("villager-home")).content.decode()
    client.force_login(party.users["nonmember"])
    assert reverse("my-party") not in client.get(reverse("villager-home")).content.decode()


def test_the_staff_menu_links_the_party_pages(world, client):
    client.force_login(world.user("grid_a"))
    assert reverse("party-branches") in client.get(reverse("party-branches")).content.decode()

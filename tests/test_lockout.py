"""Lockout (issue 11, item 5): the same answers for unknown and known names, locks by account
and source address together, tokens of locked or disabled accounts refused, all audited."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hemei.accounts.models import LoginLock, User
from hemei.accounts.services import token_issue, user_unlock
from hemei.cases.models import Category
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from tests.conftest import PASSWORD

STRANGER = "203.0.113.9"
OFFICE = "10.20.30.40"


def attempt(client, login, password, ip=STRANGER):
    return client.post(reverse("login"), {"login": login, "password": password}, REMOTE_ADDR=ip)


def answers(client, login, n=6):
    out = []
    for _ in range(n):
        response = attempt(client, login, "wrong-Password1")
        out.append((response.status_code, response.context["error"]))
    return out


def test_unknown_and_known_names_get_the_same_answers(world, client):
    known = answers(client, "secretary")
    unknown = answers(client, "no-such-user")
    assert known == unknown
    assert known[0] == known[3] and known[4] != known[3] and known[5] != known[4]  # counted, locked, still locked
    assert all(status == 401 for status, _error in known)
    locks = AuditEntry.objects.filter(action=AuditEntry.Action.LOCKOUT)
    assert sorted(e.actor_name for e in locks) == ["no***", "secretary"]
    assert not LoginLock.objects.filter(key__contains="no-such-user").exists()  # names are hashed


def test_a_stranger_cannot_lock_the_secretary_out_of_the_village_office(world, client):
    answers(client, "secretary", n=5)
    assert attempt(client, "secretary", PASSWORD, ip=STRANGER).status_code == 401  # locked from there
    assert attempt(client, "secretary", PASSWORD, ip=OFFICE).status_code == 302
    user = User.objects.get(username="secretary")
    assert user.locked_until is None
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOCKOUT)
    assert entry.changes["source"] == [None, STRANGER]


def test_the_lock_ends_after_its_minutes(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        answers(client, "grid1", n=5)
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert attempt(client, "grid1", PASSWORD).status_code == 302


def test_tokens_of_locked_or_disabled_accounts_are_refused(world, client):
    key = token_issue(actor=SYSTEM, user=world.user("grid_a"))
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get("/api/v1/households/", REMOTE_ADDR=STRANGER, **auth).status_code == 200
    answers(client, "grid1", n=5)  # locked from the stranger's address
    assert client.get("/api/v1/households/", REMOTE_ADDR=STRANGER, **auth).status_code == 401
    assert client.get("/api/v1/households/", REMOTE_ADDR=OFFICE, **auth).status_code == 200
    User.objects.filter(username="grid1").update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    assert client.get("/api/v1/households/", REMOTE_ADDR=OFFICE, **auth).status_code == 401
    User.objects.filter(username="grid1").update(locked_until=None, is_active=False)
    assert client.get("/api/v1/households/", REMOTE_ADDR=OFFICE, **auth).status_code == 401
    notes = list(AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED, note__startswith="token")
                 .order_by("id").values_list("note", flat=True))
    assert notes == ["token refused: locked_here", "token refused: locked", "token refused: disabled"]


@pytest.mark.usefixtures("migration_seeds")
def test_open311_refuses_a_locked_accounts_api_key(world, client):
    key = token_issue(actor=SYSTEM, user=world.user("grid_a"))
    User.objects.filter(username="grid1").update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    category = Category.objects.get(county__isnull=True, name="环境卫生")
    response = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": str(category.pk), "description": "路灯坏了",
        "address_id": world.grid_a.code})
    assert response.status_code == 403


def test_a_managers_unlock_lifts_the_locks_at_every_address(world, client):
    answers(client, "grid1", n=5)
    user_unlock(user=world.user("grid_a"), actor=SYSTEM)
    assert attempt(client, "grid1", PASSWORD).status_code == 302
    entry = AuditEntry.objects.filter(note="unlock").get()
    assert entry.changes["address_locks"][0] == 1

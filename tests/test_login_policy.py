"""MLPS level 2 login policy: password strength, lockout, idle logout, fresh sessions."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from tests.conftest import PASSWORD


def post_login(client, login, password):
    return client.post(reverse("login"), {"login": login, "password": password})


@pytest.mark.parametrize("password", ["short1A", "alllowercase", "lowerand123", "UPPER123456"])
def test_weak_passwords_are_refused(db, password):
    with pytest.raises(ValidationError):
        validate_password(password)


@pytest.mark.parametrize("password", ["Hemei-2026", "xq7Rtpz93", "abc123!@#x"])
def test_strong_passwords_pass(db, password):
    validate_password(password)


def test_staff_sign_in_by_user_name_and_villagers_by_phone(world, client):
    assert post_login(client, "grid1", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    response = post_login(client, "13800001111", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("villager-home")


def test_five_failures_lock_the_account_for_thirty_minutes(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            assert post_login(client, "grid1", "wrong-Password1").status_code == 401
        response = post_login(client, "grid1", "wrong-Password1")
        assert "locked" in response.content.decode().lower() or "锁定" in response.content.decode()
        # The right password is refused while locked.
        assert post_login(client, "grid1", PASSWORD).status_code == 401
        assert "_auth_user_id" not in client.session
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert post_login(client, "grid1", PASSWORD).status_code == 401
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert post_login(client, "grid1", PASSWORD).status_code == 302
    actions = list(AuditEntry.objects.filter(actor_name="grid1").values_list("action", flat=True))
    assert actions.count(AuditEntry.Action.LOGIN_FAILED) >= 6
    assert AuditEntry.Action.LOCKOUT in actions
    assert AuditEntry.Action.LOGIN in actions


def test_a_success_resets_the_failure_count(world, client):
    for _ in range(4):
        post_login(client, "grid1", "wrong-Password1")
    assert post_login(client, "grid1", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        post_login(client, "grid1", "wrong-Password1")
    assert post_login(client, "grid1", PASSWORD).status_code == 302


def test_unknown_users_get_the_same_answer_and_an_audit_row(world, client):
    response = post_login(client, "nobody", "wrong-Password1")
    assert response.status_code == 401
    assert AuditEntry.objects.filter(action="login_failed", actor_name="no***").exists()


def test_failed_phone_logins_never_store_the_phone(world, client):
    post_login(client, "13800001111", "wrong-Password1")  # the villager's phone
    post_login(client, "13999998888", "wrong-Password1")  # nobody's phone
    rows = AuditEntry.objects.filter(action="login_failed")
    assert [r.actor_name for r in rows.order_by("id")] == ["villager", "139****8888"]
    assert "13999998888" not in str(list(rows.values()))


def test_login_rows_reach_the_county_audit_log(world, client):
    post_login(client, "grid1", PASSWORD)
    entry = AuditEntry.objects.get(action="login", actor_name="grid1")
    assert entry.county_code == "140110"
    client.force_login(world.user("county"))
    assert "grid1" in client.get(reverse("audit-log") + "?action=login").content.decode()


def test_login_starts_a_new_session_and_logout_ends_it(world, client):
    client.get(reverse("login"))
    client.session["probe"] = 1
    before = client.session.session_key
    post_login(client, "grid1", PASSWORD)
    after = client.session.session_key
    assert after and after != before
    assert client.get(reverse("workbench")).status_code == 200
    client.post(reverse("logout"))
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=after).exists()
    assert client.get(reverse("workbench")).status_code == 302


def test_idle_sessions_end_after_thirty_minutes(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post_login(client, "grid1", PASSWORD)
        assert client.get(reverse("workbench")).status_code == 200
    # Activity keeps the session alive ...
    with time_machine.travel(start + dt.timedelta(minutes=25), tick=False):
        assert client.get(reverse("workbench")).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=50), tick=False):
        assert client.get(reverse("workbench")).status_code == 200
    # ... and 31 idle minutes end it.
    with time_machine.travel(start + dt.timedelta(minutes=81), tick=False):
        assert client.get(reverse("workbench")).status_code == 302


def test_api_token_authentication(world, client):
    from hemei.accounts.services import token_issue

    key = token_issue(actor=SYSTEM, user=world.user("grid_a"))
    response = client.get("/api/v1/households/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [world.house_a.pk]
    assert client.get("/api/v1/households/", HTTP_AUTHORIZATION="Token wrong").status_code == 401

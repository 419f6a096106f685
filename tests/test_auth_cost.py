"""Authentication and permissions cost a small constant: the posts and every permission
(direct and through groups) load once per request in two queries, whatever the groups hold."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from hemei.core.scope import scope_for
from tests.conftest import World


def _whoami(user: Any) -> int:
    token, _ = Token.objects.get_or_create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/whoami/").status_code == 200
    return len(queries.captured_queries)


def _groups(user: Any, n: int) -> None:
    perms = list(Permission.objects.order_by("pk")[:200])
    for i in range(n):
        group = Group.objects.create(name=f"g{user.pk}-{i}")
        group.permissions.set(perms[i * 40 : (i + 1) * 40])
        user.groups.add(group)


def test_whoami_costs_the_same_for_a_user_in_many_groups(world: World) -> None:
    plain = _whoami(world.user("grid_a"))
    _groups(world.user("grid_b"), 5)
    assert _whoami(world.user("grid_b")) == plain
    assert plain <= 6  # token and user, lock check, posts, permissions, the regions listed


def test_a_permission_through_a_group_counts_once_loaded(world: World) -> None:
    user = world.user("grid_a")
    assert not scope_for(user).can_reveal
    group = Group.objects.create(name="revealers")
    group.permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    user.groups.add(group)
    fresh = type(user).objects.get(pk=user.pk)  # the scope is per request (per user object)
    scope = scope_for(fresh)
    assert scope.can_reveal and scope.has_permission("regions.reveal_personal_data")
    assert not scope.has_permission("core.view_auditentry")


def test_templates_perms_come_from_the_scope(world: World, login: Any) -> None:
    user = world.user("grid_a")
    client = login(user)
    assert "/w/audit/" not in client.get("/w/").content.decode()
    user.user_permissions.add(Permission.objects.get(codename="view_auditentry", content_type__app_label="core"))
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/w/").content.decode()
    assert "/w/audit/" in page
    assert sum("auth_permission" in q["sql"] for q in queries.captured_queries) == 1

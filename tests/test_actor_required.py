"""Every service of every app refuses a missing or anonymous actor before it reads anything.

The services are found, not listed: every public function with an `actor` parameter in an
app's service modules. Each is called with `actor=None` and with an AnonymousUser and every
other argument None; a service that forgot `require_actor(actor)` trips over its other
arguments (or succeeds) instead of raising PermissionDenied, and fails here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from hemei.accounts import services as accounts_services
from hemei.core.scope import SYSTEM, require_actor, system
from hemei.regions.services import posts as services_posts
from hemei.regions.services import register as services_register

APPS = ["regions", "accounts", "notify", "cases", "visits", "points", "disclosure", "contracts", "assets", "meetings",
        "stars", "courtyard", "care", "indicators", "devices", "services", "policies"]
# Modules that hold no services: pages, the API, declarations, demo data and helpers that
# take an actor to label or look up, not to act for.
NOT_SERVICES = {"views", "api", "urls", "admin", "apps", "forms", "models", "access", "serializers", "filters",
                "selectors", "demo", "testing", "idempotency", "migrations", "management", "templatetags",
                "open311", "context", "widgets", "tasks", "signals"}


def _modules(app: str) -> list[str]:
    package = importlib.import_module(f"hemei.{app}")
    names = []
    for info in pkgutil.walk_packages(package.__path__, f"hemei.{app}."):
        parts = set(info.name.split(".")[2:])
        if parts & NOT_SERVICES or any(p.startswith(("views", "demo", "api")) for p in parts):
            continue
        names.append(info.name)
    return names


def _services() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for app in APPS:
        for name in _modules(app):
            module = importlib.import_module(name)
            for attr, fn in vars(module).items():
                if attr.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != name:
                    continue
                if "actor" in inspect.signature(fn).parameters:
                    found.append((f"{name.removeprefix('hemei.')}.{attr}", fn))
    return found


SERVICES = _services()


def test_every_app_has_services_found():
    apps = {name.split(".")[0] for name, _fn in SERVICES}
    assert apps == set(APPS)
    assert len(SERVICES) > 100


def _call(fn: Callable[..., Any], actor: Any) -> Any:
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is param.empty:
            kwargs[param.name] = None
    kwargs["actor"] = actor
    return fn(**kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", [None, AnonymousUser()], ids=["none", "anonymous"])
@pytest.mark.parametrize(("name", "fn"), SERVICES, ids=[name for name, _fn in SERVICES])
def test_service_refuses_no_actor(name, fn, actor):
    with pytest.raises(PermissionDenied):
        _call(fn, actor)


def test_inactive_users_are_refused_and_the_system_passes(world):
    user = world.user("secretary")
    user.is_active = False
    with pytest.raises(PermissionDenied):
        require_actor(user)
    require_actor(SYSTEM)
    require_actor(system("sweep"))


def test_no_service_defaults_its_actor():
    """Every caller names who acts: a default (SYSTEM, None) would let a page or an import act
    as the system by forgetting the argument."""
    defaulted = [name for name, fn in SERVICES if inspect.signature(fn).parameters["actor"].default
                 is not inspect.Parameter.empty]
    assert defaulted == []
    for fn in (services_register.region_create, services_posts.post_assign, accounts_services.user_create,
               accounts_services.token_issue):  # the builders every test and demo uses
        assert (fn.__module__, fn.__name__) in {(f.__module__, f.__name__) for _n, f in SERVICES}

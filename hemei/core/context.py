from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hemei.core.scope import Scope
from hemei.regions.access import scope_for
from hemei.regions.models import Role

# Which menu entries a post's role makes useful: a link that would answer 404 for every
# village in the user's scope is not shown. Data, not template logic, so a test can check
# each entry against the page's own access rule.
_COMMITTEE = {Role.SECRETARY, Role.DIRECTOR, Role.COMMITTEE}
_ABOVE = {Role.TOWNSHIP_STAFF, Role.COUNTY_DISPATCHER, Role.COUNTY_ADMIN, "superuser"}
NAV_ROLES: dict[str, frozenset[str]] = {
    "finance": frozenset(_COMMITTEE | _ABOVE | {Role.ACCOUNTANT, Role.SUPERVISION}),
    "points_rules": frozenset(_COMMITTEE | _ABOVE),
    "shop": frozenset(_COMMITTEE | {Role.SHOP_KEEPER}),
    "shop_stats": frozenset(_COMMITTEE | _ABOVE | {Role.SHOP_KEEPER}),
}


class _AppPerms:
    def __init__(self, scope: Scope, app: str) -> None:
        self.scope, self.app = scope, app

    def __getitem__(self, codename: str) -> bool:
        return self.scope.has_permission(f"{self.app}.{codename}")

    def __bool__(self) -> bool:
        return self.scope.everything or any(p.startswith(self.app + ".") for p in self.scope.permissions)


class ScopePerms:
    """`perms` in templates, answered from the permissions loaded with the scope (Django's
    `PermWrapper` asks every backend, which walks the user's groups)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __getitem__(self, app: str) -> _AppPerms:
        return _AppPerms(self.scope, app)

    def __iter__(self) -> Any:
        return iter(())  # like PermWrapper: not iterable in templates

    def __contains__(self, name: str) -> bool:
        if "." not in name:
            return bool(self[name])
        return self.scope.has_permission(name)


def hemei_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    nav = {key: bool(scope.roles & roles) for key, roles in NAV_ROLES.items()}
    return {"hemei_scope": scope, "is_staff_scope": scope.is_staff_scope, "nav": nav, "perms": ScopePerms(scope)}

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

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


def hemei_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    nav = {key: bool(scope.roles & roles) for key, roles in NAV_ROLES.items()}
    return {"hemei_scope": scope, "is_staff_scope": scope.is_staff_scope, "nav": nav}

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hemei.regions.access import scope_for


def hemei_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    return {"hemei_scope": scope, "is_staff_scope": scope.is_staff_scope}

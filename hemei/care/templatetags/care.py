"""`{% care_call_button %}`: the one-key call on the villager's phone page, for a household
with an elder who has no call box (one with a box presses the box)."""

from __future__ import annotations

import uuid
from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("care/_call_button.html", takes_context=True)
def care_call_button(context: dict[str, Any]) -> dict[str, Any]:
    from hemei.care.views import villager_elder

    request = context.get("request")
    elder = villager_elder(request.user) if request is not None else None
    if elder is not None and elder.has_call_box:
        elder = None
    # A fresh key per page view: a double tap sends the same key and opens one work order.
    return {"elder": elder, "key": uuid.uuid4().hex, "csrf_token": context.get("csrf_token")}

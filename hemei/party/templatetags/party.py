"""`{% party_tile %}`: the "my party record" tile on a villager's phone home page, shown only
to a resident who is in a branch's register."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("party/_tile.html", takes_context=True)
def party_tile(context: dict[str, Any]) -> dict[str, Any]:
    from hemei.party.services import memberships_of

    request = context.get("request")
    member = request is not None and memberships_of(request.user).exists()
    return {"member": member}

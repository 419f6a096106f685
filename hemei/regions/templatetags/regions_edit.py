"""Template helpers for the workbench edit pages, so read-only views need no extra context.

`{% can_write_region region as flag %}` shows "add household" only to writers;
`{% resident_tags_form resident %}` renders the tags card of the resident edit page.
"""

from __future__ import annotations

from typing import Any

from django import template

from hemei.regions.forms import ResidentTagsForm
from hemei.regions.models import Region, Resident
from hemei.regions.views_edit import can_write_region as _can_write_region

register = template.Library()


@register.simple_tag(takes_context=True)
def can_write_region(context: template.Context, region: Region | None) -> bool:
    request = context.get("request")
    return request is not None and _can_write_region(request.user, region)


@register.inclusion_tag("regions/_resident_tags_form.html", takes_context=True)
def resident_tags_form(context: template.Context, resident: Resident) -> dict[str, Any]:
    return {"form": ResidentTagsForm(resident=resident), "resident": resident,
            "csrf_token": context.get("csrf_token")}

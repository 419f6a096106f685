"""`{% pager page %}`: the shared pager with the current filters kept (hemei.core.paging)."""

from __future__ import annotations

from typing import Any

from django import template

from hemei.core.paging import query_without_page

register = template.Library()


@register.inclusion_tag("_pager.html", takes_context=True)
def pager(context: Any, page: Any) -> dict[str, Any]:
    request = context.get("request")
    return {"page": page, "pager_query": query_without_page(request) if request is not None else ""}

"""`{% inbox_badge %}`: the unread count next to the inbox link, at most one query a request."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from hemei.notify.services import unread_count

register = template.Library()

BADGE_MAX = 99


def request_unread_count(request: Any) -> int:
    """The signed-in user's unread count, computed once per request and kept on it."""
    if request is None:
        return 0
    cached = getattr(request, "_hemei_unread", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = unread_count(user) if user is not None and user.is_authenticated else 0
        request._hemei_unread = cached
    return cached


@register.simple_tag(takes_context=True)
def inbox_badge(context: Any) -> str:
    n = request_unread_count(context.get("request"))
    if not n:
        return ""
    shown = f"{BADGE_MAX}+" if n > BADGE_MAX else str(n)
    return format_html(
        '<span class="badge" title="{}" style="display:inline-block;min-width:1.4em;padding:0 .35em;'
        'border-radius:1em;background:#fff;color:#b71c1c;font-weight:bold;font-size:.8em;text-align:center">{}</span>',
        _("%(n)d unread") % {"n": n},
        shown,
    )

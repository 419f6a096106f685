"""`{{ text|redact_pii }}`: free text in lists and boards, masked by the one detector."""

from __future__ import annotations

from django import template

from hemei.core.pii import redact

register = template.Library()


@register.filter
def redact_pii(value: object) -> str:
    return redact(str(value) if value is not None else "")

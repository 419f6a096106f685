"""`{{ entry|audit_sentence }}`: an audit row in plain words (hemei.core.plain)."""

from __future__ import annotations

from typing import Any

from django import template

from hemei.core import plain

register = template.Library()


@register.filter
def audit_sentence(entry: Any) -> str:
    return plain.audit_sentence(entry)

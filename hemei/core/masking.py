"""Masking of personal data (GB/T 35273 practice): done on the server, never in templates."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """First 6 + last 4: 110105********002X."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """3 + 4: 138****1234."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """For public boards: keep the surname (张*, 欧阳**)."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)

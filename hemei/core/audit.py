"""The one writer of audit rows."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.db import models
from django.http import HttpRequest

from hemei.core.models import AuditEntry
from hemei.core.scope import is_system


def _user_of(actor: Any) -> Any:
    """The user row behind an actor: none for the SYSTEM actor or an anonymous caller."""
    if is_system(actor):
        return None
    return actor if getattr(actor, "is_authenticated", False) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, decimal.Decimal)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    ip = request.META.get("REMOTE_ADDR")
    return ip or None


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    county_code: str = "",
    changes: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one audit row. `changes` maps field → [old, new] (or any JSON detail)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        county_code = county_code or str(getattr(obj, "county_code", "") or "")
    user = _user_of(actor)
    return AuditEntry.objects.create(
        actor=user,
        actor_name=(user.get_username() if user else str(actor or ""))[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        county_code=county_code[:6],
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
        ip=client_ip(request),
        note=note[:300],
    )


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Field-by-field [old, new] for the fields that changed."""
    return {
        key: [_jsonable(old.get(key)), _jsonable(new.get(key))]
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }


def audit_record_many(*, actor: Any, action: str, object_type: str, county_code: str,
                      items: list[tuple[str, str, dict[str, Any]]], note: str = "") -> int:
    """Append one audit row per (object id, object repr, changes) in bulk: an import that
    changes thousands of residents records each change without a query per row."""
    user = _user_of(actor)
    name = (user.get_username() if user else str(actor or ""))[:150]
    rows = [
        AuditEntry(actor=user, actor_name=name, action=action, object_type=object_type, object_id=object_id,
                   object_repr=object_repr[:200], county_code=county_code[:6],
                   changes={k: _jsonable(v) for k, v in changes.items()}, note=note[:300])
        for object_id, object_repr, changes in items
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=2000)
    return len(rows)

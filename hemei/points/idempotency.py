"""Idempotency keys for every ledger and shop write (ARCHITECTURE rule 4).

`remembered(...)` runs a write once per (owner, key): the key row is inserted first, in the
write's own transaction, so a concurrent second call with the same key waits on the unique
index until the first commits and then replays its result instead of writing twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from hemei.points.models import IdempotencyKey

M = TypeVar("M", bound=models.Model)


class IdempotencyConflict(ValidationError):
    """The key was used before with another payload."""


def owner_of(actor: Any) -> str:
    return f"user:{actor.pk}" if getattr(actor, "is_authenticated", False) else "system"


def payload_hash(operation: str, payload: dict[str, Any]) -> str:
    text = json.dumps({"op": operation, **payload}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _replay[M: models.Model](row: IdempotencyKey, operation: str, digest: str, model: type[M]) -> list[M]:
    if row.operation != operation or row.payload_hash != digest:
        raise IdempotencyConflict(_("This key was already used for a different request."), code="conflict")
    objs = {o.pk: o for o in model._default_manager.filter(pk__in=row.result_ids)}
    return [objs[pk] for pk in row.result_ids if pk in objs]


def remembered[M: models.Model](
    *, actor: Any, key: str, operation: str, payload: dict[str, Any], model: type[M], write: Callable[[], Sequence[M]]
) -> tuple[list[M], bool]:
    """(results, replayed). Must be called inside the write's transaction."""
    key = (key or "").strip()
    if not key:
        raise ValidationError(_("Every write needs an idempotency key."), code="key")
    if len(key) > 100:
        raise ValidationError(_("The idempotency key is longer than 100 characters."), code="key")
    owner = owner_of(actor)
    digest = payload_hash(operation, payload)
    existing = IdempotencyKey.objects.filter(owner=owner, key=key).first()
    if existing is not None:
        return _replay(existing, operation, digest, model), True
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(
                owner=owner, key=key, operation=operation, payload_hash=digest, result_type=model._meta.label_lower
            )
    except IntegrityError:
        # Someone committed the same key meanwhile: replay theirs.
        return _replay(IdempotencyKey.objects.get(owner=owner, key=key), operation, digest, model), True
    results = list(write())
    row.result_ids = [r.pk for r in results]
    row.save(update_fields=["result_ids"])
    return results, False

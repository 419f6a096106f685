"""Idempotency keys for every write that a client may repeat (ARCHITECTURE rule 4): ledger and
shop writes, courtyard and star reviews, asset projects, trusteeship, case submissions.

`remembered(...)` runs a write once per (owner, key):

1. the same key with the same operation and payload returns the first write's results again
   and changes nothing; another payload under the key is an `IdempotencyConflict` (409 in the
   API);
2. the key row is inserted first, in the write's own transaction, so a concurrent second call
   with the same key waits on the unique index until the first commits, then replays its result
   (or, if the first rolled back, does the write itself) instead of writing twice;
3. each returned object carries `created` (True only for the call that made it, False for a
   replay): callers answer 201 or 200 from it, never from a check made before the call, which a
   concurrent replay would race past.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from hemei.core.models import IdempotencyKey

KEY_MAX = 100  # IdempotencyKey.key max_length


class IdempotencyConflict(ValidationError):
    """The key was used before with another payload."""


def owner_of(actor: Any) -> str:
    return f"user:{actor.pk}" if getattr(actor, "is_authenticated", False) else "system"


def payload_hash(operation: str, payload: dict[str, Any]) -> str:
    text = json.dumps({"op": operation, **payload}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def created(obj: Any) -> bool:
    """Whether `obj` (a result of `remembered`) was made by this call rather than replayed."""
    return bool(getattr(obj, "created", False))


def _mark[M: models.Model](results: list[M], *, made: bool) -> list[M]:
    for obj in results:
        obj.created = made  # type: ignore[attr-defined]
    return results


def _replay[M: models.Model](row: IdempotencyKey, operation: str, digest: str, model: type[M]) -> list[M]:
    if row.operation != operation or row.payload_hash != digest:
        raise IdempotencyConflict(_("This key was already used for a different request."), code="conflict")
    objs = {o.pk: o for o in model._default_manager.filter(pk__in=row.result_ids)}
    return _mark([objs[pk] for pk in row.result_ids if pk in objs], made=False)


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not key:
        raise ValidationError(_("Every write needs an idempotency key."), code="key")
    if len(key) > KEY_MAX:
        raise ValidationError(_("The idempotency key is longer than 100 characters."), code="key")
    return key


def remembered[M: models.Model](
    *, actor: Any, key: str, operation: str, payload: dict[str, Any], model: type[M], write: Callable[[], Sequence[M]]
) -> tuple[list[M], bool]:
    """(results, replayed). Must be called inside the write's transaction."""
    if not transaction.get_connection().in_atomic_block:
        # Outside one, the key row would commit alone and a failed write leave it naming nothing.
        raise RuntimeError("remembered() runs inside the write's transaction (@transaction.atomic)")
    key = check_key(key)
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
    return _mark(results, made=True), False

"""Version keys for cached pages: one small mechanism for "invalidate when what it shows changes".

A cached page (the public village board) names the *topics* it shows ("cases", "points", …)
and the *places* they are kept for (a village's id, or its county's). Every writer of those
things bumps the topic's version for the place in the same transaction (`touch`), so:

1. a reader fetches the versions of all its topics in one indexed query (`versions`),
2. builds its cache key from them (`cache_key`), and reuses a rendering made under the same
   versions; a write commits the new version together with the new rows, so after the commit
   no reader can hit a rendering made before it.

The counters live in the database (`core.Freshness`), not in the cache, so every web worker
and the task worker agree on them whatever cache backend runs (the default local-memory cache is
per process). Writers reach `touch` three ways: models registered with `track()` bump on
`save()`/`delete()` (signals) and on every `hemei.core.workflow.transition()`/`record()`;
services that write with `bulk_create()` or `update()` call `touch()` themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models.signals import post_delete, post_save

from hemei.core.models import Freshness

PlaceOf = Callable[[Any], int | None]


@dataclass(frozen=True)
class Tracked:
    topic: str
    place: PlaceOf


TRACKED: dict[type[models.Model], Tracked] = {}


def _village_of(obj: Any) -> int | None:
    return getattr(obj, "village_id", None)


def touch(topic: str, *place_ids: int | None) -> None:
    """Bump `topic` for each place: one upsert (SQLite and PostgreSQL share the syntax).
    Raw SQL because the ORM's upsert cannot add to the stored value."""
    ids = sorted({int(p) for p in place_ids if p is not None})
    if not ids:
        return
    table = Freshness._meta.db_table
    rows = ", ".join(["(%s, %s, 1)"] * len(ids))
    params: list[Any] = []
    for pk in ids:
        params += [topic, pk]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (topic, place_id, n) VALUES {rows} "  # noqa: S608 - fixed identifiers
            f"ON CONFLICT (place_id, topic) DO UPDATE SET n = {table}.n + 1",
            params,
        )


def touched(obj: models.Model) -> None:
    """Bump the topic of a tracked model's row (no-op for models nobody caches)."""
    tracked = TRACKED.get(type(obj))
    if tracked is not None:
        touch(tracked.topic, tracked.place(obj))


def _on_write(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loading a fixture (restore): nothing is cached yet
        return
    touched(instance)


def track(model: type[models.Model], topic: str, *, place: PlaceOf = _village_of) -> None:
    """Bump `topic` whenever a row of `model` is saved, deleted or moved through its workflow.
    `place` gives the row's place id (default: its `village_id`)."""
    TRACKED[model] = Tracked(topic, place)
    uid = f"freshness:{model._meta.label}"
    post_save.connect(_on_write, sender=model, dispatch_uid=uid + ":save", weak=False)
    post_delete.connect(_on_write, sender=model, dispatch_uid=uid + ":delete", weak=False)


def versions(place_ids: Iterable[int]) -> dict[tuple[str, int], int]:
    """Every topic's version for the places, in one query. A fixed statement, not the ORM:
    a cached board page is this read and a cache hit, and building the query took longer
    than running it."""
    ids = [int(p) for p in place_ids]
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT topic, place_id, n FROM {Freshness._meta.db_table} "  # noqa: S608 - fixed identifiers
            f"WHERE place_id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        return {(topic, place): n for topic, place, n in cursor.fetchall()}


def cache_key(prefix: str, known: dict[tuple[str, int], int], topics: Iterable[tuple[str, int]], *parts: Any) -> str:
    """`prefix:<digest of parts and versions>` for the (topic, place) pairs a rendering
    depends on (a digest: parts may hold any text a visitor typed)."""
    stamp = ".".join(f"{t}@{p}={known.get((t, p), 0)}" for t, p in topics)
    digest = hashlib.sha256("\x1f".join([*(str(p) for p in parts), stamp]).encode()).hexdigest()[:32]
    return f"{prefix}:{digest}"

"""`hemei verify` invariants of star changes: the cached current stars are the replay of the
append-only 挂星 / 摘星 history, and the history itself never grants a held star or withdraws
one that is not held."""

from __future__ import annotations

from django.db import connection

from hemei.core.verify import LIMIT, invariant
from hemei.stars.models import HouseholdStar, StarChange


@invariant("stars-current")
def check_current_stars() -> list[str]:
    problems: list[str] = []
    held: dict[tuple[int, int], bool] = {}
    rows = StarChange.objects.order_by("pk").values_list("pk", "household_id", "star_id", "kind")
    for pk, household_id, star_id, kind in rows.iterator(chunk_size=5000):
        key = (household_id, star_id)
        if kind == StarChange.Kind.GRANT:
            if held.get(key):
                problems.append(f"star change {pk}: household {household_id} already held star {star_id}")
            held[key] = True
        else:
            if not held.get(key):
                problems.append(f"star change {pk}: household {household_id} did not hold star {star_id}")
            held[key] = False
    derived = {key for key, on in held.items() if on}
    cached = set(HouseholdStar.objects.values_list("household_id", "star_id"))
    for household_id, star_id in sorted(derived - cached)[:LIMIT]:
        problems.append(f"household {household_id}: star {star_id} held by its history but missing in the cache")
    for household_id, star_id in sorted(cached - derived)[:LIMIT]:
        problems.append(f"household {household_id}: star {star_id} cached but not held by its history")
    return problems[:LIMIT]


@invariant("stars-history-guard")
def check_history_guard() -> list[str]:
    """The database triggers that refuse changing star history are present."""
    problems: list[str] = []
    for table in ("stars_starchange", "stars_starroundstep"):
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name=%s", [table])
            elif connection.vendor == "postgresql":
                cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                               [table])
            else:
                return problems
            names = {row[0] for row in cursor.fetchall()}
        if f"{table}_immutable" not in names:
            problems.append(f"{table} has no database guard against changing history")
    return problems

"""Batch sizes and bulk writes shared by the import (and the export's reads).

`FastInsert` is a deliberate, contained exception to "no raw SQL outside selectors"
(docs/roster.md, Performance): its statement is built from the model's metadata only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connections, models, router

ID_LOOKUP_CHUNK = 5000  # below SQLite's bound-parameter limit, few round trips for 100k
WRITE_BATCH = 2000
# bulk_update writes CASE WHEN pk=… per field; its cost grows with the square of the batch.
UPDATE_BATCH = 250


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# Field types whose Python value is already what every database driver takes.
_PLAIN_TYPES = frozenset({
    "CharField", "TextField", "ForeignKey", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField",
})


class FastInsert:
    """INSERT many rows of one model in few, short statements.

    Why not bulk_create: for 100k residents on SQLite, Django's bulk_create spent about 13
    of its 14 seconds compiling SQL value by value (the database itself took one), which
    alone broke the import's goal of at most 3x a bare openpyxl read. The statement here is
    still built from the model's metadata (table, columns, quoting, column types), values
    still pass through each field's get_db_prep_save (cached per distinct value: dates and
    flags repeat), and every field the import does not set gets its model default (computed
    once per import). Like bulk_create it sends no signals; it returns no primary keys, so
    callers look up what they need afterwards.

    - SQLite (and other backends): multi-row VALUES, within the bound-parameter limit.
    - PostgreSQL: one array per column through UNNEST, as Django's own bulk_create does
      there; a long VALUES list would be re-parsed by psycopg on every call.
    """

    def __init__(self, model: type[models.Model], given: tuple[str, ...]) -> None:
        self.connection = connections[router.db_for_write(model)]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_attname = {f.attname: f for f in fields}
        self.given = [by_attname[name] for name in given]
        self.rest = [f for f in fields if f.attname not in set(given)]
        self.defaults = tuple(
            f.get_db_prep_save(f.get_default(), self.connection) for f in self.rest
        )
        self.caches: list[dict[Any, Any] | None] = [
            None if f.get_internal_type() in _PLAIN_TYPES else {} for f in self.given
        ]
        quote = self.connection.ops.quote_name
        ordered = [*self.given, *self.rest]
        # Identifiers come from the model's metadata (quoted); every value is a parameter.
        insert = "INSERT INTO {} ({}) ".format(
            quote(model._meta.db_table), ", ".join(quote(str(f.column)) for f in ordered)
        )
        self.unnest = self.connection.vendor == "postgresql"
        if self.unnest:
            arrays = ", ".join(f"%s::{f.db_type(self.connection)}[]" for f in ordered)
            self.sql = insert + f"SELECT * FROM UNNEST({arrays})"  # noqa: S608
        else:
            self.sql = insert + "VALUES "
        self.row_marks = "(" + ", ".join(["%s"] * len(ordered)) + ")"
        max_params = self.connection.features.max_query_params or 65535
        self.rows_per_statement = max(1, min(1000, (max_params - 1) // len(ordered)))

    def _prep(self, index: int, value: Any) -> Any:
        cache = self.caches[index]
        if cache is None:
            return value
        try:
            return cache[value]
        except KeyError:
            prepared = cache[value] = self.given[index].get_db_prep_save(value, self.connection)
            return prepared

    def execute(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        converting = [i for i, cache in enumerate(self.caches) if cache is not None]
        with self.connection.cursor() as cursor:
            if self.unnest:
                columns = [list(column) for column in zip(*rows, strict=True)]
                for i in converting:
                    columns[i] = [self._prep(i, v) for v in columns[i]]
                columns.extend([value] * len(rows) for value in self.defaults)
                cursor.execute(self.sql, columns)
                return
            for chunk in chunks(rows, self.rows_per_statement):
                params: list[Any] = []
                for row in chunk:
                    values = list(row)
                    for i in converting:
                        values[i] = self._prep(i, values[i])
                    params.extend(values)
                    params.extend(self.defaults)
                cursor.execute(self.sql + ", ".join([self.row_marks] * len(chunk)), params)

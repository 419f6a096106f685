"""What a case costs to write: the query count of a submission through the service, pinned so
that it cannot creep up (the calendar comes from the cache; the notifications go out after
the commit in the background task)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from hemei.cases.models import Category
from hemei.cases.services import case_submit
from tests.conftest import World

# Measured on SQLite and PostgreSQL with a warm calendar cache, counting the savepoint and its
# release (goal of issue 16: 8): the county, the counter (locked), its update, the case, its
# event, the recipients and their notification, the freshness version (twice: the insert's
# signal and the event's), the audit row.
CASE_SUBMIT_QUERIES = 12


def _submit(world: World, title: str, key: str = "") -> int:
    category = Category.objects.filter(county__isnull=True).first()
    assert category is not None
    with CaptureQueriesContext(connection) as queries:
        case_submit(actor=world.user("villager"), region=world.grid_a, category=category, title=title,
                    description="村口路灯不亮", source="villager", household=world.house_a, reporter=world.head_a,
                    idempotency_key=key)
    return len(queries.captured_queries)


def test_a_case_submission_costs_a_pinned_number_of_queries(world: World, migration_seeds: Any) -> None:
    _submit(world, "第一件")  # warms the calendar cache
    n = _submit(world, "第二件")
    assert not any("core_calendarday" in q["sql"] for q in connection.queries[-n:] if connection.queries)
    assert n == CASE_SUBMIT_QUERIES, n
    assert _submit(world, "第三件") == n

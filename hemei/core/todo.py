"""待办: what is due for one user, gathered from every app through one small registry.

A grid worker's (and a carer's, a secretary's) home page is this list. Each app that gives
people deadlines registers one source with `@todo_source("name")` in its `todo.py` (imported
from its AppConfig.ready): a function `(user, now) -> [TodoItem]` that returns only what the
user may act on (scoped the app's own way) and costs a bounded number of queries. `todo_for`
runs them all and orders the result: overdue first (longest late at the top), then by deadline,
items without a deadline last. The cases, visits, monitoring and points apps are the first
sources; eldercare adds its work orders the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from hemei.core.scope import scope_for


@dataclass(frozen=True)
class TodoItem:
    """One thing to do: a title in plain words, the one-tap link, and its deadline."""

    kind: str  # the source's name: "case", "visit", "monitoring", "points", ...
    title: str  # what to do, in words people use ("受理：路灯不亮")
    url: str  # where the action is, one tap away
    due: dt.datetime | None  # the deadline; None = no deadline (shown last)
    action: str = ""  # the verb on the item's button ("受理", "办结", "走访")
    detail: str = ""  # one short line: place, household, number

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.due is not None and self.due < now

    def is_due_today(self, now: dt.datetime) -> bool:
        if self.due is None or self.due < now:
            return False
        return timezone.localtime(self.due).date() <= timezone.localtime(now).date()


TodoSource = Callable[[Any, dt.datetime], Iterable[TodoItem]]
SOURCES: dict[str, TodoSource] = {}
_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


def todo_source(name: str) -> Callable[[TodoSource], TodoSource]:
    """Register `fn(user, now) -> [TodoItem]` under `name` (import the module in AppConfig.ready)."""

    def register(fn: TodoSource) -> TodoSource:
        SOURCES[name] = fn
        return fn

    return register


def sort_key(item: TodoItem) -> tuple[dt.datetime, str, str]:
    # Ascending deadline puts overdue items first, the longest late at the top.
    return (item.due or _FAR, item.kind, item.title)


def todo_for(user: Any, now: dt.datetime | None = None) -> list[TodoItem]:
    """Everything due for `user`, overdue first, then by deadline. Staff only: a villager's
    or an outsider's list is empty (their pages say what they can do)."""
    if not scope_for(user).is_staff_scope:
        return []
    now = now or timezone.now()
    items: list[TodoItem] = []
    for source in SOURCES.values():
        items.extend(source(user, now))
    return sorted(items, key=sort_key)


@dataclass(frozen=True)
class TodoGroups:
    overdue: list[TodoItem]
    today: list[TodoItem]
    later: list[TodoItem]

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.later)


def grouped(items: list[TodoItem], now: dt.datetime) -> TodoGroups:
    """The home page's three headings: 已逾期, 今天到期, 以后."""
    overdue = [i for i in items if i.is_overdue(now)]
    today = [i for i in items if i.is_due_today(now)]
    later = [i for i in items if not i.is_overdue(now) and not i.is_due_today(now)]
    return TodoGroups(overdue, today, later)

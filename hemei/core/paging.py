"""Paging for every list (issue 15: no list page of more than 50 rows): one helper and one
partial (`templates/_pager.html`, with the current filters kept in the links)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeGuard

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable
from django.http import HttpRequest

PAGE_SIZE = 50


TOTAL = "_page_total"


def page_of(request: HttpRequest, rows: Sequence[Any] | Any, per_page: int = PAGE_SIZE) -> Page[Any]:
    """`?page=N` of `rows` (a queryset or a list); a bad or too large number gives the last page.

    A queryset's page is one query: its rows with the total beside them (a window count), not
    a COUNT and then the rows (Django skips the rows when the count is 0, so a list cost one
    query less when it was empty). A page past the end, a list, and a queryset whose window
    count would not be its number of rows (DISTINCT, sliced, combined, values) page as Django
    does."""
    if not _countable(rows):
        return Paginator(rows, per_page).get_page(request.GET.get("page"))
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    found = list(rows.annotate(**{TOTAL: Window(Count("pk"))})[start : start + per_page])
    if not found and number > 1:
        return Paginator(rows, per_page).get_page(number)
    paginator = Paginator(rows, per_page)
    paginator.__dict__["count"] = _total(found[0]) if found else 0  # Paginator.count is a cached property
    return Page(found, number, paginator)


def _countable(rows: Any) -> TypeGuard[QuerySet[Any]]:
    """A queryset of model rows whose window count is its number of rows."""
    return (
        isinstance(rows, QuerySet)
        and rows._iterable_class is ModelIterable
        and not rows.query.distinct
        and not rows.query.is_sliced
        and not rows.query.combinator
    )


def _total(row: Any) -> int:
    return int(getattr(row, TOTAL))


def query_without_page(request: HttpRequest) -> str:
    """The current query string without `page`, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()

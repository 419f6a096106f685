"""Paging for every list (issue 15: no list page of more than 50 rows): one helper and one
partial (`templates/_pager.html`, with the current filters kept in the links); the API's default
pagination (`PageNumbers`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination

PAGE_SIZE = 50


def page_of(request: HttpRequest, rows: Sequence[Any] | Any, per_page: int = PAGE_SIZE) -> Page[Any]:
    """`?page=N` of `rows` (a queryset or a list); a bad or too large number gives the last page.

    A queryset's page is a COUNT and then its rows, also when the count is 0 (Django skips
    the rows then, so an empty list cost one query less than a full one and a page's count
    followed the data). Not one query with a window count: that counts every row of the list
    before the page (30 ms instead of 2 for a county of 6,000 households)."""
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    if isinstance(rows, QuerySet):
        start = (page.number - 1) * per_page
        page.object_list = list(rows[start : start + per_page])
    return page


def query_without_page(request: HttpRequest) -> str:
    """The current query string without `page`, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class PageNumbers(pagination.PageNumberPagination):
    """The default pagination (page numbers), with `?page=` given blank a 400 naming it, as the
    schema's integer says: DRF reads it as page 1. An unknown page is DRF's 404."""

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not raw.strip():
            raise exceptions.ValidationError(
                {self.page_query_param: [_("Give a value, or leave this filter out.")]})
        return super().paginate_queryset(queryset, request, view)

"""The cases app's part of 待办: cases to accept and cases to resolve (hemei.core.todo)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from hemei.cases.models import Case
from hemei.core.scope import scoped
from hemei.core.todo import TodoItem, todo_source
from hemei.regions.models import Level
from hemei.regions.selectors import with_village_names

S = Case.Status
LIMIT = 100  # a page of work, not a report: the case list holds the rest



@todo_source("case")
def case_todo(user: Any, now: dt.datetime) -> list[TodoItem]:
    """Cases the user may write to: new ones to accept (by the accept deadline), and taken ones
    to resolve (by the resolve deadline) that are theirs or still nobody's. One query."""
    mine = Q(responsible__isnull=True) | Q(responsible_id=getattr(user, "pk", None))
    qs = (scoped(Case.objects.all(), user, write=True)
          .filter(Q(status=S.SUBMITTED) | (Q(status__in=(S.ACCEPTED, S.IN_PROGRESS)) & mine))
          .select_related("region", "category").order_by("accept_by", "resolve_by"))
    items = []
    # The village above each grid comes with the case (a subquery), not from one more query
    # when some case lies in a grid: the list costs one query, with or without such cases.
    for case in with_village_names(qs)[:LIMIT]:
        accepting = case.status == S.SUBMITTED
        village = getattr(case, "village_name", None) or ""
        place = village + case.region.name if case.region.level == Level.GRID else case.region.name
        items.append(TodoItem(
            kind="case",
            title=(_("Accept: %(title)s") if accepting else _("Resolve: %(title)s")) % {"title": case.title},
            url=reverse("case-detail", args=[case.number]),
            due=case.accept_by if accepting else case.resolve_by,
            action=_("Accept") if accepting else _("Resolve"),
            detail=f"{place} · {case.category.name} · {case.number}",
        ))
    return items

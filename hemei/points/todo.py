"""The points app's part of 待办 (hemei.core.todo): the grid's monthly scoring still to
propose, the committee's proposals waiting for review, the supervision committee's open
objections (decided before the entry's publicity ends)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hemei.core.scope import COMMITTEE_ROLES, GRID_ROLES, SUPERVISION_ROLES, scope_for
from hemei.core.todo import TodoItem, todo_source
from hemei.points.models import Entry, Objection, RuleVersion
from hemei.regions.models import Household, Level, Region

LIMIT = 50


def _month_end(now: dt.datetime) -> tuple[str, dt.datetime]:
    today = timezone.localdate(now)
    first_next = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    end = dt.datetime.combine(first_next, dt.time(), tzinfo=timezone.get_current_timezone())
    return f"{today:%Y-%m}", end - dt.timedelta(seconds=1)


@todo_source("points")
def points_todo(user: Any, now: dt.datetime) -> list[TodoItem]:
    scope = scope_for(user)
    items = _to_propose(scope.posts, now)
    items += _to_review([p for p, role in scope.posts if role in COMMITTEE_ROLES])
    items += _objections([p for p, role in scope.posts if role in SUPERVISION_ROLES])
    return items


def _to_propose(posts: tuple[tuple[str, str], ...], now: dt.datetime) -> list[TodoItem]:
    """Per grid of a grid worker or leader, in a village with adopted rules: the households
    with no score proposed for this month (monthly on-site scoring), due at the month's end."""
    grid_paths = [path for path, role in posts if role in GRID_ROLES]
    if not grid_paths:
        return []
    period, due = _month_end(now)
    adopted = RuleVersion.objects.filter(state=RuleVersion.State.ADOPTED).values("rule_set__village_id")
    grids = {g.pk: g for g in Region.objects.filter(path__in=grid_paths, level=Level.GRID)}
    scored = Entry.objects.filter(household=OuterRef("pk"), kind=Entry.Kind.SCORE, period=period)
    missing = dict(Household.objects.filter(region__in=grids, village_id__in=adopted, lives_in_village=True)
                   .annotate(scored=Exists(scored)).filter(scored=False)
                   .values("region_id").annotate(n=Count("pk")).values_list("region_id", "n"))
    return [TodoItem(
        kind="points",
        title=ngettext("Propose this month's points for %(n)d household",
                       "Propose this month's points for %(n)d households", n) % {"n": n},
        url=reverse("points-propose"), due=due, action=_("Propose"), detail=grids[pk].name,
    ) for pk, n in sorted(missing.items()) if n]


def _to_review(village_paths: list[str]) -> list[TodoItem]:
    """Per village where the user sits on the committee: proposals waiting for review (no
    deadline of their own; the oldest is named)."""
    if not village_paths:
        return []
    rows = (Entry.objects.filter(state=Entry.State.PROPOSED, village__path__in=village_paths)
            .values("village__name").annotate(n=Count("pk"), oldest=Min("proposed_at")).order_by("village__name"))
    return [TodoItem(
        kind="points-review",
        title=ngettext("Review %(n)d points proposal", "Review %(n)d points proposals", r["n"]) % {"n": r["n"]},
        url=reverse("points-review"), due=None, action=_("Review"),
        detail=_("%(village)s · waiting since %(date)s") % {
            "village": r["village__name"], "date": f"{timezone.localtime(r['oldest']):%m-%d}"},
    ) for r in rows]


def _objections(village_paths: list[str]) -> list[TodoItem]:
    if not village_paths:
        return []
    qs = (Objection.objects.filter(state=Objection.State.OPEN, entry__village__path__in=village_paths)
          .select_related("entry__household__head").order_by("entry__publicity_until")[:LIMIT])
    return [TodoItem(
        kind="objection",
        title=_("Decide an objection: %(reason)s") % {"reason": o.reason[:30]},
        url=reverse("points-review"), due=o.entry.publicity_until, action=_("Decide"),
        detail=o.entry.household.head.name if o.entry.household.head else o.entry.household.number,
    ) for o in qs]

"""The committee's review queue (approve, reject, approve all shown) and the supervision
committee's objections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.parsing import form_values, picked
from hemei.core.scope import paths_q
from hemei.core.views import flash_errors
from hemei.points import ledger
from hemei.points.access import (
    COMMITTEE_ROLES,
    SUPERVISION_ROLES,
    access_entries,
    may,
)
from hemei.points.forms import ActionForm, ApproveAllForm, EntryReviewForm, ObjectionDecideForm
from hemei.points.models import Objection
from hemei.points.review import entry_approve_batch
from hemei.points.views.common import (
    PERIOD_RE,
    E,
    _key,
    _staff_villages,
)
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Level, Region


@dataclass(frozen=True)
class _Queue:
    """What every action of the page works on: the villages the user reviews in, and the
    grid / month filter the page returns to after a POST."""

    villages: list[Region]
    village_ids: list[int]
    grid: str
    month: str
    back: str


def _queue(request: HttpRequest) -> _Queue:
    villages = [v for v in _staff_villages(request) if may(request.user, v, COMMITTEE_ROLES | SUPERVISION_ROLES)]
    grid = picked(request, "grid")
    month = picked(request, "month")
    month = month if PERIOD_RE.match(month) else ""
    back = f"{request.path}?grid={grid}&month={month}" if grid or month else request.path
    return _Queue(villages, [v.pk for v in villages], grid, month, back)


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """The committee's queue (approve / reject) and the supervision committee's objections.

    A POST is one of three actions, each read through its form: approve every entry shown
    (`action=approve_all`), decide an objection (`objection=<id>`), or review one entry
    (`entry=<id>`). Each ends with a redirect back to the same filter."""
    require_staff_scope(request.user)
    queue = _queue(request)
    if request.method == "POST":
        _action(request)(request, queue)
        return redirect(queue.back)
    return _page(request, queue)


def _action(request: HttpRequest) -> Callable[[HttpRequest, _Queue], None]:
    if form_values(ActionForm(request.POST)).get("action") == "approve_all":
        return _approve_all
    if "objection" in request.POST:
        return _decide_objection
    return _review_entry


def _saved(request: HttpRequest, write: Callable[[], object]) -> None:
    try:
        write()
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))


def _approve_all(request: HttpRequest, queue: _Queue) -> None:
    form = ApproveAllForm(request.POST)
    form.is_valid()  # every field is optional: what is missing is said below
    data = form.cleaned_data
    chosen = data["entries"]
    batch = list(
        access_entries(request.user)
        .filter(pk__in=chosen, village_id__in=queue.village_ids)
        .select_related("household", "village")
    )
    if len(batch) != len(chosen):
        raise Http404
    try:
        if not data["confirm"]:
            raise ValidationError(_("Tick the box to confirm that you checked every entry shown."))
        done = entry_approve_batch(actor=request.user, entries=batch, idempotency_key=data["key"])
    except ValidationError as exc:
        flash_errors(request, exc)
        return
    messages.success(request, _("%(n)d entries approved; their publicity starts now.") % {"n": len(done.approved)})
    if done.skipped_own:
        messages.warning(
            request,
            _("%(n)d entries you proposed yourself were skipped (households %(h)s): another member "
              "of the committee reviews them.")
            % {"n": len(done.skipped_own), "h": ", ".join(e.household.number for e in done.skipped_own)},
        )


def _chosen(
    request: HttpRequest, form_class: type[forms.Form], rows: QuerySet[Any], field: str
) -> tuple[Any, dict[str, Any]]:
    """The row the form names among `rows`, and the form's data; 404 for a bad form or a row
    the user may not act on."""
    form = form_class(request.POST)
    if not form.is_valid():
        raise Http404
    row = rows.filter(pk=form.cleaned_data[field]).first()
    if row is None:
        raise Http404
    return row, form.cleaned_data


def _decide_objection(request: HttpRequest, queue: _Queue) -> None:
    rows = Objection.objects.filter(entry__in=access_entries(request.user))
    objection, data = _chosen(request, ObjectionDecideForm, rows, "objection")
    _saved(request, lambda: ledger.objection_decide(
        actor=request.user, objection=objection, uphold=data["uphold"], decision=data["decision"],
        idempotency_key=data["key"],
    ))


def _review_entry(request: HttpRequest, queue: _Queue) -> None:
    entry, data = _chosen(request, EntryReviewForm, access_entries(request.user), "entry")
    _saved(request, lambda: ledger.entry_review(
        actor=request.user, entry=entry, approve=data["approve"], reason=data["reason"],
        idempotency_key=data["key"],
    ))


def _page(request: HttpRequest, queue: _Queue) -> HttpResponse:
    in_villages = paths_q(tuple(v.path for v in queue.villages))
    grids = list(Region.objects.filter(in_villages, level=Level.GRID).order_by("path")[:200])
    queue_qs = access_entries(request.user).filter(village_id__in=queue.village_ids, state=E.PROPOSED)
    if queue.grid:
        queue_qs = queue_qs.filter(household__region__code=queue.grid)
    if queue.month:
        queue_qs = queue_qs.filter(period=queue.month)
    waiting = list(queue_qs.select_related("household", "item", "proposed_by").order_by("proposed_at", "pk")[:200])
    publicity = (
        access_entries(request.user)
        .filter(village_id__in=queue.village_ids, state=E.PUBLICITY)
        .select_related("household", "item")
        .order_by("publicity_until", "pk")[:200]
    )
    objections = Objection.objects.filter(
        entry__village_id__in=queue.village_ids, state=Objection.State.OPEN
    ).select_related("entry__household", "entry__item", "resident")[:200]
    return render(
        request,
        "points/review.html",
        {
            "queue": waiting,
            "publicity": publicity,
            "objections": objections,
            "key": _key(),
            "grids": grids,
            "grid": queue.grid,
            "month": queue.month,
            "own": sum(1 for e in waiting if e.proposed_by_id == request.user.pk),
        },
    )

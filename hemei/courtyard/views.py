"""Courtyard review pages (phone-first). Thin: reads via `hemei.courtyard.access` and
selectors, writes via the services. Events outside the user's scope are 404; acting without
the needed role on a visible event is 403."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.paging import page_of
from hemei.core.parsing import form_values, picked
from hemei.core.views import error_text, flash_errors
from hemei.core.xlsx import xlsx_response
from hemei.courtyard import services
from hemei.courtyard.access import access_event, access_events, household_limit, is_committee, panel_candidates
from hemei.courtyard.export import results_export
from hemei.courtyard.forms import ActionForm, ScoreForm, SetupForm
from hemei.courtyard.models import ReviewEvent
from hemei.courtyard.selectors import PUBLIC_STATUSES, plaque_counts, ranked_results
from hemei.points.views import _staff_villages
from hemei.regions.access import require_staff_scope
from hemei.regions.models import Household, Level, Region

CRITERIA_ROWS = 8
TIER_ROWS = 3


def _ids(values: list[str]) -> list[int]:
    """Whole numbers from a form; `str.isdigit` alone lets "²" through to a 500 in `int()`."""
    return [int(x) for x in values if x.isascii() and x.isdigit() and len(x) <= 18]


def _visible(households: QuerySet[Household], limit: Q | None) -> QuerySet[Household]:
    return households if limit is None else households.filter(limit)


def _raise_scope(exc: ValidationError) -> None:
    if getattr(exc, "code", None) == "scope":
        raise PermissionDenied(error_text(exc))


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    page = page_of(request, access_events(request.user).select_related("village").order_by("-date", "-pk"))
    villages = [v for v in _staff_villages(request) if is_committee(request.user, v)]
    return render(request, "courtyard/list.html", {"events": page, "page": page, "villages": villages})


def _parse_setup(request: HttpRequest, village: Region) -> dict[str, Any]:
    """The set-up form → service arguments; a malformed field is a ValidationError."""
    sent = form_values(SetupForm(request.POST, criteria_rows=CRITERIA_ROWS, tier_rows=TIER_ROWS))

    def text(name: str) -> str:
        return str(sent.get(name, ""))

    try:
        date = dt.date.fromisoformat(text("date"))
    except ValueError:
        raise ValidationError(_("Give the date of the review.")) from None
    criteria = []
    for i in range(CRITERIA_ROWS):
        name = text(f"c_name_{i}").strip()
        if not name:
            continue
        try:
            weight = int(text(f"c_weight_{i}"))
        except ValueError:
            raise ValidationError(_("Each weight is a whole number from 1 to 100.")) from None
        criteria.append(services.CriterionSpec(name, weight, services._decimal(text(f"c_max_{i}"), name)))
    version = services.adopted_version(village)
    items = {str(i.pk): i for i in version.items.all()} if version else {}
    tiers = []
    for i in range(TIER_ROWS):
        name = text(f"t_name_{i}").strip()
        if not name:
            continue
        item = items.get(text(f"t_item_{i}"))
        if item is None:
            raise ValidationError(_("Choose the points item of plaque tier %(t)s.") % {"t": name})
        top = text(f"t_top_{i}").strip()
        low = text(f"t_min_{i}").strip()
        if top and not (top.isascii() and top.isdigit() and len(top) <= 9):
            raise ValidationError(_("Top N is at least 1."))
        tiers.append(
            services.TierSpec(
                name, item, int(top) if top else None, services._decimal(low, _("Minimum total")) if low else None
            )
        )
    panel_ids = _ids(sent.get("panel", []))
    panel = list(panel_candidates(village).filter(pk__in=panel_ids))
    if len(panel) != len(set(panel_ids)):
        raise ValidationError(_("Choose evaluators from the list."))
    ids = _ids(sent.get("household", []))
    households = list(Household.objects.filter(village=village, pk__in=ids).order_by("number"))
    return {
        "title": text("title"),
        "date": date,
        "method": text("method"),
        "criteria": criteria,
        "tiers": tiers,
        "panel": panel,
        "households": households,
    }


def _setup_context(village: Region, event: ReviewEvent | None) -> dict[str, Any]:
    version = services.adopted_version(village)
    criteria = list(event.criteria.all()) if event else []
    tiers = list(event.tiers.all()) if event else []
    return {
        "village": village,
        "event": event,
        "methods": ReviewEvent.Method.choices,
        "criteria_rows": [(i, criteria[i] if i < len(criteria) else None) for i in range(CRITERIA_ROWS)],
        "tier_rows": [(i, tiers[i] if i < len(tiers) else None) for i in range(TIER_ROWS)],
        "items": list(version.items.exclude(kind="deduction")) if version else [],
        "candidates": panel_candidates(village),
        "chosen_panel": set(event.panel.values_list("pk", flat=True)) if event else set(),
        "households": Household.objects.filter(village=village, lives_in_village=True)
        .select_related("head", "region")
        .order_by("number"),
        "chosen_households": set(event.households.values_list("pk", flat=True)) if event else set(),
        "key": uuid.uuid4().hex,
    }


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    villages = [v for v in _staff_villages(request) if is_committee(request.user, v)]
    code = picked(request, "village") or (villages[0].code if villages else "")
    village = next((v for v in villages if v.code == code), None)
    if village is None:
        raise Http404
    if request.method == "POST":
        try:
            event = services.event_create(
                actor=request.user,
                village=village,
                idempotency_key=form_values(ActionForm(request.POST)).get("key", ""),
                **_parse_setup(request, village),
            )
            messages.success(request, _("Review created as a draft."))
            return redirect("courtyard-detail", pk=event.pk)
        except ValidationError as exc:
            flash_errors(request, exc)
    return render(request, "courtyard/setup.html", _setup_context(village, None) | {"villages": villages})


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = access_event(request.user, pk)
    if not is_committee(request.user, event.village):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.event_update(actor=request.user, event=event, **_parse_setup(request, event.village))
            messages.success(request, _("Saved."))
            return redirect("courtyard-detail", pk=event.pk)
        except ValidationError as exc:
            flash_errors(request, exc)
    return render(request, "courtyard/setup.html", _setup_context(event.village, event))


@login_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = access_event(request.user, pk)
    done = services.progress(event)
    total = event.households.count()
    panel = [(u, done.get(u.pk, 0)) for u in event.panel.order_by("username")]
    return render(
        request,
        "courtyard/detail.html",
        {
            "event": event,
            "criteria": event.criteria.all(),
            "tiers": event.tiers.select_related("item"),
            "panel": panel,
            "total": total,
            "households": _visible(event.households.all(), household_limit(request.user, event))
            .select_related("head")
            .order_by("number"),
            "committee": is_committee(request.user, event.village),
            "on_panel": any(u.pk == request.user.pk for u, _n in panel),
        },
    )


@login_required
@require_POST
def event_action(request: HttpRequest, pk: int) -> HttpResponse:
    event = access_event(request.user, pk)
    action = form_values(ActionForm(request.POST)).get("action", "")
    try:
        if action == "open":
            services.event_open(actor=request.user, event=event)
            messages.success(request, _("Scoring is open."))
        elif action == "close":
            services.event_close(actor=request.user, event=event)
            messages.success(request, _("Review closed; results computed."))
            return redirect("courtyard-results", pk=event.pk)
        elif action == "award":
            entries = services.event_award(actor=request.user, event=event)
            messages.success(request, _("%(n)d points entries proposed for review.") % {"n": len(entries)})
            return redirect("courtyard-results", pk=event.pk)
        else:
            raise Http404
    except ValidationError as exc:
        _raise_scope(exc)
        flash_errors(request, exc)
    return redirect("courtyard-detail", pk=event.pk)


@login_required
@require_http_methods(["GET", "POST"])
def score(request: HttpRequest, pk: int) -> HttpResponse:
    """The evaluator's phone page: the households, one form each with every criterion."""
    event = access_event(request.user, pk)
    if not event.panel.filter(pk=request.user.pk or 0).exists():
        raise PermissionDenied
    criteria = list(event.criteria.all())
    if request.method == "POST":
        sent = form_values(ScoreForm(request.POST, criteria=criteria))
        chosen = _ids([sent.get("household", "")])
        household = event.households.filter(pk=chosen[0]).first() if chosen else None
        if household is None:
            raise Http404
        values = {c.pk: sent.get(f"score_{c.pk}", "") for c in criteria}
        try:
            _sheet, unchanged = services.score_submit(
                actor=request.user, event=event, household=household, scores=values
            )
            messages.success(
                request,
                (_("Already saved: %(h)s.") if unchanged else _("Scores saved: %(h)s.")) % {"h": household.number},
            )
        except ValidationError as exc:
            _raise_scope(exc)
            messages.error(request, f"{household.number}: {error_text(exc)}")
        return redirect(reverse("courtyard-score", args=[event.pk]) + f"#h{household.pk}")
    mine: dict[int, dict[int, Decimal]] = {}
    for sheet in services.current_sheets(event).filter(evaluator=request.user).prefetch_related("scores"):
        mine[sheet.household_id] = {s.criterion_id: s.score for s in sheet.scores.all()}
    rows = [
        (h, [(c, mine.get(h.pk, {}).get(c.pk)) for c in criteria], h.pk in mine)
        for h in event.households.select_related("head").order_by("number")
    ]
    return render(
        request,
        "courtyard/score.html",
        {"event": event, "rows": rows, "done": len(mine), "open": event.status == ReviewEvent.Status.SCORING},
    )


@login_required
def results(request: HttpRequest, pk: int) -> HttpResponse:
    event = access_event(request.user, pk)
    if event.status not in PUBLIC_STATUSES:
        raise Http404
    return render(
        request,
        "courtyard/results.html",
        {
            "event": event,
            "rows": ranked_results(event, limit=household_limit(request.user, event)),
            "plaques": plaque_counts(event),
            "panel": list(event.panel.order_by("pk")),
            "committee": is_committee(request.user, event.village),
        },
    )


@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    event = access_event(request.user, pk)
    if event.status not in PUBLIC_STATUSES:
        raise Http404
    data = results_export(actor=request.user, event=event, limit=household_limit(request.user, event))
    return xlsx_response(data, f"courtyard-{event.pk}.xlsx")


def public_results(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """No login: household number, head's name, total and plaque of a closed review."""
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    event = (
        ReviewEvent.objects.filter(pk=pk, village=village, status__in=PUBLIC_STATUSES).first() if village else None
    )
    if event is None or village is None:
        raise Http404
    return render(
        request,
        "courtyard/public.html",
        {"village": village, "event": event, "rows": ranked_results(event), "plaques": plaque_counts(event)},
    )


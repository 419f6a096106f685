"""Star pages: the village overview (/w/stars/), a round's steps and ratings, a household's
stars with 挂星 / 摘星, coverage for townships and the county, the villager's /me/stars/ and
the printable 张榜公示 notice. Thin: reads through `hemei.stars.access`, writes through
`hemei.stars.services`."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.paging import page_of
from hemei.core.parsing import form_values
from hemei.core.views import flash_errors
from hemei.core.xlsx import xlsx_response
from hemei.regions.access import access_household, access_regions, require_staff_scope, staff_villages
from hemei.regions.models import Household, Level, Region
from hemei.stars import access, forms, selectors, services
from hemei.stars.export import ratings_export
from hemei.stars.models import STAGE_ORDER, ExclusionReason, Stage, Star, StarRating, StarRound


def _key() -> str:
    return uuid.uuid4().hex


def _staff_villages(request: HttpRequest) -> list[Region]:
    return staff_villages(request.user)


def _stages(rnd: StarRound | None) -> list[dict[str, Any]]:
    current = rnd.stage_index if rnd else -1
    finished = rnd is not None and rnd.stage == Stage.AWARDED
    return [{"value": s, "label": Stage(s).label, "done": i < current or finished, "now": i == current and not finished}
            for i, s in enumerate(STAGE_ORDER)]


def _small_int(value: str, digits: int = 9) -> int | None:
    """An ASCII whole number of at most `digits` digits, else None: `str.isdigit` accepts "²",
    which `int()` then refuses with a 500."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= digits else None


def _star_list(ids: list[int] | None, names: dict[int, str]) -> list[str]:
    return [names.get(i, "?") for i in ids or []]


# --- village overview ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def overview(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    villages = _staff_villages(request)
    form = forms.CatalogueForm(request.POST) if request.method == "POST" else None
    sent = form_values(form) if form is not None else {}
    code = request.GET.get("village") or sent.get("village") or (villages[0].code if villages else "")
    village = next((v for v in villages if v.code == code), None)
    if village is None:
        return render(request, "stars/overview.html", {"villages": villages, "village": None})
    if form is not None:
        try:
            _catalogue_action(request, village, form, sent)
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            flash_errors(request, exc)
        return redirect(f"{request.path}?village={village.code}")
    stars = services.catalogue_ensure(village=village) if access.may(request.user, village, access.COMMITTEE_ROLES) \
        else list(Star.objects.filter(village=village))
    cov = selectors.coverage([village])[0]
    rnd = cov.round  # the village's latest round, read with its figures
    grids = list(Region.objects.filter(path__startswith=village.path, level=Level.GRID).order_by("code"))
    grid_code = request.GET.get("grid", "")
    qs = access_household_rows(request.user, village)
    if grid_code:
        qs = qs.filter(region__code=grid_code)
    count = request.GET.get("count", "")
    stars_wanted = _small_int(count, 3)
    if stars_wanted is not None:  # counted in the database, so the page holds only what it shows
        qs = qs.annotate(held=Count("current_stars")).filter(held=stars_wanted)
    page = page_of(request, qs)
    held = selectors.current_stars([h.pk for h in page], stars=stars)
    page.object_list = [{"household": h, "stars": held.get(h.pk, [])} for h in page]
    return render(request, "stars/overview.html", {
        "villages": villages, "village": village, "stars": stars, "round": rnd, "stages": _stages(rnd),
        "grids": grids, "grid": grid_code, "count": count, "rows": page.object_list, "page": page, "coverage": cov,
        "committee": access.may(request.user, village, access.COMMITTEE_ROLES),
        "this_year": timezone.localdate().year, "counts": range(0, len(stars) + 1),
    })


def _catalogue_action(request: HttpRequest, village: Region, form: forms.CatalogueForm, sent: dict[str, Any]) -> None:
    action = sent.get("action")
    if action == "add_star":
        services.star_add(actor=request.user, village=village, name=sent.get("name", ""))
    elif action == "toggle_star":
        star = Star.objects.filter(village=village, pk=sent.get("star") or 0).first()
        if star is None:
            raise Http404
        if not sent.get("active"):
            raise ValidationError(_("Say whether the star stays in use."))
        services.star_set_active(actor=request.user, star=star, active=sent["active"] == "1")
    elif action == "open_round":
        if "year" in form.errors or "publicity_days" in form.errors:
            raise ValidationError(_("Give whole numbers."))
        days = sent.get("publicity_days")
        services.round_open(actor=request.user, village=village, year=sent.get("year") or 0,
                            publicity_days=7 if days is None else days)
    else:
        raise Http404


def access_household_rows(user: Any, village: Region) -> Any:
    from hemei.regions.access import access_households

    return (access_households(user).filter(village=village).select_related("head", "region")
            .order_by("region__code", "number", "pk"))


# --- a round ---------------------------------------------------------------------------------


def _round(request: HttpRequest, pk: int) -> StarRound:
    rnd = access.access_rounds(request.user).select_related("village", "county").filter(pk=pk).first()
    if rnd is None:
        raise Http404
    return rnd


@login_required
@require_http_methods(["GET", "POST"])
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    rnd = _round(request, pk)
    if request.method == "POST":
        sent = form_values(forms.RoundForm(request.POST))
        action = sent.get("action")
        try:
            if action == "advance":
                services.round_advance(actor=request.user, round=rnd, to=sent.get("to", ""))
            elif action == "approve":
                services.round_township_approve(actor=request.user, round=rnd, note=sent.get("note", ""))
            elif action == "publicity":
                services.round_publicity_start(actor=request.user, round=rnd)
            elif action == "award":
                _r, n = services.round_award(actor=request.user, round=rnd)
                messages.info(request, _("%(n)d star changes written.") % {"n": n})
            else:
                raise Http404
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            flash_errors(request, exc)
        return redirect("stars-round", pk=rnd.pk)
    names = selectors.star_names(rnd.village)
    ratings = (access.access_ratings(request.user).filter(round=rnd).select_related("household__head",
               "household__region").order_by("household__region__code", "household__number"))
    grid = request.GET.get("grid", "")
    if grid:
        ratings = ratings.filter(household__region__code=grid)
    page = page_of(request, ratings)
    rows = [{"r": r, "claimed": _star_list(r.claimed, names), "peer": _star_list(r.peer, names),
             "committee": _star_list(r.committee, names), "final": _star_list(r.final, names)}
            for r in page]
    return render(request, "stars/round.html", {
        "round": rnd, "stages": _stages(rnd), "steps": rnd.steps.select_related("actor"), "rows": rows, "page": page,
        "next": services.next_stage(rnd.stage), "coverage": selectors.coverage([rnd.village])[0],
        "committee": access.may(request.user, rnd.village, access.COMMITTEE_ROLES),
        "township": access.may(request.user, rnd.village, access.TOWNSHIP_ROLES),
        "today": timezone.localdate(),
        "grids": Region.objects.filter(path__startswith=rnd.village.path, level=Level.GRID).order_by("code"),
        "grid": grid,
    })


@login_required
def round_export(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    rnd = _round(request, pk)
    data = ratings_export(actor=request.user, round=rnd)
    return xlsx_response(data, f"stars-{rnd.village.code}-{rnd.year}.xlsx")


# --- a household -----------------------------------------------------------------------------


def _rating_action(request: HttpRequest, rnd: StarRound, household: Household, sent: dict[str, Any]) -> None:
    stars, action = sent.get("star", []), sent.get("action")
    if action == "declare":
        services.rating_declare(actor=request.user, round=rnd, household=household, stars=stars)
    elif action == "record":
        services.rating_record(actor=request.user, round=rnd, household=household, stars=stars,
                               note=sent.get("note", ""))
    elif action == "exclude":
        services.rating_exclude(actor=request.user, round=rnd, household=household,
                                reason=sent.get("reason", ""), note=sent.get("note", ""))
    else:
        raise Http404


def _adhoc_action(request: HttpRequest, household: Household, sent: dict[str, Any]) -> None:
    """挂星 / 摘星 with a reason and the date of the decision."""
    ids = sent.get("star", [])
    star_id = _small_int(ids[0]) if ids else None
    star = Star.objects.filter(village=household.village, pk=star_id).first() if star_id else None
    if star is None:
        raise ValidationError(_("A star is not in this village's catalogue."))
    if sent.get("date") is None:
        raise ValidationError(_("Give the date of the decision (not in the future)."))
    fn = services.star_grant if sent["action"] == "grant" else services.star_withdraw
    fn(actor=request.user, household=household, star=star, date=sent["date"], reason=sent.get("reason", ""),
       idempotency_key=sent.get("key", ""))


def _stage_ids(rnd: StarRound | None, rating: StarRating | None) -> set[int]:
    """The stars the form of the step under way starts with: this step's value if recorded,
    else the step before's."""
    if rnd is None or rating is None:
        return set()
    chain = {"self": ["claimed"], "peer": ["peer", "claimed"], "committee": ["committee", "peer"],
             "township": ["final", "committee"]}.get(rnd.stage, [])
    for field in chain:
        value = getattr(rating, field)
        if value is not None:
            return set(value)
    return set()


@login_required
@require_http_methods(["GET", "POST"])
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    household = access_household(request.user, pk)
    village = household.village
    rnd = selectors.latest_round(village)
    if request.method == "POST":
        sent = form_values(forms.HouseholdForm(request.POST))
        try:
            if sent.get("action") in ("grant", "withdraw"):
                _adhoc_action(request, household, sent)
            elif rnd is not None:
                _rating_action(request, rnd, household, sent)
            else:
                raise Http404
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            flash_errors(request, exc)
        except PermissionDenied:
            raise
        return redirect("stars-household", pk=household.pk)
    names = selectors.star_names(village)
    rating = StarRating.objects.filter(round=rnd, household=household).first() if rnd else None
    return render(request, "stars/household.html", {
        "household": household, "village": village, "round": rnd, "rating": rating,
        "rating_lists": {k: _star_list(getattr(rating, k), names) for k in ("claimed", "peer", "committee", "final")}
        if rating else {},
        "held": selectors.current_stars([household.pk])[household.pk],
        "history": selectors.history(household),
        "catalogue": Star.objects.filter(village=village, active=True),
        "checked": _stage_ids(rnd, rating),
        "reasons": ExclusionReason.choices,
        "committee": access.may(request.user, village, access.COMMITTEE_ROLES),
        "key": _key(), "today": timezone.localdate().isoformat(),
    })


# --- coverage --------------------------------------------------------------------------------


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    """Rated ÷ households per village below a township or the county, with a chart."""
    require_staff_scope(request.user)
    regions = list(access_regions(request.user).filter(level__in=[Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE])
                   .order_by("depth", "code")[:1])
    code = request.GET.get("region", "")
    region = access_regions(request.user).filter(code=code).first() if code else (regions[0] if regions else None)
    villages = _staff_villages(request) if region is None else selectors.villages_below(region)
    rows = selectors.coverage(villages[:500])
    households = sum(r.households for r in rows)
    rated = sum(r.rated for r in rows)
    townships = (list(Region.objects.filter(path__startswith=region.path, level=Level.TOWNSHIP).order_by("code"))
                 if region is not None and region.level == Level.COUNTY else [])
    return render(request, "stars/coverage.html", {
        "region": region, "rows": rows, "chart": [r.chart_row() for r in rows if r.households],
        "households": households, "rated": rated,
        "percent": round(rated * 100 / households, 1) if households else None,
        "townships": townships,
    })


# --- the villager ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def my_stars(request: HttpRequest) -> HttpResponse:
    resident = access.villager_resident(request.user)
    if resident is None:
        raise Http404
    household = Household.objects.select_related("village", "head").get(pk=resident.household_id)
    village = household.village
    rnd = selectors.latest_round(village)
    if request.method == "POST":
        if rnd is None:
            raise Http404
        try:
            services.rating_declare(actor=request.user, round=rnd, household=household,
                                    stars=form_values(forms.DeclareForm(request.POST)).get("star", []))
            messages.success(request, _("Your declaration has been recorded."))
        except ValidationError as exc:
            flash_errors(request, exc)
        return redirect("my-stars")
    rating = StarRating.objects.filter(round=rnd, household=household).first() if rnd else None
    return render(request, "stars/my_stars.html", {
        "household": household, "round": rnd, "rating": rating,
        "claimed": set(rating.claimed or []) if rating else set(),
        "held": selectors.current_stars([household.pk])[household.pk],
        "history": selectors.history(household),
        "catalogue": Star.objects.filter(village=village, active=True),
        "stages": _stages(rnd),
    })


# --- the printable notice --------------------------------------------------------------------


def print_notice(request: HttpRequest, code: str) -> HttpResponse:
    """张榜公示: the round in publicity (or the latest awarded) — household number, the head's
    name and the approved stars. Public, no login."""
    village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if village is None:
        raise Http404
    rnd = (StarRound.objects.filter(village=village, stage__in=[Stage.PUBLICITY, Stage.AWARDED])
           .order_by("-year").first())
    rows: list[dict[str, Any]] = []
    if rnd is not None:
        names = selectors.star_names(village)
        for r in (StarRating.objects.filter(round=rnd, excluded=False)
                  .select_related("household__head").order_by("household__number")):
            stars = _star_list(r.final, names)
            if stars:
                rows.append({"number": r.household.number, "head": r.household.head.name if r.household.head else "",
                             "stars": stars})
    return render(request, "stars/print.html", {"village": village, "round": rnd, "rows": rows,
                                                 "today": timezone.localdate()})

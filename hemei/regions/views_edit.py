"""Workbench pages that change the register: add and edit households and residents, set
tags, move residents and households, link households to cadres and party members.

Thin, like `views.py`: objects come from `hemei.regions.access` (write scope), every change
goes through `hemei.regions.services`, and a service's `ValidationError` is shown on the form
with nothing changed. A target of a move (household or grid) must be in the user's write
scope too; outside it the page answers 404, never a hint that the target exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hemei.core.parsing import form_values, picked
from hemei.core.scope import paths_q
from hemei.regions import services
from hemei.regions.access import (
    access_household,
    access_households,
    access_region,
    access_resident,
    access_residents,
    scope_for,
)
from hemei.regions.forms import (
    HouseholdCreateForm,
    HouseholdEditForm,
    HouseholdLinkForm,
    HouseholdMoveForm,
    HouseholdSearchForm,
    ResidentCreateForm,
    ResidentMoveForm,
    ResidentTagsForm,
)
from hemei.regions.models import Household, Level, Post, Region, Resident, Role

# Roles whose holders look after households as cadres (联户干部).
CADRE_ROLES = (
    Role.GRID_WORKER, Role.GRID_LEADER, Role.SECRETARY, Role.DIRECTOR, Role.COMMITTEE,
    Role.SUPERVISION, Role.ACCOUNTANT,
)
# Longer lists help nobody on a phone; the search narrows them.
MAX_SEARCH_RESULTS = 20
MAX_GRID_CHOICES = 2000

# Service error codes that belong to one form field rather than the whole form.
RESIDENT_ERROR_FIELDS = {"id_number": "id_number", "duplicate_id": "id_number"}


def can_write_region(user: Any, region: Region | None) -> bool:
    """Whether the user may change households in this region (buttons on the workbench)."""
    return region is not None and scope_for(user).covers_path(region.path, write=True)


def _show_errors(form: forms.Form, exc: ValidationError, fields: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form: on a field when its code names one."""
    for error in exc.error_list:
        field = (fields or {}).get(error.code or "")
        form.add_error(field if field in form.fields else None, error)


def _current_grids(qs: QuerySet[Region]) -> QuerySet[Region]:
    today = dt.date.today()
    return qs.filter(level=Level.GRID).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))


def _target_household(user: Any, pk: Any) -> Household:
    """A move's target household: in write scope, else 404 (even when merely readable)."""
    try:
        return access_household(user, pk, write=True)
    except PermissionDenied:
        raise Http404 from None


def _target_grid(user: Any, code: str) -> Region:
    try:
        return access_region(user, code, write=True)
    except PermissionDenied:
        raise Http404 from None


def _posted(request: HttpRequest) -> Any:
    """The POST data for a bound form, even when empty (all boxes unticked), else None."""
    return request.POST if request.method == "POST" else None


def _household_url(household_id: int) -> str:
    return reverse("household-detail", args=[household_id])


@login_required
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest, code: str) -> HttpResponse:
    """Add a household in a grid; from a village the user picks one of its grids."""
    region = access_region(request.user, code, write=True)
    grids: QuerySet[Region] | None = None
    if region.level == Level.VILLAGE:
        grids = _current_grids(Region.objects.filter(path__startswith=region.path, depth=region.depth + 1))
        if not grids.exists():
            messages.error(request, _("This village has no grid to add households to."))
            return redirect(reverse("workbench") + f"?region={region.code}")
    elif region.level != Level.GRID:
        messages.error(request, _("Choose a village or a grid to add a household."))
        return redirect(reverse("workbench") + f"?region={region.code}")
    form = HouseholdCreateForm(_posted(request), grids=grids)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household = services.household_create(
                grid=data.get("grid") or region, number=data["number"], address=data["address"],
                tags=list(data["tags"]), lives_in_village=data["lives_in_village"], actor=request.user,
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Household %(n)s added.") % {"n": household.number})
            return redirect(_household_url(household.pk))
    return render(request, "regions/household_form.html", {
        "form": form, "region": region, "title": _("Add a household"),
        "back": reverse("workbench") + f"?region={region.code}",
    })


@login_required
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk, write=True)
    form = HouseholdEditForm(_posted(request), household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.household_update(
                household=household, actor=request.user, request=request, address=data["address"],
                tags=list(data["tags"]), lives_in_village=data["lives_in_village"],
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(_household_url(household.pk))
    return render(request, "regions/household_form.html", {
        "form": form, "household": household, "region": household.region,
        "title": _("Edit household %(n)s") % {"n": household.number},
        "back": _household_url(household.pk),
    })


@login_required
@require_http_methods(["GET", "POST"])
def resident_create(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk, write=True)
    form = ResidentCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            resident = services.resident_create(
                household=household, name=data["name"], id_number=data["id_number"], phone=data["phone"],
                relation=data["relation"], is_party_member=data["is_party_member"], tags=list(data["tags"]),
                actor=request.user,
            )
        except ValidationError as exc:
            _show_errors(form, exc, RESIDENT_ERROR_FIELDS)
        else:
            messages.success(request, _("%(name)s added to household %(n)s.")
                             % {"name": resident.name, "n": household.number})
            return redirect(_household_url(household.pk))
    return render(request, "regions/resident_form.html", {"form": form, "household": household})


@login_required
@require_http_methods(["GET", "POST"])
def resident_tags(request: HttpRequest, pk: int) -> HttpResponse:
    """The tags card of the resident edit page posts here."""
    resident = access_resident(request.user, pk, write=True)
    form = ResidentTagsForm(_posted(request), resident=resident)
    if request.method == "POST" and form.is_valid():
        try:
            services.resident_set_tags(resident=resident, tags=list(form.cleaned_data["tags"]),
                                       actor=request.user, request=request)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(_household_url(resident.household_id))
    return render(request, "regions/resident_tags.html", {"form": form, "resident": resident})


@login_required
@require_http_methods(["GET", "POST"])
def resident_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the new household by its number (write scope only), then move with date and reason."""
    resident = access_resident(request.user, pk, write=True)
    q = form_values(HouseholdSearchForm(request.POST)).get("q") or picked(request, "q")
    form = ResidentMoveForm(_posted(request))
    target: Household | None = None
    if request.method == "POST" and form.is_valid():
        target = _target_household(request.user, form.cleaned_data["to_household"])
        try:
            services.resident_move(resident=resident, to_household=target, on=form.cleaned_data["on"],
                                   reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("%(name)s moved to household %(n)s.")
                             % {"name": resident.name, "n": target.number})
            return redirect(_household_url(target.pk))
    results: list[Household] = []
    if q:
        results = list(
            access_households(request.user, write=True).filter(number__startswith=q)
            .exclude(pk=resident.household_id).select_related("village", "region", "head")
            .order_by("number", "village__code", "pk")[:MAX_SEARCH_RESULTS]
        )
    chosen = form["to_household"].value()
    return render(request, "regions/resident_move.html", {
        "form": form, "resident": resident, "q": q, "results": results, "target": target,
        "chosen": str(chosen) if chosen else "",
    })


def _writable_grids(user: Any, household: Household) -> list[Region]:
    """Current grids of the household's county in the user's write scope, labelled with
    their village (one query for grids, one for their villages)."""
    scope = scope_for(user)
    county_path = Region.objects.filter(pk=household.county_id).values_list("path", flat=True).first() or ""
    qs = _current_grids(Region.objects.filter(path__startswith=county_path)).exclude(pk=household.region_id)
    if not scope.everything:
        qs = qs.filter(paths_q(scope.write_paths))
    grids = list(qs.order_by("path")[:MAX_GRID_CHOICES])
    parents = dict(Region.objects.filter(path__in={g.path[: -Region.steplen] for g in grids})
                   .values_list("path", "name"))
    for g in grids:
        g.village_name = parents.get(g.path[: -Region.steplen], "")
    return grids


@login_required
@require_http_methods(["GET", "POST"])
def household_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a whole household (and its residents) to another grid of the user's write scope."""
    household = access_household(request.user, pk, write=True)
    form = HouseholdMoveForm(_posted(request), grids=_writable_grids(request.user, household))
    if request.method == "POST" and form.is_valid():
        grid = _target_grid(request.user, form.cleaned_data["to_grid"])
        if grid.pk == household.region_id:
            form.add_error("to_grid", _("The household is already in this grid."))
        else:
            try:
                services.household_move(household=household, to_grid=grid, on=form.cleaned_data["on"],
                                        reason=form.cleaned_data["reason"], actor=request.user)
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("Household %(n)s moved to %(g)s.")
                                 % {"n": household.number, "g": grid.name})
                return redirect(_household_url(household.pk))
    return render(request, "regions/household_move.html", {"form": form, "household": household})


@login_required
@require_http_methods(["GET", "POST"])
def household_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the household to a party member of its village or to a cadre posted at the
    village or one of its grids. Candidates already linked are not offered again."""
    household = access_household(request.user, pk, write=True)
    linked = list(household.links.values_list("resident_id", "post_id"))
    members = (
        access_residents(request.user)
        .filter(household__village_id=household.village_id, is_party_member=True, status=Resident.Status.LIVING)
        .exclude(pk__in=[r for r, _p in linked if r])
        .select_related("household").order_by("name_initials", "pk")
    )
    posts = (
        Post.objects.current()
        .filter(region__path__startswith=household.village.path, role__in=CADRE_ROLES)
        .exclude(pk__in=[p for _r, p in linked if p])
        .select_related("user", "region").order_by("region__path", "role", "pk")
    )
    form = HouseholdLinkForm(_posted(request), members=members, posts=posts)
    if request.method == "POST" and form.is_valid():
        kind, resident, post = form.chosen()
        try:
            services.household_link_create(household=household, kind=kind, resident=resident, post=post,
                                           actor=request.user)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Link added."))
            return redirect(_household_url(household.pk))
    return render(request, "regions/household_link.html", {"form": form, "household": household})

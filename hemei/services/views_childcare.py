"""Childcare pages (托育).

Public, no account: each centre's places, occupancy and the length of its waiting list —
figures only, never a child's or a family's name or phone. Staff: the centres in scope with
their occupancy and the totals per township and county; a centre's page (enrolled children,
open offers, the waiting list with positions, the moves, its places); the form on which staff
enter a family's application (a key rendered into it makes a double tap return the first
application, `hemei.core.idempotency`); the Excel register. Thin: forms parse, reads go
through `access`/`selectors`, writes through `hemei.services.childcare`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.masking import mask_phone
from hemei.core.parsing import form_values
from hemei.core.scope import may, scope_for
from hemei.core.views import flash_errors, flash_form_errors
from hemei.core.xlsx import xlsx_response
from hemei.regions.access import access_households, access_region, require_staff_scope
from hemei.regions.models import Household
from hemei.services import childcare, selectors
from hemei.services.access import (
    CHILDCARE_ROLES,
    access_application,
    access_provider,
    access_providers,
)
from hemei.services.export import childcare_export
from hemei.services.forms import ApplicationForm, NoteForm, OfferForm, ProviderEditForm, ProviderForm
from hemei.services.models import ChildcareApplication, ChildcareProvider

# --- public ---------------------------------------------------------------------------------


def public_list(request: HttpRequest) -> HttpResponse:
    providers = list(selectors.public_providers()[:200])
    return render(request, "services/childcare_public_list.html", {"providers": providers})


def public_provider(request: HttpRequest, pk: int) -> HttpResponse:
    provider = selectors.public_provider(pk)
    return render(request, "services/childcare_public.html",
                  {"provider": provider, "phone": public_phone(provider.phone),
                   "percent": round(100 * provider.occupancy)})


def public_phone(phone: str) -> str:
    """The number families call: a landline (the centre's own line) in full; a mobile masked,
    as it may be a person's own (the centre gives a landline to be called from the page)."""
    return mask_phone(phone) if phone.startswith("1") else phone


# --- staff ----------------------------------------------------------------------------------


@login_required
def provider_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    providers = list(selectors.with_waiting(access_providers(request.user).select_related("region"))
                     .order_by("region__path", "name", "pk")[:500])
    townships, counties = selectors.occupancy_by_area(providers)
    for p in providers:
        p.percent = round(100 * p.occupancy)
    scope = scope_for(request.user)
    may_add = scope.everything or any(role in CHILDCARE_ROLES for _path, role in scope.posts)
    return render(request, "services/childcare_list.html", {
        "providers": providers, "townships": townships, "counties": counties,
        "form": ProviderForm() if may_add else None,
    })


@login_required
@require_POST
def provider_new(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    form = ProviderForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("childcare-providers")
    region = access_region(request.user, form.cleaned_data["region"])
    data = {k: v for k, v in form.cleaned_data.items() if k != "region"}
    try:
        provider = childcare.provider_create(actor=request.user, region=region, **data)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("childcare-providers")
    messages.success(request, _("The childcare centre was added."))
    return redirect("childcare-provider", pk=provider.pk)


def _manage(user: Any, provider: ChildcareProvider) -> bool:
    return may(user, CHILDCARE_ROLES, provider.region)


@login_required
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    provider = access_provider(request.user, pk)
    lists = selectors.provider_lists(request.user, provider)
    S = ChildcareApplication.Status
    return render(request, "services/childcare_provider.html", {
        "provider": provider, "percent": round(100 * provider.occupancy), "phone": mask_phone(provider.phone),
        "enrolled": lists[S.ENROLLED], "offered": lists[S.OFFERED], "waiting": lists[S.APPLIED],
        "manage": _manage(request.user, provider),
        "edit": ProviderEditForm(initial={"capacity": provider.capacity, "min_age_months": provider.min_age_months,
                                          "max_age_months": provider.max_age_months, "phone": provider.phone,
                                          "active": provider.active}),
    })


@login_required
@require_POST
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    provider = access_provider(request.user, pk)
    if not _manage(request.user, provider):
        raise PermissionDenied
    form = ProviderEditForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("childcare-provider", pk=provider.pk)
    try:
        childcare.provider_update(actor=request.user, provider=provider, **form.cleaned_data)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("childcare-provider", pk=provider.pk)


def _household(user: Any, provider: ChildcareProvider, number: str) -> Household | None:
    """The household of the register with this number, among the user's households under the
    centre's village or township; ValidationError when there is none or more than one."""
    if not number:
        return None
    found = list(access_households(user).filter(number=number, village__path__startswith=provider.region.path)
                 .select_related("region")[:2])
    if len(found) != 1:
        raise ValidationError(_("No single household of this village has the number %(n)s.") % {"n": number},
                              code="household")
    return found[0]


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    provider = access_provider(request.user, pk)
    if not _manage(request.user, provider):
        raise PermissionDenied
    form = ApplicationForm(request.POST or None, initial={"key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = childcare.application_create(
                actor=request.user, provider=provider, child_name=data["child_name"],
                child_birth_date=data["child_birth_date"], guardian_name=data["guardian_name"],
                guardian_phone=data["guardian_phone"], desired_start=data["desired_start"],
                household=_household(request.user, provider, data["household"].strip()),
                idempotency_key=data["key"] or uuid.uuid4().hex,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            position = childcare.waiting(provider.pk).filter(applied_at__lte=application.applied_at).count()
            messages.success(request, _("The application was added; number %(n)d on the waiting list.")
                             % {"n": position})
            return redirect("childcare-provider", pk=provider.pk)
    return render(request, "services/childcare_apply.html", {"provider": provider, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def offer_next(request: HttpRequest, pk: int) -> HttpResponse:
    provider = access_provider(request.user, pk)
    try:
        childcare.application_offer_next(actor=request.user, provider=provider)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("A place was offered to the first family on the waiting list."))
    return redirect("childcare-provider", pk=provider.pk)


def _offer(user: Any, a: ChildcareApplication, request: HttpRequest) -> Any:
    return childcare.application_offer(actor=user, application=a,
                                       skip_reason=form_values(OfferForm(request.POST)).get("skip_reason", ""))


def _note(request: HttpRequest) -> str:
    return str(form_values(NoteForm(request.POST)).get("note", ""))


STEPS: dict[str, Callable[[Any, ChildcareApplication, HttpRequest], Any]] = {
    "offer": _offer,
    "enrol": lambda user, a, request: childcare.application_enrol(actor=user, application=a),
    "leave": lambda user, a, request: childcare.application_leave(actor=user, application=a, note=_note(request)),
    "withdraw": lambda user, a, request: childcare.application_withdraw(actor=user, application=a,
                                                                        reason=_note(request)),
    "decline": lambda user, a, request: childcare.application_decline(actor=user, application=a,
                                                                      reason=_note(request)),
}


@login_required
@require_POST
def application_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    application = access_application(request.user, pk)
    if step not in STEPS:
        raise Http404
    try:
        STEPS[step](request.user, application, request)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved: %(status)s.") % {"status": application.get_status_display()})
    return redirect("childcare-provider", pk=application.provider_id)


@login_required
def provider_export(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    provider = access_provider(request.user, pk)  # the applications read are scoped again
    # Names, birth dates and phones masked unless asked for (`reveal=1`; 403 without the permission).
    content = childcare_export(actor=request.user, provider=provider, reveal=request.GET.get("reveal") == "1")
    return xlsx_response(content, f"childcare-{provider.pk}.xlsx")

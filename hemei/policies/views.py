"""Policy pages (政策明白卡): the catalogue with its rules in words, a household's policies
(what it qualifies for and why, with the apply button), the grid's "qualifies but has not
applied" list (phone-first: the grid worker records the application from the list), the
printable card as a PDF and the Excel export of the list. Thin: reads through `selectors`,
writes through `services`; forms parse every input."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.core.masking import mask_id_number, mask_phone
from hemei.core.paging import page_of
from hemei.core.scope import may, scope_for
from hemei.core.views import flash_errors, flash_form_errors
from hemei.core.xlsx import xlsx_response
from hemei.policies import selectors, services
from hemei.policies.access import DECIDE_ROLES, POLICY_ROLES, RECORD_ROLES, access_application, access_policy
from hemei.policies.eligibility import WORK_PLACES, describe
from hemei.policies.export import not_applied_export
from hemei.policies.forms import ApplyForm, DecideForm, NotAppliedFilter, VersionForm, WorkAwayForm
from hemei.policies.models import Application, WorkAway
from hemei.regions.access import access_household, access_region, require_staff_scope, staff_villages
from hemei.regions.models import Household, Resident
from hemei.regions.views_home import wants_dashboard

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    policies = selectors.policy_list(request.user)
    on = selectors.today()
    versions = selectors.versions_in_force(policies, on)
    rows = [(p, versions.get(p.pk)) for p in policies]
    return render(request, "policies/policy_list.html", {"rows": rows, "on": on})


@login_required
@require_http_methods(["GET", "POST"])
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    policy = access_policy(request.user, pk)
    manage = may(request.user, POLICY_ROLES, policy.region)
    form = VersionForm(request.POST or None)
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.version_create(actor=request.user, policy=policy, label=data["label"],
                                        effective_from=data["effective_from"], effective_to=data["effective_to"],
                                        conditions=data["conditions"], benefit=data["benefit"], basis=data["basis"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The new version was saved."))
                return redirect("policy-detail", pk=policy.pk)
    on = selectors.today()
    current = selectors.version_in_force(policy, on)
    versions = [(v, describe(v.conditions), current is not None and v.pk == current.pk)
                for v in policy.versions.order_by("-effective_from", "-pk")]
    return render(request, "policies/policy_detail.html", {
        "policy": policy, "versions": versions, "form": form, "manage": manage, "on": on,
    }, status=400 if form.errors else 200)


def _on(request: HttpRequest) -> dt.date:
    form = NotAppliedFilter(request.GET)
    return (form.cleaned_data.get("on") if form.is_valid() else None) or selectors.today()


def _household_context(request: HttpRequest, household: Household, on: dt.date) -> dict[str, Any]:
    matches = selectors.household_matches(request.user, household, on)
    members = list(household.residents.filter(status=Resident.Status.LIVING).order_by("birth_date", "pk"))
    work = {w.resident_id: w for w in WorkAway.objects.filter(resident__in=members)}
    names = {m.pk: m.name for m in members}
    return {
        "household": household, "on": on, "matches": matches,
        "qualified": [m for m in matches if m.qualifies], "other": [m for m in matches if not m.qualifies],
        "members": [(m, work.get(m.pk)) for m in members], "names": names,
        "applications": list(selectors.applications_of(request.user, household)[:100]),
        "may_record": may(request.user, RECORD_ROLES, household.region),
        "may_decide": may(request.user, DECIDE_ROLES, household.region),
        "places": list(WORK_PLACES.items()), "key": uuid.uuid4().hex,
    }


@login_required
def household_policies(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    household = access_household(request.user, pk)
    return render(request, "policies/household.html", _household_context(request, household, _on(request)))


def _back(request: HttpRequest, form: ApplyForm | None, household: Household) -> HttpResponse:
    target = form.cleaned_data.get("next", "") if form is not None and form.is_valid() else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("policy-household", pk=household.pk)


@login_required
@require_POST
def household_apply(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    household = access_household(request.user, pk)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("policy-household", pk=household.pk)
    data = form.cleaned_data
    policy = access_policy(request.user, data["policy"])
    member = None
    if data["member"]:
        member = Resident.objects.filter(pk=data["member"], household=household).first()
        if member is None:
            raise Http404
    try:
        # A card's one form carries one key and a button per member: the record is keyed by
        # member too, so each button records its own application and a double tap one.
        key = f"{data['key']}-m{member.pk}" if member else data["key"]
        app = services.application_record(actor=request.user, household=household, policy=policy, member=member,
                                          applied_on=data["applied_on"], note=data["note"], idempotency_key=key)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        who = member.name if member else household.head.name if household.head else household.number
        messages.success(request, _("Application recorded: %(who)s, %(policy)s.")
                         % {"who": who, "policy": app.policy.name})
    return _back(request, form, household)


@login_required
@require_POST
def household_work(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff_scope(request.user)
    household = access_household(request.user, pk)
    form = WorkAwayForm(request.POST)
    if form.is_valid():
        resident = Resident.objects.filter(pk=form.cleaned_data["resident"], household=household).first()
        if resident is None:
            raise Http404
        try:
            services.work_away_record(actor=request.user, resident=resident, place=form.cleaned_data["place"],
                                      since=form.cleaned_data["since"], province=form.cleaned_data["province"])
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Work away from home saved for %(name)s.") % {"name": resident.name})
    else:
        flash_form_errors(request, form)
    return redirect("policy-household", pk=household.pk)


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    app = access_application(request.user, pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose grant or refuse."))
        return redirect("policy-household", pk=app.household_id)
    try:
        if form.cleaned_data["decision"] == "grant":
            services.application_grant(actor=request.user, application=app, reason=form.cleaned_data["reason"])
        else:
            services.application_refuse(actor=request.user, application=app, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("%(policy)s: %(status)s.") % {"policy": app.policy.name,
                                                                   "status": app.get_status_display()})
    return redirect("policy-household", pk=app.household_id)


def _pending_filters(request: HttpRequest) -> tuple[Any, Any, dt.date]:
    form = NotAppliedFilter(request.GET)
    if not form.is_valid():
        return None, None, selectors.today()
    code = form.cleaned_data.get("region") or ""
    region = access_region(request.user, code) if code else None
    policy_id = form.cleaned_data.get("policy")
    policy = access_policy(request.user, policy_id) if policy_id else None
    return region, policy, form.cleaned_data.get("on") or selectors.today()


# Big cards with a button each, scrolled on a grid worker's phone (适老化): fewer to a page than a
# table's 50. The export holds the whole list.
CARDS_PER_PAGE: Final = 20


@login_required
def not_applied(request: HttpRequest) -> HttpResponse:
    """The grid worker's list: households of their grid that qualify and have not applied."""
    require_staff_scope(request.user)
    region, policy, on = _pending_filters(request)
    context: dict[str, Any] = {"region": region, "policy": policy, "on": on,
                               "policies": selectors.policy_list(request.user),
                               "can_reveal": scope_for(request.user).can_reveal}
    if region is None:
        villages = staff_villages(request.user)
        if len(villages) > 1 or wants_dashboard(scope_for(request.user)):
            # Over many villages the list would weigh every household's facts (seconds for a
            # county): the township or county user picks the village first, also when their
            # area has one village (the page follows the post, not the number of villages).
            return render(request, "policies/not_applied.html", {**context, "choose": villages})
    rows, truncated = selectors.pending(request.user, region=region, policy=policy, on=on)
    page = page_of(request, rows, CARDS_PER_PAGE)
    return render(request, "policies/not_applied.html", {
        **context, "rows": selectors.explain(list(page.object_list)), "page": page, "count": len(rows),
        "truncated": truncated, "key": uuid.uuid4().hex, "next": request.get_full_path(),
    })


@login_required
def not_applied_xlsx(request: HttpRequest) -> HttpResponse:
    require_staff_scope(request.user)
    region, policy, on = _pending_filters(request)
    # Masked unless asked for (`reveal=1`, 403 without the permission), as the roster export.
    reveal = request.GET.get("reveal") == "1"
    if reveal and not scope_for(request.user).can_reveal:
        raise PermissionDenied
    content = not_applied_export(actor=request.user, region=region, policy=policy, on=on, reveal=reveal)
    return xlsx_response(content, f"policies-not-applied-{on:%Y%m%d}.xlsx")


def card_html(request: HttpRequest, household: Household, on: dt.date) -> tuple[str, list[str]]:
    """The 明白卡's HTML, in Chinese whatever the reader's language: the household, its head's
    ID number and phone masked (never in full, whatever the reader may reveal), each policy it
    qualifies for with why, what it gives and how to apply, and the state of its applications.
    Returns the HTML and the codes of the policies it lists."""
    from hemei.regions.views import _print_css

    with translation.override("zh-hans"):
        context = _household_context(request, household, on)
        head = household.head
        context.update({
            "css": _print_css(),
            "head_id": mask_id_number(head.id_number) if head else "",
            "head_phone": mask_phone(head.phone) if head else "",
        })
        html = render(request, "policies/card.html", context).content.decode()
    return html, [m.policy.code for m in context["qualified"]]


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the policy card fetches nothing: {url}")


@login_required
def household_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The household's 明白卡 as a PDF (WeasyPrint, like the household file); each print is an
    audit row."""
    household = access_household(request.user, pk)
    if not scope_for(request.user).is_staff_scope:
        raise Http404
    from weasyprint import HTML

    on = _on(request)
    html, codes = card_html(request, household, on)
    pdf = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    services.card_printed(actor=request.user, household=household, request=request, on=on, policies=codes)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (f'inline; filename="policy-card-{household.village.code}-'
                                       f'{household.number}.pdf"')
    return response


@login_required
def my_policies(request: HttpRequest) -> HttpResponse:
    """The villager's own 明白卡 on the phone: each policy in force their household qualifies
    for, why, what it gives, how to apply, and where their applications stand (their own
    household's data, read through their scope: a villager sees only their household)."""
    household_ids = scope_for(request.user).household_ids
    if not household_ids:
        raise Http404
    on = selectors.today()
    households = list(Household.objects.filter(pk__in=household_ids).select_related("region", "village")
                      .order_by("pk"))
    matches = selectors.matches_for(households, on, applications=Application.objects.all())
    cards = [{"household": h, "qualified": [m for m in matches[h.pk] if m.qualifies]} for h in households]
    return render(request, "policies/my.html", {"cards": cards, "on": on})

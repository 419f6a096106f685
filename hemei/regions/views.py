"""Staff workbench and villager home. Thin: reads via selectors/access, writes via services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hemei.core.household_file import household_file
from hemei.core.models import AuditEntry
from hemei.core.paging import page_of
from hemei.core.parsing import parse_date
from hemei.regions import services
from hemei.regions.access import (
    access_household,
    access_region,
    access_regions,
    access_resident,
    audit_county_codes,
    can_browse_audit,
    require_staff_scope,
    scope_for,
)
from hemei.regions.forms import ResidentForm, ResidentStatusForm
from hemei.regions.models import Household, MoveRecord, Region, Resident
from hemei.regions.selectors import (
    TreeNode,
    household_search,
    oversized_grids,
    region_counts,
    region_tree,
    with_village_names,
)

PAGE_SIZE = 50
# Members are listed head first, then by age.
HEAD_FIRST = Case(When(relation=Resident.Relation.HEAD, then=Value(0)), default=Value(1))


def _staff_only(request: HttpRequest) -> None:
    require_staff_scope(request.user)


@login_required
def household_overview(request: HttpRequest) -> HttpResponse:
    """Households with the region tree and counts: the township's and county's home until the
    dashboards land (hemei.regions.views_home)."""
    _staff_only(request)
    return household_list(request, template="regions/workbench.html")


@login_required
def household_list(request: HttpRequest, template: str = "regions/household_list.html") -> HttpResponse:
    """Households in scope; ?region=<code>&sub=1|0&q=<text>. htmx gets the table partial."""
    _staff_only(request)
    code = request.GET.get("region", "")
    region = access_region(request.user, code) if code else None
    include_sub = request.GET.get("sub", "1") != "0"
    q = request.GET.get("q", "")
    page = page_of(request, with_village_names(household_search(request.user, region=region, include_sub=include_sub,
                                                                 q=q)), PAGE_SIZE)
    context: dict[str, Any] = {
        "page": page, "region": region, "include_sub": include_sub, "q": q,
        "can_export": region is not None and scope_for(request.user).covers_path(region.path, write=True),
    }
    if template == "regions/workbench.html":
        tree = region_tree(request.user)
        context["tree"] = tree
        context["tree_chart"] = _chart_rows(tree, region)
    if getattr(request, "htmx", False) and template != "regions/workbench.html":
        # The partial shows no counts: no three subtree counts per search.
        return render(request, "regions/household_list.html#table", context)
    context["counts"] = region_counts(region) if region else None
    context["oversized"] = oversized_notice(request.user, region)
    return render(request, template, context)


def oversized_notice(user: Any, region: Region | None) -> list[str]:
    """Grids of the page's region (or of the user's posts) over the rule's size, for the notice
    (templates/regions/_grid_size_notice.html)."""
    roots = [region] if region is not None else list(access_regions(user).filter(
        path__in=scope_for(user).read_paths)[:20])
    return [g.describe() for g in oversized_grids(roots)][:20]


def _chart_rows(tree: list[TreeNode], region: Region | None) -> list[dict[str, object]]:
    """Households per child of the selected region (or per top region) for the bar chart."""
    nodes = tree
    stack = list(tree)
    while region is not None and stack:
        node = stack.pop()
        if node.region.pk == region.pk:
            nodes = node.children or [node]
            break
        stack.extend(node.children)
    if len(nodes) == 1 and nodes[0].children:
        nodes = nodes[0].children
    return [{"name": n.region.name, "value": n.households} for n in nodes]


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk)
    scope = scope_for(request.user)
    if not scope.is_staff_scope:
        return redirect("villager-home")
    return render(request, "regions/household_detail.html", household_file_context(request.user, household))


def household_file_context(user: Any, household: Household) -> dict[str, Any]:
    """一户一档: the register's part (residents, tags, links, moves, history in plain words)
    and every app's section (hemei.core.household_file)."""
    scope = scope_for(user)
    residents = household.residents.prefetch_related("tags").order_by(HEAD_FIRST, "birth_date")
    ids = [str(r.pk) for r in residents]
    history = AuditEntry.objects.filter(
        Q(object_type="regions.household", object_id=str(household.pk))
        | Q(object_type="regions.resident", object_id__in=ids)
    )[:50]
    moves = MoveRecord.objects.filter(Q(household=household) | Q(from_household=household)).select_related(
        "resident", "from_region", "to_region")
    return {
        "household": household,
        "residents": residents,
        "tags": household.tags.all(),
        "links": household.links.select_related("post__user", "resident"),
        "history": history,
        "moves": moves,
        "sections": household_file(user, household),
        "can_write": scope.covers_path(household.region.path, write=True),
        "can_reveal": scope.can_reveal,
    }


def _print_css() -> str:
    """The stylesheet inlined: the PDF is laid out without fetching anything (a server asking
    itself for its own CSS would wait on itself under a single-threaded runserver)."""
    from django.contrib.staticfiles import finders

    path = finders.find("hemei/hemei.css")
    return open(str(path), encoding="utf-8").read() if path else ""


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the household file fetches nothing: {url}")


@login_required
def household_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The household file as a PDF for the village archive (the page's print layout, rendered
    by WeasyPrint with the CJK fonts of the machine); personal data stays masked."""
    household = access_household(request.user, pk)
    if not scope_for(request.user).is_staff_scope:
        raise Http404
    from weasyprint import HTML

    context = household_file_context(request.user, household)
    context.update({"can_write": False, "can_reveal": False, "css": _print_css()})
    html = render(request, "regions/household_print.html", context).content.decode()
    pdf = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="household-{household.village.code}-{household.number}.pdf"'
    return response


@login_required
@require_POST
def resident_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    resident = access_resident(request.user, pk)
    try:
        value = services.personal_data_reveal(user=request.user, resident=resident, field=field, request=request)
    except ValidationError:
        raise Http404 from None
    return render(request, "regions/reveal.html", {"value": value})


@login_required
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resident = access_resident(request.user, pk, write=True)
    initial = {"name": resident.name, "phone": "", "relation": resident.relation,
               "is_party_member": resident.is_party_member}
    form = ResidentForm(request.POST if request.method == "POST" else None, initial=initial)
    status_form = ResidentStatusForm(prefix="s")
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "phone" or v}
        try:
            services.resident_update(resident=resident, actor=request.user, request=request, **changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("household-detail", pk=resident.household_id)
    return render(request, "regions/resident_edit.html",
                  {"form": form, "status_form": status_form, "resident": resident})


@login_required
@require_POST
def resident_status(request: HttpRequest, pk: int) -> HttpResponse:
    resident = access_resident(request.user, pk, write=True)
    form = ResidentStatusForm(request.POST, prefix="s")
    if not form.is_valid():
        messages.error(request, _("Please give a status and a date."))
        return redirect("resident-edit", pk=pk)
    services.resident_set_status(resident=resident, status=form.cleaned_data["status"],
                                 on=form.cleaned_data["on"], note=form.cleaned_data["note"], actor=request.user)
    messages.success(request, _("Saved."))
    return redirect("household-detail", pk=resident.household_id)


@login_required
def villager_home(request: HttpRequest) -> HttpResponse:
    """A villager's own household: large type, few steps."""
    scope = scope_for(request.user)
    if not scope.household_ids:
        raise Http404
    households = Household.objects.filter(pk__in=scope.household_ids).select_related("village", "region", "head")
    members = Resident.objects.filter(household__in=households).order_by(HEAD_FIRST, "birth_date")
    return render(request, "regions/villager_home.html", {"households": households, "members": members,
                                                          **_villager_figures(scope.household_ids)})


def _villager_figures(household_ids: frozenset[int]) -> dict[str, int]:
    """The two figures on the villager's icons: the points balance and the open requests.
    Imported here: the register app does not depend on the apps built on top of it."""
    from django.db.models import Sum

    from hemei.cases.models import Case
    from hemei.points.models import Account

    balance = Account.objects.filter(household_id__in=household_ids).aggregate(s=Sum("balance"))["s"] or 0
    open_cases = Case.objects.filter(reporter__household_id__in=household_ids,
                                     status__in=("submitted", "accepted", "in_progress", "resolved")).count()
    return {"points_balance": balance, "open_cases": open_cases}


@login_required
def no_posts(request: HttpRequest) -> HttpResponse:
    return render(request, "regions/no_posts.html", status=403)


def _date_param(request: HttpRequest, name: str) -> str:
    """A YYYY-MM-DD filter value, or "" for anything else (a typo must not become a 500)."""
    day = parse_date(request.GET.get(name))
    return day.isoformat() if day else ""


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """County admins browse their county's audit rows; filters by action, user, object, date."""
    if not can_browse_audit(request.user):
        raise PermissionDenied
    qs = AuditEntry.objects.all()
    codes = audit_county_codes(request.user)
    if codes is not None:
        qs = qs.filter(county_code__in=codes)
    action = request.GET.get("action", "")
    actor = request.GET.get("actor", "").strip()
    obj = request.GET.get("object", "").strip()
    date_from = _date_param(request, "from")
    date_to = _date_param(request, "to")
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    if obj:
        qs = qs.filter(Q(object_repr__icontains=obj) | Q(object_type=obj))
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "regions/audit_log.html", {
        "page": page, "actions": AuditEntry.Action.choices,
        "f": {"action": action, "actor": actor, "object": obj, "from": date_from, "to": date_to},
    })

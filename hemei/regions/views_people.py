"""People and posts: a county office, township or village puts people in their posts.

Who may manage, and which roles, is data in `hemei.regions.access` (`MANAGED_ROLES`,
`ROLE_LEVELS`); the services check it again on every write. The pages answer:
- 403 to anyone without a managing post (grid workers, shop keepers, villagers …), and to a
  manager asking for a role above their authority;
- 404 for an account, post, region or resident outside the manager's scope (an account is
  in scope when it holds, or held, a post there).
Rows are never deleted: ending a post sets its end date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hemei.accounts.models import User
from hemei.accounts.services import user_set_password, user_unlock
from hemei.core.masking import mask_phone
from hemei.core.scope import paths_q
from hemei.regions import services
from hemei.regions.access import (
    access_managed_posts,
    access_managed_user,
    access_resident,
    assignable_roles,
    can_manage_account,
    can_manage_posts,
    manage_paths,
    manager_grants,
    roles_at,
)
from hemei.regions.forms_people import (
    PasswordSetForm,
    PostAddForm,
    PostEndForm,
    StaffAccountForm,
    region_label,
)
from hemei.regions.models import Post, Region, Resident, Role

PAGE_SIZE = 50
MAX_REGION_CHOICES = 2000
STATES = ("current", "ended", "all")
# Service error codes that belong to one form field.
ERROR_FIELDS = {"username": "username", "phone": "phone", "role": "role", "closed": "region"}


def _manager(request: HttpRequest) -> None:
    if not can_manage_posts(request.user):
        raise PermissionDenied


def _show_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's error on the field it concerns; password policy errors on the password."""
    for error in exc.error_list:
        code = error.code or ""
        field = "password1" if code.startswith("password") else ERROR_FIELDS.get(code)
        form.add_error(field if field in form.fields else None, error)


def _managed_regions(user: Any, under: Region | None = None) -> list[Region]:
    """Current regions the user manages (below `under` when given), tree order."""
    today = dt.date.today()
    qs = Region.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    paths = manage_paths(user)
    if "" not in paths:
        qs = qs.filter(paths_q(paths))
    if under is not None:
        qs = qs.filter(path__startswith=under.path)
    return list(qs.order_by("path")[:MAX_REGION_CHOICES])


def _managed_region(user: Any, code: str) -> Region:
    """A region by code inside the user's managing posts, else 404."""
    region = Region.objects.filter(code=code).first() if code else None
    if region is None or not any(region.path.startswith(p) for p in manage_paths(user)):
        raise Http404
    return region


def _staff_roles(user: Any) -> list[str]:
    """Roles the user may give somewhere, except villager (opened from the household page)."""
    roles: set[str] = set()
    for grant in manager_grants(user):
        roles |= grant.roles
    return [r for r in Role.values if r in roles and r != Role.VILLAGER]


def _label_regions(regions: list[Region]) -> dict[int, str]:
    """"Parent · name" per region, with one query for the parents."""
    steplen = Region.steplen
    parents = dict(
        Region.objects.filter(path__in={r.path[:-steplen] for r in regions if r.depth > 1})
        .values_list("path", "name")
    )
    labels = {}
    for r in regions:
        parent = parents.get(r.path[:-steplen])
        labels[r.pk] = f"{parent} · {r.name}" if parent else r.name
    return labels


def _post_rows(user: Any, posts: list[Post]) -> list[dict[str, Any]]:
    """Table rows: the post, "parent · region", whether it is current and may be ended here."""
    labels = _label_regions([p.region for p in posts])
    grants = manager_grants(user)
    today = dt.date.today()
    rows = []
    for p in posts:
        current = p.ended_on is None or p.ended_on >= today
        rows.append({"post": p, "region": labels.get(p.region_id, p.region.name), "current": current,
                     "can_end": current and p.role in roles_at(grants, p.region)})
    return rows


def _prepare_post_form(request: HttpRequest, form: StaffAccountForm | PostAddForm, under: Region | None) -> None:
    regions = _managed_regions(request.user, under)
    top = min((r.depth for r in regions), default=1)
    form.set_choices(roles=_staff_roles(request.user), regions=regions, top_depth=top)


def _checked_post_choice(request: HttpRequest, form: StaffAccountForm | PostAddForm) -> tuple[str, Region] | None:
    """Role and region of a valid form. Region outside the scope → 404; a role above the
    manager's authority → 403 (the form never offers it); a role that is not held at that
    level or in that part of the scope → a form error (None returned)."""
    region = _managed_region(request.user, form.cleaned_data["region"])
    role = form.cleaned_data["role"]
    if role not in Role.values:
        form.add_error("role", _("Unknown role."))
        return None
    if role not in _staff_roles(request.user):
        raise PermissionDenied
    if role not in assignable_roles(request.user, region):
        form.add_error("role", _("A %(role)s post cannot be given in %(region)s.")
                       % {"role": Role(role).label, "region": region.name})
        return None
    return role, region


def _under(request: HttpRequest) -> Region | None:
    code = request.GET.get("region", "")
    return _managed_region(request.user, code) if code else None


def _user_url(user: User) -> str:
    return reverse("people-user", args=[user.pk])


@login_required
def people_list(request: HttpRequest) -> HttpResponse:
    """Posts in the manager's scope; ?region=<code>&role=<role>&state=current|ended|all&q=<name>."""
    _manager(request)
    user = request.user
    region = _under(request)
    role = request.GET.get("role", "")
    role = role if role in Role.values else ""
    state = request.GET.get("state", "current")
    state = state if state in STATES else "current"
    q = request.GET.get("q", "").strip()
    qs = access_managed_posts(user).select_related("user", "region", "resident")
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    if role:
        qs = qs.filter(role=role)
    if state == "current":
        qs = qs.current()
    elif state == "ended":
        qs = qs.filter(ended_on__lt=dt.date.today())
    if q:
        qs = qs.filter(Q(user__username__icontains=q) | Q(user__display_name__icontains=q))
    page = Paginator(qs.order_by("region__path", "role", "user__username", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = _post_rows(user, list(page))
    regions = _managed_regions(user)
    top = min((r.depth for r in regions), default=1)
    f = {"region": region.code if region else "", "role": role, "state": state, "q": q}
    return render(request, "people/list.html", {
        "page": page, "rows": rows, "region": region,
        "region_choices": [(r.code, region_label(r, top)) for r in regions],
        "role_choices": Role.choices, "states": [
            ("current", _("Current posts")), ("ended", _("Ended posts")), ("all", _("All posts"))],
        "f": f, "query": urlencode({k: v for k, v in f.items() if v}),
        "can_create": bool(_staff_roles(user)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def people_create(request: HttpRequest) -> HttpResponse:
    """A staff account and its first post in one form."""
    _manager(request)
    under = _under(request)
    form = StaffAccountForm(request.POST if request.method == "POST" else None,
                            initial={"region": under.code if under else ""})
    _prepare_post_form(request, form, under)
    if request.method == "POST" and form.is_valid():
        chosen = _checked_post_choice(request, form)
        if chosen is not None:
            role, region = chosen
            data = form.cleaned_data
            try:
                post = services.staff_account_create(
                    username=data["username"], password=data["password1"], role=role, region=region,
                    display_name=data["display_name"], phone=data["phone"], started_on=data["started_on"],
                    actor=request.user, request=request,
                )
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("Account %(user)s created: %(role)s, %(region)s.")
                                 % {"user": post.user.username, "role": post.get_role_display(),
                                    "region": region.name})
                return redirect(_user_url(post.user))
    return render(request, "people/account_form.html", {"form": form, "under": under})


@login_required
def people_user(request: HttpRequest, pk: int) -> HttpResponse:
    """One account: its posts in the manager's scope, lock status, and the actions allowed."""
    _manager(request)
    target = access_managed_user(request.user, pk)
    rows = _post_rows(request.user, list(
        access_managed_posts(request.user).filter(user=target).select_related("user", "region", "resident")
        .order_by("-started_on", "-pk")))
    return render(request, "people/user_detail.html", {
        "target": target, "rows": rows, "phone": mask_phone(target.phone or ""),
        "can_unlock": can_manage_account(request.user, target),
        "can_password": can_manage_account(request.user, target, password=True),
        "can_add_post": bool(_staff_roles(request.user)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def post_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Another post for an account already in scope."""
    _manager(request)
    target = access_managed_user(request.user, pk)
    if not _staff_roles(request.user):
        raise PermissionDenied
    under = _under(request)
    form = PostAddForm(request.POST if request.method == "POST" else None)
    _prepare_post_form(request, form, under)
    if request.method == "POST" and form.is_valid():
        chosen = _checked_post_choice(request, form)
        if chosen is not None:
            role, region = chosen
            try:
                post = services.post_assign(user=target, region=region, role=role,
                                            started_on=form.cleaned_data["started_on"], actor=request.user,
                                            request=request)
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("Post added: %(role)s, %(region)s.")
                                 % {"role": post.get_role_display(), "region": region.name})
                return redirect(_user_url(target))
    return render(request, "people/post_form.html", {"form": form, "target": target})


@login_required
@require_http_methods(["GET", "POST"])
def post_end(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    try:
        post = access_managed_posts(request.user).select_related("user", "region").get(pk=pk)
    except Post.DoesNotExist:
        raise Http404 from None
    if post.role not in assignable_roles(request.user, post.region):
        raise PermissionDenied
    form = PostEndForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_end(post=post, on=form.cleaned_data["on"], actor=request.user, request=request)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Post ended: %(role)s, %(region)s.")
                             % {"role": post.get_role_display(), "region": post.region.name})
            return redirect(_user_url(post.user))
    return render(request, "people/post_end.html", {"form": form, "post": post, "target": post.user})


@login_required
@require_POST
def account_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    target = access_managed_user(request.user, pk)
    user_unlock(user=target, actor=request.user, request=request)  # PermissionDenied → 403
    messages.success(request, _("Account %(user)s unlocked.") % {"user": target.username})
    return redirect(_user_url(target))


@login_required
@require_http_methods(["GET", "POST"])
def account_password(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    target = access_managed_user(request.user, pk)
    if not can_manage_account(request.user, target, password=True):
        raise PermissionDenied
    form = PasswordSetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user_set_password(user=target, password=form.cleaned_data["password1"], actor=request.user,
                              request=request)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("New password set for %(user)s. Tell it to them in person.")
                             % {"user": target.username})
            return redirect(_user_url(target))
    return render(request, "people/password_form.html", {"form": form, "target": target})


def villager_account_blocker(resident: Resident) -> str:
    """Why no villager account can be opened for the resident, or "" when one can."""
    if resident.status != Resident.Status.LIVING:
        return _("%(name)s no longer lives here.") % {"name": resident.name}
    if not resident.phone:
        return _("%(name)s has no phone number to sign in with.") % {"name": resident.name}
    if Post.objects.current().filter(role=Role.VILLAGER, resident=resident).exists():
        return _("%(name)s already has a villager account.") % {"name": resident.name}
    if User.objects.filter(phone=resident.phone).exists():
        return _("An account with this phone number already exists.")
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def villager_account(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a villager account for a resident (button on the household page)."""
    _manager(request)
    resident = access_resident(request.user, pk)
    household = resident.household
    village = Region.objects.get(pk=household.village_id)
    if Role.VILLAGER not in assignable_roles(request.user, village):
        raise PermissionDenied
    back = reverse("household-detail", args=[household.pk])
    blocker = villager_account_blocker(resident)
    form = PasswordSetForm(request.POST if request.method == "POST" else None)
    form.fields["password1"].label = _("Initial password")
    if request.method == "POST" and not blocker and form.is_valid():
        try:
            services.villager_account_create(resident=resident, password=form.cleaned_data["password1"],
                                             actor=request.user, request=request)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Villager account opened: %(name)s signs in with the phone number "
                                        "%(phone)s and the password you typed.")
                             % {"name": resident.name, "phone": resident.phone_masked})
            return redirect(back)
    return render(request, "people/villager_account.html", {
        "form": form, "resident": resident, "household": household, "village": village, "back": back,
        "blocker": blocker,
    }, status=409 if blocker and request.method == "POST" else 200)

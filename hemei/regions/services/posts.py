"""Writes about people in posts: posts, staff and villager accounts, 联户 links."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from hemei.accounts.models import User
from hemei.accounts.services import user_create
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import is_system, require_actor
from hemei.regions.access import assignable_roles, scope_for
from hemei.regions.models import Household, HouseholdLink, Post, Region, Resident, Role
from hemei.regions.services.register import _check_can_write, normalise_phone


def _check_can_assign(actor: Any, region: Region, role: str) -> None:
    """A user gives (or ends) a post only inside their write scope and only with a role below
    their own authority (`hemei.regions.access.MANAGED_ROLES`); system callers are trusted."""
    if is_system(actor):
        return
    if not scope_for(actor).covers_path(region.path, write=True):
        raise PermissionDenied(_("This region is outside your posts."))
    if role not in assignable_roles(actor, region):
        raise PermissionDenied(_("You may not assign the role %(role)s in %(r)s.")
                               % {"role": Role(role).label if role in Role.values else role, "r": region.name})


@transaction.atomic
def post_assign(
    *, user: Any, region: Region, role: str, resident: Resident | None = None,
    started_on: dt.date | None = None, actor: Any, request: HttpRequest | None = None,
) -> Post:
    require_actor(actor)
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    if role == Role.VILLAGER and resident is None:
        raise ValidationError(_("A villager account must be linked to a resident."))
    if resident is not None and not resident.region.path.startswith(region.path):
        raise ValidationError(_("The resident does not live in %(r)s.") % {"r": region.name})
    if not is_system(actor):
        _check_can_assign(actor, region, role)
        if not region.is_current:
            raise ValidationError(_("Region %(r)s was closed on %(d)s.") % {"r": region.name, "d": region.valid_to},
                                  code="closed")
        if Post.objects.current().filter(user=user, region=region, role=role).exists():
            raise ValidationError(_("%(user)s already holds this post.") % {"user": user}, code="duplicate")
    post = Post.objects.create(user=user, region=region, role=role, resident=resident,
                               started_on=started_on or dt.date.today())
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=post, county_code=region.code[:6],
                 request=request,
                 changes={"user": [None, user.username], "role": [None, role], "region": [None, region.code]})
    return post


@transaction.atomic
def household_link_create(
    *, household: Household, kind: str, post: Post | None = None, resident: Resident | None = None,
    actor: Any,
) -> HouseholdLink:
    require_actor(actor)
    _check_can_write(actor, household.region)
    if (post is None) == (resident is None):
        raise ValidationError(_("A link names either a cadre post or a party member."))
    if resident is not None and not resident.is_party_member:
        raise ValidationError(_("Only party members link households as party members."))
    if resident is not None and not resident.region.path.startswith(household.village.path):
        raise ValidationError(_("The party member lives in another village."))
    if HouseholdLink.objects.filter(household=household, post=post, resident=resident).exists():
        raise ValidationError(_("This household is already linked to this person."))
    link = HouseholdLink.objects.create(household=household, kind=kind, post=post, resident=resident)
    who = resident.name if resident is not None else str(post.user) if post is not None else ""
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=link, county_code=household.county_code,
                 changes={"household": [None, household.number], "kind": [None, kind], "linked": [None, who]})
    return link


# --- people and posts (hemei.regions.views_people) --------------------------------------


@transaction.atomic
def post_end(*, post: Post, on: dt.date, actor: Any, request: HttpRequest | None = None) -> Post:
    """End a post from the day `on`: from that day it grants nothing. The row stays.

    1. `ended_on` is the last day the post is held (`PostQuerySet.current()` counts it), so
       it becomes `on` − 1 day: ending a post today takes effect on the holder's next request.
    2. Only someone who may assign the role there may end it (a director does not end the
       secretary's post).
    3. The row is locked, so two clicks cannot both end it; a post already over is refused.
    """
    require_actor(actor)
    post = Post.objects.select_for_update().select_related("region", "user").get(pk=post.pk)
    _check_can_assign(actor, post.region, post.role)
    today = dt.date.today()
    if post.ended_on is not None and post.ended_on < today:
        raise ValidationError(_("This post ended on %(d)s.") % {"d": post.ended_on}, code="ended")
    if on < post.started_on:
        raise ValidationError(_("A post cannot end before it started (%(d)s).") % {"d": post.started_on},
                              code="before_start")
    old = post.ended_on
    post.ended_on = on - dt.timedelta(days=1)
    post.save(update_fields=["ended_on"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=post, county_code=post.region.code[:6],
                 request=request, changes={"ended_on": [old, post.ended_on], "user": post.user.username})
    return post


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ValidationError(_("A user name is required."), code="username")
    if username.isdigit():
        # Digits sign in as a phone number (hemei.accounts.backends.find_user tries the user
        # name first): an all-digit user name could shadow a villager's phone login.
        raise ValidationError(_("A user name cannot be only digits."), code="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("The user name %(u)s is taken.") % {"u": username}, code="username")
    return username


def _check_phone_free(phone: str) -> None:
    if phone and User.objects.filter(phone=phone).exists():
        raise ValidationError(_("An account with this phone number already exists."), code="phone")


def _create_account(
    *, username: str, password: str, display_name: str, phone: str, county_code: str, actor: Any,
    request: HttpRequest | None,
) -> User:
    """user_create, with a parallel duplicate (same user name or phone) as a clear error."""
    try:
        with transaction.atomic():
            return user_create(username=username, password=password, display_name=display_name,
                               phone=phone or None, actor=actor, county_code=county_code, request=request)
    except IntegrityError:
        raise ValidationError(_("The user name %(u)s or the phone number is taken.") % {"u": username},
                              code="username") from None


@transaction.atomic
def staff_account_create(
    *,
    username: str,
    password: str,
    role: str,
    region: Region,
    display_name: str = "",
    phone: str = "",
    started_on: dt.date | None = None,
    actor: Any,
    request: HttpRequest | None = None,
) -> Post:
    """A staff account and its first post, both or neither.

    1. The actor's authority is checked first (role and region), before anything is looked up.
    2. The user name must be free (case-insensitive) and not all digits; a phone is optional,
       normalised, and must be free (staff may then also sign in by phone).
    3. `user_create` applies the password policy; `post_assign` writes the post. Each leaves
       an audit row in the region's county.
    """
    require_actor(actor)
    if role not in Role.values:
        raise ValidationError(_("Unknown role."), code="role")
    if role == Role.VILLAGER:
        raise ValidationError(_("Villager accounts are opened from the household page."), code="role")
    _check_can_assign(actor, region, role)
    username = _check_username(username)
    phone = normalise_phone(phone)
    _check_phone_free(phone)
    user = _create_account(username=username, password=password, display_name=display_name.strip(),
                           phone=phone, county_code=region.code[:6], actor=actor, request=request)
    return post_assign(user=user, region=region, role=role, started_on=started_on, actor=actor, request=request)


def villager_username(resident: Resident) -> str:
    """A villager signs in by phone; the user name only has to be unique and not digits."""
    base = f"villager-{resident.pk}"
    name, n = base, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def villager_account_create(
    *, resident: Resident, password: str, actor: Any, request: HttpRequest | None = None
) -> Post:
    """Open a villager account for a resident: sign-in by the resident's phone, a villager
    post at the resident's village linked to the resident.

    1. The actor must be allowed to assign villager posts in the village.
    2. The resident row is locked, so a double submission waits and then finds the account.
    3. The resident must live here and have a phone no account uses; one account each.
    """
    require_actor(actor)
    household = resident.household
    village = Region.objects.get(pk=household.village_id)
    _check_can_assign(actor, village, Role.VILLAGER)
    resident = Resident.objects.select_for_update().select_related("region").get(pk=resident.pk)
    if resident.status != Resident.Status.LIVING:
        raise ValidationError(_("%(name)s no longer lives here.") % {"name": resident.name}, code="status")
    if not resident.phone:
        raise ValidationError(_("%(name)s has no phone number to sign in with.") % {"name": resident.name},
                              code="phone")
    if Post.objects.current().filter(role=Role.VILLAGER, resident=resident).exists():
        raise ValidationError(_("%(name)s already has a villager account.") % {"name": resident.name},
                              code="exists")
    _check_phone_free(resident.phone)
    user = _create_account(username=villager_username(resident), password=password, display_name=resident.name,
                           phone=resident.phone, county_code=village.code[:6], actor=actor, request=request)
    return post_assign(user=user, region=village, role=Role.VILLAGER, resident=resident, actor=actor,
                       request=request)

"""Account writes: login bookkeeping, lockout, API tokens, users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from hemei.accounts import lockout
from hemei.accounts.backends import UsernameOrPhoneBackend, find_user
from hemei.accounts.models import User
from hemei.core.audit import audit_record
from hemei.core.masking import mask_phone
from hemei.core.models import AuditEntry
from hemei.core.scope import is_system, require_actor


class LoginRefused(Exception):
    def __init__(self, message: str, *, locked_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


def login_label(login_name: str, user: User | None) -> str:
    """What the audit log records for a login attempt: the account's user name when it exists,
    otherwise a masked form of what was typed (it may be a phone number, or a password typed
    into the wrong box)."""
    if user is not None:
        return user.get_username()
    typed = (login_name or "").strip()
    return mask_phone(typed) if typed.isdigit() else typed[:2] + "***"


def user_login(*, request: HttpRequest, login_name: str, password: str) -> User:
    """Authenticate and start a fresh session, or count the failure (`hemei.accounts.lockout`).

    1. A lock of this account (or this unknown name) at this source address, or an account-wide
       lock, is refused without checking the password (no oracle while locked).
    2. A wrong password counts one failure for (account, source) with F(); the fifth in a row
       locks that pair for HEMEI_LOCKOUT_MINUTES. Unknown names are counted the same way.
    3. Every refusal is worded the same for known and unknown names.
    4. Success clears the pair's count; django.contrib.auth.login() cycles the session key.
    Every outcome leaves an audit row.
    """
    from django.utils.translation import gettext as _

    user = find_user(login_name)
    label = login_label(login_name, user)
    key, source = lockout.lock_key(user, login_name), lockout.source_of(request)
    unknown: dict[str, Any] = {"object_type": "accounts.user", "object_repr": label} if user is None else {}
    if lockout.locked(key, source) or (user is not None and user.is_locked):
        audit_record(actor=label, action=AuditEntry.Action.LOGIN_FAILED, obj=user, request=request, note="locked",
                     **unknown)
        raise LoginRefused(_("Too many failed attempts from here: signing in is locked. Try again later."))
    authenticated = UsernameOrPhoneBackend().authenticate(request, username=login_name, password=password)
    if authenticated is None:
        audit_record(actor=label, action=AuditEntry.Action.LOGIN_FAILED, obj=user, request=request, **unknown)
        if user is not None:
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        until = lockout.record_failure(key, source)
        if until is not None:
            audit_record(actor=label, action=AuditEntry.Action.LOCKOUT, obj=user, request=request,
                         changes={"locked_until": [None, until], "source": [None, source]}, **unknown)
            raise LoginRefused(_("Too many failed attempts from here: signing in is locked for %(m)d minutes.")
                               % {"m": settings.HEMEI_LOCKOUT_MINUTES}, locked_until=until)
        raise LoginRefused(_("Wrong user name, phone number or password."))
    lockout.clear(key, source)
    User.objects.filter(pk=authenticated.pk).update(failed_logins=0)
    authenticated.backend = "hemei.accounts.backends.UsernameOrPhoneBackend"
    login(request, authenticated)
    audit_record(actor=authenticated, action=AuditEntry.Action.LOGIN, obj=authenticated, request=request)
    return authenticated


def user_logout(*, request: HttpRequest) -> None:
    if request.user.is_authenticated:
        audit_record(actor=request.user, action=AuditEntry.Action.LOGOUT, obj=request.user, request=request)
    logout(request)  # flushes the session: the old key is gone server-side


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    display_name: str = "",
    phone: str | None = None,
    is_staff: bool = False,
    actor: object,
    validate: bool = True,
    county_code: str = "",
    request: HttpRequest | None = None,
) -> User:
    """Create an account. `county_code`: the county whose audit log shows the row (a new
    account has no post yet, so the user's own county is still unknown)."""
    require_actor(actor)
    user = User(username=username, display_name=display_name, phone=phone or None, is_staff=is_staff)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=user,
                 county_code=county_code, request=request,
                 changes={"username": [None, username], "phone": [None, "***" if phone else None]})
    return user


@transaction.atomic
def token_issue(*, user: User, actor: object) -> str:
    """Return the user's API token, creating it on first use (audited)."""
    require_actor(actor)
    token, created = Token.objects.get_or_create(user=user)
    audit_record(actor=actor, action=AuditEntry.Action.TOKEN, obj=user,
                 note="created" if created else "shown")
    return token.key


def _check_can_manage(actor: object, user: User, *, password: bool = False) -> None:
    """People pages act for a user; system callers (CLI, demo) are trusted."""
    from django.utils.translation import gettext as _

    from hemei.regions.access import can_manage_account

    if is_system(actor):
        return
    if not can_manage_account(actor, user, password=password):
        raise PermissionDenied(_("You may not manage this account."))


@transaction.atomic
def user_unlock(*, user: User, actor: object, request: HttpRequest | None = None) -> User:
    """Lift a lockout: clears locked_until and the failure count (audited, also when the
    account was not locked, so every manager's action shows in the log)."""
    require_actor(actor)
    _check_can_manage(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"locked_until": user.locked_until, "failed_logins": user.failed_logins}
    User.objects.filter(pk=user.pk).update(locked_until=None, failed_logins=0)
    user.locked_until, user.failed_logins = None, 0
    before["address_locks"] = lockout.clear_account(user)
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=user, request=request,
                 note="unlock", changes={k: [v, None if k == "locked_until" else 0] for k, v in before.items()})
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: object, request: HttpRequest | None = None) -> User:
    """Set a password a manager typed (after the password policy). The audit row says that
    the password changed, never what it is. Changing the password ends the account's other
    sessions (Django checks the session's password hash on every request)."""
    require_actor(actor)
    _check_can_manage(actor, user, password=True)
    user = User.objects.select_for_update().get(pk=user.pk)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=user, request=request,
                 note="password set", changes={"password": ["***", "***"]})
    return user

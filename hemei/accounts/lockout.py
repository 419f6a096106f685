"""Sign-in lockout by account and source address together (MLPS level 2, without the denial
of service an account-wide lock gives anyone who knows a user name).

1. Failures count per (account key, source address): five in a row from one address lock that
   account from that address for HEMEI_LOCKOUT_MINUTES; the same account from another
   address (the secretary at the village office) is not affected.
2. A name that matches no account is counted and locked exactly the same way, and every answer
   is worded the same, so the login page never tells whether an account exists.
3. `user.locked_until` stays the account-wide lock a manager can see and lift; it is honoured
   everywhere but no longer set by strangers' guesses.
4. API tokens follow the same locks: a disabled account, an account-wide lock, or a lock of the
   account at the request's address refuses the token (`token_refused`).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from hemei.accounts.models import LoginLock, User
from hemei.core.audit import client_ip


def source_of(request: HttpRequest | None) -> str:
    return client_ip(request) or "-"


def lock_key(user: User | None, login_name: str) -> str:
    if user is not None:
        return f"u:{user.pk}"
    typed = (login_name or "").strip().lower()
    return "n:" + hashlib.sha256(f"{settings.SECRET_KEY}:{typed}".encode()).hexdigest()[:40]


def locked(key: str, source: str) -> bool:
    lock = LoginLock.objects.filter(key=key, source=source).first()
    return lock is not None and lock.is_locked


def record_failure(key: str, source: str) -> dt.datetime | None:
    """Count one failure (with F(), so parallel attempts all count); the limit-th locks. Returns
    the end of the lock when this failure set it."""
    now = timezone.now()
    with transaction.atomic():
        lock, _created = LoginLock.objects.select_for_update().get_or_create(key=key, source=source)
        if lock.locked_until is not None and lock.locked_until <= now:
            lock.failures, lock.locked_until = 0, None  # a lock that ran out starts afresh
            lock.save(update_fields=["failures", "locked_until"])
        LoginLock.objects.filter(pk=lock.pk).update(failures=F("failures") + 1, updated_at=now)
        lock.refresh_from_db(fields=["failures"])
        if lock.failures < settings.HEMEI_LOCKOUT_FAILURES:
            return None
        until = now + dt.timedelta(minutes=settings.HEMEI_LOCKOUT_MINUTES)
        LoginLock.objects.filter(pk=lock.pk).update(locked_until=until, failures=0)
        return until


def clear(key: str, source: str) -> None:
    LoginLock.objects.filter(key=key, source=source).delete()


def clear_account(user: User) -> int:
    """A manager's unlock lifts the account's locks at every address."""
    deleted, _rows = LoginLock.objects.filter(key=lock_key(user, "")).delete()
    return deleted


def token_allowed(user: User, request: HttpRequest | None) -> bool:
    """Whether `user`'s API token may be used now; a refusal writes an audit row."""
    from hemei.core.audit import audit_record
    from hemei.core.models import AuditEntry

    why = token_refused(user, request)
    if why:
        audit_record(actor=user.get_username(), action=AuditEntry.Action.LOGIN_FAILED, obj=user, request=request,
                     note=f"token refused: {why}")
    return not why


def token_refused(user: User, request: HttpRequest | None) -> str:
    """Why `user`'s API token may not be used now ("" = it may)."""
    if not user.is_active:
        return "disabled"
    if user.is_locked:
        return "locked"
    if locked(lock_key(user, ""), source_of(request)):
        return "locked_here"
    return ""

"""Outgoing webhooks for case events (issue 11): a county's 12345 hotline hands cases over
through the API and follows them here, without polling.

- `hook_create(actor=…, owner=…, url=…)` (operators: `hemei case_hooks add OWNER URL`) makes a
  hook and returns its signing key, shown once. It follows the cases `owner` submitted, from
  the next event on. The URL must be https:// (http:// only to this machine).
- `deliver(now)` runs as the sweeper "case-hooks" (`hemei.cases.sweep`; `hemei sweep`, and
  `hemei serve`'s sweep loop): for each active
  hook, the events after its cursor, oldest first, each POSTed as canonical JSON with the
  `hemei.core.signing` headers plus `X-Hemei-Event` (the kind) and `X-Hemei-Delivery` (the
  event id). A 2xx moves the cursor; anything else (an error status, a timeout, a refused
  connection) is one attempt row, and the hook waits 30 s, 1 min, 2 min … (at most an hour)
  before the same event again: later events wait, so the receiver sees the order.
- Delivery is at least once (two sweepers may both send an event before either moves the
  cursor): receivers drop an `X-Hemei-Delivery` they have seen.
- Free text (the event's note) passes the one personal-data detector (`hemei.core.pii`); the
  payload carries no description, reporter or household.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.cases.models import CaseEvent, CaseHook, CaseHookAttempt
from hemei.core import pii, signing
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.scope import is_system, require_actor
from hemei.core.sweeps import Escalation

BATCH = 50  # events per hook per sweep: a backlog drains over a few rounds, escalations do not wait
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _check_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(_("Enter a valid URL."), code="url") from None
    parts = urlsplit(url)
    if len(url) > 500 or not (parts.scheme == "https" or parts.hostname in LOCAL_HOSTS):
        raise ValidationError(_("A webhook URL must start with https:// (http:// only to this machine)."),
                              code="url")
    return url


def _operator(actor: Any) -> None:
    """Hooks send case data off the system: only operators (the CLI) make or stop them."""
    require_actor(actor)
    if not is_system(actor):
        raise PermissionDenied("case webhooks are managed by operators")


def hook_create(*, actor: Any, owner: Any, url: str) -> tuple[CaseHook, str]:
    """A hook following the cases `owner` submits; returns it and its signing key."""
    _operator(actor)
    url = _check_url(url)
    if owner is None or not owner.is_active:
        raise ValidationError(_("The account to follow must be an active account."), code="owner")
    key = secrets.token_hex(32)
    last = CaseEvent.objects.filter(case__created_by=owner).aggregate(m=Max("pk"))["m"] or 0
    hook = CaseHook.objects.create(owner=owner, url=url, secret=key, cursor=last)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=hook,
                 changes={"owner": owner.get_username(), "url": url, "cursor": last})
    return hook, key


def hook_disable(*, actor: Any, hook: CaseHook) -> None:
    _operator(actor)
    if CaseHook.objects.filter(pk=hook.pk, active=True).update(active=False):
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=hook, changes={"active": [True, False]})
    hook.active = False


def payload(event: CaseEvent) -> dict[str, Any]:
    """What a receiver gets: the event and the case's public state (no personal data)."""
    case = event.case
    data = {k: pii.redact(v) if isinstance(v, str) else v for k, v in (event.data or {}).items()}
    return {
        "id": event.pk, "kind": event.kind, "at": event.at.isoformat(),
        "from_status": event.from_state, "to_status": event.to_state, "note": pii.redact(event.note), "data": data,
        "case": {"number": case.number, "status": case.status, "tier": case.tier,
                 "accept_by": case.accept_by.isoformat(), "resolve_by": case.resolve_by.isoformat(),
                 "responsible_unit": case.responsible_unit, "rating": case.rating,
                 "updated_at": case.updated_at.isoformat()},
    }


def body_of(event: CaseEvent) -> bytes:
    return json.dumps(payload(event), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _post(hook: CaseHook, event: CaseEvent) -> tuple[int | None, str]:
    body = body_of(event)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Hemei case webhook",
               "X-Hemei-Event": event.kind, "X-Hemei-Delivery": str(event.pk),
               **signing.signed_headers(hook.secret, body)}
    request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")  # noqa: S310 (checked scheme)
    try:
        with urllib.request.urlopen(request, timeout=settings.HEMEI_CASE_HOOK_TIMEOUT) as answer:  # noqa: S310
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.reason)[:300]
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:300]


def backoff(failures: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(failures - 1, 0), 3600))


def _pending(hook: CaseHook) -> Any:
    return (CaseEvent.objects.filter(case__created_by_id=hook.owner_id, pk__gt=hook.cursor)
            .select_related("case").order_by("pk"))


def deliver_hook(hook: CaseHook, now: dt.datetime) -> int:
    """Send the hook's next events in order until one fails; returns how many were delivered."""
    sent = 0
    for event in list(_pending(hook)[:BATCH]):
        status, error = _post(hook, event)
        CaseHookAttempt.objects.create(hook=hook, event=event, at=now, status=status, error=error)
        if status is None or not 200 <= status < 300:
            hook.failures += 1
            hook.retry_at = now + backoff(hook.failures)
            CaseHook.objects.filter(pk=hook.pk).update(failures=hook.failures, retry_at=hook.retry_at)
            return sent
        if not CaseHook.objects.filter(pk=hook.pk, cursor=hook.cursor).update(cursor=event.pk, failures=0,
                                                                               retry_at=None):
            return sent  # another sweeper moved the cursor: it carries on from there
        hook.cursor, hook.failures, hook.retry_at = event.pk, 0, None
        sent += 1
    return sent


def due_hooks(now: dt.datetime) -> Any:
    return CaseHook.objects.filter(active=True, owner__is_active=True).filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now))


def deliver(now: dt.datetime) -> list[Escalation]:
    """Every due hook's pending events (nothing escalates: the list is empty)."""
    for hook in due_hooks(now):
        deliver_hook(hook, now)
    return []


def next_delivery() -> dt.datetime | None:
    """The sweep loop wakes for a hook with events waiting: now, or when its back-off ends."""
    waiting = CaseEvent.objects.filter(case__created_by_id=OuterRef("owner_id"), pk__gt=OuterRef("cursor"))
    retries = list(CaseHook.objects.filter(active=True, owner__is_active=True).filter(Exists(waiting))
                   .values_list("retry_at", flat=True))  # one query, however many hooks
    return min((at or timezone.now() for at in retries), default=None)

"""Sending notifications (the one writer of `Notification` and `Delivery` rows).

`notify()` writes the inbox rows inside the caller's transaction, so a case change that rolls
back leaves no notice behind; email and SMS leave the building only after the commit
(`transaction.on_commit` → the `deliver_task` background task), so nobody is told about a
change that did not happen. Each outside send is a `Delivery` row with its status, attempts
and error: sending is recorded, and the `notify-retry` sweeper retries what failed.

Inbox state (read / unread) is the recipient's own view of their messages, not a change to
governed data, so it is not written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hemei.core.masking import mask_id_number, mask_phone
from hemei.core.scope import require_actor
from hemei.notify.models import Delivery, Notification
from hemei.notify.sms import get_sms_backend

logger = logging.getLogger(__name__)

INBOX, EMAIL, SMS = "inbox", "email", "sms"
DEFAULT_CHANNELS: tuple[str, ...] = (INBOX, EMAIL)
TITLE_LIMIT, BODY_LIMIT, SMS_LIMIT = 120, 500, 300
MAX_ATTEMPTS = 3
RETRY_AFTER = dt.timedelta(minutes=10)  # times the attempts made so far
STUCK_AFTER = dt.timedelta(minutes=30)  # a "sending" row whose worker died
RETRY_BATCH = 200

_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_DIGITS_RE = re.compile(r"\d{7,}")


def scrub(text: str) -> str:
    """Mask anything that looks like an ID number or a phone in free text (a case title typed
    by a villager may well contain "请打电话13800001111"): notices leave by SMS and email."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text or "")
    return _DIGITS_RE.sub(lambda m: mask_phone(m.group(0)), text)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(scrub(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _recipients(recipients: QuerySet[Any] | Iterable[Any], exclude: Iterable[Any]) -> list[Any]:
    """Active users, each once, in a stable order; one query for a queryset."""
    skip = {getattr(u, "pk", u) for u in exclude if u is not None}
    if isinstance(recipients, QuerySet):
        recipients = recipients.filter(is_active=True).only("pk", "email", "phone", "is_active").order_by("pk")
    seen: dict[Any, Any] = {}
    for user in recipients:
        if user is None or not user.is_active or user.pk in skip or user.pk in seen:
            continue
        seen[user.pk] = user
    return list(seen.values())


def notify(
    *,
    recipients: QuerySet[Any] | Iterable[Any],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    ref: str = "",
    county: Any = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    exclude: Iterable[Any] = (),
) -> list[Notification]:
    """Put a notice in each recipient's inbox and queue its email / SMS deliveries.

    1. Texts are scrubbed (masked ID numbers and phones) and shortened; `link` must be a
       path on this site.
    2. One bulk insert of inbox rows and one of delivery rows, in the caller's transaction:
       email when the user has an address and HEMEI_NOTIFY_EMAIL is on, SMS when `channels`
       asks for it and the user has a phone.
    3. After commit, the deliveries go to the `deliver_task` background task.
    The cost does not grow in queries with the number of recipients.
    """
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("a notification link is a path on this site")
    users = _recipients(recipients, exclude)
    if not users:
        return []
    title, body = _shorten(title, TITLE_LIMIT), _shorten(body, BODY_LIMIT)
    now = timezone.now()
    county_id = getattr(county, "pk", county)
    with transaction.atomic(savepoint=False):
        notes = Notification.objects.bulk_create(
            [
                Notification(
                    recipient=u,
                    county_id=county_id,
                    kind=kind[:40],
                    title=title,
                    body=body,
                    link=link,
                    ref=ref[:40],
                    created_at=now,
                )
                for u in users
            ]
        )
        deliveries: list[Delivery] = []
        for note, user in zip(notes, users, strict=True):
            if EMAIL in channels and settings.HEMEI_NOTIFY_EMAIL and user.email:
                deliveries.append(Delivery(notification=note, channel=Delivery.Channel.EMAIL, created_at=now))
            if SMS in channels and user.phone:
                deliveries.append(Delivery(notification=note, channel=Delivery.Channel.SMS, created_at=now))
        if deliveries:
            Delivery.objects.bulk_create(deliveries)
            ids = [d.pk for d in deliveries]
            transaction.on_commit(lambda: _enqueue(ids))
    return notes


def _enqueue(ids: list[int]) -> None:
    """Hand the deliveries to the task worker. If the queue itself fails, the rows stay
    pending and the `notify-retry` sweeper sends them later."""
    from hemei.notify.tasks import deliver_task

    try:
        deliver_task.enqueue(ids)
    except Exception:
        logger.exception("could not queue %d notification deliveries; the sweeper will retry", len(ids))


def _site_url(link: str) -> str:
    return f"{settings.HEMEI_SITE_URL.rstrip('/')}{link}" if link and settings.HEMEI_SITE_URL else link


def _email_text(note: Notification) -> str:
    lines = [note.body] if note.body else []
    if note.link:
        lines += ["", _("Open: %(url)s") % {"url": _site_url(note.link)}]
    lines += ["", _("This message was sent by Hemei village governance. Do not reply.")]
    return "\n".join(lines)


def _sms_text(note: Notification) -> str:
    text = f"{note.title}：{note.body}" if note.body else note.title
    return text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 1] + "…"


def _error_text(exc: BaseException, user: Any) -> str:
    """What went wrong, without the address it went wrong for."""
    text = f"{type(exc).__name__}: {exc}"
    for secret in (user.email, user.phone):
        if secret:
            text = text.replace(secret, "***")
    return scrub(text)[:300]


def send_one(delivery: Delivery) -> bool:
    """Claim the delivery (a conditional update on the row as read, so two workers never
    send it twice), send it, record the outcome. True when sent."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery.pk, status=delivery.status, attempts=delivery.attempts).update(
        status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
    )
    if claimed != 1:
        return False
    note = delivery.notification
    user = note.recipient
    message_id = ""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            if delivery.channel == Delivery.Channel.EMAIL:
                if not user.email:
                    raise ValueError("the recipient has no email address any more")
                send_mail(note.title, _email_text(note), None, [user.email])
            else:
                if not user.phone:
                    raise ValueError("the recipient has no phone any more")
                message_id = str(get_sms_backend().send(user.phone, _sms_text(note)))[:100]
    except Exception as exc:
        error = _error_text(exc, user)
        logger.warning("notification delivery %s (%s) failed: %s", delivery.pk, delivery.channel, error)
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, error=error)
        return False
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), error="", message_id=message_id
    )
    return True


def deliver(ids: Iterable[int]) -> int:
    """Send the pending deliveries among `ids`; the number sent."""
    rows = (
        Delivery.objects.filter(pk__in=list(ids), status=Delivery.Status.PENDING)
        .select_related("notification__recipient")
        .order_by("pk")
    )
    return sum(send_one(d) for d in rows)


# --- the inbox ----------------------------------------------------------------------------


def access_notifications(user: Any) -> QuerySet[Notification]:
    """A user's own notices; nobody reads another's inbox (not even a superuser)."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def access_notification(user: Any, pk: Any) -> Notification:
    try:
        return access_notifications(user).get(pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def notification_mark_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of the actor's notices read (the first reading time is kept)."""
    require_actor(actor)
    if notification.recipient_id != getattr(actor, "pk", None):
        raise Http404
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notice of the actor read; the number marked."""
    require_actor(actor)
    return access_notifications(actor).filter(read_at__isnull=True).update(read_at=timezone.now())


def unread_count(user: Any) -> int:
    return access_notifications(user).filter(read_at__isnull=True).count()

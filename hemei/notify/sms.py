"""The SMS sender interface. A deployment plugs in its gateway (Aliyun, Tencent Cloud, an
operator's SMPP bridge, ...) by writing a class with `send(phone, text) -> message id` and
naming it in `HEMEI_SMS_BACKEND`; see docs/notifications.md.

The default backend only logs, with the phone masked: a village laptop has no gateway, and
nothing personal ends up in a log file.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from hemei.core.masking import mask_phone

logger = logging.getLogger("hemei.sms")

DEFAULT_BACKEND = "hemei.notify.sms.LoggingSmsBackend"


class SmsError(Exception):
    """A gateway refused or failed to take a message; the delivery is marked failed and retried."""


@runtime_checkable
class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Hand one message to the gateway; return the gateway's message id. Raise on failure."""
        ...


class LoggingSmsBackend:
    """Writes one line per message to the `hemei.sms` logger: a generated id, the masked
    phone and the length of the text (the text itself only at DEBUG level)."""

    def send(self, phone: str, text: str) -> str:
        message_id = f"log-{uuid.uuid4().hex[:16]}"
        logger.info("SMS %s to %s, %d characters", message_id, mask_phone(phone), len(text))
        logger.debug("SMS %s text: %s", message_id, text)
        return message_id


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    message_id: str


# Like django.core.mail.outbox: the messages the locmem backend "sent" (tests empty it).
outbox: list[SmsMessage] = []


class LocmemSmsBackend:
    """For tests: keeps messages in `hemei.notify.sms.outbox` and logs like the default."""

    def send(self, phone: str, text: str) -> str:
        message_id = LoggingSmsBackend().send(phone, text)
        outbox.append(SmsMessage(phone=phone, text=text, message_id=message_id))
        return message_id


def get_sms_backend() -> SmsBackend:
    """An instance of the backend named by `HEMEI_SMS_BACKEND` (a dotted path)."""
    path = getattr(settings, "HEMEI_SMS_BACKEND", "") or DEFAULT_BACKEND
    backend = import_string(path)()
    if not isinstance(backend, SmsBackend):
        raise TypeError(f"{path} has no send(phone, text) method")
    return backend

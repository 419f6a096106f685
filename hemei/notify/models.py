"""Notifications: an in-app inbox row per recipient, plus one delivery row per outside
channel (email, SMS) so that sending is audited and can be retried.

Texts are short and carry no ID numbers or phones (they leave the system by email and SMS);
the recipient follows `link` to the page, where scope and masking apply as usual.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.regions.models import Region


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # The tenant key (ARCHITECTURE rule 2), when the notice is about something in a county.
    county = models.ForeignKey(
        Region, verbose_name=_("county"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.CharField(_("text"), max_length=500, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    ref = models.CharField(_("about"), max_length=40, blank=True, help_text=_("E.g. a case number."))
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The unread badge on every page: count of (recipient, read_at IS NULL).
            models.Index(fields=["recipient", "read_at"], name="notify_recipient_read"),
            # The inbox: a user's notices, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notify_recipient_created"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.ref}"


class Delivery(models.Model):
    """One attempt-tracked send of a notification over email or SMS. No address is stored:
    the sender reads the recipient's current email or phone when it sends."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    message_id = models.CharField(_("message id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "last_attempt_at"], name="notify_delivery_retry")]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.status}"


class Reminder(models.Model):
    """ "This deadline has been reminded of": the unique row makes a reminder happen once per
    (kind, ref, deadline), even with two sweepers at the same moment. A moved deadline (an
    extension, a reopening) is a new deadline and gets its own reminder."""

    kind = models.CharField(_("kind"), max_length=40)
    ref = models.CharField(_("about"), max_length=40)
    deadline = models.DateTimeField(_("deadline"))
    created_at = models.DateTimeField(_("reminded"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["kind", "ref", "deadline"], name="notify_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref} {self.deadline:%Y-%m-%d %H:%M}"

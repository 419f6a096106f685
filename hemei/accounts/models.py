"""Users: staff sign in with a user name, villagers with their phone number."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, null=True, blank=True, unique=True)
    failed_logins = models.PositiveSmallIntegerField(_("failed logins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def county_code(self) -> str:
        """The county of the user's first post: audit rows about the account (logins, tokens)
        then show up in that county's audit log."""
        post = self.posts.select_related("region").order_by("pk").first() if self.pk else None
        return post.region.code[:6] if post is not None else ""

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class LoginLock(models.Model):
    """Failed sign-ins counted per (account, source address), so a stranger guessing from one
    place locks only that place out: the secretary keeps signing in from the village office.

    `key` is "u:<user id>" for an existing account and "n:<hash>" for a name that matches no
    account (counted and locked the same way, so the answers never tell the two apart; the
    hash keeps a typed phone number or password out of the table)."""

    key = models.CharField(_("account key"), max_length=80)
    source = models.CharField(_("source address"), max_length=45)
    failures = models.PositiveSmallIntegerField(_("failed logins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("sign-in lock")
        verbose_name_plural = _("sign-in locks")
        constraints = [models.UniqueConstraint(fields=["key", "source"], name="accounts_loginlock_key_source")]

    def __str__(self) -> str:
        return f"{self.key[:10]} @ {self.source}"

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

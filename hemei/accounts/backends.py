"""Sign in by user name or phone number; locked accounts never authenticate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from hemei.accounts.models import User


def find_user(login: str) -> User | None:
    login = (login or "").strip()
    if not login:
        return None
    user = User.objects.filter(username=login).first()
    if user is None and login.isdigit():
        user = User.objects.filter(phone=login).first()
    return user


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = find_user(username or "")
        if user is None or password is None:
            # Spend the same time as a real check so user names cannot be probed by timing.
            User().set_password(password or "")
            return None
        if user.is_locked:
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

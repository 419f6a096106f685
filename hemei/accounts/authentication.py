"""API token authentication that honours sign-in locks and disabled accounts (audited)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from hemei.accounts.lockout import token_allowed
from hemei.core import throttle


class LockAwareTokenAuthentication(TokenAuthentication):
    """DRF's token check, then `hemei.accounts.lockout.token_refused`: a locked or disabled
    account's token answers 401 like a wrong one, and the refusal is in the audit log."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        # An address that sent too many wrong tokens is answered 429 before any lookup.
        address = throttle.source(request._request)
        wait = throttle.blocked("token_fail_ip", address)
        if wait is not None and request.META.get("HTTP_AUTHORIZATION"):
            raise exceptions.Throttled(wait=wait, detail=throttle.wait_message(wait))
        try:
            result = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.hit("token_fail_ip", address)
            raise
        if result is None:
            return None
        user, token = result
        if not token_allowed(user, request._request):
            throttle.hit("token_fail_ip", address)
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return user, token

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        # DRF refuses an inactive user before we see it; let it through so the refusal is audited.
        try:
            token = Token.objects.select_related("user").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        return token.user, token

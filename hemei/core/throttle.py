"""Rate limits: one cache-backed counter for the web forms, Open311 and the REST API.

1. A limit is a named rate in settings.HEMEI_RATES ("20/min", "10/hour"; the scopes and their
   defaults are below). `hit(scope, ident)` counts one request of `ident` (a user id, a token
   user, an address, a typed login name) in the current fixed window and answers the seconds
   until the window ends when the count passed the limit, else None. `blocked()` asks the same
   without counting: failures (a wrong password, a bad token) are counted with `hit` after the
   fact, and checked with `blocked` before anything else is done.
2. The counter is `cache.add` + `cache.incr`, atomic in every Django cache backend that
   shares between processes (database, Redis, Memcached). The default local-memory cache
   counts per worker process: `hemei serve` runs two, so a limit is at most twice as loose.
3. The answer is 429 with `Retry-After` everywhere: `too_many()` for pages, DRF's `Throttled`
   (the classes at the end) for the API, the Open311 error list for Open311.
4. HEMEI_RATES_ENABLED turns every limit off (the test suite, whose hundreds of requests from
   127.0.0.1 are not an attack; the throttle tests turn it back on with the real rates).

django-ratelimit was considered: it answers 403 without Retry-After and would be a second
mechanism beside DRF's throttles; this is one small counter under both.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

from hemei.core.audit import client_ip

PERIODS = {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}

# scope → rate; each can be overridden by HEMEI_RATE_<SCOPE> in the environment (settings.py).
DEFAULT_RATES = {
    "login_ip": "30/min",          # sign-in attempts from one address (any names)
    "login_name": "10/min",        # sign-in attempts for one typed name (any address)
    "token_fail_ip": "20/min",     # wrong API tokens / Open311 api_keys from one address
    "api_user": "600/min",         # REST calls of one account (token or session)
    "api_anon": "120/min",         # REST calls without an account, per address
    "case_create": "20/hour",      # cases filed by one account (REST, Open311, the case forms)
    "open311_post_ip": "60/hour",  # Open311 POST requests from one address
    "upload": "60/hour",           # multipart uploads (photos, xlsx, attachments) of one account or address
    "study_booking": "10/hour",    # public study-tour bookings (hemei.services, no account) from one address
    "party_code_fail": "10/hour",  # wrong 三会一课 sign-in codes typed by one account (hemei.party)
}


def parse_rate(rate: str) -> tuple[int, int]:
    """"20/min" → (20, 60). A malformed rate is a configuration error, raised at once."""
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


def rate_for(scope: str) -> tuple[int, int] | None:
    if not getattr(settings, "HEMEI_RATES_ENABLED", True):
        return None
    rates = {**DEFAULT_RATES, **getattr(settings, "HEMEI_RATES", {})}
    rate = rates.get(scope)
    return parse_rate(rate) if rate else None


def _key(scope: str, ident: str, window: int) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # typed names and addresses never in the cache in clear
    return f"hemei:rate:{scope}:{digest}:{window}"


def _window(duration: int) -> tuple[int, int]:
    now = int(time.time())
    return now // duration, duration - now % duration


def hit(scope: str, ident: str) -> int | None:
    """Count one request; the seconds to wait when this one is over the limit, else None."""
    rate = rate_for(scope)
    if rate is None:
        return None
    limit, duration = rate
    window, remaining = _window(duration)
    key = _key(scope, ident, window)
    cache.add(key, 0, timeout=duration + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=duration + 1)
        count = 1
    return max(remaining, 1) if count > limit else None


def blocked(scope: str, ident: str) -> int | None:
    """Whether `ident` has used up `scope` in this window (without counting)."""
    rate = rate_for(scope)
    if rate is None:
        return None
    limit, duration = rate
    window, remaining = _window(duration)
    count = cache.get(_key(scope, ident, window), 0)
    return max(remaining, 1) if count >= limit else None


def source(request: HttpRequest | None) -> str:
    return client_ip(request) or "-"


def account_or_source(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return f"ip:{source(request)}"


def wait_message(wait: int) -> str:
    minutes = max(1, (wait + 59) // 60)
    return _("Too many attempts. Please try again in %(n)d minutes.") % {"n": minutes}


def too_many(wait: int) -> HttpResponse:
    """The page answer: 429, Retry-After, a sentence people can act on."""
    response = HttpResponse(wait_message(wait), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


def wait_of(*checks: tuple[str, str]) -> int | None:
    """Count each (scope, ident); the longest wait among those over their limit."""
    waits = [w for scope, ident in checks if (w := hit(scope, ident)) is not None]
    return max(waits) if waits else None


# --- DRF ----------------------------------------------------------------------------------


class _Throttle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self._wait: int | None = None

    def ident(self, request: Any) -> str | None:  # None: this throttle does not apply
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        ident = self.ident(request)
        if ident is None:
            return True
        self._wait = hit(self.scope, ident)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class UserThrottle(_Throttle):
    """Every REST call of one account (token or session)."""

    scope = "api_user"

    def ident(self, request: Any) -> str | None:
        return f"u:{request.user.pk}" if request.user and request.user.is_authenticated else None


class AnonThrottle(_Throttle):
    """Every REST call without an account, by address (most answer 401 anyway)."""

    scope = "api_anon"

    def ident(self, request: Any) -> str | None:
        return None if request.user and request.user.is_authenticated else f"ip:{source(request)}"


class CaseCreateThrottle(_Throttle):
    """Cases filed by one account; the view applies it to POST /cases/ only."""

    scope = "case_create"

    def ident(self, request: Any) -> str | None:
        return account_or_source(request)

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class LanguageMiddleware:
    """Chinese unless the person chose otherwise.

    Unlike Django's LocaleMiddleware, the browser's Accept-Language is ignored: village
    laptops and phones often come with English system settings, and the product's working
    language is Chinese. A choice made with the language switch (cookie) wins.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class UploadLimitMiddleware:
    """Every multipart upload (case photos, xlsx imports, attachments) counts against the
    `upload` rate of the account, or of the address without one (hemei.core.throttle): one
    place for all upload pages rather than a check in each."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from hemei.core import throttle

        if request.method == "POST" and request.content_type == "multipart/form-data":
            wait = throttle.hit("upload", throttle.account_or_source(request))
            if wait is not None:
                return throttle.too_many(wait)
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response Django renders (static files are served
    before this by WhiteNoise, with their own long cache): pages, API answers and downloads
    carry names, masked numbers and case texts, and a shared village computer or a proxy must
    not keep them. A view that chose its own caching keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

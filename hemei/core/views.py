from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from hemei.regions.access import scope_for


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a database round trip; no login, no personal data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        db = "ok"
    except Exception:
        db = "error"
    status = 200 if db == "ok" else 503
    return JsonResponse({"status": "ok" if db == "ok" else "error", "database": db,
                         "vendor": connection.vendor}, status=status)


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their own start page."""
    if not request.user.is_authenticated:
        return redirect("login")
    scope = scope_for(request.user)
    if scope.is_staff_scope:
        return redirect("workbench")
    if scope.household_ids:
        return redirect("villager-home")
    return redirect("no-posts")


def static_redirect(request: HttpRequest, name: str) -> HttpResponse:
    """/favicon.ico and /apple-touch-icon.png: the static file's (hashed, in production) address,
    resolved per request so that the URL module loads before `collectstatic` has run."""
    return redirect(static(name), permanent=False)


def error_text(exc: ValidationError) -> str:
    """A service's refusal as one line (a 403 page, a message that names the row it is about)."""
    return " ".join(str(m) for m in exc.messages)


def flash_form_errors(request: HttpRequest, form: Any) -> None:
    """A form's errors as page messages, each named by its field's label (the views that
    redirect after POST)."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


def flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    """A service's refusal as page messages, one per reason (the views that redirect after POST)."""
    for message in exc.messages:
        messages.error(request, message)


def photo_response(photos: QuerySet[Any], photo_id: int) -> FileResponse:
    """One photo of a record the caller has already passed its access check for (`photos` is
    that record's photos): photos are served through that check, never from a public media
    URL, and only the reader's browser may keep them."""
    photo = photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response

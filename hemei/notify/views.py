"""The inbox (/inbox/) for everybody who is signed in: staff and villagers alike. Thin: reads
through `access_notifications`, writes through the services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hemei.core.parsing import form_values
from hemei.notify import services
from hemei.notify.forms import InboxForm
from hemei.regions.access import scope_for

PAGE_SIZE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    qs = services.access_notifications(request.user).only(
        "pk", "kind", "title", "body", "link", "ref", "created_at", "read_at"
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    scope = scope_for(request.user)
    # Villagers (no staff posts) get the large-type phone layout of their other pages.
    villager = bool(scope.household_ids) and not scope.is_staff_scope
    return render(request, "notify/inbox.html", {"page": page, "villager": villager})


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notice read and, with `go=1`, follow its link (the link is a site path)."""
    note = services.access_notification(request.user, pk)
    services.notification_mark_read(actor=request.user, notification=note)
    if (
        form_values(InboxForm(request.POST)).get("go")
        and note.link
        and url_has_allowed_host_and_scheme(
            note.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return redirect(note.link)
    return redirect(_back(request))


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(actor=request.user)
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    page = str(form_values(InboxForm(request.POST)).get("page") or "")
    return f"/inbox/?page={page}" if page.isascii() and page.isdigit() else "/inbox/"

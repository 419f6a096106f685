"""The public village board (/v/<code>/): no login, phone-first, large type, printable.

A short summary screen and one paged page per section (`/v/<code>/<section>/?page=N`), all
from the registry in `hemei.disclosure.board`. Only public figures: published disclosure
versions (personal numbers masked), the finance chart, case statistics as counts and rates
(no case details, no names), and the ledger chain heads.

Each section's body is rendered once per village, section, page, filters and language and
cached under the versions of the topics it shows (`hemei.core.freshness`): a read costs two
small indexed queries (the village, the versions) however many rows the section shows, so a
village opening the board at once does not reach the tables the staff pages work on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from hemei.core import freshness
from hemei.core.parsing import parse_int
from hemei.disclosure.board import (
    BOARD_SECTIONS,
    COUNTY_TOPICS,
    MAX_PAGE,
    BoardQuery,
    BoardSection,
    chain_heads_for,
    ordered_sections,
    published_items,
)
from hemei.disclosure.models import DisclosureAttachment, DisclosureVersion
from hemei.disclosure.views import _file
from hemei.regions.models import Level, Region


@dataclass(frozen=True)
class Place:
    village: Region
    county_id: int | None

    def topics(self, names: Iterable[str]) -> list[tuple[str, int]]:
        out = []
        for name in sorted(set(names)):
            place = self.county_id if name in COUNTY_TOPICS else self.village.pk
            if place is not None:
                out.append((name, place))
        return out


def _place(code: str) -> Place:
    """The village and its county; 404 for anything that is not a village. A village's name
    and county hardly ever change and the board asks on every request, so the place is kept
    as long as the board's renderings are (HEMEI_BOARD_CACHE_SECONDS: a rename shows within
    that time either way)."""
    if not code.isdigit() or len(code) > 15:
        raise Http404
    key = f"board-place:{code}"
    place = cache.get(key)
    if place is None:
        place = _load_place(code)
        cache.set(key, place, settings.HEMEI_BOARD_CACHE_SECONDS)
    return place


def _load_place(code: str) -> Place:
    """The village and its county in one query (a county's code is the village's first six
    digits)."""
    village = None
    county_id = None
    for region in Region.objects.filter(
        Q(code=code, level=Level.VILLAGE) | Q(code=code[:6], level=Level.COUNTY)
    ).only("id", "code", "name", "level", "path", "depth"):
        if region.level == Level.VILLAGE:
            village = region
        else:
            county_id = region.pk
    if village is None:
        raise Http404
    return Place(village, county_id)


def _key(place: Place, name: str, topics: Iterable[str], *parts: object) -> str:
    """The cache key of a rendering of this place under the current versions of `topics`."""
    pairs = place.topics(topics)
    known = freshness.versions({p for _t, p in pairs})
    return freshness.cache_key(
        "board", known, pairs, place.village.pk, name, get_language(), timezone.localdate().isoformat(), *parts
    )


def _cached(key: str, build: Callable[[], str]) -> str:
    html = cache.get(key)
    if html is None:
        html = build()
        cache.set(key, html, settings.HEMEI_BOARD_CACHE_SECONDS)
    return html


# Stands for the CSRF token in a cached whole page (the language form's and htmx's), replaced
# per response with this visitor's own token.
CSRF_SLOT = "__hemei_csrf_slot__"


def _page(request: HttpRequest, key: str, template: str, context: Callable[[], dict[str, object]]) -> HttpResponse:
    """The whole page for an anonymous visitor from the cache: the shell (base.html, the menu,
    the language form) costs more than the cached section inside it, and the board is what a
    whole village opens at once. Only a stranger's page is the same for everyone: a signed-in
    user has their own menu, and a visitor with a session may have a message waiting, so those
    are rendered as usual. `context` is called only to render: a cached page needs neither
    its body nor its links (one query, the versions in `key`, and one cache read)."""
    if request.user.is_authenticated or settings.SESSION_COOKIE_NAME in request.COOKIES \
            or "messages" in request.COOKIES:
        return render(request, template, context())
    html = _cached(freshness.cache_key("board-page", {}, (), key, request.get_full_path()),
                   lambda: render_to_string(template, {**context(), "csrf_token": CSRF_SLOT}, request=request))
    return HttpResponse(html.replace(CSRF_SLOT, get_token(request)))


def _all_topics() -> set[str]:
    return {t for s in BOARD_SECTIONS.values() for t in s.topics}


def _section_url(section: BoardSection, code: str) -> str:
    if section.url_name:
        return reverse(section.url_name, args=[code])
    return reverse("village-board-section", args=[code, section.key])


def _nav(code: str) -> list[dict[str, object]]:
    return [{"key": s.key, "title": s.title, "url": _section_url(s, code)} for s in ordered_sections()]


def _summary(village: Region) -> str:
    cards = []
    for section in ordered_sections():
        figures = section.summary(village) if section.summary is not None else None
        if figures:
            cards.append({"key": section.key, "title": section.title, "url": _section_url(section, village.code),
                          "figures": figures})
    return render_to_string("board/_summary.html", {"village": village, "cards": cards,
                                                     "heads": chain_heads_for(village)})


def village_board(request: HttpRequest, code: str) -> HttpResponse:
    place = _place(code)
    key = _key(place, "summary", _all_topics())
    return _page(request, key, "board/village.html", lambda: {
        "village": place.village, "body": mark_safe(_cached(key, lambda: _summary(place.village))),  # noqa: S308 - our own rendering
        "nav": _nav(code), "current": ""})


def _query(request: HttpRequest, section: BoardSection) -> BoardQuery:
    page = parse_int(request.GET.get("page") or "1", minimum=1, maximum=MAX_PAGE)
    if page is None:
        raise Http404
    # Only the filters the section declares, so a made-up parameter cannot make new cache entries.
    params = {name: request.GET.get(name, "")[:20] for name in section.params if request.GET.get(name)}
    return BoardQuery(page, params)


def _section_body(place: Place, section: BoardSection, query: BoardQuery) -> str:
    data = section.context(place.village, query)
    if not data:
        return render_to_string("board/_nothing.html", {})
    return render_to_string(section.template, {"data": data, "village": place.village, "section": section})


def board_section_page(request: HttpRequest, code: str, section: str) -> HttpResponse:
    found = BOARD_SECTIONS.get(section)
    if found is None or found.url_name:
        raise Http404
    place = _place(code)
    query = _query(request, found)
    key = _key(place, found.key, found.topics, query.page, *sorted(query.params.items()))
    return _page(request, key, "board/section.html", lambda: {
        "village": place.village, "section": found,
        "body": mark_safe(_cached(key, lambda: _section_body(place, found, query))),  # noqa: S308 - our own rendering
        "nav": _nav(code), "current": found.key,
    })


def board_print(request: HttpRequest, code: str) -> HttpResponse:
    """公示栏: the latest version of each recent disclosure, laid out for an A4 printer."""
    village = _place(code).village
    return render(
        request,
        "board/print.html",
        {"village": village, "items": published_items(village, limit=12), "today": timezone.localdate()},
    )


def board_attachment(request: HttpRequest, code: str, pk: int) -> FileResponse:
    village = _place(code).village
    attachment = DisclosureAttachment.objects.filter(
        pk=pk, version__village=village, version__status=DisclosureVersion.Status.PUBLISHED
    ).first()
    if attachment is None:
        raise Http404
    return _file(attachment)

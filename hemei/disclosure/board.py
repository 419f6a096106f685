"""The public village board `/v/<code>/`: a short summary screen and one paged page per section.

Other apps add to the board without touching this app's templates:
- `@board_section("points", title=_("Points in publicity"), template="points/_board.html", order=30,
  topics=("points",))` on a function `(village, query) -> dict | None` (None or {} = nothing to
  show): the section's own page `/v/<code>/points/`; the template is included with the returned
  dict as `data`. `query` is a `BoardQuery`: the page number and the few filters the section
  declares (`params=`); use `page_of()` so no page grows with the village.
- `summary=` a function `(village) -> list[Figure] | None`: one or two figures on the summary
  screen (the section is listed there only when it returns something).
- `topics=`: what the section shows, as `hemei.core.freshness` topics; every writer of those
  things bumps them, and the board's cache keys carry their versions (`board_topics`).
- `@chain_head("points")` on a function `(village) -> ChainHead | None`: the head of that
  app's ledger chain, listed on the summary screen.
Register in the app's `AppConfig.ready`. Everything shown must be public: no names with case
details, no ID numbers, phones, bank accounts or health details (tests scan the HTML).
Fetch only the columns shown (`values()`/`only()`): the board is the page a whole village opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hemei.core.models import ChainHead as StoredHead
from hemei.disclosure.models import Disclosure, DisclosureAttachment, DisclosureVersion, Kind
from hemei.disclosure.personal import redact
from hemei.regions.models import Region

# A page holds this many rows: a few phone screens at the board's large type.
PER_PAGE = 20
# Deeper pages are refused (404): nobody pages that far, and each page is a cache entry.
MAX_PAGE = 500


@dataclass(frozen=True)
class BoardQuery:
    page: int = 1
    params: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)


@dataclass(frozen=True)
class Figure:
    value: Any
    label: str | Promise


SectionContext = Callable[[Region, BoardQuery], dict[str, Any] | None]
SectionSummary = Callable[[Region], list[Figure] | None]


@dataclass(frozen=True)
class BoardSection:
    key: str
    title: str | Promise
    template: str
    order: int
    context: SectionContext
    topics: tuple[str, ...] = ()
    summary: SectionSummary | None = None
    params: tuple[str, ...] = ()
    url_name: str = ""  # the section's page lives elsewhere (an app's own public page)


@dataclass(frozen=True)
class ChainHead:
    label: str | Promise
    length: int
    head_hash: str


BOARD_SECTIONS: dict[str, BoardSection] = {}
CHAIN_HEADS: dict[str, Callable[[Region], ChainHead | None]] = {}
# Topics kept per county rather than per village (rows that carry a county but no village).
COUNTY_TOPICS: set[str] = set()


def board_section(
    key: str,
    *,
    title: str | Promise,
    template: str,
    order: int = 100,
    topics: tuple[str, ...] = (),
    summary: SectionSummary | None = None,
    params: tuple[str, ...] = (),
    url_name: str = "",
) -> Callable[[SectionContext], SectionContext]:
    def register(fn: SectionContext) -> SectionContext:
        BOARD_SECTIONS[key] = BoardSection(key, title, template, order, fn, topics, summary, params, url_name)
        return fn

    return register


def chain_head(key: str) -> Callable[[Callable[[Region], ChainHead | None]], Callable[[Region], ChainHead | None]]:
    def register(fn: Callable[[Region], ChainHead | None]) -> Callable[[Region], ChainHead | None]:
        CHAIN_HEADS[key] = fn
        return fn

    return register


@chain_head("disclosure")
def disclosure_chain_head(village: Region) -> ChainHead | None:
    chain = StoredHead.objects.filter(chain="disclosure", village=village).only("length", "head_hash").first()
    if chain is None:
        return None
    return ChainHead(_("Disclosures (三务公开)"), chain.length, chain.head_hash)


def ordered_sections() -> list[BoardSection]:
    return sorted(BOARD_SECTIONS.values(), key=lambda s: (s.order, s.key))


def chain_heads_for(village: Region) -> list[ChainHead]:
    heads = [fn(village) for _key, fn in sorted(CHAIN_HEADS.items())]
    return [h for h in heads if h is not None]


# --- paging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous(self) -> int:
        return self.number - 1

    @property
    def next(self) -> int:
        return self.number + 1


def page_of(rows: Any, query: BoardQuery, per: int = PER_PAGE) -> tuple[list[Any], Page]:
    """One page of a queryset or list: fetches `per + 1` rows to know whether there is a next
    page, so no COUNT over the whole table."""
    start = (query.page - 1) * per
    got = list(rows[start : start + per + 1])
    return got[:per], Page(query.page, len(got) > per)


# --- published disclosures --------------------------------------------------------------------


@dataclass(frozen=True)
class PublicFile:
    pk: int
    name: str


@dataclass
class PublicVersion:
    """A published version as the board shows it: personal numbers masked (`redact`)."""

    pk: int
    number: int
    title: str
    body: str
    reason: str
    published_at: dt.datetime
    sequence: int
    hash: str
    attachments: list[PublicFile] = field(default_factory=list)


@dataclass
class PublicItem:
    disclosure_id: int
    kind: str
    kind_label: str
    period_start: dt.date
    period_end: dt.date
    latest: PublicVersion
    earlier: list[PublicVersion]


_VERSION_COLUMNS = ("id", "disclosure_id", "number", "title", "body", "reason", "published_at", "sequence", "hash")


def _published(village: Region) -> Any:
    return DisclosureVersion.objects.filter(village=village, status=DisclosureVersion.Status.PUBLISHED)


def published_disclosures(village: Region, *, kind: str = "", year: int | None = None) -> Any:
    """The village's disclosures with at least one published version, newest period first
    (values: id, kind, period)."""
    qs = Disclosure.objects.filter(village=village, pk__in=_published(village).values("disclosure_id"))
    if kind:
        qs = qs.filter(kind=kind)
    if year:
        qs = qs.filter(period_end__year=year)
    return qs.order_by("-period_end", "-id").values("id", "kind", "period_start", "period_end")


def published_years(village: Region) -> list[int]:
    return [d.year for d in Disclosure.objects.filter(
        village=village, pk__in=_published(village).values("disclosure_id")).dates("period_end", "year", order="DESC")]


def items_for(village: Region, rows: Sequence[Mapping[str, Any]]) -> list[PublicItem]:
    """The published versions of these disclosures, latest first, with their attachments:
    two queries whatever the number of rows."""
    ids = [r["id"] for r in rows]
    versions = list(_published(village).filter(disclosure_id__in=ids).order_by("-number").values(*_VERSION_COLUMNS))
    files: dict[int, list[PublicFile]] = {}
    for a in DisclosureAttachment.objects.filter(version_id__in=[v["id"] for v in versions]).order_by("pk").values(
        "pk", "name", "version_id"
    ):
        files.setdefault(a["version_id"], []).append(PublicFile(a["pk"], a["name"]))
    by_disclosure: dict[int, list[PublicVersion]] = {}
    for v in versions:
        by_disclosure.setdefault(v["disclosure_id"], []).append(PublicVersion(
            v["id"], v["number"], redact(v["title"]), redact(v["body"]), redact(v["reason"]),
            v["published_at"], v["sequence"], v["hash"], files.get(v["id"], []),
        ))
    labels = dict(Kind.choices)
    items = []
    for r in rows:
        found = by_disclosure.get(r["id"])
        if found:
            items.append(PublicItem(r["id"], r["kind"], str(labels.get(r["kind"], r["kind"])), r["period_start"],
                                    r["period_end"], found[0], found[1:]))
    return items


def published_items(village: Region, *, kind: str = "", limit: int = 40) -> list[PublicItem]:
    """The latest `limit` disclosures with their published versions (three queries)."""
    return items_for(village, list(published_disclosures(village, kind=kind)[:limit]))

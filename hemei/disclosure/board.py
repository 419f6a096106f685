"""The public village board `/v/<code>/`: what it shows, and the registry other apps extend.

Other apps add to the board without touching this app's templates:
- `@board_section("points", title=_("Points in publicity"), template="points/_board.html", order=30)`
  on a function `(village) -> dict | None` (None or {} = nothing to show); the template is
  included with the returned dict as context, inside the section's card.
- `@chain_head("points")` on a function `(village) -> ChainHead | None`: the head of that
  app's ledger chain, listed under "Ledger chain heads".
Register in the app's `AppConfig.ready`. Everything shown must be public: no names with case
details, no ID numbers, phones, bank accounts or health details (tests scan the HTML).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hemei.core.models import ChainHead as StoredHead
from hemei.disclosure.models import DisclosureVersion
from hemei.disclosure.personal import redact
from hemei.regions.models import Region

SectionContext = Callable[[Region], dict[str, Any] | None]


@dataclass(frozen=True)
class BoardSection:
    key: str
    title: str | Promise
    template: str
    order: int
    context: SectionContext


@dataclass(frozen=True)
class ChainHead:
    label: str | Promise
    length: int
    head_hash: str


BOARD_SECTIONS: dict[str, BoardSection] = {}
CHAIN_HEADS: dict[str, Callable[[Region], ChainHead | None]] = {}


def board_section(
    key: str, *, title: str | Promise, template: str, order: int = 100
) -> Callable[[SectionContext], SectionContext]:
    def register(fn: SectionContext) -> SectionContext:
        BOARD_SECTIONS[key] = BoardSection(key, title, template, order, fn)
        return fn

    return register


def chain_head(key: str) -> Callable[[Callable[[Region], ChainHead | None]], Callable[[Region], ChainHead | None]]:
    def register(fn: Callable[[Region], ChainHead | None]) -> Callable[[Region], ChainHead | None]:
        CHAIN_HEADS[key] = fn
        return fn

    return register


@chain_head("disclosure")
def disclosure_chain_head(village: Region) -> ChainHead | None:
    chain = StoredHead.objects.filter(chain="disclosure", village=village).first()
    if chain is None:
        return None
    return ChainHead(_("Disclosures (三务公开)"), chain.length, chain.head_hash)


@dataclass
class RenderedSection:
    key: str
    title: str | Promise
    template: str
    data: dict[str, Any]


def sections_for(village: Region) -> list[RenderedSection]:
    out = []
    for section in sorted(BOARD_SECTIONS.values(), key=lambda s: (s.order, s.key)):
        data = section.context(village)
        if data:
            out.append(RenderedSection(section.key, section.title, section.template, data))
    return out


def chain_heads_for(village: Region) -> list[ChainHead]:
    heads = [fn(village) for _key, fn in sorted(CHAIN_HEADS.items())]
    return [h for h in heads if h is not None]


# --- published disclosures --------------------------------------------------------------------


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
    attachments: list[Any] = field(default_factory=list)


@dataclass
class PublicItem:
    disclosure_id: int
    kind: str
    kind_label: str
    period_start: dt.date
    period_end: dt.date
    latest: PublicVersion
    earlier: list[PublicVersion]


def _public(v: DisclosureVersion) -> PublicVersion:
    assert v.published_at is not None and v.sequence is not None
    return PublicVersion(
        v.pk,
        v.number,
        redact(v.title),
        redact(v.body),
        redact(v.reason),
        v.published_at,
        v.sequence,
        v.hash,
        list(v.attachments.all()),
    )


def published_items(village: Region, *, kind: str = "", limit: int = 40) -> list[PublicItem]:
    """The village's disclosures with their latest published version first and the earlier
    published versions after it. Two queries (versions, attachments)."""
    qs = (
        DisclosureVersion.objects.filter(village=village, status=DisclosureVersion.Status.PUBLISHED)
        .select_related("disclosure")
        .prefetch_related("attachments")
        .order_by("-disclosure__period_end", "-disclosure_id", "-number")
    )
    if kind:
        qs = qs.filter(disclosure__kind=kind)
    items: dict[int, PublicItem] = {}
    for v in qs[: limit * 5]:
        d = v.disclosure
        item = items.get(d.pk)
        if item is None:
            if len(items) >= limit:
                continue
            items[d.pk] = PublicItem(
                d.pk, d.kind, str(d.get_kind_display()), d.period_start, d.period_end, _public(v), []
            )
        else:
            item.earlier.append(_public(v))
    return list(items.values())

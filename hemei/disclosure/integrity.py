"""The hash chain of published disclosure versions: one "disclosure" chain per village
(`hemei.core.chain`, docs/chain.md).

Each published version stores `sequence` (1, 2, … within its village), `prev_hash` (the hash
of the version published before it, the genesis of 64 zeros for the first) and `hash`: the
link hash of its content — village code, disclosure id, kind, period, version number, title,
body, data, reason, reviewer, publication time (UTC) and the SHA-256 of each attachment.
Changing any of these after publication — a raw UPDATE on SQLite, a swapped attachment — makes
`hemei verify` fail; on PostgreSQL a trigger refuses the UPDATE in the first place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection
from django.db.models import F

from hemei.core import chain
from hemei.core.chain import StoredLink
from hemei.core.verify import invariant
from hemei.disclosure.models import DisclosureAttachment, DisclosureVersion

CHAIN = "disclosure"
GUARDED_TABLES = ("disclosure_disclosureversion", "disclosure_disclosureattachment")


def version_fields(version: DisclosureVersion, *, village_code: str, attachment_hashes: list[str]) -> dict[str, Any]:
    """What a version's link covers besides `sequence` and `prev_hash` (never change it: every
    published hash depends on it)."""
    d = version.disclosure
    published = version.published_at
    return {
        "village": village_code,
        "disclosure": d.pk,
        "kind": d.kind,
        "period": [d.period_start.isoformat(), d.period_end.isoformat()],
        "version": version.number,
        "title": version.title,
        "body": version.body,
        "data": version.data,
        "reason": version.reason,
        "reviewed_by": version.reviewed_by_id,
        "published_at": published.astimezone(dt.UTC).isoformat() if published else None,
        "attachments": sorted(attachment_hashes),
    }


def version_link(version: DisclosureVersion, head: chain.Head) -> chain.Link:
    """The next link of the village's chain for `version` (its attachments read from the
    database); moves `head` in memory."""
    hashes = list(DisclosureAttachment.objects.filter(version=version).values_list("sha256", flat=True))
    return chain.advance(head, version_fields(version, village_code=version.village.code, attachment_hashes=hashes))


def stored_links(village_id: int) -> Iterator[StoredLink]:
    files: dict[int, list[str]] = defaultdict(list)
    for version_id, sha in DisclosureAttachment.objects.filter(
        version__village_id=village_id, version__sequence__isnull=False
    ).values_list("version_id", "sha256"):
        files[version_id].append(sha)
    chained = (
        DisclosureVersion.objects.filter(village_id=village_id, sequence__isnull=False)
        .select_related("disclosure", "village")
        .order_by("sequence")
    )
    for v in chained.iterator(chunk_size=2000):
        fields = version_fields(v, village_code=v.village.code, attachment_hashes=files.get(v.pk, []))
        yield StoredLink(f"{v.village.code} #{v.sequence} (version {v.pk})", v.sequence or 0, v.prev_hash, v.hash,
                         fields)


def chained_villages() -> Iterable[int]:
    return DisclosureVersion.objects.filter(sequence__isnull=False).values_list("village_id", flat=True).distinct()


def extra_checks() -> list[str]:
    """What the links alone do not show: chained versions that are not published or sit in
    another village than their disclosure, and published versions outside the chain."""
    problems: list[str] = []
    chained = DisclosureVersion.objects.filter(sequence__isnull=False).select_related("disclosure", "village")
    for v in chained.exclude(status=DisclosureVersion.Status.PUBLISHED):
        problems.append(f"{v.village.code} #{v.sequence} (version {v.pk}): chained but not published")
    for v in chained.exclude(disclosure__village_id=F("village_id")):
        problems.append(f"{v.village.code} #{v.sequence} (version {v.pk}): village differs from its disclosure's")
    unchained = DisclosureVersion.objects.filter(status=DisclosureVersion.Status.PUBLISHED, sequence__isnull=True)
    if unchained.exists():
        problems.append(f"{unchained.count()} published versions outside the chain")
    return problems


SPEC = chain.register(chain.ChainSpec(CHAIN, "Disclosures (三务公开)", chained_villages, stored_links, extra_checks))


def verify_chains() -> list[str]:
    """Every village's published versions: contiguous sequence, linked hashes, content that
    still hashes to what was stored, and a chain head that points at the last one."""
    return chain.verify_kind(SPEC)


@invariant("disclosure-published-guard")
def check_published_guard() -> list[str]:
    """On PostgreSQL the triggers that refuse changes to published versions must be present.
    SQLite has none (the chain check above catches any change there)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'disclosure_%%'")
        names = {row[0] for row in cursor.fetchall()}
    wanted = {f"{table}_published_guard" for table in GUARDED_TABLES}
    return [f"missing trigger {name}" for name in sorted(wanted - names)]

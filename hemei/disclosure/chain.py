"""The hash chain of published disclosure versions, one chain per village.

Each published version stores `sequence` (1, 2, … within its village), `prev_hash` (the hash
of the version published before it, "" for the first) and `hash` = SHA-256 over the canonical
JSON of its content: village code, sequence, prev_hash, disclosure id, kind, period, version
number, title, body, data, reason, reviewer, publication time (UTC) and the SHA-256 of each
attachment. Canonical JSON = sorted keys, no spaces, UTF-8 (ensure_ascii off). Changing any
of these after publication — a raw UPDATE on SQLite, a swapped attachment — makes
`hemei verify` fail; on PostgreSQL a trigger refuses the UPDATE in the first place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from typing import Any

from django.db import connection

from hemei.core.verify import LIMIT, invariant
from hemei.disclosure.models import DisclosureAttachment, DisclosureChain, DisclosureVersion

GUARDED_TABLES = ("disclosure_disclosureversion", "disclosure_disclosureattachment")


def version_content(version: DisclosureVersion, *, village_code: str, attachment_hashes: list[str]) -> dict[str, Any]:
    d = version.disclosure
    published = version.published_at
    return {
        "village": village_code,
        "sequence": version.sequence,
        "prev_hash": version.prev_hash,
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


def content_hash(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version_hash(version: DisclosureVersion, village_code: str) -> str:
    hashes = list(DisclosureAttachment.objects.filter(version=version).values_list("sha256", flat=True))
    return content_hash(version_content(version, village_code=village_code, attachment_hashes=hashes))


def verify_chains() -> list[str]:
    """Every village's published versions: contiguous sequence, linked hashes, content that
    still hashes to what was stored, and a chain head that points at the last one."""
    problems: list[str] = []
    files: dict[int, list[str]] = defaultdict(list)
    for version_id, sha in DisclosureAttachment.objects.filter(version__sequence__isnull=False).values_list(
        "version_id", "sha256"
    ):
        files[version_id].append(sha)
    heads = {c.village_id: c for c in DisclosureChain.objects.all()}
    chained = (
        DisclosureVersion.objects.filter(sequence__isnull=False)
        .select_related("disclosure", "village")
        .order_by("village_id", "sequence")
    )
    last: dict[int, DisclosureVersion] = {}
    for v in chained.iterator(chunk_size=2000):
        previous = last.get(v.village_id)
        expected_seq = (previous.sequence or 0) + 1 if previous else 1
        expected_prev = previous.hash if previous else ""
        where = f"{v.village.code} #{v.sequence} (version {v.pk})"
        if v.status != DisclosureVersion.Status.PUBLISHED:
            problems.append(f"{where}: chained but not published")
        if v.disclosure.village_id != v.village_id:
            problems.append(f"{where}: village differs from its disclosure's")
        if v.sequence != expected_seq:
            problems.append(f"{where}: sequence gap, expected #{expected_seq}")
        if v.prev_hash != expected_prev:
            problems.append(f"{where}: prev_hash does not match the hash before it")
        content = version_content(v, village_code=v.village.code, attachment_hashes=files.get(v.pk, []))
        if content_hash(content) != v.hash:
            problems.append(f"{where}: content does not match its hash (changed after publication)")
        last[v.village_id] = v
    for village_id, head in heads.items():
        tail = last.get(village_id)
        if (tail.sequence if tail else 0) != head.length or (tail.hash if tail else "") != head.head_hash:
            problems.append(f"village {village_id}: chain head does not point at the last published version")
    for village_id in set(last) - set(heads):
        problems.append(f"village {village_id}: published versions without a chain head")
    unchained = DisclosureVersion.objects.filter(status=DisclosureVersion.Status.PUBLISHED, sequence__isnull=True)
    if unchained.exists():
        problems.append(f"{unchained.count()} published versions outside the chain")
    if len(problems) > LIMIT:
        problems = [*problems[:LIMIT], f"… {len(problems)} problems in all"]
    return problems


@invariant("disclosure-chains")
def check_disclosure_chains() -> list[str]:
    return verify_chains()


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

"""One hash-chain mechanism for every append-only record a village must be able to check
(points entries, published disclosures; care records and alarms next). docs/chain.md describes
the encoding for outsiders.

- A **link** is one record's *payload*: a flat JSON object of the record's hashed fields plus
  `sequence` (1, 2, … within the chain) and `prev_hash` (the previous link's hash; `GENESIS_HASH`,
  64 zeros, for the first). Its hash is SHA-256 (lower-case hex) of the payload's canonical
  encoding (`canonical`): JSON with sorted keys, no spaces, UTF-8 without \\u escapes, no NaN;
  dates as ISO `YYYY-MM-DD`, times in UTC as ISO 8601 with offset, decimals as their string.
- A chain is keyed by its kind (`"points"`, `"disclosure"`) and a village; its **head**
  (`ChainHead`: `length` = last sequence, `head_hash`) is locked by every append, so two
  writers never fork it.
- A kind **registers** a `ChainSpec` (how to read its stored links back); the one verifier
  (`verify_chain`) re-derives every link, and `hemei verify --chain CODE --json` prints them.

Appending: `head = lock_head(kind, village_id)`; for each record `link = advance(head, fields)`,
store `link.sequence`, `link.prev_hash`, `link.hash` on the record; then `save_head(head)` once.
The head is read and written with two fixed SQL statements (the points posting path appends
thousands of links a second; the ORM's query compiler would double its cost).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction

from hemei.core.freshness import touch
from hemei.core.models import GENESIS_HASH, ChainHead
from hemei.core.verify import LIMIT, invariant

__all__ = [
    "GENESIS_HASH", "ChainHead", "ChainSpec", "Head", "Link", "StoredLink", "advance", "canonical",
    "link_hash", "lock_head", "register", "save_head", "verify_chain",
]


def _plain(value: Any) -> Any:
    """The fixed text forms of the non-JSON values a payload may hold."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in a chain payload")
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be part of a chain payload")


def canonical(payload: Mapping[str, Any]) -> bytes:
    """The one encoding every chain hashes (never change it: every stored hash depends on it)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=_plain)
    return text.encode("utf-8")


def link_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


# --- heads and appending ----------------------------------------------------------------------


@dataclass
class Head:
    """A locked chain head (plain values; `advance` moves it in memory, `save_head` stores it)."""

    id: int
    chain: str
    village_id: int
    length: int
    head_hash: str
    stored: tuple[int, str] = field(default=(0, ""), repr=False)


class Link(NamedTuple):
    """One appended link (a tuple: the posting path makes thousands a second)."""

    sequence: int
    prev_hash: str
    hash: str
    payload: dict[str, Any]


_SQL: dict[str, tuple[str, str]] = {}


def _sql() -> tuple[str, str]:
    vendor = connection.vendor
    if vendor not in _SQL:
        q = connection.ops.quote_name
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        table = q(ChainHead._meta.db_table)
        _SQL[vendor] = (
            f"SELECT {q('id')}, {q('length')}, {q('head_hash')} FROM {table} "  # noqa: S608
            f"WHERE {q('chain')} = %s AND {q('village_id')} = %s{lock}",
            f"UPDATE {table} SET {q('length')} = %s, {q('head_hash')} = %s WHERE {q('id')} = %s",  # noqa: S608
        )
    return _SQL[vendor]


def lock_head(chain: str, village_id: int) -> Head:
    """The chain's head, locked until the transaction ends (created on first use; a concurrent
    creator loses the unique race and then waits on the winner's row)."""
    select = _sql()[0]
    with connection.cursor() as cursor:
        cursor.execute(select, [chain, village_id])
        row = cursor.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                ChainHead.objects.create(chain=chain, village_id=village_id)
        except IntegrityError:
            pass
        with connection.cursor() as cursor:
            cursor.execute(select, [chain, village_id])
            row = cursor.fetchone()
    length, head_hash = int(row[1]), str(row[2])
    return Head(int(row[0]), chain, village_id, length, head_hash, stored=(length, head_hash))


def advance(head: Head, fields: Mapping[str, Any]) -> Link:
    """The next link of the chain for a record with these hashed `fields` (which must not
    name `sequence` or `prev_hash`); moves `head` in memory."""
    sequence, prev_hash = head.length + 1, head.head_hash
    payload = dict(fields)
    payload["sequence"], payload["prev_hash"] = sequence, prev_hash
    digest = hashlib.sha256(canonical(payload)).hexdigest()
    head.length, head.head_hash = sequence, digest
    return Link(sequence, prev_hash, digest, payload)


def save_head(head: Head) -> None:
    """Store a head moved by `advance` (nothing to do when no link was added)."""
    if (head.length, head.head_hash) == head.stored:
        return
    with connection.cursor() as cursor:
        cursor.execute(_sql()[1], [head.length, head.head_hash, head.id])
    head.stored = (head.length, head.head_hash)
    # Pages that show this chain (the board's sections share the chain's name as their topic).
    touch(head.chain, head.village_id)


# --- reading back and verifying ---------------------------------------------------------------


@dataclass(frozen=True)
class StoredLink:
    """A link as stored: its record's label, the stored sequence/prev_hash/hash, and the
    payload rebuilt from the record's current columns (so a changed column shows)."""

    label: str
    sequence: int
    prev_hash: str
    hash: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ChainSpec:
    """How one kind of chain reads its links back.

    `villages()`: the village ids that have links; `links(village_id)`: that village's stored
    links in sequence order; `extra()`: the kind's own checks (e.g. "published but not chained")."""

    kind: str
    title: str
    villages: Callable[[], Iterable[int]]
    links: Callable[[int], Iterator[StoredLink]]
    extra: Callable[[], list[str]] = lambda: []


CHAINS: dict[str, ChainSpec] = {}


def register(spec: ChainSpec) -> ChainSpec:
    """Add a kind of chain: `hemei verify` then checks it (invariant `<kind>-chains`) and
    `hemei verify --chain` prints it."""
    CHAINS[spec.kind] = spec

    @invariant(f"{spec.kind}-chains")
    def check() -> list[str]:
        return verify_kind(spec)

    return spec


def heads_of(village_id: int) -> dict[str, ChainHead]:
    return {h.chain: h for h in ChainHead.objects.filter(village_id=village_id)}


def verify_chain(spec: ChainSpec, village_id: int, head: ChainHead | None = None) -> list[str]:
    """Walk one village's chain from the genesis: contiguous sequence, each link pointing at
    the one before, each payload hashing to the stored hash, the head at the last link."""
    problems: list[str] = []
    prev, expected = GENESIS_HASH, 1
    where = f"{spec.kind} chain of village {village_id}"
    for link in spec.links(village_id):
        if link.sequence != expected:
            problems.append(f"{where}: {link.label} has sequence {link.sequence} where {expected} was expected")
            expected = link.sequence
        if link.prev_hash != prev:
            problems.append(f"{where}: {link.label}: prev_hash does not match the hash before it")
        payload = {**link.payload, "sequence": link.sequence, "prev_hash": link.prev_hash}
        if link_hash(payload) != link.hash:
            problems.append(f"{where}: {link.label} content does not match its hash (changed after publication)")
        prev, expected = link.hash, expected + 1
    count = expected - 1
    if head is None:
        head = ChainHead.objects.filter(chain=spec.kind, village_id=village_id).first()
    if head is None and count:
        problems.append(f"{where}: links but no chain head")
    if head is not None and (head.length != count or head.head_hash != prev):
        problems.append(f"{where}: chain head {head.length}/{head.head_hash[:12]} does not match the links "
                        f"({count}/{prev[:12]})")
    return problems


def verify_kind(spec: ChainSpec) -> list[str]:
    heads = {h.village_id: h for h in ChainHead.objects.filter(chain=spec.kind)}
    problems: list[str] = []
    for village_id in sorted(set(spec.villages()) | set(heads)):
        problems.extend(verify_chain(spec, village_id, heads.get(village_id)))
    problems.extend(spec.extra())
    if len(problems) > LIMIT:
        problems = [*problems[:LIMIT], f"… {len(problems)} problems in all"]
    return problems


def export_village(village_id: int) -> list[dict[str, Any]]:
    """Every registered chain of the village with each link's full payload and hash: what
    `hemei verify --chain CODE --json` prints for an outsider to re-derive (docs/chain.md)."""
    heads = heads_of(village_id)
    out = []
    for kind, spec in sorted(CHAINS.items()):
        head = heads.get(kind)
        out.append({
            "kind": kind,
            "genesis": GENESIS_HASH,
            "length": head.length if head else 0,
            "head_hash": head.head_hash if head else GENESIS_HASH,
            "links": [
                {"sequence": link.sequence, "hash": link.hash,
                 "payload": json.loads(canonical({**link.payload, "sequence": link.sequence,
                                                  "prev_hash": link.prev_hash}))}
                for link in spec.links(village_id)
            ],
        })
    return out

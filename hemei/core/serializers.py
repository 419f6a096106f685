"""A lossless, sealed JSON serialization for backups.

Django's JSON encoder cuts datetimes to milliseconds; a backup must give back exactly what
was stored, so this format keeps microseconds. The last element of the list is a seal
(`{"model": "hemei.seal", "fields": {"sha256": ..., "objects": n}}`): the SHA-256 of every
character written before it and the number of objects, so `hemei restore` tells a whole file
from one cut short or edited (`read_sealed`). Apart from the seal the file is a plain Django
JSON fixture.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import hashlib
import json
import lzma
from typing import Any

from django.core.serializers.json import Deserializer as Deserializer
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer

SEAL_MODEL = "hemei.seal"
SEAL_MARK = '{"model": "%s"' % SEAL_MODEL  # noqa: UP031 - a literal prefix searched for in the text
OPENERS: dict[str, Any] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}


class LosslessEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, (dt.datetime, dt.time)):
            return o.isoformat()
        return super().default(o)


class _Hashing:
    """A text stream that hashes what goes through it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:
        self.digest.update(text.encode())
        return int(self.stream.write(text) or 0)

    def flush(self) -> None:
        if hasattr(self.stream, "flush"):
            self.stream.flush()


class Serializer(JSONSerializer):
    def _init_options(self) -> None:
        super()._init_options()  # type: ignore[misc]
        self.json_kwargs["cls"] = LosslessEncoder

    def start_serialization(self) -> None:
        self._raw = self.stream
        self._hashing = _Hashing(self.stream)
        self.stream = self._hashing  # type: ignore[assignment]  # a write-only text stream
        self._count = 0
        super().start_serialization()

    def end_object(self, obj: Any) -> None:
        super().end_object(obj)
        self._count += 1

    def end_serialization(self) -> None:
        seal = {"model": SEAL_MODEL, "fields": {"sha256": self._hashing.digest.hexdigest(), "objects": self._count}}
        self.stream = self._raw
        self.stream.write((", " if self._count else "") + json.dumps(seal))
        super().end_serialization()


class SealError(ValueError):
    """The file is not a whole backup: cut short, edited, or not sealed."""


def read_sealed(path: str) -> tuple[str, int]:
    """The fixture text of a sealed backup file without its seal, and its object count.

    Raises SealError when the seal is missing or does not match the content."""
    opener = next((fn for ext, fn in OPENERS.items() if path.endswith(ext)), open)
    try:
        with opener(path, "rt", encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError) as exc:
        raise SealError(f"cannot read the file: {exc}") from exc
    at = text.rfind(SEAL_MARK)
    if at < 0:
        raise SealError("the file has no seal (cut short, or not written by `hemei backup`)")
    tail = text[at:].rstrip()
    if not tail.endswith("]"):
        raise SealError("the file does not end after its seal")
    try:
        fields = json.loads(tail[:-1])["fields"]
        expected, count = str(fields["sha256"]), int(fields["objects"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SealError("the seal is unreadable") from exc
    body = text[:at]
    body = body[:-2] if body.endswith(", ") else body
    if hashlib.sha256(body.encode()).hexdigest() != expected:
        raise SealError("the content does not match its seal (the file was changed or damaged)")
    return body + "]\n", count

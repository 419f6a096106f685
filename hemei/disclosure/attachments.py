"""Attachment uploads for disclosure versions: PDFs and images only, size- and type-checked.

1. Refuse files over `HEMEI_UPLOAD_MAX_BYTES` (default 20 MB), the one upload limit, before reading them.
2. Decide the type from the content, never the name or the browser's claim: a PDF starts with
   the magic bytes `%PDF-`; anything else must decode as a photo (`clean_photo`, which also
   re-encodes it as JPEG without EXIF — a phone photo carries the GPS position of the house).
3. Store the exact bytes kept and their SHA-256, which goes into the version's hash.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from hemei.cases.photos import clean_photo
from hemei.core.xlsx import upload_max_bytes

PDF_MAGIC = b"%PDF-"
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    name: str
    content_type: str
    sha256: str


def max_bytes() -> int:
    return upload_max_bytes()


def _size(upload: Any) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    return int(size)


def clean_attachment(upload: Any) -> CleanFile:
    name = (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][:150]
    if _size(upload) > max_bytes():
        raise ValidationError(
            _("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": max_bytes() // 2**20}, code="too_large"
        )
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head == PDF_MAGIC:
        data = upload.read()
        stem = name.rsplit(".", 1)[0] or "file"
        return CleanFile(data, f"{stem}.pdf", "application/pdf", hashlib.sha256(data).hexdigest())
    try:
        photo = clean_photo(upload)
    except ValidationError:
        raise ValidationError(_("%(name)s is neither a PDF nor a photo.") % {"name": name}, code="bad_type") from None
    data = photo.content.read()
    stem = name.rsplit(".", 1)[0] or "photo"
    return CleanFile(data, f"{stem}.jpg", "image/jpeg", hashlib.sha256(data).hexdigest())


def as_django_file(clean: CleanFile) -> ContentFile[bytes]:
    return ContentFile(clean.content, name=clean.name)

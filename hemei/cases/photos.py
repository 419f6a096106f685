"""Photo uploads for cases: checked, re-encoded and stripped before anything is stored.

1. Refuse files over `HEMEI_PHOTO_MAX_BYTES` before decoding (a cheap size check).
2. Decode with Pillow; anything Pillow cannot read as JPEG, PNG, WebP or GIF is refused, and
   so is a decompression bomb (more pixels than Pillow's limit).
3. Re-encode as a JPEG of at most `HEMEI_PHOTO_MAX_SIDE` pixels on the long side, upright
   (EXIF orientation applied) and with no EXIF at all: phone photos carry the GPS position of
   the villager's home and the camera's serial number, which the case does not need.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "MPO"})
MAX_PHOTOS_PER_STAGE = 6


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile[bytes]
    width: int
    height: int


def max_bytes() -> int:
    return int(getattr(settings, "HEMEI_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def clean_photo(upload: Any) -> CleanPhoto:
    """An uploaded file (Django UploadedFile or any binary file object) → a clean JPEG."""
    name = getattr(upload, "name", "") or _("photo")
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > max_bytes():
        raise ValidationError(_("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": max_bytes() // 2**20},
                              code="too_large")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.format not in ALLOWED_FORMATS:
                raise ValidationError(_("%(name)s is not a JPEG, PNG, WebP or GIF photo.") % {"name": name},
                                      code="not_image")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise ValidationError(_("%(name)s is not a photo Hemei can read.") % {"name": name},
                              code="not_image") from None
    upright: Image.Image = ImageOps.exif_transpose(image) or image
    image_rgb = upright.convert("RGB")
    side = int(getattr(settings, "HEMEI_PHOTO_MAX_SIDE", 2048))
    image_rgb.thumbnail((side, side))
    out = io.BytesIO()
    image_rgb.save(out, format="JPEG", quality=85, optimize=True)  # no exif= argument: nothing carried over
    return CleanPhoto(ContentFile(out.getvalue(), name="photo.jpg"), image_rgb.width, image_rgb.height)


def clean_photos(uploads: list[Any]) -> list[CleanPhoto]:
    """All or nothing: one bad file refuses the whole set."""
    if len(uploads) > MAX_PHOTOS_PER_STAGE:
        raise ValidationError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS_PER_STAGE}, code="too_many")
    return [clean_photo(u) for u in uploads]

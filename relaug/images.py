"""Check image files before they are published, and turn the odd ones into plain RGB.

A shard's `image` column must decode as a PIL image that CLIP preprocessing takes,
so every file is opened and decoded once before anything is written: a file that
is empty, truncated, not an image or a decompression bomb is skipped with a reason.
JPEG and PNG files in RGB or grayscale (L) are published byte for byte, as COCO
ships them; any other mode or format (CMYK, 16-bit, alpha, palette, ...) is
converted to 8-bit RGB, alpha composited on white, and stored as PNG (lossless),
or as JPEG at quality 95 when the source was a JPEG (it was lossy already).
Conversion is deterministic, so a rebuild stores the same bytes.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image

# What PIL raises on a damaged file, beside OSError, depending on the format plugin.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)

# PIL's own limit (about 89 million pixels, 0.25 GB as RGB): a larger image is
# refused rather than decoded, since a few bytes of PNG can claim gigapixels.
MAX_IMAGE_PIXELS = PIL.Image.MAX_IMAGE_PIXELS

KEPT_FORMATS = frozenset({"JPEG", "PNG"})
KEPT_MODES = frozenset({"RGB", "L"})


class Reason:
    """Why an image was skipped; the strings are rows of the build report, card and manifest."""

    UNREADABLE = "image file unreadable"
    EMPTY = "image file empty"
    NOT_AN_IMAGE = "not an image: no image format recognises the file"
    TRUNCATED = "image file truncated or corrupt"
    BOMB = f"decompression bomb: more than {MAX_IMAGE_PIXELS:,} pixels"


class _Unusable(Exception):
    """Raised with a Reason when a file cannot be published."""


@dataclass(frozen=True)
class ImageCheck:
    """What a file holds, decided once before writing: the shard plan needs `stored_bytes`."""

    skip: str | None  # a Reason, or None when the image is published
    stored_bytes: int = 0  # length of the bytes the shard stores
    converted_from: str | None = None  # "CMYK", "I;16", ...: the mode converted to RGB, if any


def _decoded(data: bytes) -> PIL.Image.Image:
    """The fully decoded image; raises _Unusable with a Reason when it cannot be used."""
    if not data:
        raise _Unusable(Reason.EMPTY)
    try:
        image = PIL.Image.open(io.BytesIO(data))
    except PIL.Image.DecompressionBombError as e:
        raise _Unusable(Reason.BOMB) from e
    except PIL.UnidentifiedImageError as e:
        raise _Unusable(Reason.NOT_AN_IMAGE) from e
    except _DECODE_ERRORS as e:  # a known format's header, damaged
        raise _Unusable(Reason.TRUNCATED) from e
    if image.width * image.height > MAX_IMAGE_PIXELS:
        # Between the limit and twice it PIL only warns (warnings.catch_warnings is not
        # thread-safe, so the warning is left alone): relaug refuses there too.
        raise _Unusable(Reason.BOMB)
    try:
        image.load()  # decodes every byte: truncation shows only here
    except _DECODE_ERRORS as e:
        raise _Unusable(Reason.TRUNCATED) from e
    return image


def _to_rgb(image: PIL.Image.Image) -> PIL.Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: keep the high byte (PIL's convert would clip everything above 255 to white).
        high = (np.asarray(image, dtype=np.uint32) >> 8).clip(0, 255).astype(np.uint8)
        return PIL.Image.fromarray(high, "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = PIL.Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return PIL.Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _converted(image: PIL.Image.Image) -> bytes:
    out = io.BytesIO()
    if image.format == "JPEG":
        _to_rgb(image).save(out, format="JPEG", quality=95)
    else:
        _to_rgb(image).save(out, format="PNG")
    return out.getvalue()


def _needs_conversion(image: PIL.Image.Image) -> bool:
    return image.format not in KEPT_FORMATS or image.mode not in KEPT_MODES


def check_image(path: Path) -> ImageCheck:
    """Decode the file once and say whether, and as how many bytes, it will be published."""
    try:
        data = path.read_bytes()
    except OSError:  # a folder, no permission, an I/O error
        return ImageCheck(skip=Reason.UNREADABLE)
    try:
        image = _decoded(data)
    except _Unusable as e:
        return ImageCheck(skip=str(e))
    if not _needs_conversion(image):
        return ImageCheck(skip=None, stored_bytes=len(data))
    return ImageCheck(skip=None, stored_bytes=len(_converted(image)), converted_from=image.mode)


def stored_image(path: Path, check: ImageCheck) -> bytes:
    """The bytes a shard stores for a file that `check_image` passed."""
    data = path.read_bytes()
    if check.converted_from is None:
        return data
    try:
        return _converted(_decoded(data))
    except _Unusable as e:  # the file changed since it was checked
        raise OSError(str(e)) from e

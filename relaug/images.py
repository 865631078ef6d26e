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

import errno
import io
import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import PIL.Image
import pyarrow as pa

from relaug.reasons import MAX_IMAGE_PIXELS, Skip
from relaug.records import corpus_record

# What PIL raises on a damaged file, beside OSError, depending on the format plugin.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)


KEPT_FORMATS = frozenset({"JPEG", "PNG"})
KEPT_MODES = frozenset({"RGB", "L"})


class _Unusable(Exception):
    """Raised with a Skip reason when a file cannot be published."""


@corpus_record
class ImageCheck:
    """What a file holds, decided once before writing: the shard plan needs `stored_bytes`."""

    skip: str | None  # a Skip reason, or None when the image is published
    stored_bytes: int = 0  # length of the bytes the shard stores
    converted_from: str | None = None  # "CMYK", "I;16", ...: the mode converted to RGB, if any
    modified_ns: int = 0  # the file's mtime when checked: a file modified since is not stored


def _decoded(data: bytes) -> PIL.Image.Image:
    """The fully decoded image; raises _Unusable with a Skip reason when it cannot be used."""
    if not data:
        raise _Unusable(Skip.EMPTY)
    try:
        image = PIL.Image.open(io.BytesIO(data))
    except PIL.Image.DecompressionBombError as e:
        raise _Unusable(Skip.BOMB) from e
    except PIL.UnidentifiedImageError as e:
        raise _Unusable(Skip.NOT_AN_IMAGE) from e
    except _DECODE_ERRORS as e:  # a known format's header, damaged
        raise _Unusable(Skip.TRUNCATED) from e
    if image.width * image.height > MAX_IMAGE_PIXELS:
        # Between the limit and twice it PIL only warns (warnings.catch_warnings is not
        # thread-safe, so the warning is left alone): relaug refuses there too.
        raise _Unusable(Skip.BOMB)
    try:
        image.load()  # decodes every byte: truncation shows only here
    except _DECODE_ERRORS as e:
        raise _Unusable(Skip.TRUNCATED) from e
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
        with path.open("rb") as f:
            modified_ns = os.fstat(f.fileno()).st_mtime_ns
            data = f.read()
    except OSError:  # a folder, no permission, an I/O error
        return ImageCheck(skip=Skip.UNREADABLE)
    try:
        image = _decoded(data)
    except _Unusable as e:
        return ImageCheck(skip=str(e))
    if not _needs_conversion(image):
        check = ImageCheck(skip=None, stored_bytes=len(data), modified_ns=modified_ns)
    else:
        stored = _converted(image)
        check = ImageCheck(skip=None, stored_bytes=len(stored), converted_from=image.mode, modified_ns=modified_ns)
    if check.stored_bytes > MAX_ARRAY_BYTES:  # a JPEG can carry any amount of data after its image
        return ImageCheck(skip=Skip.TOO_LARGE)
    return check


def stored_images(groups: Iterable[Sequence[tuple[Path, ImageCheck]]]) -> Iterator[pa.ChunkedArray]:
    """Each group's stored bytes (what shards store for files `check_image` passed), as Arrow binary, in order.

    Read when the writer asks for the group: reading on threads ahead of it, into
    preallocated Arrow buffers, gained nothing measurable (docs/benchmarks.md,
    "Hand-rolled speed-ups"). Raises OSError naming the file when one cannot be read
    or changed since its check.
    """
    for group in groups:
        arrays, run, total = [], [], 0
        for path, check in group:
            if run and total + check.stored_bytes > MAX_ARRAY_BYTES:
                arrays.append(pa.array(run, pa.binary()))
                run, total = [], 0
            run.append(_read_stored(path, check))
            total += check.stored_bytes
        if run:
            arrays.append(pa.array(run, pa.binary()))
        yield pa.chunked_array(arrays, pa.binary())


# Arrow's binary arrays count their bytes in int32: a group of larger images is split across arrays.
MAX_ARRAY_BYTES = 2**31 - 1


def _read_stored(path: Path, check: ImageCheck) -> bytes:
    """What a shard stores for the file: its bytes, or their RGB conversion, as when it was checked."""
    try:
        with path.open("rb") as f:
            stat = os.fstat(f.fileno())
            if stat.st_mtime_ns != check.modified_ns:
                raise _changed(path, "modified since it was checked")
            data = f.read()
    except OSError as e:
        if e.filename is None:  # an I/O error while reading names no file: the caller needs it
            e.filename = str(path)
        raise
    if check.converted_from is not None:
        try:
            data = _converted(_decoded(data))
        except _Unusable as e:
            raise _changed(path, f"no longer decodes: {e}") from e
        if len(data) != check.stored_bytes:
            raise _changed(path, "converts to other bytes than when checked")
    elif len(data) != check.stored_bytes:
        raise _changed(path, "not the size it had when checked")
    return data


def _changed(path: Path, how: str) -> OSError:
    return OSError(errno.EIO, how, str(path))

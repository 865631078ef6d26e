"""The broken and unusual image files a COCO root can hold, generated here from one real sample image."""

from __future__ import annotations

import errno
import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL.Image
import pyarrow as pa
import pytest

from relaug import images
from relaug.build import SAMPLE_ROOT
from relaug.images import ImageCheck, check_image, stored_images
from relaug.reasons import Skip

REAL_JPEG = sorted((SAMPLE_ROOT / "val2017").glob("*.jpg"))[0]


def _real() -> PIL.Image.Image:
    return PIL.Image.open(REAL_JPEG)


def _save(image: PIL.Image.Image, format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format)
    return out.getvalue()


def png_bomb(side: int) -> bytes:
    """A 1x1 PNG whose header claims side x side pixels: a few dozen bytes that would decode to side² bytes."""
    data = bytearray(_save(PIL.Image.new("L", (1, 1)), "PNG"))
    header = struct.pack(">II", side, side) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


def sixteen_bit_png() -> bytes:
    grey = np.asarray(_real().convert("L"), dtype=np.uint16) * 257  # full 16-bit range
    return _save(PIL.Image.fromarray(grey), "PNG")


# name -> (file bytes, skip reason or None, mode converted from or None)
CASES: dict[str, tuple[Callable[[], bytes], str | None, str | None]] = {
    "rgb.jpg": (REAL_JPEG.read_bytes, None, None),
    "empty.jpg": (lambda: b"", Skip.EMPTY, None),
    "truncated.jpg": (lambda: REAL_JPEG.read_bytes()[:20_000], Skip.TRUNCATED, None),
    "text.jpg": (lambda: b"<html>not found</html>", Skip.NOT_AN_IMAGE, None),
    "bomb.png": (lambda: png_bomb(100_000), Skip.BOMB, None),  # PIL itself refuses it
    "bomb-100mpx.png": (lambda: png_bomb(10_000), Skip.BOMB, None),  # PIL only warns: relaug refuses
    "cmyk.jpg": (lambda: _save(_real().convert("CMYK"), "JPEG"), None, "CMYK"),
    "grey.jpg": (lambda: _save(_real().convert("L"), "JPEG"), None, None),
    "16bit.png": (sixteen_bit_png, None, "I;16"),
    "alpha.png": (lambda: _save(_real().convert("RGBA"), "PNG"), None, "RGBA"),
}


def stored(groups: list[list[tuple[Path, ImageCheck]]]) -> list[pa.ChunkedArray]:
    """What shards store for each group of files, read as a build reads them."""
    return list(stored_images(groups))


def stored_image(path: Path, check: ImageCheck) -> bytes:
    """What a shard stores for the one file."""
    return stored([[(path, check)]])[0].to_pylist()[0]


def write_case(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(CASES[name][0]())
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_image_case_is_skipped_with_its_reason_or_stored_decodable(tmp_path, name):
    _, skip, converted_from = CASES[name]
    path = write_case(tmp_path, name)
    check = check_image(path)
    assert check.skip == skip
    assert check.converted_from == converted_from
    if skip is None:
        stored = stored_image(path, check)
        assert len(stored) == check.stored_bytes  # the shard plan sizes files with it
        image = PIL.Image.open(io.BytesIO(stored))
        image.load()
        assert image.mode in {"RGB", "L"}
        assert image.size == _real().size


def test_files_kept_as_they_are_are_stored_byte_for_byte(tmp_path):
    path = write_case(tmp_path, "rgb.jpg")
    assert stored_image(path, check_image(path)) == REAL_JPEG.read_bytes()


def test_conversion_is_deterministic_and_sixteen_bit_keeps_its_tones(tmp_path):
    path = write_case(tmp_path, "16bit.png")
    check = check_image(path)
    first, second = stored_image(path, check), stored_image(path, check)
    assert first == second
    grey = np.asarray(PIL.Image.open(io.BytesIO(first)).convert("L"), dtype=int)
    expected = np.asarray(_real().convert("L"), dtype=int)
    assert np.abs(grey - expected).max() <= 1  # not clipped to white


def test_alpha_is_composited_on_white(tmp_path):
    transparent = PIL.Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    path = tmp_path / "clear.png"
    path.write_bytes(_save(transparent, "PNG"))
    stored = PIL.Image.open(io.BytesIO(stored_image(path, check_image(path))))
    assert stored.mode == "RGB" and stored.getpixel((0, 0)) == (255, 255, 255)


def test_images_are_stored_in_order_whatever_arrays_they_are_read_into(tmp_path, monkeypatch):
    """Arrow counts a binary array's bytes in int32: larger row groups are split across arrays."""
    paths = [write_case(tmp_path, name) for name in ("rgb.jpg", "16bit.png", "grey.jpg")]
    checks = [check_image(p) for p in paths]
    files = list(zip(paths, checks))
    groups = [files, files[1:], files[:1]]
    whole = stored(groups)
    monkeypatch.setattr(images, "MAX_ARRAY_BYTES", max(c.stored_bytes for c in checks))
    split = stored(groups)
    assert [g.num_chunks for g in whole] == [1, 1, 1] and split[0].num_chunks == 3
    expected = [[stored_image(p, c) for p, c in group] for group in groups]
    assert [g.to_pylist() for g in split] == [g.to_pylist() for g in whole] == expected


def test_an_image_over_what_arrow_binary_holds_is_skipped(tmp_path, monkeypatch):
    path = write_case(tmp_path, "rgb.jpg")
    monkeypatch.setattr(images, "MAX_ARRAY_BYTES", path.stat().st_size - 1)
    assert check_image(path).skip == Skip.TOO_LARGE


@pytest.mark.parametrize("change", ["longer", "shorter", "same size", "gone", "no longer decodes", "I/O error"])
def test_a_file_changed_or_unreadable_since_its_check_is_an_error_naming_it(tmp_path, monkeypatch, change):
    name = "16bit.png" if change == "no longer decodes" else "rgb.jpg"
    path = write_case(tmp_path, name)
    check = check_image(path)
    data = path.read_bytes()
    if change == "gone":
        path.unlink()
    elif change == "same size":  # rewritten a second later, as another tool might
        path.write_bytes(data[::-1])
        os.utime(path, ns=(check.modified_ns, check.modified_ns + 10**9))
    elif change != "I/O error":
        path.write_bytes({"longer": data + b"\0", "shorter": data[:-1]}.get(change, data[: len(data) // 2]))

    def failing(fd):  # as a failing disk fails: naming no file
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patch, pytest.raises(OSError) as error:
        if change == "I/O error":
            patch.setattr(images.os, "fstat", failing)  # os's own: undone before pytest needs it
        stored([[(path, check)]])
    assert error.value.filename == str(path)

"""Files that appear whole or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def temporary_sibling(path: Path) -> Path:
    """Where `path` is written until it is whole: a hidden file beside it, renamed over it at the end."""
    return path.with_name(f".{path.name}.tmp")


@contextlib.contextmanager
def written_whole(path: Path, mode: str = "w", *, sync: bool = False) -> Iterator[IO]:
    """A file to write that appears under `path` only once the block ends without an error.

    It is written under `temporary_sibling(path)` and renamed over `path`, so a reader
    (or a resumed run) never sees half of it; `sync` flushes it to the disk first, where
    a rename must not publish data still only in the page cache. On an error the
    temporary file is removed and `path` is left as it was.
    """
    temporary = temporary_sibling(path)
    try:
        with temporary.open(mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

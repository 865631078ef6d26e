"""The Parquet writer: shards planned from known row sizes, written a row group at a time, sealed whole."""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from relaug.files import sha256_of, temporary_sibling
from relaug.records import (
    SPLITS,
    ImageExample,
    Split,
)
from relaug.shards.schema import CONFIG_DIRS, FEATURES, ROW_GROUP_ROWS, ShardFile, image_row, relation_row, triple_rows


@dataclass(frozen=True)
class PlannedShard:
    """One Parquet file, fixed before any is written so that its final name is known.

    `digest` covers everything the file will hold but the image bytes (their sizes
    included): a resumed build reuses a finished file only when the digest matches.
    """

    config: str
    split: Split
    path: str  # final path, relative to the output directory, with "/"
    start: int  # [start, end) of its split's rows: examples for default, relations for triples
    end: int
    digest: str

    @property
    def rows(self) -> int:
        return self.end - self.start


def _cut(sizes: list[int], max_shard_bytes: int) -> list[tuple[int, int]]:
    """Consecutive [start, end) runs of rows, each under the limit unless one row alone exceeds it."""
    runs, start, total = [], 0, 0
    for i, size in enumerate(sizes):
        if i > start and total + size > max_shard_bytes:
            runs.append((start, i))
            start, total = i, 0
        total += size
    if start < len(sizes):
        runs.append((start, len(sizes)))
    return runs


def plan_shards(
    examples: Sequence[ImageExample], image_sizes: Mapping[int, int], max_shard_bytes: int
) -> list[PlannedShard]:
    """Every file of both configs, in config then split order, examples kept in their given order.

    `image_sizes` gives, by image id, the length of what the `image` column will
    hold (the stored bytes, or the path): with it the cut into files, and so the
    `-of-{n}` of every name, is decided before writing.
    """
    plan = []
    sized = {split: _sized_rows((e for e in examples if e.split == split), image_sizes) for split in SPLITS}
    for config in FEATURES:
        for split in SPLITS:
            sizes, hashes = sized[split][config]
            runs = _cut(sizes, max_shard_bytes)
            for index, (start, end) in enumerate(runs):
                plan.append(
                    PlannedShard(
                        config=config,
                        split=split,
                        path=f"{CONFIG_DIRS[config]}/{split}-{index:05d}-of-{len(runs):05d}.parquet",
                        start=start,
                        end=end,
                        digest=hashlib.sha256(b"".join(hashes[start:end])).hexdigest(),
                    )
                )
    return plan


def _sized_rows(examples: Iterable[ImageExample], image_sizes: Mapping[int, int]) -> dict[str, tuple[list, list]]:
    """Each config's rows of one split as (sizes, sha256 digests), in row order.

    A row's JSON length stands for its bytes in Arrow (rather more: JSON repeats
    the keys), enough to keep files under the limit. Rows are encoded one at a
    time (a split's rows as dicts would not fit in memory), and each relation
    once, for its triples row and its place in its image's row alike.
    """
    rows: dict[str, tuple[list, list]] = {config: ([], []) for config in FEATURES}
    for example in examples:
        relations = [json.dumps(relation_row(r), sort_keys=True).encode() for r in example.relations]
        for relation in relations:
            rows["triples"][0].append(len(relation))
            rows["triples"][1].append(hashlib.sha256(b"%d:" % example.image_id + relation).digest())
        image = json.dumps(image_row(example, None, relations=False), sort_keys=True).encode()
        size = len(image) + sum(map(len, relations)) + image_sizes[example.image_id]
        rows["default"][0].append(size)
        rows["default"][1].append(hashlib.sha256(b"".join([b"%d:" % size, image, *relations])).digest())
    return rows


def shard_examples(shard: PlannedShard, examples: Sequence[ImageExample]) -> Sequence[ImageExample]:
    """The examples of a default-config file; `examples` are all those of its split, in order."""
    return examples[shard.start : shard.end]


def shard_rows(
    shard: PlannedShard, examples: Sequence[ImageExample], images: Iterable[dict] = ()
) -> Iterator[dict]:
    """The rows of a planned file; `examples` are those of its split, `images` the file's image values in order."""
    if shard.config == "default":
        for example, image in zip(shard_examples(shard, examples), images, strict=True):
            yield image_row(example, image)
        return
    first = 0  # index of the example's first relation in the split
    for example in examples:
        last = first + len(example.relations)
        if last > shard.start:
            for k, row in enumerate(triple_rows(example), start=first):
                if shard.start <= k < shard.end:
                    yield row
        if last >= shard.end:
            return
        first = last


def temporary_path(root: Path, shard: PlannedShard) -> Path:
    return temporary_sibling(root / shard.path)


def image_groups(shard: PlannedShard, examples: Sequence[ImageExample]) -> Iterator[list[ImageExample]]:
    """A default-config file's examples, one run per row group: what each of
    `write_shard`'s `image_bytes` holds the images of."""
    return _batched(shard_examples(shard, examples), ROW_GROUP_ROWS["default"])


def write_shard(
    root: Path, shard: PlannedShard, rows: Iterable[dict], image_bytes: Iterable[pa.ChunkedArray] | None = None
) -> None:
    """Write a planned file under its `temporary_path`; `seal_shard` then makes it durable.

    `image_bytes`, when given, holds each row group's image bytes in order (those
    of `image_groups`), and the rows' own are None: read straight into Arrow
    buffers, the images are not converted from Python again on their way to the file.
    Only one row group's rows are held in memory.
    """
    temporary = temporary_path(root, shard)
    temporary.parent.mkdir(parents=True, exist_ok=True)
    schema = FEATURES[shard.config].arrow_schema
    written = 0
    groups = (pa.Table.from_pylist(group, schema=schema) for group in _batched(rows, ROW_GROUP_ROWS[shard.config]))
    if image_bytes is not None:
        groups = (_with_image_bytes(table, data) for table, data in zip(groups, image_bytes, strict=True))
    # pyarrow's defaults write no timestamp: the same rows give the same bytes.
    with pq.ParquetWriter(temporary, schema, **_encoding(shard.config)) as writer:
        for table in groups:
            writer.write_table(table)
            written += table.num_rows
    if written != shard.rows:
        raise RuntimeError(f"{shard.path}: planned {shard.rows} rows, wrote {written}")


def _with_image_bytes(table: pa.Table, image_bytes: pa.ChunkedArray) -> pa.Table:
    """`table` with `image_bytes` put in its image column's bytes, beside the paths it has."""
    if len(image_bytes) != table.num_rows:
        raise RuntimeError(f"a row group of {table.num_rows} rows given {len(image_bytes)} images")
    index = table.schema.get_field_index("image")
    field = table.schema.field(index)
    paths = table.column(index).combine_chunks().field("path")
    chunks, start = [], 0
    for data in image_bytes.chunks:
        children = {"bytes": data, "path": paths.slice(start, len(data))}
        chunks.append(pa.StructArray.from_arrays([children[f.name] for f in field.type], fields=list(field.type)))
        start += len(data)
    return table.set_column(index, field, pa.chunked_array(chunks, field.type))


def seal_shard(root: Path, shard: PlannedShard) -> ShardFile:
    """The file `write_shard` wrote, on disk and described, ready to be renamed to its final name.

    The caller renames it only after this returns, so that a file under a final
    name is always whole, even after kill -9. Neither step holds the GIL for long,
    so a build seals one shard on a thread while it writes the next.
    """
    temporary = temporary_path(root, shard)
    with temporary.open("rb") as f:
        os.fsync(f.fileno())  # the rename that follows must not publish data still only in the page cache
    return ShardFile(
        config=shard.config,
        split=shard.split,
        path=shard.path,
        rows=shard.rows,
        bytes=temporary.stat().st_size,
        sha256=sha256_of(temporary),
    )


IMAGE_BYTES = "image.bytes"  # the column path of the embedded images


@lru_cache(maxsize=None)
def _encoding(config: str) -> dict[str, object]:
    """ParquetWriter options: the image bytes stored as they are, every other column
    snappy-compressed and dictionary-encoded. JPEG neither compresses nor repeats:
    snappy on it, and a dictionary tried on it (hashing every image before giving
    up), each made writing several times slower."""
    buffer = io.BytesIO()
    pq.write_table(FEATURES[config].arrow_schema.empty_table(), buffer)
    columns = pq.ParquetFile(buffer).schema
    paths = [columns.column(i).path for i in range(len(columns))]
    return {
        "compression": {path: "none" if path == IMAGE_BYTES else "snappy" for path in paths},
        "use_dictionary": [path for path in paths if path != IMAGE_BYTES],
    }


T = TypeVar("T")


def _batched(items: Iterable[T], n: int) -> Iterator[list[T]]:
    group = []
    for item in items:
        group.append(item)
        if len(group) == n:
            yield group
            group = []
    if group:
        yield group

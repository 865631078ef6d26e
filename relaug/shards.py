"""The published shard schema as `datasets.Features`, the Parquet writer, the dataset card, the manifest.

The schema below is the public contract of `docs/training.md`. It is declared
once; the writer's Arrow schema, the card's `dataset_info` and the tests all
derive from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from queue import Empty, Queue
from typing import TypeVar

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features, Image, List, Value
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from huggingface_hub import DatasetCardData

from relaug.files import temporary_sibling, written_whole
from relaug.records import (
    SPLITS,
    ImageExample,
    Relation,
    Split,
)

# One relation: a struct of `relations` in the default config, a row of `triples`.
RELATION = {
    "id": Value("string"),
    "caption_id": Value("int64"),
    "caption": Value("string"),
    "text": Value("string"),
    "subject": Value("string"),
    "relation": Value("string"),
    "object": Value("string"),
    "relation_kind": Value("string"),
    "subject_category": Value("string"),
    "object_category": Value("string"),
    "subject_box": List(Value("float32"), length=4),
    "object_box": List(Value("float32"), length=4),
    "subject_modifiers": List(Value("string")),
    "object_modifiers": List(Value("string")),
    "negatives": List(
        {
            "caption": Value("string"),
            "text": Value("string"),
            "kind": Value("string"),
            "relation": Value("string"),
            "evidence": Value("string"),
            "attestation": Value("int64"),
        }
    ),
    "partners": List(Value("string")),
    "swap_partners": List(Value("string")),
}

FEATURES = {
    "default": Features(
        {
            "image": Image(),
            "image_id": Value("int64"),
            "file_name": Value("string"),
            "captions": List({"caption_id": Value("int64"), "caption": Value("string")}),
            "relations": List(RELATION),
        }
    ),
    "triples": Features({"image_id": Value("int64"), **RELATION}),
}

# Where each config's shards live inside the output directory.
CONFIG_DIRS = {"default": "data", "triples": "triples"}

# Rows per Parquet row group: datasets' own choice for image data (readers then
# fetch about 100 images at a time), and larger groups for the small text rows.
ROW_GROUP_ROWS = {"default": 100, "triples": 10_000}


@dataclass(frozen=True)
class ShardFile:
    config: str
    split: Split
    path: str  # relative to the output directory, with "/"
    rows: int
    bytes: int
    sha256: str


@dataclass
class SplitCounts:
    images: int = 0
    captions: int = 0
    relations: int = 0


@dataclass
class ShardStats:
    """What was written: counts per split and how often each relation occurs."""

    splits: dict[str, SplitCounts] = field(default_factory=dict)
    relations: Counter = field(default_factory=Counter)


def _relation_row(relation: Relation) -> dict:
    triple = relation.triple
    subject_modifiers, object_modifiers = relation.modifiers
    return {
        "id": relation.id,
        "caption_id": relation.caption.caption_id,
        "caption": relation.caption.caption,
        "text": relation.text,
        "subject": triple.subject,
        "relation": triple.relation,
        "object": triple.object,
        "relation_kind": triple.relation_kind,
        "subject_category": relation.subject_category,
        "object_category": relation.object_category,
        "subject_box": relation.subject_box,
        "object_box": relation.object_box,
        "subject_modifiers": list(subject_modifiers),
        "object_modifiers": list(object_modifiers),
        "negatives": [n.record() for n in relation.negatives],
        "partners": list(relation.partners),
        "swap_partners": list(relation.swap_partners),
    }


def _image_row(example: ImageExample, image: dict | None, relations: bool = True) -> dict:
    """A row of the default config; `image` is None while planning, when only its size
    counts, and the relations are left out there, being encoded apart."""
    row = {
        "image": image,
        "image_id": example.image_id,
        "file_name": example.file_name,
        "captions": [{"caption_id": c.caption_id, "caption": c.caption} for c in example.captions],
    }
    if relations:
        row["relations"] = [_relation_row(r) for r in example.relations]
    return row


def _triple_rows(example: ImageExample) -> Iterator[dict]:
    for relation in example.relations:
        yield {"image_id": example.image_id, **_relation_row(relation)}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        relations = [json.dumps(_relation_row(r), sort_keys=True).encode() for r in example.relations]
        for relation in relations:
            rows["triples"][0].append(len(relation))
            rows["triples"][1].append(hashlib.sha256(b"%d:" % example.image_id + relation).digest())
        image = json.dumps(_image_row(example, None, relations=False), sort_keys=True).encode()
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
            yield _image_row(example, image)
        return
    first = 0  # index of the example's first relation in the split
    for example in examples:
        last = first + len(example.relations)
        if last > shard.start:
            for k, row in enumerate(_triple_rows(example), start=first):
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
        for table in _ahead(groups):
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
    snappy on it made writing 3x slower, and trying a dictionary on it (hashing every
    image before giving up) 2.5x slower."""
    buffer = io.BytesIO()
    pq.write_table(FEATURES[config].arrow_schema.empty_table(), buffer)
    columns = pq.ParquetFile(buffer).schema
    paths = [columns.column(i).path for i in range(len(columns))]
    return {
        "compression": {path: "none" if path == IMAGE_BYTES else "snappy" for path in paths},
        "use_dictionary": [path for path in paths if path != IMAGE_BYTES],
    }


_END = object()  # what the producer of `_ahead` sends after its last item
T = TypeVar("T")


def _ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """`items` in order, produced on a thread up to `depth` ahead of the consumer.

    Building a row group (Python, holding the GIL) then overlaps writing the one
    before (pyarrow, which releases it). An error raised producing reaches the consumer.
    """
    queue: Queue = Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                queue.put((item, None))
                if stop.is_set():
                    return
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            queue.put((_END, error))
            return
        queue.put((_END, None))

    producer = threading.Thread(target=produce, name="relaug-row-groups", daemon=True)
    producer.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        while producer.is_alive():  # a producer blocked on the full queue must see `stop`
            with contextlib.suppress(Empty):
                queue.get(timeout=0.1)



def _batched(items: Iterable[T], n: int) -> Iterator[list[T]]:
    group = []
    for item in items:
        group.append(item)
        if len(group) == n:
            yield group
            group = []
    if group:
        yield group


def shard_stats(examples: Iterable[ImageExample]) -> ShardStats:
    """Counts per split and relation frequencies of what the shards hold."""
    stats = ShardStats()
    for example in examples:
        counts = stats.splits.setdefault(example.split, SplitCounts())
        counts.images += 1
        counts.captions += len(example.captions)
        counts.relations += len(example.relations)
        stats.relations.update(r.triple.relation for r in example.relations)
    return stats


def load_split(root: str | Path, config: str, split: str) -> datasets.Dataset:
    """One split of one config, read from its Parquet files named explicitly: `datasets` keys its
    cache on their paths and modification times then, so a folder rebuilt in place is never read
    from a stale cache (a folder's own card keys it on the card's YAML alone)."""
    files = sorted(str(p) for p in (Path(root) / CONFIG_DIRS[config]).glob(f"{split}-*.parquet"))
    if not files:
        raise FileNotFoundError(f"{root}: no {CONFIG_DIRS[config]}/{split}-*.parquet")
    return datasets.load_dataset("parquet", data_files={split: files}, split=split)


def fingerprint(files: list[ShardFile]) -> str:
    """What the build holds, in one sha256: every shard file's path and sha256."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return digest.hexdigest()


def card_data(files: list[ShardFile]) -> DatasetCardData:
    """The card's YAML: both configs with their data files and their typed features."""
    configs = []
    infos = {}
    digest = fingerprint(files)
    for config, features in FEATURES.items():
        splits = [s for s in SPLITS if any(f.config == config and f.split == s for f in files)]
        configs.append(
            {
                "config_name": config,
                "data_files": [
                    {"split": s, "path": f"{CONFIG_DIRS[config]}/{s}-*.parquet"} for s in splits
                ],
                **({"default": True} if config == "default" else {}),
                # hashed into the key `datasets` caches a folder under: two builds never share one
                "description": f"relaug build {digest}",
            }
        )
        split_infos = SplitDict()
        for s in splits:
            mine = [f for f in files if f.config == config and f.split == s]
            split_infos.add(
                SplitInfo(
                    name=s,
                    num_bytes=sum(f.bytes for f in mine),
                    num_examples=sum(f.rows for f in mine),
                )
            )
        infos[config] = DatasetInfo(features=features, splits=split_infos)
    data = DatasetCardData(
        configs=configs,
        license="other",
        language=["en"],
        task_categories=["zero-shot-image-classification", "image-to-text"],
        pretty_name="relaug relations from COCO",
    )
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_card(
    files: list[ShardFile],
    stats: ShardStats,
    *,
    source: str,
    options: dict,
    skipped: Mapping[str, Counter],
    converted_images: Counter,
    rejected_negatives: Counter,
    versions: dict,
) -> str:
    """The dataset card `README.md`: YAML metadata, then what a user needs to trust the data."""
    counts = [
        (s, c.images, c.captions, c.relations)
        for s in SPLITS
        if (c := stats.splits.get(s)) is not None
    ]
    left_out = [
        (kind, reason, n)
        for kind, reasons in skipped.items()
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])
    ]
    skipped_table = (
        "Records of the source not written, by reason (`skipped` in `manifest.json`):\n\n"
        + _table(("record", "reason", "count"), left_out)
        if left_out
        else "Every record of the source was written."
    )
    if converted_images:
        modes = ", ".join(f"{n} {mode}" for mode, n in sorted(converted_images.items()))
        skipped_table += f"\n\nImages converted to 8-bit RGB before embedding, by source mode: {modes}."
    rejected = (
        "Candidates the negative builder rejected, by reason:\n\n"
        + _table(("reason", "candidates"), sorted(rejected_negatives.items(), key=lambda kv: -kv[1]))
        if rejected_negatives
        else "No negative candidate was rejected in this build."
    )
    sections = [
        "# relaug relations from COCO",
        "Relation triples (subject, relation, object) mined from MS-COCO 2017 captions by "
        f"relaug {versions['relaug']}, grounded to COCO categories and boxes, with text "
        "hard negatives and DRIVE partner ids, for relation-aware CLIP training.",
        "```python\nimport datasets\n"
        'images = datasets.load_dataset("./shards")              # one row per image\n'
        'triples = datasets.load_dataset("./shards", "triples")  # one row per relation\n```',
        "## Source",
        f"{source}. Splits: COCO train2017 is `train`; val2017 is cut by a hash of the image "
        "id into `validation` and `test`, so no image is in two splits.",
        "## Licence",
        "The COCO annotations, and the triples derived from them, are licensed CC BY 4.0 "
        "(COCO Consortium, https://cocodataset.org). Each image keeps its own Flickr "
        "licence, named by its `license` id in the COCO annotation files; several are "
        "non-commercial.",
        "## How it was built",
        _table(
            ("option", "value"),
            [(k, f"`{v}`") for k, v in options.items()]
            + [(k, f"`{v}`") for k, v in versions.items()],
        ),
        "## Counts",
        _table(("split", "images", "captions", "relations"), counts),
        skipped_table,
        "## The 20 most frequent relations",
        _table(("relation", "triples"), stats.relations.most_common(20)),
        "## How the negatives are chosen",
        NEGATIVES_CARD,
        "## DRIVE partners",
        PARTNERS_CARD,
        "## Rejected negative candidates",
        rejected,
    ]
    yaml = card_data(files).to_yaml()
    return f"---\n{yaml}\n---\n\n" + "\n\n".join(sections) + "\n"


PARTNERS_CARD = """\
`partners` lists relations of other images of the same split with the same subject and
object but another relation; `swap_partners`, those whose triple is this one with subject
and object exchanged. Both are ranked, closest first: the same modifiers on both nouns
(`subject_modifiers`, `object_modifiers`: the words of the noun phrase before its noun,
articles left out), then the most modifiers shared, then the opposite relation (on / under,
above / below, in front of / behind). "a green diamond above a yellow square" lists "a green
diamond below a yellow square" before any diamond below a square of other colours."""


NEGATIVES_CARD = """\
Each relation's `negatives` are edits of its caption that are false of the image and
plausible for a photo: `verb_swap` replaces the verb (with its preposition), `prep_swap`
the preposition by its opposite, `role_swap` exchanges subject and object. A candidate is
kept only when the captions of *other* images say its new relation of this object and this
subject (of their head nouns, else of their COCO category or noun class), no caption of the
image says it, it is no paraphrase (of the scenes whose captions say the original, at most
1 in 50 also say it), its verb is close to the original's but not a synonym (all-MiniLM-L6-v2 cosine
inside the band), and the caption, parsed again, reads as exactly the new triple. Role swaps
need the swapped triple stated for another image, or two people or two animals; never a
thing acting on a person or animal, never the ground or a surface on top.

Each negative says why it is plausible: `evidence` is `noun` (other captions say its
relation of these head nouns; a role swap: state the swapped triple; every preposition swap),
`subject class` (of this object and the subject's class), `class` (of the object's class) or
`neighbour` (of the common nouns nearest in meaning to a rare noun no class covers);
`attestation` is how many captions of other images do (0 for a role swap between two people
or two animals).
Filter on them for the hardest: `triples.filter(lambda r: all(n["evidence"] == "noun" for n
in r["negatives"]))`."""


def write_manifest(
    root: Path,
    files: list[ShardFile],
    *,
    options: dict,
    versions: dict,
    inputs: dict,
    skipped: Mapping[str, Counter],
    converted_images: Counter,
) -> Path:
    """`manifest.json`: every file with rows and sha256, the options, versions and input hashes, what was skipped.

    Written last, after the card: a directory with a manifest is a complete build.
    """
    manifest = {
        "versions": versions,
        "options": options,
        "inputs": inputs,
        "skipped": {kind: dict(sorted(reasons.items())) for kind, reasons in skipped.items()},
        "converted_images": dict(sorted(converted_images.items())),
        "fingerprint": fingerprint(files),
        "card": {"path": "README.md", "sha256": sha256_of(root / "README.md")},
        "files": [
            {
                "path": f.path,
                "config": f.config,
                "split": f.split,
                "rows": f.rows,
                "bytes": f.bytes,
                "sha256": f.sha256,
            }
            for f in files
        ],
    }
    path = root / "manifest.json"
    with written_whole(path) as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
    return path

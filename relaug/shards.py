"""The published shard schema as `datasets.Features`, the Parquet writer, the dataset card, the manifest.

The schema below is the public contract of `spec/design.md`. It is declared
once; the writer's Arrow schema, the card's `dataset_info` and the tests all
derive from it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features, Image, List, Value
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from huggingface_hub import DatasetCardData

from relaug.coco import SPLITS, Caption, Split
from relaug.mining import Triple

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
    "negatives": List(
        {
            "caption": Value("string"),
            "text": Value("string"),
            "kind": Value("string"),
            "relation": Value("string"),
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
class Negative:
    """A text hard negative of one relation (`spec/design.md`, "Hard negatives")."""

    caption: str  # the original caption, edited
    text: str  # the short rendered caption, edited
    kind: Literal["verb_swap", "prep_swap", "role_swap"]
    relation: str  # the relation the negative states instead


def relation_id(caption: Caption, k: int) -> str:
    """The stable id of the k-th triple of a caption: `"{image_id}-{caption_id}-{k}"`."""
    return f"{caption.image_id}-{caption.caption_id}-{k}"


@dataclass(frozen=True)
class Relation:
    """One mined triple of one caption, grounded, as the shards publish it."""

    id: str  # "{image_id}-{caption_id}-{k}"
    caption: Caption
    triple: Triple  # keeps the character spans that negatives edit
    text: str
    subject_category: str | None
    object_category: str | None
    subject_box: tuple[float, float, float, float] | None
    object_box: tuple[float, float, float, float] | None
    negatives: tuple[Negative, ...] = ()
    partners: tuple[str, ...] = ()
    swap_partners: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageExample:
    """One row of the default config; the image file is read only when the row is written."""

    image_id: int
    file_name: str
    path: Path
    split: Split
    captions: tuple[Caption, ...]
    relations: tuple[Relation, ...]


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
        "negatives": [
            {"caption": n.caption, "text": n.text, "kind": n.kind, "relation": n.relation}
            for n in relation.negatives
        ],
        "partners": list(relation.partners),
        "swap_partners": list(relation.swap_partners),
    }


def _image_row(example: ImageExample, embed_images: bool) -> dict:
    # Embedded: the file's bytes, with its COCO name as the path (as datasets
    # itself stores embedded images). Not embedded: an absolute path, since a
    # relative one would be resolved against whatever directory reads the shards.
    image = (
        {"bytes": example.path.read_bytes(), "path": example.file_name}
        if embed_images
        else {"bytes": None, "path": str(example.path.resolve())}
    )
    return {
        "image": image,
        "image_id": example.image_id,
        "file_name": example.file_name,
        "captions": [{"caption_id": c.caption_id, "caption": c.caption} for c in example.captions],
        "relations": [_relation_row(r) for r in example.relations],
    }


def _size(value: object) -> int:
    """Rough bytes of a row once in Arrow: enough to keep shards near the size limit."""
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_size(v) for v in value) + 4
    return 8


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _SplitShards:
    """The Parquet files of one config and split: rolled over at the size limit.

    Files are written under temporary names, because a shard's final name holds
    the number of shards, known only once the split is complete.
    """

    def __init__(self, root: Path, config: str, split: Split, max_shard_bytes: int):
        self.root, self.config, self.split = root, config, split
        self.dir = root / CONFIG_DIRS[config]
        self.schema = FEATURES[config].arrow_schema
        self.max_shard_bytes = max_shard_bytes
        self.parts: list[tuple[Path, int]] = []  # (temporary path, rows)
        self.writer: pq.ParquetWriter | None = None
        self.buffer: list[dict] = []
        self.file_bytes = 0
        self.file_rows = 0

    def add(self, row: dict) -> None:
        size = _size(row)
        if self.file_rows and self.file_bytes + size > self.max_shard_bytes:
            self._close_file()
        if self.writer is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            path = self.dir / f".{self.split}-{len(self.parts):05d}.parquet.tmp"
            self.writer = pq.ParquetWriter(path, self.schema)
            self.parts.append((path, 0))
        self.buffer.append(row)
        self.file_bytes += size
        self.file_rows += 1
        if len(self.buffer) >= ROW_GROUP_ROWS[self.config]:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=self.schema))
            self.buffer = []

    def _close_file(self) -> None:
        self._flush()
        self.writer.close()
        path, _ = self.parts[-1]
        self.parts[-1] = (path, self.file_rows)
        self.writer, self.file_bytes, self.file_rows = None, 0, 0

    def close(self) -> list[ShardFile]:
        if self.writer is not None:
            self._close_file()
        files = []
        for index, (temporary, rows) in enumerate(self.parts):
            final = self.dir / f"{self.split}-{index:05d}-of-{len(self.parts):05d}.parquet"
            os.replace(temporary, final)
            files.append(
                ShardFile(
                    config=self.config,
                    split=self.split,
                    path=final.relative_to(self.root).as_posix(),
                    rows=rows,
                    bytes=final.stat().st_size,
                    sha256=sha256_of(final),
                )
            )
        return files


class ShardWriter:
    """Writes ImageExamples to both configs under `root`, any split in any order.

    Only a row group's worth of rows per split is held in memory; image bytes are
    read from disk as each row is written.
    """

    def __init__(self, root: Path, *, max_shard_bytes: int, embed_images: bool):
        self.root = root
        self.max_shard_bytes = max_shard_bytes
        self.embed_images = embed_images
        self.parts: dict[tuple[str, Split], _SplitShards] = {}
        self.stats = ShardStats()

    def _part(self, config: str, split: Split) -> _SplitShards:
        key = (config, split)
        if key not in self.parts:
            self.parts[key] = _SplitShards(self.root, config, split, self.max_shard_bytes)
        return self.parts[key]

    def write(self, example: ImageExample) -> None:
        row = _image_row(example, self.embed_images)
        self._part("default", example.split).add(row)
        triples = self._part("triples", example.split)
        for relation in row["relations"]:
            triples.add({"image_id": example.image_id, **relation})
        counts = self.stats.splits.setdefault(example.split, SplitCounts())
        counts.images += 1
        counts.captions += len(example.captions)
        counts.relations += len(example.relations)
        self.stats.relations.update(r.triple.relation for r in example.relations)

    def close(self) -> list[ShardFile]:
        """Finish every file and give them their final names; in config then split order."""
        files = []
        for config in FEATURES:
            for split in SPLITS:
                if (config, split) in self.parts:
                    files.extend(self.parts[(config, split)].close())
        return files


def card_data(files: list[ShardFile]) -> DatasetCardData:
    """The card's YAML: both configs with their data files and their typed features."""
    configs = []
    infos = {}
    for config, features in FEATURES.items():
        splits = [s for s in SPLITS if any(f.config == config and f.split == s for f in files)]
        configs.append(
            {
                "config_name": config,
                "data_files": [
                    {"split": s, "path": f"{CONFIG_DIRS[config]}/{s}-*.parquet"} for s in splits
                ],
                **({"default": True} if config == "default" else {}),
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
    skipped_images: Counter,
    rejected_negatives: Counter,
    versions: dict,
) -> str:
    """The dataset card `README.md`: YAML metadata, then what a user needs to trust the data."""
    counts = [
        (s, c.images, c.captions, c.relations)
        for s in SPLITS
        if (c := stats.splits.get(s)) is not None
    ]
    skipped = (
        "Images not written, by reason:\n\n"
        + _table(("reason", "images"), sorted(skipped_images.items(), key=lambda kv: -kv[1]))
        if skipped_images
        else "Every image of the source was written."
    )
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
        skipped,
        "## The 20 most frequent relations",
        _table(("relation", "triples"), stats.relations.most_common(20)),
        "## Rejected negative candidates",
        rejected,
    ]
    yaml = card_data(files).to_yaml()
    return f"---\n{yaml}\n---\n\n" + "\n\n".join(sections) + "\n"


def write_manifest(root: Path, files: list[ShardFile], *, options: dict, versions: dict) -> Path:
    """`manifest.json`: every file with rows and sha256, the options and the versions.

    Written last, after the card: a directory with a manifest is a complete build.
    """
    manifest = {
        "versions": versions,
        "options": options,
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
    temporary = root / ".manifest.json.tmp"
    temporary.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path

"""The published shard schema, declared once as `datasets.Features`, and the rows records become.

The public contract of `docs/schema.md`: the writer's Arrow schema, the card's
`dataset_info` and the tests all derive from `FEATURES`. It changes only additively.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from datasets import Features, Image, List, Value

from relaug.records import (
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
            "changed": List({"start": Value("int32"), "end": Value("int32")}),
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
    negatives: Counter = field(default_factory=Counter)  # kind -> negatives written
    relations_with_negatives: int = 0


def relation_row(relation: Relation) -> dict:
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


def image_row(example: ImageExample, image: dict | None, relations: bool = True) -> dict:
    """A row of the default config; `image` is None while planning, when only its size
    counts, and the relations are left out there, being encoded apart."""
    row = {
        "image": image,
        "image_id": example.image_id,
        "file_name": example.file_name,
        "captions": [{"caption_id": c.caption_id, "caption": c.caption} for c in example.captions],
    }
    if relations:
        row["relations"] = [relation_row(r) for r in example.relations]
    return row


def triple_rows(example: ImageExample) -> Iterator[dict]:
    for relation in example.relations:
        yield {"image_id": example.image_id, **relation_row(relation)}

"""What a build says about itself: its statistics, the dataset card and the manifest."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from huggingface_hub import DatasetCardData

from relaug.files import sha256_of, written_whole
from relaug.records import (
    SPLITS,
    ImageExample,
)
from relaug.shards.schema import CONFIG_DIRS, FEATURES, ShardFile, ShardStats, SplitCounts


def shard_stats(examples: Iterable[ImageExample]) -> ShardStats:
    """Counts per split and relation frequencies of what the shards hold."""
    stats = ShardStats()
    for example in examples:
        counts = stats.splits.setdefault(example.split, SplitCounts())
        counts.images += 1
        counts.captions += len(example.captions)
        counts.relations += len(example.relations)
        stats.relations.update(r.triple.relation for r in example.relations)
        stats.negatives.update(n.kind for r in example.relations for n in r.negatives)
        stats.relations_with_negatives += sum(bool(r.negatives) for r in example.relations)
    return stats


def fingerprint(files: list[ShardFile]) -> str:
    """What the build holds, in one sha256: every shard file's path and sha256."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class SourceDescription:
    """What the card says of the source a build read."""

    name: str  # in the title: "relaug relations from NAME"
    origin: str  # what the triples were mined from, in a sentence's words
    details: str  # where it was read and how its splits were made: sentences
    licence: str  # the licence section


COCO_LICENCE = (
    "The COCO annotations, and the triples derived from them, are licensed CC BY 4.0 "
    "(COCO Consortium, https://cocodataset.org). Each image keeps its own Flickr "
    "licence, named by its `license` id in the COCO annotation files; several are "
    "non-commercial."
)


def card_data(files: list[ShardFile], name: str) -> DatasetCardData:
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
        pretty_name=f"relaug relations from {name}",
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
    source: SourceDescription,
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
        f"# relaug relations from {source.name}",
        f"Relation triples (subject, relation, object) mined from {source.origin} by "
        f"relaug {versions['relaug']}, with text "
        "hard negatives and DRIVE partner ids, for relation-aware CLIP training.",
        "```python\nimport datasets\n"
        'images = datasets.load_dataset("./shards")              # one row per image\n'
        'triples = datasets.load_dataset("./shards", "triples")  # one row per relation\n```',
        "## Source",
        source.details,
        "## Licence",
        source.licence,
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
        NEGATIVES_CARD + _pairs_note(options) + _reference_note(options),
        "## DRIVE partners",
        PARTNERS_CARD,
        "## Rejected negative candidates",
        rejected,
    ]
    yaml = card_data(files, source.name).to_yaml()
    return f"---\n{yaml}\n---\n\n" + "\n\n".join(sections) + "\n"


def _pairs_note(options: dict) -> str:
    if not options.get("pairs_evidence"):
        return ""
    return (
        "\n\nThis build also has verb swaps of evidence `pairs` (`pairs_evidence`): a verb swap of one verb "
        "taking its object directly that fewer than two captions state whole, its relation said of this "
        "object and of this subject apart, two captions each, and of the two together by one at least. "
        "Blind reviews found them weaker than the rest: filter them out for the hardest."
    )


def _reference_note(options: dict) -> str:
    if "reference_captions" not in options:
        return ""
    return (
        f"\n\nThe captions of other images include those of `{Path(options['reference_captions']).name}` "
        "(`reference_captions`): they count towards what captions state, nothing is written for them."
    )


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
kept only when two captions of *other* images or more state its whole new triple, subject and
object together (with their nouns, a compound often named whole, else by its head; else, for
a verb swap, with the subject's class unless the subject acts unlike the rest of its class,
as batters do, or captions say much of it but never that it does the new relation; else, for
a rare object, with both classes; a preposition swap of a place or a posture, failing those, the two things put so
with any verb by captions of two other images), no caption of the image
says it, a verb swap's new verb is said of every object and part of an object the old one
took ("feeding a plate of food" is not), it is no paraphrase (of the scenes
whose captions say the original, at most 1 in 50 also say it), its verb is close to the
original's but not a synonym (all-MiniLM-L6-v2 cosine inside the band), and the caption,
parsed again, reads as exactly the new triple. Role swaps need the swapped triple stated by
two captions of other images, or two people; never a thing acting on a person or animal,
never the ground or a surface on top.

Each negative says why it is plausible: `evidence` is `noun` (other captions state its
triple with these nouns, two captions at least; a role swap: the swapped triple), `subject class` (with this
object and the subject's class, two captions at least), `class` (with both classes, two
captions at least; a role swap between two people) or `pairs` (only in builds with
`pairs_evidence`); `attestation` is how many captions of
other images do. `changed` holds the character spans, in the negative's `caption`, of the
words it changed.
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

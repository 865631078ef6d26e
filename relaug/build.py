"""The jobs behind `relaug mine` and `relaug build-coco`: coco -> mining -> grounding -> shards."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import spacy
from datasets.utils.py_utils import convert_file_size_to_int
from rich.console import Console
from rich.progress import Progress, TimeElapsedColumn
from rich.table import Table

import relaug
from relaug.coco import SPLITS, CocoImage, UnsafeImagePath, image_path, read_captions, read_coco
from relaug.errors import InputError
from relaug.grounding import ground
from relaug.mining import MinedCaption, load_pipeline, mine_captions, pipeline_version, render_text
from relaug.negatives import NegativeOptions, add_negatives, build_negatives, default_similarity, relations_of
from relaug.shards import (
    ImageExample,
    Negative,
    Relation,
    ShardFile,
    ShardStats,
    ShardWriter,
    relation_id,
    render_card,
    write_manifest,
)

# Progress and summaries go to stderr: stdout stays free for a command's data.
console = Console(stderr=True)

# The slice of COCO that ships with the source (see its NOTICE.md).
SAMPLE_ROOT = Path(relaug.__file__).resolve().parent.parent / "examples" / "coco-sample"

_STAGING = ".relaug-staging"
_OUTPUTS = ("data", "triples", "README.md")


def _pipeline(name: str | None) -> spacy.Language:
    try:
        return load_pipeline(name)
    except ValueError as e:  # the pipeline is not installed: the user's environment, not a bug
        raise InputError(str(e)) from e


def _progress(quiet: bool) -> Progress:
    return Progress(*Progress.get_default_columns(), TimeElapsedColumn(), console=console, disable=quiet)


@dataclass(frozen=True)
class MineOptions:
    captions: Path  # COCO captions JSON or caption JSONL
    out: Path  # JSONL, one line per caption
    spacy_model: str | None = None  # None: en_core_web_sm or another installed English pipeline
    batch_size: int = 256
    quiet: bool = False
    negatives: bool = False  # also write each triple's id and hard negatives
    negatives_per_triple: int = 3
    seed: int = 0


@dataclass(frozen=True)
class MineReport:
    out: Path
    captions: int
    triples: int
    captions_without_triples: int
    seconds: float
    rejected_negatives: Counter = field(default_factory=Counter)  # reason -> candidates


def _mined_line(mined: MinedCaption, negatives: dict[str, tuple[Negative, ...]] | None = None) -> str:
    caption = mined.caption
    return json.dumps(
        {
            "caption_id": caption.caption_id,
            "image_id": caption.image_id,
            "caption": caption.caption,
            "triples": [
                {
                    "subject": t.subject,
                    "relation": t.relation,
                    "object": t.object,
                    "relation_kind": t.relation_kind,
                    **(
                        {}
                        if negatives is None
                        else {
                            "id": relation_id(caption, k),
                            "negatives": [asdict(n) for n in negatives[relation_id(caption, k)]],
                        }
                    ),
                }
                for k, t in enumerate(mined.triples)
            ],
        },
        ensure_ascii=False,
    )


def _track(progress: Progress, items: Iterable, total: int, description: str) -> Iterator:
    task = progress.add_task(description, total=total)
    for item in items:
        yield item
        progress.advance(task)


def mine_file(options: MineOptions) -> MineReport:
    """Mine every caption of a file into JSONL, one line per caption in input order.

    The output appears under its final name only when complete.
    """
    start = time.perf_counter()
    captions = read_captions(options.captions)
    nlp = _pipeline(options.spacy_model)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = options.out.with_name(f".{options.out.name}.tmp")
    triples = without = 0
    with _progress(options.quiet) as progress, temporary.open("w", encoding="utf-8") as f:
        mined_stream = mine_captions(captions, nlp, batch_size=options.batch_size)
        mined_stream = _track(progress, mined_stream, len(captions), "Mining captions")
        negatives, rejected = None, Counter()
        if options.negatives:  # negatives are chosen against the whole corpus: mine it all first
            mined_stream = list(mined_stream)
            negative_options = NegativeOptions(per_triple=options.negatives_per_triple, seed=options.seed)
            result = build_negatives(
                captions, relations_of(mined_stream), negative_options, default_similarity(), nlp
            )
            negatives, rejected = result.negatives, result.rejected
        for mined in mined_stream:
            f.write(_mined_line(mined, negatives) + "\n")
            triples += len(mined.triples)
            without += not mined.triples
    os.replace(temporary, options.out)
    report = MineReport(options.out, len(captions), triples, without, time.perf_counter() - start, rejected)
    if not options.quiet:
        console.print(
            f"Mined {report.triples:,} triples from {report.captions:,} captions "
            f"({report.captions_without_triples:,} with none) in {report.seconds:.1f} s -> {report.out}",
            soft_wrap=True,
        )
        for reason, candidates in report.rejected_negatives.most_common():
            console.print(f"  negatives rejected: {reason}: {candidates:,}", soft_wrap=True)
    return report


@dataclass(frozen=True)
class BuildOptions:
    out: Path
    coco_root: Path | None = None  # None: the bundled sample, examples/coco-sample
    embed_images: bool = True  # False: store absolute image paths instead of bytes
    max_shard_size: str | int = "500MB"
    spacy_model: str | None = None
    batch_size: int = 256
    quiet: bool = False
    negatives_per_triple: int = 3
    max_partners: int = 8  # DRIVE partners and swap partners per relation, at most
    seed: int = 0  # seeds the choice of negatives and partners


@dataclass
class BuildReport:
    out: Path
    source: Path
    captions_read: int = 0
    triples_mined: int = 0
    captions_without_triples: int = 0
    images_written: int = 0
    skipped_images: Counter = field(default_factory=Counter)  # reason -> images
    rejected_negatives: Counter = field(default_factory=Counter)  # reason -> candidates
    files: list[ShardFile] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # relaug, spaCy and its pipeline
    stats: ShardStats = field(default_factory=ShardStats)
    seconds: float = 0.0

    def __rich__(self) -> Table:
        table = Table(title=f"relaug build-coco -> {self.out}", show_header=False)
        table.add_row("captions read", f"{self.captions_read:,}")
        table.add_row("triples mined", f"{self.triples_mined:,}")
        table.add_row("captions with no triple", f"{self.captions_without_triples:,}")
        table.add_row("images written", f"{self.images_written:,}")
        for split in SPLITS:
            if (counts := self.stats.splits.get(split)) is not None:
                table.add_row(f"  {split}", f"{counts.images:,} images, {counts.relations:,} relations")
        for reason, images in self.skipped_images.most_common():
            table.add_row(f"images skipped: {reason}", f"{images:,}")
        for reason, candidates in self.rejected_negatives.most_common():
            table.add_row(f"negatives rejected: {reason}", f"{candidates:,}")
        table.add_row("shard files", f"{len(self.files)} ({sum(f.bytes for f in self.files) / 1e6:.1f} MB)")
        table.add_row("time", f"{self.seconds:.1f} s")
        return table


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a directory")
    if out.is_dir():
        unknown = {p.name for p in out.iterdir()} - {*_OUTPUTS, "manifest.json", _STAGING}
        if unknown and not (out / "manifest.json").is_file():
            raise InputError(
                f"--out {out}: not empty and not a relaug build; give a new or empty directory"
            )


def _publish(staging: Path, out: Path, files: list[ShardFile], options: dict, versions: dict) -> None:
    """Move a finished build from staging into `out`, replacing a previous build.

    The manifest goes first out and last in, so a directory with a manifest is
    always a complete build.
    """
    (out / "manifest.json").unlink(missing_ok=True)
    for name in _OUTPUTS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        if (staging / name).exists():
            os.replace(staging / name, target)
    staging.rmdir()
    write_manifest(out, files, options=options, versions=versions)


def _examples(
    images: list[CocoImage],
    root: Path,
    nlp: spacy.Language,
    options: BuildOptions,
    report: BuildReport,
    progress: Progress,
) -> list[ImageExample]:
    """Mine and ground every image that has a readable file; images with no relation are counted, not kept.

    The examples hold no image bytes, so the whole corpus fits in memory, which
    the negatives stage needs (partners are found across a split).
    """
    readable = []
    for image in images:
        try:
            path = image_path(root, image)
        except UnsafeImagePath:
            report.skipped_images["file_name outside the COCO root"] += 1
            continue
        if not path.is_file():
            report.skipped_images["image file missing"] += 1
            continue
        readable.append((image, path))
    captions = [c for image, _ in readable for c in image.captions]
    mined = _track(
        progress, mine_captions(captions, nlp, batch_size=options.batch_size), len(captions), "Mining captions"
    )
    examples = []
    for image, path in readable:
        relations = []
        for _ in image.captions:
            caption_mined = next(mined)
            report.triples_mined += len(caption_mined.triples)
            report.captions_without_triples += not caption_mined.triples
            caption = caption_mined.caption
            for k, triple in enumerate(caption_mined.triples):
                grounding = ground(triple, image.instances)
                relations.append(
                    Relation(
                        id=relation_id(caption, k),
                        caption=caption,
                        triple=triple,
                        text=render_text(triple.subject, triple.relation, triple.object, triple.relation_kind),
                        subject_category=grounding.subject_category,
                        object_category=grounding.object_category,
                        subject_box=grounding.subject_box,
                        object_box=grounding.object_box,
                    )
                )
        if not relations:
            report.skipped_images["no relation mined from its captions"] += 1
            continue
        examples.append(
            ImageExample(
                image_id=image.image_id,
                file_name=image.file_name,
                path=path,
                split=image.split,
                captions=image.captions,
                relations=tuple(relations),
            )
        )
    return examples


def build_coco(options: BuildOptions) -> BuildReport:
    """Mine a COCO 2017 root into the typed Parquet shards of `spec/design.md` under `options.out`.

    Writes `data/` (one row per image), `triples/` (one row per relation), the
    dataset card `README.md` and `manifest.json`, and prints progress and a
    closing summary unless `quiet`.
    """
    start = time.perf_counter()
    root = options.coco_root
    if root is None:
        root = SAMPLE_ROOT
        if not root.is_dir():
            raise InputError(
                "no --coco-root given and the bundled sample examples/coco-sample is not here: "
                "it ships with the source checkout (pip install -e .); pass --coco-root DIR"
            )
    try:
        max_shard_bytes = convert_file_size_to_int(options.max_shard_size)
    except ValueError:
        max_shard_bytes = 0
    if max_shard_bytes <= 0:
        raise InputError(
            f"--max-shard-size {options.max_shard_size!r}: not a positive size such as 500MB or 2GB"
        )
    for name, value in (("--negatives-per-triple", options.negatives_per_triple), ("--max-partners", options.max_partners)):
        if value < 0:
            raise InputError(f"{name} {value}: give 0 or more")
    out = Path(options.out)
    _check_out(out)
    if options.coco_root is None and not options.quiet:
        console.print(
            f"No --coco-root given: building the bundled COCO sample {root} "
            "(40 images); pass --coco-root DIR to build full COCO.",
            soft_wrap=True,
        )
    report = BuildReport(out=out, source=root)
    reading = console.status("Reading COCO annotations") if not options.quiet else contextlib.nullcontext()
    with reading:
        images = read_coco(root)
    report.captions_read = sum(len(i.captions) for i in images)
    nlp = _pipeline(options.spacy_model)
    report.versions = {
        "relaug": relaug.__version__,
        "spacy": spacy.__version__,
        "spacy_pipeline": pipeline_version(nlp),
    }
    staging = out / _STAGING
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted build
    staging.mkdir(parents=True)
    with _progress(options.quiet) as progress:
        examples = _examples(images, root, nlp, options, report, progress)
        task = progress.add_task("Building negatives and partners", total=None)
        negative_options = NegativeOptions(
            per_triple=options.negatives_per_triple, max_partners=options.max_partners, seed=options.seed
        )
        examples, rejected = add_negatives(examples, negative_options, default_similarity(), nlp)
        report.rejected_negatives.update(rejected)
        progress.update(task, total=1, completed=1)
        if not examples:
            shutil.rmtree(staging)
            reasons = ", ".join(f"{n} {reason}" for reason, n in report.skipped_images.most_common())
            raise InputError(f"--coco-root {root}: no image could be written ({reasons})")
        # Negatives and partners are added here, between mining and writing:
        # partners are found across a whole split, so they need every example.
        writer = ShardWriter(staging, max_shard_bytes=max_shard_bytes, embed_images=options.embed_images)
        for example in _track(progress, examples, len(examples), "Writing shards"):
            writer.write(example)
        report.files = writer.close()
    report.stats = writer.stats
    report.images_written = len(examples)
    recorded = {
        "coco_root": str(root),
        "embed_images": options.embed_images,
        "max_shard_size": options.max_shard_size,
        "spacy_model": options.spacy_model,
        "batch_size": options.batch_size,
        "negatives_per_triple": options.negatives_per_triple,
        "max_partners": options.max_partners,
        "seed": options.seed,
    }
    (staging / "README.md").write_text(
        render_card(
            report.files,
            report.stats,
            source=f"MS-COCO 2017 captions and instances read from `{root.name}`",
            options=recorded,
            skipped_images=report.skipped_images,
            rejected_negatives=report.rejected_negatives,
            versions=report.versions,
        ),
        encoding="utf-8",
    )
    _publish(staging, out, report.files, recorded, report.versions)
    report.seconds = time.perf_counter() - start
    if not options.quiet:
        console.print(report)
    return report

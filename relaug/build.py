"""The jobs behind `relaug mine` and `relaug build-coco`: coco -> mining -> grounding -> shards."""

from __future__ import annotations

import contextlib
import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import spacy
from datasets.utils.py_utils import convert_file_size_to_int

import relaug
from relaug.coco import (
    CocoImage,
    CocoSource,
    UnsafeImagePath,
    image_path,
    read_captions,
    read_coco,
)
from relaug.collection import collection_image_path, files_of, input_stamps, read_collection
from relaug.errors import InputError
from relaug.files import sha256_of
from relaug.grounding import ground
from relaug.images import ImageCheck, check_image, stored_images
from relaug.mine import (
    job_parsing_pool,
    mined_in_order,
    not_own,
    output_errors,
    reference_relations,
    tracked,
)
from relaug.mining import (
    load_pipeline,
    pipeline_version,
    render_text,
    stated_form,
)
from relaug.negatives import (
    add_negatives,
    default_similarity,
)
from relaug.options import BuildOptions, CollectionOptions, NegativeOptions
from relaug.progress import SILENT, Progress
from relaug.reasons import Skip
from relaug.records import (
    SPLITS,
    Caption,
    ImageExample,
    Relation,
    Triple,
    relation_id,
)
from relaug.shards.card import COCO_LICENCE, SourceDescription, render_card, shard_stats, write_manifest
from relaug.shards.schema import ShardFile, ShardStats
from relaug.shards.write import (
    PlannedShard,
    image_groups,
    plan_shards,
    seal_shard,
    shard_examples,
    shard_rows,
    write_shard,
)
from relaug.staging import OUTPUTS, STAGING, Staging, input_hashes
from relaug.workers import available_cores

# Progress and summaries go to stderr: stdout stays free for a command's data.

# The slice of COCO that ships with the source (see its NOTICE.md).
SAMPLE_ROOT = Path(relaug.__file__).resolve().parent.parent / "examples" / "coco-sample"
# The sample's reference corpus (`reference_captions`): all of val2017's captions, which its 20
# val2017 images are among (see examples/NOTICE.md).
SAMPLE_REFERENCE = SAMPLE_ROOT.parent / "val2017_captions.jsonl"



@dataclass
class BuildReport:
    out: Path
    source: str  # what was read, as the user named it: "--coco-root DIR", or a collection's path
    captions_read: int = 0
    triples_mined: int = 0
    captions_without_triples: int = 0
    images_written: int = 0
    skipped_images: Counter = field(default_factory=Counter)  # reason -> images
    skipped_captions: Counter = field(default_factory=Counter)  # reason -> caption records
    skipped_instances: Counter = field(default_factory=Counter)  # reason -> instance records
    converted_images: Counter = field(default_factory=Counter)  # source mode -> images made RGB
    shards_reused: int = 0  # files a resumed build found finished
    corpus_reused: bool = False  # a resumed build found the mining, image checks and negatives done
    rejected_negatives: Counter = field(default_factory=Counter)  # reason -> candidates
    reference_captions: int = 0  # captions of `reference_captions` mined for the negatives' statistics
    files: list[ShardFile] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # relaug, spaCy and its pipeline
    recorded: dict[str, object] = field(default_factory=dict)  # the options that determine every output byte
    inputs: dict[str, str] = field(default_factory=dict)  # what identifies each input file
    stats: ShardStats = field(default_factory=ShardStats)
    seconds: float = 0.0
    write_seconds: float = 0.0  # of `seconds`, writing the shards (reading and converting images included)

    @property
    def skipped(self) -> dict[str, Counter]:
        """Records left out, by kind then reason: the summary's, card's and manifest's rows."""
        return {"images": self.skipped_images, "captions": self.skipped_captions, "instances": self.skipped_instances}


# What the stages before writing add to the report, kept with their results for a resumed build.
_MINED_FIELDS = (
    "triples_mined", "captions_without_triples", "skipped_images", "converted_images", "rejected_negatives",
    "reference_captions",
)  # fmt: skip
CORPUS = "corpus.pickle"  # the MinedCorpus of a build, in its staging folder


@dataclass(frozen=True)
class MinedCorpus:
    """What mining, the image checks and the negatives made of a build's images: all that
    writing needs, and most of a build's time. Kept in staging until the build is
    published, so that a build stopped while writing resumes with writing."""

    examples: list[ImageExample]
    checks: dict[int, ImageCheck]  # by image id, those of the examples
    files: dict[str, tuple[int, int]]  # (size, mtime_ns) of every image file read, by path
    report: dict[str, object]  # the _MINED_FIELDS of the build's report


def _file_stamps(readable: list[tuple[CocoImage, Path | None]]) -> dict[str, tuple[int, int]]:
    """Size and modification time of each image file: a resumed build reuses the checks only
    of files that did not change (image files are not hashed: 18 GB for COCO)."""
    stamps = {}
    for _, path in readable:
        if path is None:
            continue
        stat = path.stat()
        stamps[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return stamps


def _check_options(options: BuildOptions) -> int:
    """Refuse options no build can take before anything is read; the largest shard in bytes."""
    max_shard_bytes = _max_shard_bytes(options.max_shard_size)
    for name, value in (("--negatives-per-triple", options.negatives_per_triple), ("--max-partners", options.max_partners)):
        if value < 0:
            raise InputError(f"{name} {value}: give 0 or more")
    if options.workers is not None and options.workers < 1:
        raise InputError(f"--workers {options.workers}: give 1 or more")
    _check_out(Path(options.out))
    return max_shard_bytes


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a directory")
    if out.is_dir():
        unknown = {p.name for p in out.iterdir()} - {*OUTPUTS, "manifest.json", STAGING}
        if unknown and not (out / "manifest.json").is_file():
            raise InputError(
                f"--out {out}: not empty and not a relaug build; give a new or empty directory"
            )


@contextlib.contextmanager
def _thread_pool(threads: int) -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(threads)
    try:
        yield pool
    finally:
        # After an error, the image checks still queued (all of COCO's) are dropped, not run out.
        pool.shutdown(cancel_futures=True)


# What a build keeps when writing stops, and what to do: its sealed shards stay staged for the rerun.
_BUILD_KEPT = "the shards finished so far are kept: make room or fix the cause, then run the same command again to resume"


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Leave the objects alive now out of the garbage collector's passes until the block ends.

    Writing makes millions of short-lived row dicts, and each full collection they
    trigger would walk every example, relation and negative of the build again, more
    of them the larger the build (docs/benchmarks.md, "Hand-rolled speed-ups").
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# The check of an image a text-only build has none of: nothing to skip, nothing stored.
_NO_IMAGE = ImageCheck(skip=None)


def _readable(
    images: list[CocoImage], locate: Callable[[CocoImage], Path] | None, report: BuildReport
) -> list[tuple[CocoImage, Path | None]]:
    """Images whose file `locate` finds and that exists; the rest counted. Nothing `locate`
    refuses (UnsafeImagePath) is opened. Without `locate` (a text-only build) every image
    is kept, without a file."""
    if locate is None:
        return [(image, None) for image in images]
    readable = []
    for image in images:
        try:
            path = locate(image)
        except UnsafeImagePath:
            report.skipped_images[Skip.OUTSIDE_ROOT] += 1
            continue
        if not path.is_file():
            report.skipped_images[Skip.MISSING] += 1
            continue
        readable.append((image, path))
    return readable


def _relations(caption: Caption, triples: Sequence[Triple], image: CocoImage) -> list[Relation]:
    """The grounded relations of the triples mined from `caption`, one of `image`'s: they share
    its Caption rather than hold the copy the mining process sent back (a corpus held twice)."""
    relations = []
    for k, triple in enumerate(triples):
        grounding = ground(triple, image.instances)
        relations.append(
            Relation(
                id=relation_id(caption, k),
                caption=caption,
                triple=triple,
                text=render_text(triple.subject, triple.relation, triple.object, triple.relation_kind, stated_form(triple)),
                subject_category=grounding.subject_category,
                object_category=grounding.object_category,
                subject_box=grounding.subject_box,
                object_box=grounding.object_box,
            )
        )
    return relations


def _examples(
    readable: list[tuple[CocoImage, Path | None]],
    nlp: spacy.Language,
    options: BuildOptions,
    report: BuildReport,
    pool: ThreadPoolExecutor,
    parsing: Executor | None,
    progress: Progress,
) -> tuple[list[ImageExample], dict[int, ImageCheck]]:
    """Mine and ground every image whose file checks out; the rest are counted by reason, not kept.

    The image files are decoded and checked on `pool` while the captions are mined
    on `parsing` (or here, when None), so the two overlap; only the small check
    results are kept. The examples hold no image bytes, so the whole corpus fits in
    memory, which the negatives stage needs (partners are found across a split).
    """
    checks = {image.image_id: pool.submit(check_image, path) for image, path in readable if path is not None}
    captions = [c for image, _ in readable for c in image.captions]
    mined = tracked(progress, mined_in_order(captions, nlp, parsing, options.batch_size), len(captions), "Mining captions, checking images")
    examples, kept_checks = [], {}
    for image, path in readable:
        image_mined = [next(mined) for _ in image.captions]
        check = checks.pop(image.image_id).result() if path is not None else _NO_IMAGE
        if check.skip is not None:
            report.skipped_images[check.skip] += 1
            continue
        report.triples_mined += sum(len(m.triples) for m in image_mined)
        report.captions_without_triples += sum(not m.triples for m in image_mined)
        relations = [r for c, m in zip(image.captions, image_mined, strict=True) for r in _relations(c, m.triples, image)]
        if not relations:
            report.skipped_images[Skip.NO_RELATION] += 1
            continue
        if check.converted_from is not None:
            report.converted_images[check.converted_from] += 1
        kept_checks[image.image_id] = check
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
    return examples, kept_checks


def _mine_and_check(
    readable: list[tuple[CocoImage, Path | None]],
    nlp: spacy.Language,
    options: BuildOptions,
    report: BuildReport,
    pool: ThreadPoolExecutor,
    progress: Progress,
    staging: Staging,
    reference: Sequence[Caption],
) -> tuple[list[ImageExample], dict[int, ImageCheck]]:
    """Mine, ground and check every readable image, then add negatives and partners (their
    statistics also from the `reference` captions): the examples to write, and the checks of
    their images."""
    reference = not_own(reference, (c for image, _ in readable for c in image.captions))
    captions = sum(len(image.captions) for image, _ in readable)
    with job_parsing_pool(captions + len(reference), options) as parsing:
        examples, checks = _examples(readable, nlp, options, report, pool, parsing, progress)
        if not examples:
            staging.discard()
            reasons = ", ".join(f"{n} {reason}" for reason, n in report.skipped_images.most_common())
            raise InputError(f"{report.source}: no image could be written ({reasons})")
        report.reference_captions = len(reference)
        reference_mined = reference_relations(reference, nlp, parsing, options.batch_size, progress)
        # Negatives and partners are added here, between mining and writing:
        # partners are found across a whole split, so they need every example.
        advance = progress.start("Building negatives and partners", sum(len(e.relations) for e in examples))
        negative_options = NegativeOptions(
            per_triple=options.negatives_per_triple, max_partners=options.max_partners, seed=options.seed,
            pairs_evidence=options.pairs_evidence,
        )
        examples, rejected = add_negatives(
            examples, negative_options, default_similarity(), nlp,
            pool=parsing, progress=advance, reference=reference_mined,
        )
    report.rejected_negatives.update(rejected)
    return examples, checks


def _write(
    examples: list[ImageExample],
    checks: dict[int, ImageCheck],
    staging: Staging,
    options: BuildOptions,
    max_shard_bytes: int,
    report: BuildReport,
    progress: Progress,
) -> list[ShardFile]:
    """Plan every shard, then write those an earlier run did not finish, one at a time.

    Image bytes are read (and converted where needed) a row group at a time, as the
    writer asks for them: memory holds that row group, never a split.
    """
    text_only = all(e.path is None for e in examples)
    if text_only:
        sizes = {e.image_id: 0 for e in examples}
    elif options.embed_images:
        sizes = {e.image_id: checks[e.image_id].stored_bytes for e in examples}
    else:
        sizes = {e.image_id: len(str(e.path.resolve())) for e in examples}
    plan = plan_shards(examples, sizes, max_shard_bytes)
    staging.keep_only(plan)
    by_split = {split: [e for e in examples if e.split == split] for split in SPLITS}

    def image_value(example: ImageExample) -> dict | None:
        # Embedded: the source's name as path (as datasets itself stores them), the bytes
        # added by row group. Not embedded: an absolute path, since a relative one
        # would be resolved against whatever directory reads the shards.
        if example.path is None:
            return None
        return {"bytes": None, "path": example.file_name if options.embed_images else str(example.path.resolve())}

    def image_bytes(shard: PlannedShard, split_examples: list[ImageExample]) -> Iterator[pa.ChunkedArray]:
        groups = ([(e.path, checks[e.image_id]) for e in group] for group in image_groups(shard, split_examples))
        try:
            yield from stored_images(groups)
        except OSError as e:  # checked minutes ago, gone or damaged since
            raise InputError(
                f"{e.filename}: changed while the build ran ({e.strerror or e}); run the build again to resume it"
            ) from e

    files: dict[str, ShardFile] = {}
    advance = progress.start("Writing shards", len(plan))

    def seal(shard: PlannedShard) -> None:
        file = seal_shard(staging.dir, shard)
        staging.commit(shard, file)
        files[shard.path] = file
        advance(1)

    # fsync and sha256 wait on the disk and release the GIL: one shard is sealed on
    # a thread while the next is written. On an error the shards sealed so far stay.
    with ThreadPoolExecutor(1, thread_name_prefix="relaug-seal") as sealer:
        sealing: Future | None = None
        for shard in plan:
            file = staging.finished(shard)
            if file is not None:
                report.shards_reused += 1
                files[shard.path] = file
                advance(1)
                continue
            split_examples = by_split[shard.split]
            images, image_data = (), None
            if shard.config == "default":
                images = map(image_value, shard_examples(shard, split_examples))
                if options.embed_images and not text_only:
                    image_data = image_bytes(shard, split_examples)
            write_shard(staging.dir, shard, shard_rows(shard, split_examples, images), image_data)
            if sealing is not None:
                sealing.result()  # a failure to seal the shard before stops the build here
            sealing = sealer.submit(seal, shard)
        if sealing is not None:
            sealing.result()
    return [files[shard.path] for shard in plan]


def _max_shard_bytes(max_shard_size: str | int) -> int:
    try:
        max_shard_bytes = convert_file_size_to_int(max_shard_size)
    except ValueError:
        max_shard_bytes = 0
    if max_shard_bytes <= 0:
        raise InputError(f"--max-shard-size {max_shard_size!r}: not a positive size such as 500MB or 2GB")
    return max_shard_bytes


def build_coco(options: BuildOptions, progress: Progress = SILENT) -> BuildReport:
    """Mine a COCO 2017 root into the typed Parquet shards of `docs/schema.md` under `options.out`.

    Writes `data/` (one row per image), `triples/` (one row per relation), the
    dataset card `README.md` and `manifest.json`, telling `progress` how far it
    has got. Resumes an interrupted build with the same
    options; the same inputs and options give the same bytes, whatever `workers`.
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
    max_shard_bytes = _check_options(options)
    if options.coco_root is None:
        if options.reference_captions is None:
            options = replace(options, reference_captions=SAMPLE_REFERENCE)
        progress.note(
            f"No --coco-root given: building the bundled COCO sample {root} (40 images), its negatives "
            f"chosen by what the captions of {options.reference_captions} say; pass --coco-root DIR to build full COCO."
        )
    report = BuildReport(out=Path(options.out), source=f"--coco-root {root}")
    read = progress.start("Reading COCO annotations", 1)
    source: CocoSource = read_coco(root)
    inputs = input_hashes(root)
    read(1)
    reference = _read_reference(options)
    nlp = load_pipeline(options.spacy_model)
    staging = _staging(options, {"coco_root": str(root)}, inputs, nlp, report)
    return _build(
        options, source, staging, nlp, report, progress,
        locate=lambda image: image_path(root, image),
        described=SourceDescription(
            name="COCO",
            origin="MS-COCO 2017 captions, grounded to COCO categories and boxes,",
            details=f"MS-COCO 2017 captions and instances read from `{root.name}`. Splits: COCO train2017 is "
            "`train`; val2017 is cut by a hash of the image id into `validation` and `test`, so no image is "
            "in two splits.",
            licence=COCO_LICENCE,
        ),
        max_shard_bytes=max_shard_bytes, start=start, reference=reference,
    )  # fmt: skip


def build_collection(options: BuildOptions, collection: CollectionOptions, progress: Progress = SILENT) -> BuildReport:
    """`build_coco` for an image-text collection other than COCO (`relaug.collection`): a
    Parquet or CSV table or WebDataset tars, with or without images. The same shards, card
    and manifest; the same resumption and determinism."""
    start = time.perf_counter()
    max_shard_bytes = _check_options(options)
    report = BuildReport(out=Path(options.out), source=str(collection.path))
    read = progress.start(f"Reading the {collection.source} collection", 1)
    files = files_of(Path(collection.path), collection.source, Path(options.out))
    inputs = input_stamps(files)
    reference = _read_reference(options)
    nlp = load_pipeline(options.spacy_model)
    recorded = {f"collection_{name}": str(value) for name, value in asdict(collection).items() if value is not None}
    staging = _staging(options, recorded, inputs, nlp, report)
    source = read_collection(collection, files, staging.dir / "source-images")
    read(1)
    if not options.embed_images and any(Path(i.folder) == staging.dir / "source-images" for i in source.images):
        staging.discard()
        raise InputError(
            f"{collection.path}: its images are bytes, not files, so --no-embed-images has no path "
            "to store: embed them (the default)"
        )
    return _build(
        options, source, staging, nlp, report, progress,
        locate=None if collection.text_only else collection_image_path,
        described=_collection_description(collection),
        max_shard_bytes=max_shard_bytes, start=start, reference=reference,
    )  # fmt: skip


def _collection_description(collection: CollectionOptions) -> SourceDescription:
    name = Path(collection.path).name
    splits = (
        f"its column `{collection.split_column}`" if collection.split_column
        else "a hash of the image id (about 90% `train`, 5% `validation`, 5% `test`)"
    )
    images = "no images (a text-only build: `image` is null)" if collection.text_only else "their images"
    return SourceDescription(
        name=name,
        origin=f"the captions of `{name}`",
        details=f"The {collection.source} collection `{name}`, read with {images}. Splits: by {splits}, "
        "so no image is in two splits.",
        licence="The licence of the collection the shards were built from applies to its captions and "
        "images, and to the triples derived from them.",
    )


def _staging(options: BuildOptions, source_options: dict, inputs: dict, nlp: spacy.Language, report: BuildReport) -> Staging:
    """The build's staging folder, opened for what determines every output byte (`workers`
    does not, so it is not recorded); `report` takes the recorded options and versions."""
    report.versions = {
        "relaug": relaug.__version__,
        "spacy": spacy.__version__,
        "spacy_pipeline": pipeline_version(nlp),
    }
    report.recorded = {
        **source_options,
        "embed_images": options.embed_images,
        "max_shard_size": options.max_shard_size,
        "spacy_model": options.spacy_model,
        "batch_size": options.batch_size,
        "negatives_per_triple": options.negatives_per_triple,
        "max_partners": options.max_partners,
        "seed": options.seed,
        "pairs_evidence": options.pairs_evidence,
    }
    if options.reference_captions is not None:
        report.recorded["reference_captions"] = str(options.reference_captions)
        inputs = {**inputs, "reference_captions": sha256_of(options.reference_captions)}
    report.inputs = inputs
    return Staging(
        Path(options.out), {"options": report.recorded, "versions": report.versions, "inputs": inputs},
        overwrite=options.overwrite,
    )


def _read_reference(options: BuildOptions) -> list[Caption]:
    """The captions of `options.reference_captions`, read before anything is written: a file
    that is not a caption file stops the build with an InputError naming it."""
    return read_captions(options.reference_captions) if options.reference_captions is not None else []


def _build(
    options: BuildOptions,
    source: CocoSource,
    staging: Staging,
    nlp: spacy.Language,
    report: BuildReport,
    progress: Progress,
    *,
    locate: Callable[[CocoImage], Path] | None,
    described: SourceDescription,
    max_shard_bytes: int,
    start: float,
    reference: Sequence[Caption],
) -> BuildReport:
    """What every build does once its source is read: mine, check, add negatives, write, publish."""
    out = Path(options.out)
    report.captions_read = sum(len(i.captions) for i in source.images)
    report.skipped_captions.update(source.skipped_captions)
    report.skipped_images.update(source.skipped_images)
    report.skipped_instances.update(source.skipped_instances)
    readable = _readable(source.images, locate, report)
    threads = options.workers or available_cores()
    with _thread_pool(threads) as pool:
        files = _file_stamps(readable)  # before any is read: a file changed while mining is seen as changed
        corpus = staging.kept(CORPUS)
        if isinstance(corpus, MinedCorpus) and corpus.files == files:
            for name, value in corpus.report.items():
                setattr(report, name, value)
            report.corpus_reused = True
        else:
            examples, checks = _mine_and_check(readable, nlp, options, report, pool, progress, staging, reference)
            corpus = MinedCorpus(examples, checks, files, {name: getattr(report, name) for name in _MINED_FIELDS})
            with output_errors(out, _BUILD_KEPT):
                staging.keep(CORPUS, corpus)
        examples, checks = corpus.examples, corpus.checks
        writing = time.perf_counter()
        with output_errors(out, _BUILD_KEPT), _frozen_heap():
            report.files = _write(examples, checks, staging, options, max_shard_bytes, report, progress)
        report.write_seconds = time.perf_counter() - writing
    report.stats = shard_stats(examples)
    report.images_written = len(examples)
    with output_errors(out, _BUILD_KEPT):
        (staging.dir / "README.md").write_text(
            render_card(
                report.files,
                report.stats,
                source=described,
                options=report.recorded,
                skipped=report.skipped,
                converted_images=report.converted_images,
                rejected_negatives=report.rejected_negatives,
                versions=report.versions,
            ),
            encoding="utf-8",
        )
        staging.publish()
        write_manifest(
            out,
            report.files,
            options=report.recorded,
            versions=report.versions,
            inputs=report.inputs,
            skipped=report.skipped,
            converted_images=report.converted_images,
        )
        staging.discard()
    report.seconds = time.perf_counter() - start
    return report

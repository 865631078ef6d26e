"""The job behind `relaug mine`: a caption file -> mining -> (negatives) -> JSONL.

It imports nothing of the shards or of `datasets`: `relaug mine` starts in the time
spaCy takes to load. `relaug.build` runs its mining through the helpers here.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import spacy

from relaug.choices import Engine
from relaug.coco import read_captions
from relaug.errors import InputError, StoppedError, unwritable_out
from relaug.files import written_whole
from relaug.mining import check_installed, load_pipeline, mine_captions, mine_captions_parallel, parsing_pool
from relaug.negatives import build_negatives, default_similarity, relations_of
from relaug.options import BuildOptions, MineOptions, NegativeOptions
from relaug.progress import SILENT, Progress
from relaug.records import Caption, MinedCaption, Negative, Relation, relation_id
from relaug.workers import available_cores

# Captions per task sent to a mining process: large enough that shipping records
# back costs little, small enough that every process gets work on a modest input.
CHUNK_CAPTIONS = 2048


@dataclass(frozen=True)
class MineReport:
    out: Path
    captions: int
    triples: int
    captions_without_triples: int
    seconds: float
    rejected_negatives: Counter = field(default_factory=Counter)  # reason -> candidates
    negatives: Counter = field(default_factory=Counter)  # kind -> negatives written (with --negatives)
    triples_with_negatives: int = 0


def _mined_line(mined: MinedCaption, negatives: dict[str, tuple[Negative, ...]] | None = None) -> str:
    caption = mined.caption
    triples = []
    for k, t in enumerate(mined.triples):
        triple = {"subject": t.subject, "relation": t.relation, "object": t.object, "relation_kind": t.relation_kind}
        if negatives is not None:
            rid = relation_id(caption, k)
            triple.update(id=rid, negatives=[n.record() for n in negatives[rid]])
        triples.append(triple)
    return json.dumps(
        {"caption_id": caption.caption_id, "image_id": caption.image_id, "caption": caption.caption, "triples": triples},
        ensure_ascii=False,
    )


def tracked(progress: Progress, items: Iterable, total: int, description: str) -> Iterator:
    advance = progress.start(description, total)
    for item in items:
        yield item
        advance(1)


@contextlib.contextmanager
def job_parsing_pool(
    captions: int, options: MineOptions | BuildOptions
) -> Iterator[Executor | None]:
    """Up to `options.workers` processes (None: all cores) that mine the captions, then build
    the negatives; None where one process does, in this one. With the Ray engine, as many
    Ray Data actors (None: the cluster's CPUs), whatever the input's size.

    No more local processes than chunks of captions: each spawned process loads its own
    pipeline, seconds that a small input never wins back.
    """
    spacy_model, batch_size = options.spacy_model, options.batch_size
    if options.engine == Engine.RAY:
        from relaug.ray_pool import cluster_cpus, start_ray

        start_ray(options.ray_address)
        yield parsing_pool(options.workers or cluster_cpus(), spacy_model, batch_size, Engine.RAY)
        return
    processes = min(options.workers or available_cores(), -(-captions // CHUNK_CAPTIONS))
    if processes <= 1:
        yield None
        return
    pool = parsing_pool(processes, spacy_model, batch_size)
    try:
        yield pool
    except BrokenProcessPool as e:
        # A worker killed while it held the task queue's lock leaves the others waiting for
        # that lock forever, and Python 3.11 joins them while shutting down: end them first.
        for process in list((pool._processes or {}).values()):
            process.terminate()
        raise StoppedError(
            "a worker process died (stopped by the system, most often for lack of memory): "
            "run the same command again, with fewer --workers if memory is short"
        ) from e
    finally:
        # After an error or Ctrl-C, the chunks still queued (all of COCO's) are dropped, not run out.
        pool.shutdown(cancel_futures=True)


def mined_in_order(captions: Sequence[Caption], nlp: spacy.Language, pool: Executor | None, batch_size: int) -> Iterator[MinedCaption]:
    """Mined captions in input order, on `pool`'s processes, or with `nlp` here."""
    if pool is None:
        return mine_captions(captions, nlp, batch_size=batch_size)
    return mine_captions_parallel(captions, pool, CHUNK_CAPTIONS)


def not_own(reference: Sequence[Caption], own: Iterable[Caption]) -> list[Caption]:
    """The reference captions (`reference_captions`) that are not among a job's `own`: a
    caption of the same image in both is counted once, as the image's own."""
    own_captions = {(c.image_id, c.caption) for c in own}
    return [c for c in reference if (c.image_id, c.caption) not in own_captions]


def reference_relations(
    captions: Sequence[Caption], nlp: spacy.Language, pool: Executor | None, batch_size: int, progress: Progress
) -> list[Relation]:
    """The relations mined from reference captions, for `build_negatives(reference=...)`."""
    if not captions:
        return []
    mined = mined_in_order(captions, nlp, pool, batch_size)
    return relations_of(tracked(progress, mined, len(captions), "Mining reference captions"))


def mine_file(options: MineOptions, progress: Progress = SILENT) -> MineReport:
    """Mine every caption of a file into JSONL, one line per caption in input order, telling
    `progress` how far it has got.

    The output appears under its final name only when complete.
    """
    start = time.perf_counter()
    if options.out.is_dir():
        raise InputError(f"--out {options.out}: a directory; give the JSONL file to write, e.g. {options.out / 'triples.jsonl'}")
    if options.reference_captions is not None and not options.negatives:
        raise InputError(
            f"--reference-captions {options.reference_captions}: reference captions only add to the "
            "statistics negatives are chosen by; add --negatives"
        )
    if options.pairs_evidence and not options.negatives:
        raise InputError("--pairs-evidence chooses among negatives; add --negatives")
    captions = read_captions(options.captions)
    reference = not_own(read_captions(options.reference_captions), captions) if options.reference_captions else []
    check_installed(options.spacy_model)  # before any worker starts, whose failure to load would only say that it died
    triples = without = 0
    kept = "nothing was written under that name: make room or fix the cause, then run again"
    with output_errors(options.out, kept), contextlib.ExitStack() as output:
        try:  # before parsing: an --out that cannot be written is told in seconds, not minutes
            if not options.out.parent.exists():  # one that is a file is told by open: "Not a directory"
                options.out.parent.mkdir(parents=True)
            f = output.enter_context(written_whole(options.out))
        except OSError as e:
            raise unwritable_out(options.out, e) from e
        with job_parsing_pool(len(captions) + len(reference), options) as pool:
            # Each worker holds a pipeline; this process parses only without them, and negatives.
            nlp = load_pipeline(options.spacy_model) if pool is None or options.negatives else None
            mined_stream = mined_in_order(captions, nlp, pool, options.batch_size)
            mined_stream = tracked(progress, mined_stream, len(captions), "Mining captions")
            negatives, rejected = None, Counter()
            if options.negatives:  # negatives are chosen against the whole corpus: mine it all first
                mined_stream = list(mined_stream)
                relations = relations_of(mined_stream)
                negative_options = NegativeOptions(
                    per_triple=options.negatives_per_triple, seed=options.seed, pairs_evidence=options.pairs_evidence
                )
                result = build_negatives(
                    captions, relations, negative_options, default_similarity(), nlp,
                    pool=pool, progress=progress.start("Building negatives", len(relations)),
                    reference=reference_relations(reference, nlp, pool, options.batch_size, progress),
                )
                negatives, rejected = result.negatives, result.rejected
            for mined in mined_stream:
                f.write(_mined_line(mined, negatives) + "\n")
                triples += len(mined.triples)
                without += not mined.triples
    written = Counter(n.kind for found in (negatives or {}).values() for n in found)
    with_any = sum(bool(found) for found in (negatives or {}).values())
    return MineReport(options.out, len(captions), triples, without, time.perf_counter() - start, rejected, written, with_any)


@contextlib.contextmanager
def output_errors(out: Path, kept: str) -> Iterator[None]:
    """An OSError while writing (a full disk, an I/O error) as a StoppedError naming
    `out` and saying what was `kept`."""
    try:
        yield
    except OSError as e:
        raise StoppedError(f"--out {out}: writing stopped ({e}); {kept}") from e



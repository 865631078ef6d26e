"""The negatives stage over a whole corpus: statistics once, then candidates chunk by chunk, on worker processes."""

from __future__ import annotations

import contextlib
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path

from spacy.language import Language

from relaug.errors import StoppedError
from relaug.mining import render_text, stated_form, worker_pipeline
from relaug.negatives.candidates import CandidateBuilder, ChunkResult, NegativeResult, swappable
from relaug.negatives.partners import find_partners
from relaug.negatives.statistics import Corpus
from relaug.nouns import category_of
from relaug.options import NegativeOptions
from relaug.records import Caption, ImageExample, MinedCaption, Relation, relation_id
from relaug.verbs import VerbSimilarity


def relations_of(mined: Iterable[MinedCaption]) -> list[Relation]:
    """Relations of mined captions without images: ids, short texts and categories, no boxes.

    What `relaug mine --negatives` and the text-only benchmark build negatives from.
    """
    relations = []
    for m in mined:
        for k, t in enumerate(m.triples):
            relations.append(
                Relation(
                    id=relation_id(m.caption, k),
                    caption=m.caption,
                    triple=t,
                    text=render_text(t.subject, t.relation, t.object, t.relation_kind, stated_form(t)),
                    subject_category=category_of(t.subject),
                    object_category=category_of(t.object),
                    subject_box=None,
                    object_box=None,
                )
            )
    return relations


def build_negatives(
    captions: Iterable[Caption],
    relations: Sequence[Relation],
    options: NegativeOptions = NegativeOptions(),
    similarity: Callable[[str, str], float] | None = None,
    nlp: Language | None = None,
    *,
    pool: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    reference: Sequence[Relation] = (),
) -> NegativeResult:
    """Hard negatives for every relation of a corpus, and every rejected candidate by reason.

    `captions` are all captions of the corpus (those without a triple too: a verb
    any caption of an image uses is never a negative for it); `relations` every
    mined relation. `similarity` scores two verb relations (a
    `relaug.verbs.VerbSimilarity`); None skips the embedding band. `nlp` (the
    mining pipeline) re-parses the negatives kept, so that none the parser reads
    otherwise (a verb read as a noun) is published; None skips that.

    The corpus statistics are gathered here; candidates and their re-parse then run
    over chunks of relations, on the processes of `pool` (a `relaug.mining.parsing_pool`,
    whose workers hold the pipeline `nlp` was loaded as) when there is more than one
    chunk, else here. Chunks do not depend on the pool, so neither does the result.
    `progress` is told how many relations each finished chunk had. `reference`: relations
    mined from captions of other images (`relations_of` them), which add to the corpus
    statistics only: no negative is built for them, and none is checked against their captions.
    """
    corpus = Corpus(captions, relations, reference)
    if similarity is not None and hasattr(similarity, "prepare"):
        similarity.prepare(
            r for vocabulary in (corpus.active, corpus.participle) for r in swappable(vocabulary, options.min_relation_count, corpus.misspelled)
        )
        similarity.prepare(r.triple.relation for r in relations if r.triple.relation_kind != "spatial")
    # Image by image: what an image's own captions state is counted once for all its relations
    # (`RelationStatistics._own`), not again whenever the file moves on to another image.
    by_image = sorted(relations, key=lambda r: r.caption.image_id)
    chunks = [by_image[i : i + CHUNK_RELATIONS] for i in range(0, len(by_image), CHUNK_RELATIONS)]
    if pool is None or len(chunks) <= 1:
        builder = CandidateBuilder(corpus, options, similarity)
        return _gather((builder.negatives(chunk, nlp) for chunk in chunks), progress)
    # The set-up goes to the workers once, not with every chunk: through a file each reads
    # once, or through what the pool offers for it (Ray's object store).
    setup = (corpus, options, similarity, nlp is not None)
    with pool.shared(setup) if hasattr(pool, "shared") else _setup_file(setup) as shared:
        return _gather(pool.map(partial(_negatives_in_worker, shared), chunks), progress)


@dataclass(frozen=True)
class _SetupFile:
    path: str

    def load(self) -> object:
        return pickle.loads(Path(self.path).read_bytes())


@contextlib.contextmanager
def _setup_file(setup: object) -> Iterator[_SetupFile]:
    """`setup` pickled into a temporary folder for the worker processes to read, removed afterwards.

    The folder is the system's temporary one, not --out: a full one stops the run
    with a StoppedError saying so (TMPDIR moves it), not an OSError naming --out.
    """
    with contextlib.ExitStack() as cleanup:
        folder = None
        try:
            folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="relaug-negatives-"))
            path = Path(folder) / "setup.pickle"
            path.write_bytes(pickle.dumps(setup, pickle.HIGHEST_PROTOCOL))
        except OSError as e:
            # The folder TMPDIR sets, found from what failed: tempfile.gettempdir() can fail the same way.
            made = folder or e.filename
            where = Path(made).parent if made else "the temporary folder"
            raise StoppedError(
                f"{where}: cannot write the negative builders' set-up there ({e.strerror or e}); "
                "make room or set TMPDIR to a folder with room, then run the same command again"
            ) from e
        yield _SetupFile(str(path))


CHUNK_RELATIONS = 2048  # relations per task: small enough to spread, large enough to batch the re-parse


def _gather(results: Iterable[ChunkResult], progress: Callable[[int], None] | None) -> NegativeResult:
    gathered = NegativeResult(negatives={})
    for negatives, rejected in results:
        gathered.negatives.update(negatives)
        gathered.rejected.update(rejected)
        if progress is not None:
            progress(len(negatives))
    return gathered


_worker_state: dict[str, object] = {}


def _negatives_in_worker(setup: _SetupFile, relations: Sequence[Relation]) -> ChunkResult:
    if _worker_state.get("setup") != setup:  # the first chunk of this build in this worker
        corpus, options, similarity, verify = setup.load()
        _worker_state.update(setup=setup, builder=CandidateBuilder(corpus, options, similarity), verify=verify)
    nlp = worker_pipeline() if _worker_state["verify"] else None
    return _worker_state["builder"].negatives(relations, nlp)  # type: ignore[union-attr]


@lru_cache(maxsize=1)
def default_similarity() -> VerbSimilarity:
    """One VerbSimilarity per process: MiniLM is loaded once, however many builds run."""
    return VerbSimilarity()


def add_negatives(
    examples: Sequence[ImageExample],
    options: NegativeOptions = NegativeOptions(),
    similarity: Callable[[str, str], float] | None = None,
    nlp: Language | None = None,
    *,
    pool: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    reference: Sequence[Relation] = (),
) -> tuple[list[ImageExample], Counter]:
    """The examples with `negatives`, `partners` and `swap_partners` filled; and the rejection counts.

    `pool`, `progress` and `reference` are those of `build_negatives`.
    """
    relations = [r for e in examples for r in e.relations]
    captions = [c for e in examples for c in e.captions]
    result = build_negatives(
        captions, relations, options, similarity, nlp, pool=pool, progress=progress, reference=reference
    )
    partners = find_partners(examples, options.max_partners, options.seed)
    filled = [
        replace(
            e,
            relations=tuple(
                replace(
                    r,
                    negatives=result.negatives[r.id],
                    partners=partners[r.id].partners,
                    swap_partners=partners[r.id].swap_partners,
                )
                for r in e.relations
            ),
        )
        for e in examples
    ]
    return filled, result.rejected

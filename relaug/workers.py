"""Worker processes for the stages that spread over cores: parsing and mining, negatives.

A spawned worker starts by unpickling the function that sets it up, so it first
imports the module that function lives in: this one, which imports nothing heavy.
Here it can import spaCy without torch before it unpickles its stage's set-up.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from threadpoolctl import threadpool_limits

from relaug.options import PREFERRED_SPACY_PIPELINE


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and schedulers set),
    not all the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_pool(
    workers: int, initializer: Callable[..., None], initargs: tuple, *, spacy_only: bool
) -> ProcessPoolExecutor:
    """`workers` processes, each set up by `initializer(*initargs)`, for a stage's chunks.

    spawn, not fork: the parent may hold threads (torch, datasets) that fork would copy
    half-alive. An executor, not a Pool: a worker that dies starting up raises
    BrokenProcessPool instead of being restarted forever. One BLAS thread per process:
    numpy's default of one per core makes N parsing processes fight over the cores.
    `spacy_only`: the workers' pipeline
    needs nothing but spaCy (`spacy_only`), so they import it without torch.
    """
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_start, initargs=(worker_setup(initializer, initargs, spacy_only=spacy_only),),
    )


def worker_setup(initializer: Callable[..., None], initargs: tuple, *, spacy_only: bool) -> bytes:
    """What `set_up_worker` runs in each worker, pickled once."""
    return pickle.dumps((initializer, initargs, spacy_only), protocol=pickle.HIGHEST_PROTOCOL)


def set_up_worker(setup: bytes) -> None:
    """Set up a worker of a stage (a local process or a Ray actor) from `worker_setup`'s bytes."""
    initializer, initargs, spacy_only = pickle.loads(setup)
    if spacy_only:
        _import_spacy_without_torch()
    initializer(*initargs)
    threadpool_limits(1)  # after the initializer: it loads the libraries to limit


def _start(setup: bytes) -> None:
    # Ctrl-C reaches every process of the terminal's group. The parent stops the stage
    # and shuts the pool down; a worker's own KeyboardInterrupt would only add a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    set_up_worker(setup)


def _exit_with_parent() -> None:
    """End this worker soon after its parent is gone (kill -9, a scheduler's SIGTERM).

    Each worker holds both ends of the pool's task queue, so it never sees the parent
    close it: without this it would wait on the queue forever, holding its pipeline's
    memory, one more set for every killed build.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="relaug-parent-watch", daemon=True).start()


def installed_english_pipeline() -> str:
    """The English pipeline a job loads when none is named: en_core_web_sm where installed, else
    another installed small one, else any installed English one. Read from the packages'
    entry points, as spaCy's own registry reads them, without importing spaCy."""
    english = sorted(e.name for e in importlib.metadata.entry_points(group="spacy_models") if e.name.startswith("en_"))
    if PREFERRED_SPACY_PIPELINE in english or not english:
        return PREFERRED_SPACY_PIPELINE
    small = [m for m in english if "core_web_sm" in m]
    return (small or english)[0]


def spacy_only(name: str) -> bool:
    """Whether spaCy pipeline `name` (a package or a folder) requires nothing but spaCy itself, as
    the core English pipelines do; a transformer pipeline requires spacy-transformers, and torch.
    Read from its meta.json without importing spaCy. A pipeline that cannot be found is not
    known to: loading it will say why."""
    try:
        folder = Path(name)
        if not folder.is_dir():
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                return False
            folder = Path(next(iter(spec.submodule_search_locations)))
        requirements = json.loads((folder / "meta.json").read_text(encoding="utf-8")).get("requirements", [])
        return all(Requirement(r).name == "spacy" for r in requirements)
    except (ImportError, OSError, ValueError, InvalidRequirement):
        return False


def import_spacy(name: str | None) -> None:
    """Import spaCy for pipeline `name` (None: `installed_english_pipeline`): without torch where
    the pipeline needs only spaCy, a second of a short job's start-up."""
    if spacy_only(name or installed_english_pipeline()):
        _import_spacy_without_torch()


def _import_spacy_without_torch() -> None:
    """thinc imports torch, when installed, to offer layers wrapping PyTorch models, which
    the core English pipelines do not use: that import was 3 of a worker's 5 s start-up
    and 450 MB of its memory. With torch hidden while spaCy loads, thinc records it as
    absent; torch stays importable afterwards for whatever else wants it."""
    if "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import spacy  # noqa: F401
    finally:
        del sys.modules["torch"]

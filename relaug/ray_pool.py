"""The Ray engine: the stages that spread over cores run on a Ray Data actor pool instead
of local processes (`relaug build --engine ray`, `pip install relaug[ray]`).

`RayDataPool` offers what the stages ask of a `relaug.workers.worker_pool`: `map` over
chunks, in order, on workers set up once each (one spaCy pipeline per actor), and
`shared` for a set-up that every worker reads once (the negative builders' corpus),
which travels through Ray's object store rather than a local file, so that workers
on other machines of a cluster read it too. Each `map` is a Ray Data dataset of one
row per chunk, `map_batches` over it with an actor pool (`concurrency=workers`),
read back in order. Reading the source and writing the shards stay on the driver,
so both engines write the same bytes.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

from relaug.errors import InputError
from relaug.workers import set_up_worker, worker_setup


def start_ray(address: str | None) -> None:
    """Join the Ray cluster at `address` (`ray://...`, `auto`), or start a local one (None)."""
    try:
        import ray
    except ImportError as e:
        raise InputError("--engine ray needs Ray: pip install 'relaug[ray]'") from e
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    # Ray Data announces every dataset it runs; relaug's own progress says how far a stage is.
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def cluster_cpus() -> int:
    """The CPUs of the Ray cluster this process has joined."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


# In an actor: the object references of the pool's shared set-ups, by key. They reach the
# actor through Ray (its constructor's arguments), never inside bytes pickled here: an
# object reference only Ray serialized can be fetched by another process.
_shared_references: dict[int, object] = {}


class _Actor:
    """One Ray Data actor: set up once like a worker process, then runs the calls sent to it."""

    def __init__(self, setup: bytes, shared: dict[int, object]):
        _shared_references.update(shared)
        set_up_worker(setup)

    def __call__(self, batch: dict) -> dict:
        results = []
        for call in batch["call"]:
            fn, args = pickle.loads(call)
            results.append(pickle.dumps(fn(*args), pickle.HIGHEST_PROTOCOL))
        return {"row": batch["row"], "result": results}


@dataclass(frozen=True)
class ObjectStoreSetup:
    """A set-up put in Ray's object store once; each worker gets it with `load`."""

    key: int

    def load(self) -> object:
        import ray

        return ray.get(_shared_references[self.key])


class RayDataPool(Executor):
    """`workers` Ray Data actors, each set up by `initializer(*initargs)` (`spacy_only`: with
    spaCy imported without torch), for the chunks a stage maps over them."""

    def __init__(self, workers: int, initializer: Callable[..., None], initargs: tuple, *, spacy_only: bool):
        self.workers = workers
        self._setup = worker_setup(initializer, initargs, spacy_only=spacy_only)
        self._shared: dict[int, object] = {}  # key -> ray.ObjectRef, for the actors of the next maps
        self._keys = itertools.count()

    def map(self, fn: Callable, *iterables, timeout: float | None = None, chunksize: int = 1) -> Iterator:
        import ray.data

        calls = [pickle.dumps((fn, args), pickle.HIGHEST_PROTOCOL) for args in zip(*iterables, strict=True)]
        if not calls:
            return iter(())
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        rows = ray.data.from_items([{"row": k, "call": c} for k, c in enumerate(calls)], override_num_blocks=len(calls))
        done = rows.map_batches(
            _Actor, fn_constructor_args=(self._setup, self._shared), batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=self.workers), num_cpus=1, batch_format="numpy",
        )  # fmt: skip
        return (pickle.loads(row["result"]) for row in done.iter_rows())

    @contextlib.contextmanager
    def shared(self, setup: object) -> Iterator[ObjectStoreSetup]:
        import ray

        key = next(self._keys)
        self._shared[key] = ray.put(setup)
        try:
            yield ObjectStoreSetup(key)
        finally:
            del self._shared[key]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Actors end with the datasets that started them; the cluster stays for the next stage."""

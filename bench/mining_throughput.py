"""Captions per second of `relaug mine` beside a bare spaCy parse of the same captions.

    python bench/mining_throughput.py [--captions examples/val2017_captions.jsonl]

Three bare parses, each one process, `nlp.pipe` over the captions and nothing else:
- `stock`: the English pipeline as spaCy loads it (`spacy.load(name)`), what a user
  who parses COCO with spaCy runs;
- `stock-no-ner`: the same without its entity recognizer (`exclude=["ner"]`), issue
  21's yardstick;
- `relaug`: the pipeline `relaug mine` loads (`relaug.mining.load_pipeline`: no NER,
  no lemmatizer, part-of-speech rules only, numpy's BLAS), so the ratio to it says
  what mining and negatives cost on top of their parse.
Then `relaug mine --workers 1`, `--workers N` and `--negatives --workers N` (N =
--workers, default 2), timed as a user runs them (a fresh process: reading, parsing,
mining, negatives, writing JSONL): once whole (`start-up included`), and once minus
the start-up of the command without --negatives on a two-caption file (loading
spaCy). The spawned worker processes' start-up is not subtracted, nor, for
--negatives, loading MiniLM and embedding the corpus's verb relations (a few
seconds, which full COCO spreads over 24 times the captions).

The host's speed drifts by the minute on a shared machine (the stock parse has run
at 330 to 730 captions/s here), so all of it is run --rounds times, one after the
other, each round giving its own ratios; the last lines are the medians over rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import spacy

from relaug.coco import read_captions
from relaug.mining import installed_english_pipeline, load_pipeline

DEFAULT_CAPTIONS = Path(__file__).resolve().parents[1] / "examples" / "val2017_captions.jsonl"  # all 25,014


def bare_parse_seconds(nlp: spacy.Language, texts: list[str], batch_size: int) -> float:
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    return time.perf_counter() - start


def mine_seconds(captions: Path, batch_size: int, options: list[str]) -> tuple[float, float]:
    """Wall time of `relaug mine OPTIONS`, whole and less the time the process takes to start and load spaCy."""
    with tempfile.TemporaryDirectory() as tmp:
        two = Path(tmp) / "two.jsonl"
        two.write_text(
            '{"caption_id": 1, "image_id": 1, "caption": "A dog chasing a cat."}\n'
            '{"caption_id": 2, "image_id": 2, "caption": "A man riding a horse."}\n'
        )
        command = [sys.executable, "-m", "relaug", "mine", "--batch-size", str(batch_size)]
        start = time.perf_counter()
        started = [o for o in options if o != "--negatives"]
        subprocess.run([*command, *started, "--out", str(Path(tmp) / "warm.jsonl"), str(two)], check=True, capture_output=True)
        startup = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([*command, *options, "--out", str(Path(tmp) / "out.jsonl"), str(captions)], check=True, capture_output=True)
        whole = time.perf_counter() - start
        return whole, whole - startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--captions", type=Path, default=DEFAULT_CAPTIONS)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = [c.caption for c in read_captions(args.captions)]
    n = len(texts)
    print(f"captions {n}")
    name = installed_english_pipeline()
    pipelines = {"stock": spacy.load(name), "stock-no-ner": spacy.load(name, exclude=["ner"]), "relaug": load_pipeline()}
    w = str(args.workers)
    runs = {f"relaug mine {' '.join(o)}": o for o in (["--workers", "1"], ["--workers", w], ["--negatives", "--workers", w])}
    seconds: dict[str, list[float]] = {}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}")
        parses = {name: bare_parse_seconds(nlp, texts, args.batch_size) for name, nlp in pipelines.items()}
        timed = {f"bare nlp.pipe parse, {name} pipeline": t for name, t in parses.items()}
        for label, options in runs.items():
            whole, net = mine_seconds(args.captions, args.batch_size, options)
            timed[f"{label}, start-up included"] = whole
            timed[label] = net
        for label, t in timed.items():
            seconds.setdefault(label, []).append(t)
            print(_row(label, n, t, {name: parse / t for name, parse in parses.items()}))
    if args.rounds > 1:
        print(f"median of {args.rounds} rounds (each ratio the median of the rounds' ratios)")
        for label, times in seconds.items():
            ratios = {
                name: statistics.median(seconds[f"bare nlp.pipe parse, {name} pipeline"][k] / t for k, t in enumerate(times))
                for name in pipelines
            }
            print(_row(label, n, statistics.median(times), ratios))


def _row(label: str, n: int, seconds: float, ratios: dict[str, float]) -> str:
    shown = "  ".join(f"ratio to {name} parse {r:5.2f}" for name, r in ratios.items())
    return f"{label:62} {n / seconds:8.1f} captions/s  ({seconds:.1f} s)  {shown}"


if __name__ == "__main__":
    main()

"""Captions per second of `relaug mine` beside a bare spaCy parse of the same captions.

    python bench/mining_throughput.py [--captions ../shared/data/coco-val2017-captions/captions_val2017.json]

Both sides use the same pipeline (the one `relaug mine` loads); the first ratio
(`--workers 1`) says what mining costs on top of parsing in one process. Then
`relaug mine --workers N` and `relaug mine --negatives --workers N` (N = --workers,
default 2): mining spread over N processes, and with the hard negatives built on
top, against the same single-process bare parse. `relaug mine` is timed as a user
runs it (a fresh process: reading, parsing, mining, negatives, writing JSONL), minus
its start-up with the same options on a one-caption file (loading spaCy, and MiniLM
for --negatives; the spawned processes' start-up is not subtracted).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from relaug.coco import read_captions
from relaug.mining import load_pipeline

DEFAULT_CAPTIONS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco-val2017-captions" / "captions_val2017.json"
)


def bare_parse_seconds(texts: list[str], batch_size: int) -> float:
    nlp = load_pipeline()
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    return time.perf_counter() - start


def mine_seconds(captions: Path, batch_size: int, options: list[str]) -> float:
    """Wall time of `relaug mine OPTIONS`, less the time the same process takes to start and load its models."""
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.jsonl"
        empty.write_text('{"caption_id": 1, "image_id": 1, "caption": "a cat on a mat"}\n')
        command = [sys.executable, "-m", "relaug", "mine", "--batch-size", str(batch_size), *options, "--out"]
        start = time.perf_counter()
        subprocess.run([*command, str(Path(tmp) / "warm.jsonl"), str(empty)], check=True, capture_output=True)
        startup = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([*command, str(Path(tmp) / "out.jsonl"), str(captions)], check=True, capture_output=True)
        return time.perf_counter() - start - startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--captions", type=Path, default=DEFAULT_CAPTIONS)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    texts = [c.caption for c in read_captions(args.captions)]
    parse = bare_parse_seconds(texts, args.batch_size)
    n = len(texts)
    print(f"captions {n}")
    print(f"{'bare nlp.pipe parse, 1 process':42} {n / parse:8.1f} captions/s  ({parse:.1f} s)")
    w = str(args.workers)
    for options in (["--workers", "1"], ["--workers", w], ["--negatives", "--workers", w]):
        mine = mine_seconds(args.captions, args.batch_size, options)
        label = f"relaug mine {' '.join(options)}"
        print(f"{label:42} {n / mine:8.1f} captions/s  ({mine:.1f} s)  ratio to the bare parse {parse / mine:5.2f}")


if __name__ == "__main__":
    main()

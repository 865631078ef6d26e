"""How `relaug mine` scales: time and peak memory at 25k, 100k and 600k captions (COCO train's size).

    python bench/mining_scale.py                          # local engine, then Ray; triples only
    python bench/mining_scale.py --engines local --sizes 25000 100000
    python bench/mining_scale.py --negatives              # with the negatives stage

The captions are the 25,014 val2017 captions repeated with new caption and image
ids (`examples/val2017_captions.jsonl`, or --captions). Each run is `relaug mine`
as a user runs it, in a fresh process, timed whole. Peak memory is the largest sum
of the resident memory of every process of the run, sampled every 0.2 s: the
command and its worker processes, and for Ray every Ray process of the machine
(the actors, and the raylet and object store the run started).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

DEFAULT_CAPTIONS = Path(__file__).resolve().parents[1] / "examples" / "val2017_captions.jsonl"


def write_captions(source: Path, n: int, out: Path) -> None:
    """`n` captions: the source's, repeated with ids moved past those of the copies before."""
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = 1 + max(max(r["caption_id"], r["image_id"]) for r in records)
    with out.open("w", encoding="utf-8") as f:
        for k in range(n):
            r = records[k % len(records)]
            copy = k // len(records)
            f.write(json.dumps({**r, "caption_id": r["caption_id"] + copy * step, "image_id": r["image_id"] + copy * step}) + "\n")


def _tree_rss(root: psutil.Process, ray: bool) -> int:
    processes = [root, *root.children(recursive=True)]
    if ray:
        seen = {p.pid for p in processes}
        for p in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(p.info["cmdline"] or ())
            if p.pid not in seen and ("ray::" in cmdline or "/ray/" in cmdline or "raylet" in cmdline or "gcs_server" in cmdline):
                processes.append(p)
    total = 0
    for p in processes:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run(command: list[str], ray: bool) -> tuple[float, int]:
    """Wall time and peak summed resident memory of `command`'s processes."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(process.pid)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(root, ray))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()[-2000:]}")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captions", type=Path, default=DEFAULT_CAPTIONS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 100_000, 600_000])
    parser.add_argument("--engines", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--negatives", action="store_true", help="also build the negatives")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'engine':6} {'captions':>9} {'seconds':>8} {'captions/s':>10} {'s per 100k':>10} {'peak memory':>12}")
        for engine in args.engines:
            for n in args.sizes:
                captions = Path(tmp) / f"captions-{n}.jsonl"
                if not captions.exists():
                    write_captions(args.captions, n, captions)
                command = [
                    sys.executable, "-m", "relaug", "mine", str(captions), "--out", str(Path(tmp) / "out.jsonl"),
                    "--workers", str(args.workers), "--engine", engine, *(["--negatives"] if args.negatives else []),
                ]  # fmt: skip
                seconds, peak = run(command, ray=engine == "ray")
                print(f"{engine:6} {n:9,} {seconds:8.1f} {n / seconds:10,.0f} {seconds * 1e5 / n:10.1f} {peak / 2**30:9.2f} GiB",
                      flush=True)


if __name__ == "__main__":
    main()

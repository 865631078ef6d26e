"""MB/s of `relaug build-coco` with embedded images beside a plain copy of the same files, and peak RSS.

    python bench/shard_write.py [--images 3000] [--workers 2] [--work /tmp/relaug-bench]

Replicates the bundled sample `examples/coco-sample` (40 images, five captions each) under
`--work` into a val2017 root of `--images` images with fresh ids, captions and
instances (so the captions are real COCO ones and every image is a real JPEG),
then times, on a warm page cache:

- a plain copy of every image file into a new folder (`shutil.copyfile`), twice:
  "cold" after SETTLE_SECONDS of quiet, "hot" right after deleting the cold copy;
- the whole build in a fresh process (reading, mining, checking images,
  negatives, writing), and within it the shard-writing stage alone;

and reports each as MB of image bytes per second, the ratios, and the build
process's peak RSS (ru_maxrss of the build process; the mining processes each
hold one spaCy pipeline, a constant).

Why two copies: on a virtual machine whose balloon reports free pages to the host
(this project's machine), memory the kernel freed more than a few seconds ago
has gone back to the host, and writing into it costs about ten times more than
into pages freed a moment before (816 MB: 2.4-3.0 s against 0.21-0.25 s). A copy
that follows the deletion of an earlier one gets the hot pages. The build writes
after all of its mining (30 s and more here), long after its previous output was deleted, so it cannot
count on them: the cold copy is the like-for-like baseline there. Where no free
pages are reported, the two copies should take about the same time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "coco-sample"

# Runs in the build's own process, so that its ru_maxrss is the build's alone.
BUILD = """
import json, sys
from pathlib import Path
from relaug.build import BuildOptions, build_coco
report = build_coco(BuildOptions(out=Path(sys.argv[2]), coco_root=Path(sys.argv[1]), workers=int(sys.argv[3])))
print(json.dumps({"seconds": report.seconds, "write_seconds": report.write_seconds, "images": report.images_written,
                  "captions": report.captions_read, "shard_bytes": sum(f.bytes for f in report.files)}))
"""


def replicate(images: int, root: Path) -> list[Path]:
    """A val2017 root of `images` images: the bundled sample's, repeated under new ids and file names."""
    if root.exists():
        shutil.rmtree(root)
    (root / "annotations").mkdir(parents=True)
    (root / "val2017").mkdir()
    sources = []
    for folder in ("train2017", "val2017"):
        captions = json.loads((SAMPLE / "annotations" / f"captions_{folder}.json").read_text())
        instances = json.loads((SAMPLE / "annotations" / f"instances_{folder}.json").read_text())
        by_image = {i["id"]: i for i in captions["images"]}
        for image_id, image in sorted(by_image.items()):
            sources.append((
                SAMPLE / folder / image["file_name"],
                image,
                [a for a in captions["annotations"] if a["image_id"] == image_id],
                [a for a in instances["annotations"] if a["image_id"] == image_id],
            ))
        categories = instances["categories"]
    out_images, out_captions, out_instances, files = [], [], [], []
    for k in range(images):
        path, image, caps, insts = sources[k % len(sources)]
        new_id = (k + 1) * 1_000_000 + image["id"] % 1_000_000
        name = f"{new_id:012d}.jpg"
        shutil.copyfile(path, root / "val2017" / name)
        files.append(root / "val2017" / name)
        out_images.append({**image, "id": new_id, "file_name": name})
        out_captions += [{**a, "id": new_id * 10 + j, "image_id": new_id} for j, a in enumerate(caps)]
        out_instances += [{**a, "id": new_id * 100 + j, "image_id": new_id} for j, a in enumerate(insts)]
    (root / "annotations/captions_val2017.json").write_text(
        json.dumps({"images": out_images, "annotations": out_captions})
    )
    (root / "annotations/instances_val2017.json").write_text(
        json.dumps({"images": out_images, "annotations": out_instances, "categories": categories})
    )
    return files


# Seconds of quiet before the cold copy: long enough for the kernel to hand the
# page cache just freed back to the hypervisor (free page reporting waits 2 s).
SETTLE_SECONDS = 15


def copy_seconds(files: list[Path], target: Path, settle: float) -> float:
    if target.exists():
        shutil.rmtree(target)
    time.sleep(settle)
    target.mkdir(parents=True)
    start = time.perf_counter()
    for f in files:
        shutil.copyfile(f, target / f.name)
    os.sync()  # the build fsyncs every shard: the copy pays for its writes too
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/relaug-bench"))
    args = parser.parse_args()
    root = args.work / "coco"
    files = replicate(args.images, root)
    image_mb = sum(f.stat().st_size for f in files) / 1e6
    for f in files:  # warm the page cache for both sides alike
        f.read_bytes()
    cold_copy = copy_seconds(files, args.work / "copy", settle=SETTLE_SECONDS)
    hot_copy = copy_seconds(files, args.work / "copy", settle=0)
    out = args.work / "shards"
    if out.exists():
        shutil.rmtree(out)
    result = subprocess.run(
        [sys.executable, "-c", BUILD, str(root), str(out), str(args.workers)],
        check=True, capture_output=True, text=True,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    build = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"images {args.images} ({image_mb:.0f} MB of JPEG), captions {build['captions']}, workers {args.workers}")
    for label, copy in (("cold", cold_copy), ("hot", hot_copy)):
        print(f"plain copy, {label:4} memory    {image_mb / copy:8.1f} MB/s  ({copy:.1f} s)")
    for label, seconds in (("write stage", build["write_seconds"]), ("whole build", build["seconds"])):
        print(f"build-coco, {label}   {image_mb / seconds:8.1f} MB/s  ({seconds:.1f} s)"
              f"  ratio to cold copy {cold_copy / seconds:.2f}, to hot copy {hot_copy / seconds:.2f}")
    print(f"shards {build['shard_bytes'] / 1e6:.0f} MB, {build['images']} images written")
    print(f"peak RSS of the build process {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

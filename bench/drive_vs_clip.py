"""clip, negclip and drive on the hard synthetic world: held-out accuracy on preposition and role swaps.

    python bench/drive_vs_clip.py --out /tmp/drive-vs-clip            # the world of `relaug synthetic-world --hard`
    python bench/drive_vs_clip.py --out /tmp/other --world-seed 7     # another world, not the one in the README

Writes the hard world (48 things, every pair drawn in both relations, so that only
the layout tells an image from its role swap), builds its shards with the real
miner, trains tiny-clip from scratch with each loss on the same number of images
for the same steps, and scores every checkpoint with stock open_clip, not relaug's
eval: for each test relation and each of its negatives, is the image closer to the
caption than to the negative? Chance is 0.5.

The runs: `clip` is CLIP fine-tuning as usually done, batches of images drawn at
random; `clip-groups` is the CLIP loss on DRIVE's batches (each image with the
image of the same two things in another layout), which shows how much of DRIVE's
gain the batches alone give; `negclip` (text hard negatives, on DRIVE's batches,
as NegCLIP adds hard negative images) and `drive`.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import datasets
import open_clip
import pyarrow.parquet as pq
import torch
from PIL import Image

from relaug.build import BuildOptions, build_coco
from relaug.models import MODEL_CONFIGS
from relaug.synthetic import write_world
from relaug.train.trainer import TrainOptions, finetune


def score(checkpoint: Path, shards: Path) -> dict[str, float]:
    """Accuracy per negative kind on the test split, with the checkpoint loaded by stock open_clip."""
    open_clip.add_model_config(MODEL_CONFIGS / "tiny-clip.json")
    model, _, preprocess = open_clip.create_model_and_transforms("tiny-clip", pretrained=str(checkpoint))
    tokenizer = open_clip.get_tokenizer("tiny-clip")
    model.eval()
    images = {}
    for path in sorted((shards / "data").glob("test-*.parquet")):
        for row in pq.read_table(path, columns=["image_id", "image"]).to_pylist():
            images[row["image_id"]] = Image.open(io.BytesIO(row["image"]["bytes"])).convert("RGB")
    rows = [r for p in sorted((shards / "triples").glob("test-*.parquet")) for r in pq.read_table(p).to_pylist()]
    correct: dict[str, list[bool]] = {}
    wrong_per_relation: dict[str, list[int]] = {}  # preposition swaps: test relation -> [wrong, scored]
    with torch.no_grad():
        pixels = torch.stack([preprocess(images[r["image_id"]]) for r in rows])
        image_features = torch.nn.functional.normalize(model.encode_image(pixels), dim=-1)
        for row, feature in zip(rows, image_features):
            texts = [row["caption"], *(n["caption"] for n in row["negatives"])]
            text_features = torch.nn.functional.normalize(model.encode_text(tokenizer(texts)), dim=-1)
            similarity = text_features @ feature
            for negative, s in zip(row["negatives"], similarity[1:]):
                right = bool(similarity[0] > s)
                correct.setdefault(negative["kind"], []).append(right)
                if negative["kind"] == "prep_swap":
                    tally = wrong_per_relation.setdefault(row["relation"], [0, 0])
                    tally[0] += not right
                    tally[1] += 1
    return {kind: sum(c) / len(c) for kind, c in sorted(correct.items())} | {
        "relations": len(rows), "negatives": sum(len(c) for c in correct.values()),
        "prep_swap_wrong": dict(sorted(wrong_per_relation.items())),
    }


# run -> (loss, partner pairs per image)
RUNS = {"clip": ("clip", 0), "clip-groups": ("clip", 1), "negclip": ("negclip", 1), "drive": ("drive", 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--world-seed", type=int, default=0)
    parser.add_argument("--train-images", type=int, default=3000)
    parser.add_argument("--val-images", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=16, help="16 x 187 steps of 32 groups of 2 images: about 3,000 steps")
    parser.add_argument("--batch-size", type=int, default=32, help="groups of an image and 1 partner per step (64 images)")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    args = parser.parse_args()
    datasets.disable_progress_bars()

    coco = args.out / "coco"
    write_world(coco, train_images=args.train_images, val_images=args.val_images, image_size=32, seed=args.world_seed, hard=True)
    shards = build_coco(BuildOptions(out=args.out / "shards", coco_root=coco, workers=1, overwrite=True)).out
    results = {}
    for name in args.runs:
        loss, partners = RUNS[name]
        started = time.perf_counter()
        run = finetune(
            TrainOptions(
                shards=shards, out=args.out / name, model="tiny-clip", pretrained="none", loss=loss,
                # The same images per step and the same steps for every run: an epoch has one
                # group of 1 + partners images per relation.
                partners=partners, batch_size=args.batch_size * 2 // (1 + partners),
                epochs=args.epochs * 2 // (1 + partners), lr=args.lr, warmup=args.warmup, workers=1, validate=False,
            )
        )
        steps = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"]
        results[name] = {"steps": steps, **score(run / "checkpoints" / "latest.pt", shards),
                         "train_s": round(time.perf_counter() - started)}
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"hard world (seed {args.world_seed}), tiny-clip from scratch, lr {args.lr}, scored by stock open_clip on the test split")
    print(f"{'run':11s} {'steps':>6s} {'prep_swap':>10s} {'role_swap':>10s} {'negatives':>10s} {'train s':>8s}")
    for name, r in results.items():
        print(f"{name:11s} {r['steps']:6d} {r.get('prep_swap', float('nan')):10.3f} {r.get('role_swap', float('nan')):10.3f}"
              f" {r['negatives']:10d} {r['train_s']:8d}")
    print("preposition swaps scored wrong, per test relation (wrong of scored)")
    for name, r in results.items():
        print(f"{name:11s} " + ", ".join(f"{relation} {w}/{n}" for relation, (w, n) in r["prep_swap_wrong"].items()))


if __name__ == "__main__":
    main()

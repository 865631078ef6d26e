"""clip vs negclip vs drive on the synthetic world, after the same number of steps.

    python bench/synthetic_relations.py --out /tmp/synthetic-bench

Writes the world, builds its shards with the real miner and negatives, trains a
tiny CLIP from scratch with each loss on the same schedule, and evaluates each
on the test split: hard-negative accuracy by kind (chance is 50%), DRIVE group
accuracy, and text->image R@1.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from relaug.build import BuildOptions, build_coco
from relaug.evaluate import evaluate
from relaug.synthetic import write_world
from relaug.train.loss import LOSSES
from relaug.train.models import create_clip
from relaug.train.trainer import TrainOptions, finetune


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--train-images", type=int, default=1000)
    parser.add_argument("--val-images", type=int, default=300)
    parser.add_argument("--image-size", type=int, default=32, help="tiny-clip sees 32 x 32 pixels")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=list(LOSSES))
    args = parser.parse_args()

    write_world(args.out / "coco", train_images=args.train_images, val_images=args.val_images, image_size=args.image_size)
    shards = build_coco(BuildOptions(out=args.out / "shards", coco_root=args.out / "coco", quiet=True, workers=1)).out
    rows = {}
    for loss in args.losses:
        started = time.perf_counter()
        run = finetune(
            TrainOptions(
                shards=shards, out=args.out / loss, model="tiny-clip", pretrained="none", loss=loss, epochs=args.epochs,
                batch_size=args.batch_size, lr=args.lr, warmup=10, workers=1, validate=False,
            )
        )
        trained = create_clip("tiny-clip", str(run / "checkpoints" / "latest.pt"))
        report = evaluate(shards, "test", model=trained.model, preprocess=trained.preprocess_val, tokenizer=trained.tokenizer).to_dict()
        rows[loss] = {
            "train_s": round(time.perf_counter() - started),
            "steps": json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"],
            **{k: v["accuracy"] for k, v in report["hard_negatives"].items()},
            **{f"group/{k}/{d}": v[d]["accuracy"] for k, v in report["groups"].items() for d in v},
            "t2i R@1": report["retrieval"]["text_to_image"]["R@1"],
        }
    (args.out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    columns = ["steps", "kind/prep_swap", "kind/role_swap", "all", "group/swap_partners/image_to_text", "t2i R@1", "train_s"]
    print(" | ".join(["loss", *columns]))
    for loss, row in rows.items():
        print(" | ".join([loss, *(f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c)) for c in columns)]))


if __name__ == "__main__":
    main()

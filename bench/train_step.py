"""One training step with `drive` against `clip` on the same images and the same model, as a time ratio.

    python bench/train_step.py                                  # tiny-clip on CPU, 64 groups of K+1 = 2
    python bench/train_step.py --model ViT-B-32 --precision amp # on a GPU, random init

A step is what the trainer does: forward of images and texts (and negatives),
the loss, backward, AdamW with gradient clipping and the logit-scale clamp.
Both losses see the same B x (K+1) images and texts; `drive +neg` also encodes
the anchors' text negatives, which `clip` has no use for.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from relaug.models import create_clip
from relaug.train.data import GroupBatch
from relaug.train.loss import create_loss
from relaug.train.trainer import Runtime, TrainOptions, create_optimizer, forward_backward, optimizer_step


def random_batch(groups: int, group_size: int, negatives: int, image_size: int, context: int) -> GroupBatch:
    rows = groups * group_size
    return GroupBatch(
        images=torch.randn(rows, 3, image_size, image_size),
        texts=torch.randint(1, 49000, (rows, context)),
        negatives=torch.randint(1, 49000, (groups, negatives, context)),
        negative_mask=torch.ones(groups, negatives, dtype=torch.bool),
        group_size=group_size,
    )


def time_steps(bundle, runs: dict[str, tuple[str, GroupBatch]], runtime: Runtime, steps: int) -> dict[str, float]:
    """Median seconds per step of each run, the runs taking turns step by step (after two warm-up
    rounds), so that a slow spell of a shared machine hits all of them alike."""
    optimizer = create_optimizer(bundle.model, TrainOptions(shards=Path(".")))
    scaler = torch.amp.GradScaler("cuda") if runtime.precision == "amp" else None
    losses = {name: create_loss(loss) for name, (loss, _) in runs.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(steps + 2):
        for name, (_, batch) in runs.items():
            if runtime.device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            forward_backward(bundle.model, losses[name], batch, runtime, scaler)
            optimizer_step(bundle.model, optimizer, scaler, lr=1e-5, grad_clip=1.0)
            if runtime.device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t[2:]) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-clip")
    parser.add_argument("--batch-size", type=int, default=64, help="groups")
    parser.add_argument("--partners", type=int, default=1)
    parser.add_argument("--negatives", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--precision", default="fp32", choices=("amp", "bf16", "fp32"))
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    runtime = Runtime(device=device, precision=args.precision if device.type == "cuda" else "fp32")
    torch.manual_seed(0)
    bundle = create_clip(args.model, "none", device=device)
    image_size = bundle.model.visual.image_size[0]
    context = bundle.model.context_length
    group_size = args.partners + 1
    plain = random_batch(args.batch_size, group_size, 0, image_size, context)
    with_negatives = random_batch(args.batch_size, group_size, args.negatives, image_size, context)
    with_negatives.images, with_negatives.texts = plain.images, plain.texts

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    runs = {"clip": ("clip", plain), "drive": ("drive", plain), "drive +neg": ("drive", with_negatives)}
    results = time_steps(bundle, runs, runtime, args.steps)
    images = args.batch_size * group_size
    print(f"{args.model} on {device} ({runtime.precision}), {images} images per step, median of {args.steps} steps")
    for name, seconds in results.items():
        print(f"{name:>11}: {1e3 * seconds:8.1f} ms/step  {images / seconds:8.1f} images/s  ratio to clip {seconds / results['clip']:.3f}")
    if device.type == "cuda":
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()

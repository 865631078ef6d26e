"""Batched `drive_loss` against the reference's per-group loop: forward + backward, as a speed ratio.

    python bench/loss_speed.py                 # B = 64 and 256, K = 1 and 3, on CPU (or CUDA if present)

Each setting is measured in 5 runs, the loop and the batched loss timed side by
side in each; the ratio printed is the median of the runs' ratios.
    python bench/loss_speed.py --device cuda --dim 768

The two are also checked to agree, so that a fast wrong loss cannot pass.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from relaug.train.loss import drive_loss, drive_loss_reference


def seconds(fn, calls: int, device: torch.device) -> float:
    """Mean wall time of `fn()` over `calls` calls."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5, help="runs per setting; the ratio printed is their median")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device {device}, feature dim {args.dim}, forward + backward; median (min-max) of {args.runs} runs, "
          "each timing the loop and the batched loss side by side")
    print(f"{'B':>5} {'K':>3} {'loop ms':>10} {'batched ms':>11} {'ratio':>8} {'min-max':>12}")
    for groups in (64, 256):
        for partners in (1, 3):
            rows = groups * (partners + 1)
            images = F.normalize(torch.randn(rows, args.dim, device=device), dim=-1).requires_grad_()
            texts = F.normalize(torch.randn(rows, args.dim, device=device), dim=-1).requires_grad_()
            scale = torch.tensor(10.0, device=device, requires_grad=True)

            def run(loss_fn):
                return lambda: loss_fn(images, texts, scale, partners + 1).backward()

            batched, looped = drive_loss(images, texts, scale, partners + 1), drive_loss_reference(images, texts, scale, partners + 1)
            assert torch.allclose(batched, looped, rtol=1e-5), (batched.item(), looped.item())
            run(drive_loss_reference)(), run(drive_loss)()  # warm-up
            loops, batches = [], []
            for _ in range(args.runs):
                loops.append(seconds(run(drive_loss_reference), 2, device))
                batches.append(seconds(run(drive_loss), 20, device))
            ratios = sorted(loop / batch for loop, batch in zip(loops, batches))
            print(f"{groups:>5} {partners:>3} {1e3 * statistics.median(loops):>10.2f} {1e3 * statistics.median(batches):>11.3f}"
                  f" {statistics.median(ratios):>7.0f}x {ratios[0]:>5.0f}-{ratios[-1]:.0f}x")


if __name__ == "__main__":
    main()

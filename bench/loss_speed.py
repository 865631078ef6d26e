"""Batched `drive_loss` against the reference's per-group loop: forward + backward, as a speed ratio.

    python bench/loss_speed.py                 # B = 64 and 256, K = 1 and 3, on CPU (or CUDA if present)
    python bench/loss_speed.py --device cuda --dim 768

The two are also checked to agree, so that a fast wrong loss cannot pass.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from relaug.train.loss import drive_loss, drive_loss_reference


def seconds(fn, repeats: int, device: torch.device) -> float:
    """Best wall time of `fn()` over `repeats` runs after one warm-up (the least disturbed by other load, as timeit)."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device {device}, feature dim {args.dim}, forward + backward, best of {args.repeats}")
    print(f"{'B':>5} {'K':>3} {'loop ms':>10} {'batched ms':>11} {'ratio':>8}")
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
            loop_s = seconds(run(drive_loss_reference), args.repeats, device)
            batched_s = seconds(run(drive_loss), args.repeats, device)
            print(f"{groups:>5} {partners:>3} {1e3 * loop_s:>10.2f} {1e3 * batched_s:>11.3f} {loop_s / batched_s:>7.0f}x")


if __name__ == "__main__":
    main()

"""The fine-tuning loop behind `relaug finetune`: one process, or one per GPU under torchrun (DDP).

Defaults are the DRIVE reference setup of docs/training.md. A run directory holds
`config.json` (every option), `metrics.jsonl` (one line per logging step and
one per epoch with the validation metrics) and `checkpoints/epoch_N.pt` plus
`latest.pt` (a second name for the last), in open_clip's format so that stock
`open_clip.create_model_and_transforms(name, pretrained=".../latest.pt")`
loads the fine-tuned weights.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from relaug.choices import Loss, Precision, checked
from relaug.errors import InputError
from relaug.evaluate import evaluate, write_report
from relaug.files import temporary_sibling, written_whole
from relaug.models import create_clip
from relaug.options import TrainOptions
from relaug.progress import SILENT, Progress
from relaug.splits import ShardSplit
from relaug.train.data import GroupBatch, GroupBatchSampler, GroupDataset, collate_groups
from relaug.train.loss import LOG_LOGIT_SCALE_MAX, create_loss
from relaug.workers import available_cores


@dataclass
class Runtime:
    """Where this process runs: its rank, the world, the device and the precision actually used."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    precision: str = "fp32"

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_runtime(precision: str) -> Runtime:
    """Join the torchrun process group where there is one, pick the device and the usable precision."""
    checked(Precision, precision, "--precision")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Runtime(rank, world_size, device, precision if device.type == "cuda" else "fp32")


def autocast(runtime: Runtime):
    if runtime.precision == "amp":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    if runtime.precision == "bf16":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


def cosine_lr(step: int, *, base_lr: float, warmup: int, total: int) -> float:
    """Linear warm-up to `base_lr`, then cosine decay to 0 at `total` (open_clip's schedule)."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))) * base_lr


def create_optimizer(model: torch.nn.Module, options: TrainOptions) -> torch.optim.Optimizer:
    """AdamW (0.9, 0.98, eps 1e-6); no weight decay on gains, biases and the logit scale."""
    no_decay = lambda name, p: p.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in named if no_decay(n, p)], "weight_decay": 0.0},
        {"params": [p for n, p in named if not no_decay(n, p)], "weight_decay": options.weight_decay},
    ]
    return torch.optim.AdamW(groups, lr=options.lr, betas=(0.9, 0.98), eps=1e-6)


def features_of(model, batch: GroupBatch, runtime: Runtime) -> dict:
    """Image, text and negative features in one forward pass: texts and negatives share the text tower call."""
    images = batch.images.to(runtime.device, non_blocking=True)
    texts = batch.texts.to(runtime.device, non_blocking=True)
    negatives = batch.negatives.to(runtime.device, non_blocking=True)
    groups, count = negatives.shape[:2]
    with autocast(runtime):
        image_features, all_text_features, logit_scale = model(images, torch.cat([texts, negatives.flatten(0, 1)]))
    text_features, negative_features = all_text_features.float().split([texts.shape[0], groups * count])
    return {
        "image_features": image_features.float(),
        "text_features": text_features,
        "logit_scale": logit_scale.float(),
        "negative_features": negative_features.view(groups, count, -1) if count else None,
        "negative_mask": batch.negative_mask.to(runtime.device) if count else None,
        "group_size": batch.group_size,
    }


def forward_backward(model, loss_fn, batch: GroupBatch, runtime: Runtime, scaler, accum_steps: int = 1) -> dict[str, float]:
    """Loss of one (micro-)batch and its backward pass; returns the loss terms as numbers."""
    terms = loss_fn(**features_of(model, batch, runtime), output_dict=True)
    loss = sum(terms.values()) / accum_steps
    (scaler.scale(loss) if scaler else loss).backward()
    return {name: value.item() for name, value in terms.items()}


def optimizer_step(model, optimizer, scaler, *, lr: float, grad_clip: float | None) -> None:
    """One AdamW step at `lr` with gradient clipping, then the logit-scale clamp of docs/training.md."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    if scaler:
        scaler.unscale_(optimizer)
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    if scaler:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    with torch.no_grad():
        model.logit_scale.clamp_(0, LOG_LOGIT_SCALE_MAX)


def _save_checkpoint(state: dict, folder: Path) -> None:
    """`epoch_N.pt`, and `latest.pt` as a second name for it.

    Each name appears only when its file is whole (written or linked under a
    temporary name, then renamed), so a run stopped while saving keeps its last
    checkpoint. `latest.pt` is a hard link where the filesystem has them: the
    state is serialized and stored once, not twice, each epoch.
    """
    path = folder / f"epoch_{state['epoch']}.pt"
    with written_whole(path, "wb") as f:
        torch.save(state, f)
    latest = folder / "latest.pt"
    temporary = temporary_sibling(latest)
    temporary.unlink(missing_ok=True)
    try:
        os.link(path, temporary)
    except OSError:  # no hard links here (some network and FAT filesystems)
        shutil.copyfile(path, temporary)
    os.replace(temporary, latest)


def checkpoint_state(epoch: int, name: str, model, optimizer, scaler) -> dict:
    """open_clip's checkpoint layout; the state_dict has no `module.` prefix."""
    return {
        "epoch": epoch,
        "name": name,
        "state_dict": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
    }


def _global_terms(running: dict[str, float], runtime: Runtime) -> dict[str, float]:
    """The loss terms of the global batch: every rank's terms averaged (a gathered loss is the same
    on every rank; a group-local one is scaled by the world size, so its average is the global sum)."""
    if runtime.world_size == 1:
        return running
    values = torch.tensor(list(running.values()), dtype=torch.float64, device=runtime.device)
    dist.all_reduce(values)
    return dict(zip(running, (values / runtime.world_size).tolist()))


def loader_workers(workers: int | None) -> int:
    """DataLoader workers: as asked, else one per core this process leaves free, at most 4 (more
    decode images faster than a step uses them only on large machines)."""
    return workers if workers is not None else min(4, available_cores() - 1)


# The options that make a run what it is: a resumed run must have the same.
RUN_OPTIONS = (
    "shards", "model", "pretrained", "loss", "partners", "batch_size", "lr", "weight_decay", "warmup",
    "precision", "grad_clip", "accum_steps", "seed", "text_field", "max_negatives",
)


def _run_config(checkpoint: Path) -> tuple[Path, dict]:
    path = Path(checkpoint).parent.parent / "config.json"
    if not path.is_file():
        raise InputError(f"--resume {checkpoint}: no {path}; resume from RUN/checkpoints/*.pt of a relaug finetune run")
    return path, json.loads(path.read_text())


def _comparable(name: str, value):
    if name == "shards" or (name == "model" and str(value).endswith(".json")):
        return str(Path(value).resolve())
    return value


def resume_options(checkpoint: Path, **given) -> TrainOptions:
    """The options of the run `checkpoint` belongs to (its `config.json`), with `given` ones
    instead: what `relaug finetune --resume` runs when only some options are repeated."""
    _, config = _run_config(checkpoint)
    known = {f: config[f] for f in TrainOptions.__dataclass_fields__ if f in config}
    known["shards"], known["resume"] = Path(known["shards"]), Path(checkpoint)
    return TrainOptions(**{**known, "out": Path(config["out"]), **given})


def _check_resume(options: TrainOptions) -> None:
    """A resumed run is the run its checkpoint came from: the options that make it (RUN_OPTIONS)
    must be the same, and --epochs may only grow."""
    path, config = _run_config(options.resume)
    differ = [
        f"--{name.replace('_', '-')} {getattr(options, name)} (the run has {config.get(name)})"
        for name in RUN_OPTIONS
        if _comparable(name, getattr(options, name)) != _comparable(name, config.get(name))
    ]
    if differ:
        raise InputError(f"--resume {options.resume}: options differ from {path}: {'; '.join(differ)}; "
                         "start a new run with --out to change them")
    # memory-mapped: only the epoch is read here, the weights when the run starts
    epoch = torch.load(options.resume, map_location="cpu", weights_only=True, mmap=True)["epoch"]
    if options.epochs < epoch:
        raise InputError(f"--epochs {options.epochs}: the checkpoint has already trained {epoch} epochs")


def _default_out() -> Path:
    return Path("runs") / datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def _validate_options(options: TrainOptions) -> None:
    checked(Loss, options.loss, "--loss")
    if options.loss == "drive" and options.partners < 1:
        raise InputError("--loss drive needs --partners 1 or more: DRIVE contrasts each anchor with its partners")
    for flag, value in (("--epochs", options.epochs), ("--batch-size", options.batch_size), ("--accum-steps", options.accum_steps)):
        if value < 1:
            raise InputError(f"{flag} {value}: must be at least 1")
    if options.resume is not None:
        if not Path(options.resume).is_file():
            raise InputError(f"--resume {options.resume}: no such checkpoint")
        _check_resume(options)


def finetune(options: TrainOptions, progress: Progress = SILENT) -> Path:
    """Train as `options` say, telling `progress` (on the main rank) how far it has got; returns
    the run directory."""
    _validate_options(options)
    runtime = setup_runtime(options.precision)
    try:
        return _train(options, runtime, progress if runtime.is_main else SILENT)
    finally:
        if runtime.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(options: TrainOptions, runtime: Runtime, progress: Progress) -> Path:
    out = Path(options.out) if options.out else (Path(options.resume).parent.parent if options.resume else _default_out())
    torch.manual_seed(options.seed)
    bundle = create_clip(options.model, options.pretrained, device=runtime.device)
    if runtime.precision != options.precision:
        progress.note(f"--precision {options.precision} needs CUDA; training in {runtime.precision} on the CPU")
    split = ShardSplit(options.shards, "train")
    max_negatives = options.max_negatives if options.loss != "clip" else 0
    dataset = GroupDataset(
        split, preprocess=bundle.preprocess_train, tokenizer=bundle.tokenizer, text_field=options.text_field, max_negatives=max_negatives
    )
    batches = GroupBatchSampler.batches_per_epoch(len(split), options.batch_size, runtime.world_size)
    if batches < options.accum_steps:
        raise InputError(
            f"{options.shards}: {len(split)} training relations make {batches} batches of {options.batch_size} x "
            f"{runtime.world_size} rank(s), fewer than one optimiser step; lower --batch-size"
        )
    steps_per_epoch = batches // options.accum_steps
    total_steps = steps_per_epoch * options.epochs

    model = bundle.model
    optimizer = create_optimizer(model, options)
    scaler = torch.amp.GradScaler("cuda") if runtime.precision == "amp" else None
    start_epoch = 0
    if options.resume is not None:
        checkpoint = torch.load(options.resume, map_location=runtime.device, weights_only=True)
        model.load_state_dict(checkpoint["state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scaler is not None and checkpoint["scaler"] is not None:
            scaler.load_state_dict(checkpoint["scaler"])
        start_epoch = checkpoint["epoch"]
    trained = DistributedDataParallel(model, device_ids=[runtime.device] if runtime.device.type == "cuda" else None) if runtime.world_size > 1 else model
    loss_fn = create_loss(options.loss, world_size=runtime.world_size)

    if runtime.is_main:
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        # a config JSON by its absolute path, which `relaug eval` finds from any folder
        model_option = str(Path(options.model).resolve()) if options.model.endswith(".json") else options.model
        config = {**asdict(options), "model": model_option, "out": out, "model_name": bundle.name, "world_size": runtime.world_size, "precision_used": runtime.precision}
        (out / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
    metrics = (out / "metrics.jsonl").open("a") if runtime.is_main else None

    step = start_epoch * steps_per_epoch
    advance = progress.start("Fine-tuning", total_steps, done=step)
    for epoch in range(start_epoch, options.epochs):
        sampler = GroupBatchSampler(
            split, batch_size=options.batch_size, partners=options.partners, seed=options.seed, epoch=epoch,
            first_step=epoch * batches, rank=runtime.rank, world_size=runtime.world_size,
        )
        loader = DataLoader(
            dataset, batch_sampler=sampler, collate_fn=collate_groups, num_workers=loader_workers(options.workers),
            pin_memory=runtime.device.type == "cuda", persistent_workers=False,
        )
        trained.train()
        started, samples, running = time.perf_counter(), 0, {}
        for index, batch in enumerate(loader):
            if index == steps_per_epoch * options.accum_steps:
                break  # micro-batches that cannot fill a whole optimiser step are left out
            terms = forward_backward(trained, loss_fn, batch, runtime, scaler, options.accum_steps)
            samples += batch.images.shape[0] * runtime.world_size
            for name, value in terms.items():
                running[name] = running.get(name, 0.0) + value / options.accum_steps
            if (index + 1) % options.accum_steps:
                continue
            lr = cosine_lr(step, base_lr=options.lr, warmup=options.warmup, total=total_steps)
            optimizer_step(model, optimizer, scaler, lr=lr, grad_clip=options.grad_clip)
            step += 1
            advance(1)
            if step % options.log_every == 0 or step == (epoch + 1) * steps_per_epoch:
                terms = _global_terms(running, runtime)
                if metrics:
                    line = {
                        "step": step, "epoch": epoch + 1, "loss": sum(terms.values()), **terms, "lr": lr,
                        "logit_scale": model.logit_scale.exp().item(),
                        "samples_per_s": samples / (time.perf_counter() - started),
                    }
                    metrics.write(json.dumps(line) + "\n")
                    metrics.flush()
                started, samples = time.perf_counter(), 0
            running = {}
        if runtime.is_main:
            state = checkpoint_state(epoch + 1, bundle.name, model, optimizer, scaler)
            _save_checkpoint(state, out / "checkpoints")
            if options.validate:
                report = evaluate(
                    options.shards, "validation", model=model, preprocess=bundle.preprocess_val,
                    tokenizer=bundle.tokenizer, text_field=options.text_field, device=runtime.device,
                )
                write_report(report, out / f"eval_validation_epoch_{epoch + 1}.json")
                metrics.write(json.dumps({"epoch": epoch + 1, "validation": report.to_dict()}) + "\n")
                metrics.flush()
        if runtime.world_size > 1:
            dist.barrier()  # no rank starts the next epoch while rank 0 still writes this one
    if metrics:
        metrics.close()
    return out

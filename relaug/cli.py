"""The `relaug` command line: each command parses its options and calls one library function.

Each command imports its library module when it runs: `relaug --help` answers at
once, and the worker processes of `mine` and `build-coco`, which run this module
again when started by the `relaug` script, do not load spaCy and torch for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from relaug.errors import InputError, StoppedError

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"relaug {version('relaug')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print relaug's version and exit.")
    ] = False,
) -> None:
    """Mine relation triples from image captions, publish them as typed Parquet shards, and fine-tune
    CLIP on them with the DRIVE loss."""


@contextmanager
def reported_errors(kept_when_interrupted: str) -> Iterator[None]:
    """Turn bad input (exit code 2, a usage error), a run the machine stopped (exit
    code 1) and Ctrl-C (exit code 130, saying what was kept) into one line on
    stderr, no traceback."""
    try:
        yield
    except (InputError, StoppedError) as e:
        message = " ".join(str(e).split())
        typer.echo(f"relaug: error: {message}", err=True)
        raise typer.Exit(code=2 if isinstance(e, InputError) else 1) from None
    except KeyboardInterrupt:
        typer.echo(f"relaug: interrupted; {kept_when_interrupted}", err=True)
        raise typer.Exit(code=130) from None


SpacyModel = Annotated[
    str | None,
    typer.Option(help="spaCy pipeline to parse with; default en_core_web_sm or another installed English one."),
]
BatchSize = Annotated[int, typer.Option(min=1, help="Captions per spaCy batch.")]
NegativesPerTriple = Annotated[int, typer.Option(min=0, help="Hard negatives kept per triple, at most.")]
Seed = Annotated[int, typer.Option(help="Seeds the choice of negatives and partners: same seed, same output.")]
Workers = Annotated[
    int | None,
    typer.Option(min=1, help="Processes that parse, mine and build negatives (and threads that read images); default: all cores."),
]


@app.command()
def mine(
    captions: Annotated[
        Path, typer.Argument(help="COCO captions JSON, or JSONL with caption_id, image_id, caption.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL to write: one line per caption, in input order.")],
    spacy_model: SpacyModel = None,
    batch_size: BatchSize = 256,
    negatives: Annotated[
        bool, typer.Option("--negatives", help="Also write each triple's id and its hard negatives.")
    ] = False,
    negatives_per_triple: NegativesPerTriple = 3,
    seed: Seed = 0,
    workers: Workers = None,
) -> None:
    """Mine (subject, relation, object) triples from every caption of a file; the first of each line is its primary."""
    from relaug.build import MineOptions, mine_file

    with reported_errors(kept_when_interrupted="nothing was written under --out"):
        mine_file(
            MineOptions(
                captions=captions,
                out=out,
                spacy_model=spacy_model,
                batch_size=batch_size,
                negatives=negatives,
                negatives_per_triple=negatives_per_triple,
                seed=seed,
                workers=workers,
            )
        )


@app.command("build-coco")
def build_coco_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the shards, card and manifest.")],
    coco_root: Annotated[
        Path | None,
        typer.Option(
            help="COCO 2017 root holding annotations/, train2017/ and val2017/; "
            "default: the bundled sample examples/coco-sample."
        ),
    ] = None,
    embed_images: Annotated[
        bool, typer.Option(help="Embed image bytes in the shards, or store absolute paths with --no-embed-images.")
    ] = True,
    max_shard_size: Annotated[str, typer.Option(help="Largest Parquet file, e.g. 500MB or 1GB.")] = "500MB",
    spacy_model: SpacyModel = None,
    batch_size: BatchSize = 256,
    negatives_per_triple: NegativesPerTriple = 3,
    max_partners: Annotated[
        int, typer.Option(min=0, help="DRIVE partners and swap partners kept per relation, at most.")
    ] = 8,
    seed: Seed = 0,
    workers: Workers = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace a build in --out made with other options; without it, such a build is refused. "
            "With the same options an interrupted build resumes.",
        ),
    ] = False,
) -> None:
    """Mine COCO captions into typed Parquet shards that datasets.load_dataset(OUT) opens."""
    from relaug.build import BuildOptions, build_coco

    with reported_errors(
        kept_when_interrupted="the shards finished so far are kept: run the same command again to resume"
    ):
        build_coco(
            BuildOptions(
                out=out,
                coco_root=coco_root,
                embed_images=embed_images,
                max_shard_size=max_shard_size,
                spacy_model=spacy_model,
                batch_size=batch_size,
                negatives_per_triple=negatives_per_triple,
                max_partners=max_partners,
                seed=seed,
                workers=workers,
                overwrite=overwrite,
            )
        )


@app.command()
def finetune(
    ctx: typer.Context,
    shards: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Shard directory written by build-coco.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory; default a new folder under runs/.")] = None,
    model: Annotated[str, typer.Option(help="open_clip model name, or a path to an open_clip model-config JSON.")] = "ViT-B-32",
    pretrained: Annotated[str, typer.Option(help="open_clip tag (openai), a local weights file, or none.")] = "openai",
    loss: Annotated[str, typer.Option(help="drive, negclip or clip.")] = "drive",
    partners: Annotated[int, typer.Option(min=0, help="Partner pairs K per anchor.")] = 1,
    epochs: Annotated[int, typer.Option(min=1)] = 7,
    batch_size: Annotated[int, typer.Option(min=1, help="Groups per device.")] = 64,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1.8748e-5,
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay, not on gains, biases or the logit scale.")] = 4.5269e-5,
    warmup: Annotated[int, typer.Option(min=0, help="Warm-up optimiser steps before the cosine decay.")] = 1430,
    precision: Annotated[str, typer.Option(help="amp (fp16 + GradScaler), bf16 or fp32; CPU runs fp32.")] = "amp",
    grad_clip: Annotated[float, typer.Option(help="Gradient norm clip; 0 disables it.")] = 1.0,
    accum_steps: Annotated[int, typer.Option(min=1, help="Micro-batches per optimiser step.")] = 1,
    workers: Annotated[int, typer.Option(min=0, help="DataLoader workers per process.")] = 4,
    seed: Annotated[int, typer.Option()] = 0,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Checkpoint of a run to continue from; the options not given are the run's (its config.json), "
            "those given must be the same, but --epochs may grow."
        ),
    ] = None,
    text_field: Annotated[str, typer.Option(help="Train on the original caption or the short rendered text.")] = "caption",
    max_negatives: Annotated[int, typer.Option(min=0, help="Text negatives per anchor for negclip and drive.")] = 3,
    log_every: Annotated[int, typer.Option(min=1, help="Optimiser steps between lines of RUN/metrics.jsonl.")] = 10,
) -> None:
    """Fine-tune CLIP on the shards (DRIVE's reference setup by default); run under torchrun for DDP."""
    from relaug.train.trainer import TrainOptions, resume_options
    from relaug.train.trainer import finetune as run_finetune

    with reported_errors(
        kept_when_interrupted="the checkpoints of finished epochs are kept: --resume RUN/checkpoints/latest.pt continues the run"
    ):
        values = dict(
            shards=shards, out=out, model=model, pretrained=pretrained, loss=loss, partners=partners,
            epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, warmup=warmup,
            precision=precision, grad_clip=grad_clip or None, accum_steps=accum_steps, workers=workers,
            seed=seed, resume=resume, text_field=text_field, max_negatives=max_negatives, log_every=log_every,
        )
        if resume is None:
            options = TrainOptions(**values)
        else:
            # typer ships its own click: its ParameterSource is not click's
            given = {k: v for k, v in values.items() if ctx.get_parameter_source(k).name == "COMMANDLINE"}
            options = resume_options(resume, **given)
        run = run_finetune(options)
    typer.echo(f"run written to {run}: checkpoints/latest.pt, metrics.jsonl, config.json", err=True)


@app.command("eval")
def eval_command(
    shards: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Shard directory written by build-coco.")],
    checkpoint: Annotated[Path | None, typer.Option(help="A relaug finetune checkpoint (RUN/checkpoints/latest.pt).")] = None,
    model: Annotated[str | None, typer.Option(help="open_clip model name or config JSON (overrides the checkpoint's).")] = None,
    pretrained: Annotated[str | None, typer.Option(help="open_clip tag or weights file, instead of --checkpoint.")] = None,
    split: Annotated[str, typer.Option(help="train, validation or test.")] = "test",
    text_field: Annotated[str, typer.Option(help="Score the original caption or the short rendered text.")] = "caption",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="JSON report; default RUN/eval_{split}.json.")] = None,
) -> None:
    """Relation metrics: hard-negative accuracy, DRIVE group accuracy, R@1/R@5 retrieval."""
    from relaug.evaluate import EvalOptions, run_eval

    with reported_errors(kept_when_interrupted="the report is written only when the evaluation is done"):
        run_eval(
            EvalOptions(
                shards=shards, checkpoint=checkpoint, model=model, pretrained=pretrained, split=split,
                text_field=text_field, out=out,
            )
        )


@app.command("synthetic-world")
def synthetic_world(
    out: Annotated[Path, typer.Argument(help="Folder to write the COCO root into.")],
    train_images: Annotated[int, typer.Option(min=1, help="Images in train2017/.")] = 2000,
    val_images: Annotated[int, typer.Option(min=1, help="Images in val2017/ (cut into validation and test).")] = 400,
    image_size: Annotated[int, typer.Option(min=16, help="Side of the square images, in pixels.")] = 64,
    seed: Annotated[int, typer.Option()] = 0,
    hard: Annotated[
        bool,
        typer.Option(
            "--hard",
            help="48 things (8 shapes x 6 colours), every pair drawn in both relations: only the layout tells "
            "an image from its role swap.",
        ),
    ] = False,
) -> None:
    """Write a synthetic relational world (shapes in spatial relations) as a COCO root, for offline runs."""
    from relaug.synthetic import write_world

    scenes = write_world(out, train_images=train_images, val_images=val_images, image_size=image_size, seed=seed, hard=hard)
    images = sum(len(s) for s in scenes.values())
    typer.echo(f"wrote a COCO root of {images:,} images to {out}: relaug build-coco --coco-root {out} --out SHARDS", err=True)

"""The `relaug` command line: each command parses its options and calls one library function.

Each command imports its library module when it runs: `relaug --help` answers at
once, and the worker processes of `mine` and `build-coco`, which run this module
again when started by the `relaug` script, do not load spaCy and torch for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TimeElapsedColumn
from rich.table import Table

from relaug.choices import Attribution, Benchmark, Engine, Loss, Precision, SourceFormat, Split, TextField
from relaug.errors import InputError, StoppedError
from relaug.options import (
    BenchmarkOptions,
    BuildOptions,
    CollectionOptions,
    DenseOptions,
    EvalOptions,
    ExplainOptions,
    MineOptions,
    TrainOptions,
)

if TYPE_CHECKING:
    from relaug.benchmarks import BenchmarkReport
    from relaug.build import BuildReport
    from relaug.evaluate import Accuracy, EvalReport
    from relaug.explain import DenseReport, ExplainReport
    from relaug.mine import MineReport

STDERR = Console(stderr=True)  # progress, notes and summaries: stdout stays free for a command's data

# click's plain help: it fits an 80-column terminal, where rich's panels cut the help text into slivers.
app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None)


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


class TerminalProgress:
    """`relaug.progress.Progress` drawn on stderr: a bar per stage, notes as lines."""

    def __init__(self) -> None:
        # Bars only on a terminal: in a log, a bar's last frame is noise beside the summary or error.
        self._bars = Progress(
            *Progress.get_default_columns(), TimeElapsedColumn(), console=STDERR, disable=not STDERR.is_terminal
        )

    def __enter__(self) -> TerminalProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def start(self, description: str, total: int, done: int = 0):
        task = self._bars.add_task(description, total=total, completed=done)
        return lambda units: self._bars.advance(task, units)

    def note(self, message: str) -> None:
        self._bars.console.print(message, soft_wrap=True, highlight=False)


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
    typer.Option(metavar="NAME", help="spaCy pipeline; default en_core_web_sm or another installed English one."),
]
BatchSize = Annotated[int, typer.Option(min=1, metavar="N", help="Captions per spaCy batch.")]
NegativesPerTriple = Annotated[int, typer.Option(min=0, metavar="N", help="Hard negatives kept per triple, at most.")]
Seed = Annotated[int, typer.Option(metavar="N", help="Seeds the choice of negatives and partners: same seed, same output.")]
PairsEvidence = Annotated[
    bool,
    typer.Option(
        "--pairs-evidence",
        help="Also verb swaps two captions do not state whole, only their relation said of this object and of this "
        "subject apart (evidence 'pairs'); blind reviews found them weaker than the rest.",
    ),
]
ReferenceCaptions = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Captions of other images (COCO captions JSON or JSONL, e.g. COCO train's for a build of val) whose "
        "relations add to the statistics negatives are chosen by; nothing is written for them.",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(min=1, metavar="N", help="Processes that mine and build negatives, threads that read images; default: all cores."),
]
EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="Where mining and negatives run: local processes, or Ray Data actors (pip install 'relaug[ray]'); "
                 "the output is the same."),
]
RayAddress = Annotated[
    str | None,
    typer.Option(metavar="ADDRESS", help="With --engine ray: the cluster to join (auto, ray://HOST:10001); default: start a local one."),
]


# How `eval` and `explain` take the model they score.
Checkpoint = Annotated[
    Path | None, typer.Option(metavar="FILE", help="A relaug finetune checkpoint (RUN/checkpoints/latest.pt).")
]
ScoredModel = Annotated[
    str | None, typer.Option(metavar="NAME", help="open_clip model name or config JSON (overrides the checkpoint's).")
]
Pretrained = Annotated[str | None, typer.Option(metavar="TAG", help="open_clip tag or weights file, instead of --checkpoint.")]
AttributionMethod = Annotated[
    Attribution,
    typer.Option(
        help="attention: CLIP4DM's gradient x attention map of the last three text blocks; gradient: gradient x "
        "input on the token embeddings; substitution (SHARDS only): the cosine less its mean with each word "
        "replaced by the split's frequent words of its part of speech."
    ),
]


@app.command()
def mine(
    captions: Annotated[
        Path, typer.Argument(metavar="CAPTIONS", help="COCO captions JSON, or JSONL with caption_id, image_id, caption.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="JSONL to write: one line per caption, in input order.")],
    spacy_model: SpacyModel = None,
    batch_size: BatchSize = MineOptions.batch_size,
    negatives: Annotated[
        bool, typer.Option("--negatives", help="Also write each triple's id and its hard negatives.")
    ] = MineOptions.negatives,
    negatives_per_triple: NegativesPerTriple = MineOptions.negatives_per_triple,
    seed: Seed = MineOptions.seed,
    pairs_evidence: PairsEvidence = MineOptions.pairs_evidence,
    workers: Workers = None,
    engine: EngineOption = MineOptions.engine,
    ray_address: RayAddress = MineOptions.ray_address,
    reference_captions: ReferenceCaptions = MineOptions.reference_captions,
) -> None:
    """Mine (subject, relation, object) triples from every caption of a file; the first of each line is its primary."""
    from relaug.workers import import_spacy

    import_spacy(spacy_model)
    from relaug.mine import mine_file

    with reported_errors(kept_when_interrupted="nothing was written under --out"), TerminalProgress() as progress:
        report = mine_file(
            MineOptions(
                captions=captions,
                out=out,
                spacy_model=spacy_model,
                batch_size=batch_size,
                negatives=negatives,
                negatives_per_triple=negatives_per_triple,
                seed=seed,
                pairs_evidence=pairs_evidence,
                workers=workers,
                engine=engine,
                ray_address=ray_address,
                reference_captions=reference_captions,
            ),
            progress,
        )
    _print_mine_summary(report)


BuildOut = Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Directory for the shards, card and manifest.")]
EmbedImages = Annotated[
    bool, typer.Option(help="Embed image bytes in the shards, or store absolute paths with --no-embed-images.")
]
MaxShardSize = Annotated[str, typer.Option(metavar="SIZE", help="Largest Parquet file, e.g. 500MB or 1GB.")]
MaxPartners = Annotated[int, typer.Option(min=0, metavar="N", help="DRIVE partners and swap partners kept per relation, at most.")]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace a build in --out made with other options; without it, such a build is refused. "
        "With the same options an interrupted build resumes.",
    ),
]


@contextmanager
def _building() -> Iterator[TerminalProgress]:
    with (
        reported_errors(kept_when_interrupted="the shards finished so far are kept: run the same command again to resume"),
        TerminalProgress() as progress,
    ):
        yield progress


@app.command("build-coco")
def build_coco_command(
    out: BuildOut,
    coco_root: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="COCO 2017 root holding annotations/, train2017/ and val2017/; "
            "default: the bundled sample examples/coco-sample.",
        ),
    ] = None,
    embed_images: EmbedImages = BuildOptions.embed_images,
    max_shard_size: MaxShardSize = BuildOptions.max_shard_size,
    spacy_model: SpacyModel = None,
    batch_size: BatchSize = BuildOptions.batch_size,
    negatives_per_triple: NegativesPerTriple = BuildOptions.negatives_per_triple,
    max_partners: MaxPartners = BuildOptions.max_partners,
    seed: Seed = BuildOptions.seed,
    pairs_evidence: PairsEvidence = BuildOptions.pairs_evidence,
    workers: Workers = None,
    engine: EngineOption = BuildOptions.engine,
    ray_address: RayAddress = BuildOptions.ray_address,
    reference_captions: ReferenceCaptions = BuildOptions.reference_captions,
    overwrite: Overwrite = BuildOptions.overwrite,
) -> None:
    """Mine COCO captions into typed Parquet shards that datasets.load_dataset(OUT) opens.

    Without --coco-root, the bundled sample, with the bundled val2017 captions as its --reference-captions."""
    from relaug.build import build_coco

    options = BuildOptions(
        out=out, coco_root=coco_root, embed_images=embed_images, max_shard_size=max_shard_size,
        spacy_model=spacy_model, batch_size=batch_size, negatives_per_triple=negatives_per_triple,
        max_partners=max_partners, seed=seed, pairs_evidence=pairs_evidence, workers=workers, engine=engine,
        ray_address=ray_address, reference_captions=reference_captions, overwrite=overwrite,
    )  # fmt: skip
    with _building() as progress:
        report = build_coco(options, progress)
    STDERR.print(_build_table(report))


@app.command("build")
def build_command(
    path: Annotated[
        Path,
        typer.Argument(metavar="PATH", help="A Parquet, CSV or WebDataset .tar file, or a folder of them (read recursively)."),
    ],
    out: BuildOut,
    source: Annotated[SourceFormat, typer.Option(help="What PATH holds.")] = CollectionOptions.source,
    caption_column: Annotated[
        str, typer.Option(metavar="NAME", help="The caption column; in WebDataset the .json field (.txt comes first).")
    ] = CollectionOptions.caption_column,
    image_column: Annotated[
        str, typer.Option(metavar="NAME", help="The image column: a path under --images-root, bytes, or {bytes, path}.")
    ] = CollectionOptions.image_column,
    id_column: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Rows sharing an id are captions of one image; default: the row number "
                     "(WebDataset: __key__)."),
    ] = CollectionOptions.id_column,
    split_column: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="train, validation or test per row; default: a hash of the id "
                     "(90/5/5 percent)."),
    ] = CollectionOptions.split_column,
    images_root: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Where the image column's paths start; default: PATH's folder.")
    ] = CollectionOptions.images_root,
    text_only: Annotated[
        bool, typer.Option("--text-only", help="Read no images: mine and pair the captions alone.")
    ] = CollectionOptions.text_only,
    embed_images: EmbedImages = BuildOptions.embed_images,
    max_shard_size: MaxShardSize = BuildOptions.max_shard_size,
    spacy_model: SpacyModel = None,
    batch_size: BatchSize = BuildOptions.batch_size,
    negatives_per_triple: NegativesPerTriple = BuildOptions.negatives_per_triple,
    max_partners: MaxPartners = BuildOptions.max_partners,
    seed: Seed = BuildOptions.seed,
    pairs_evidence: PairsEvidence = BuildOptions.pairs_evidence,
    workers: Workers = None,
    engine: EngineOption = BuildOptions.engine,
    ray_address: RayAddress = BuildOptions.ray_address,
    reference_captions: ReferenceCaptions = BuildOptions.reference_captions,
    overwrite: Overwrite = BuildOptions.overwrite,
) -> None:
    """Mine an image-text collection (Parquet, CSV or WebDataset) into the shards build-coco writes."""
    from relaug.build import build_collection

    collection = CollectionOptions(
        path=path, source=source, caption_column=caption_column, image_column=image_column, id_column=id_column,
        split_column=split_column, images_root=images_root, text_only=text_only,
    )  # fmt: skip
    options = BuildOptions(
        out=out, embed_images=embed_images, max_shard_size=max_shard_size, spacy_model=spacy_model,
        batch_size=batch_size, negatives_per_triple=negatives_per_triple, max_partners=max_partners, seed=seed,
        pairs_evidence=pairs_evidence, workers=workers, engine=engine, ray_address=ray_address, reference_captions=reference_captions,
        overwrite=overwrite,
    )  # fmt: skip
    with _building() as progress:
        report = build_collection(options, collection, progress)
    STDERR.print(_build_table(report))


@app.command()
def finetune(
    ctx: typer.Context,
    shards: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, metavar="SHARDS", help="Shard directory written by build-coco.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", help="Run directory; default a new folder under runs/.")
    ] = None,
    model: Annotated[str, typer.Option(metavar="NAME", help="open_clip model name, or an open_clip model-config JSON.")] = TrainOptions.model,
    pretrained: Annotated[str, typer.Option(metavar="TAG", help="open_clip tag (openai), a local weights file, or none.")] = TrainOptions.pretrained,
    loss: Annotated[Loss, typer.Option(help="drive, negclip (text negatives) or clip.")] = TrainOptions.loss,
    partners: Annotated[int, typer.Option(min=0, metavar="K", help="Partner pairs per anchor.")] = TrainOptions.partners,
    epochs: Annotated[int, typer.Option(min=1, metavar="N", help="Passes over the train split.")] = TrainOptions.epochs,
    batch_size: Annotated[int, typer.Option(min=1, metavar="N", help="Groups per device.")] = TrainOptions.batch_size,
    lr: Annotated[float, typer.Option(metavar="LR", help="Peak learning rate.")] = TrainOptions.lr,
    weight_decay: Annotated[
        float, typer.Option(metavar="WD", help="AdamW weight decay, not on gains, biases or the logit scale.")
    ] = TrainOptions.weight_decay,
    warmup: Annotated[int, typer.Option(min=0, metavar="STEPS", help="Warm-up optimiser steps before the cosine decay.")] = TrainOptions.warmup,
    precision: Annotated[Precision, typer.Option(help="amp is fp16 with a GradScaler; CPU runs fp32.")] = TrainOptions.precision,
    grad_clip: Annotated[float, typer.Option(metavar="NORM", help="Gradient norm clip; 0 disables it.")] = TrainOptions.grad_clip,
    accum_steps: Annotated[int, typer.Option(min=1, metavar="N", help="Micro-batches per optimiser step.")] = TrainOptions.accum_steps,
    workers: Annotated[
        int | None,
        typer.Option(min=0, metavar="N", help="DataLoader workers per process; default: the free cores, at most 4."),
    ] = TrainOptions.workers,
    seed: Annotated[int, typer.Option(metavar="N", help="Seeds the initialisation, the batches and the crops.")] = TrainOptions.seed,
    resume: Annotated[
        Path | None,
        typer.Option(
            metavar="CHECKPOINT",
            help="Continue a run: options not given are the run's (RUN/config.json), those given must match, "
            "--epochs may grow.",
        ),
    ] = TrainOptions.resume,
    text_field: Annotated[
        TextField, typer.Option(help="Train on the original caption or the short rendered text.")
    ] = TrainOptions.text_field,
    max_negatives: Annotated[int, typer.Option(min=0, metavar="N", help="Text negatives per anchor for negclip and drive.")] = TrainOptions.max_negatives,
    log_every: Annotated[int, typer.Option(min=1, metavar="STEPS", help="Steps between lines of RUN/metrics.jsonl.")] = TrainOptions.log_every,
) -> None:
    """Fine-tune CLIP on the shards (DRIVE's reference setup by default); run under torchrun for DDP."""
    from relaug.train.trainer import finetune as run_finetune
    from relaug.train.trainer import resume_options

    with (
        reported_errors(
            kept_when_interrupted="the checkpoints of finished epochs are kept: --resume RUN/checkpoints/latest.pt continues the run"
        ),
        TerminalProgress() as progress,
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
            options = resume_options(resume, **{k: values[k] for k in _given(ctx, *values)})
        run = run_finetune(options, progress)
    typer.echo(f"run written to {run}: checkpoints/latest.pt, metrics.jsonl, config.json", err=True)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    shards: Annotated[
        Path | None,
        typer.Argument(
            exists=True, file_okay=False, metavar="SHARDS", help="Shard directory written by build-coco; or --benchmark."
        ),
    ] = None,
    benchmark: Annotated[
        Benchmark | None,
        typer.Option(help="Score a benchmark of the field instead of SHARDS; relaug-dense scores SHARDS' negatives."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(metavar="PATH", help="The benchmark's file (SugarCrepe: its data folder).")
    ] = None,
    images: Annotated[Path | None, typer.Option(metavar="DIR", help="Folder of the benchmark's images.")] = None,
    checkpoint: Checkpoint = None,
    model: ScoredModel = None,
    pretrained: Pretrained = None,
    split: Annotated[Split, typer.Option(help="The split to score.")] = EvalOptions.split,
    text_field: Annotated[
        TextField, typer.Option(help="Score the original caption or the short rendered text.")
    ] = EvalOptions.text_field,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="JSON report; default RUN/eval_{split|benchmark}.json."),
    ] = None,
    attribution: AttributionMethod = DenseOptions.attribution,
) -> None:
    """Relation metrics: hard-negative accuracy, DRIVE group accuracy, R@1/R@5 retrieval; or with
    --benchmark, SugarCrepe, ARO's VG-Relation / VG-Attribution or Winoground from their files, or
    relaug-dense: does the most negative word of SHARDS' negatives fall on a changed word."""
    from relaug.evaluate import run_eval

    with (
        reported_errors(kept_when_interrupted="the report is written only when the evaluation is done"),
        TerminalProgress() as progress,
    ):
        if _given(ctx, "attribution") and benchmark != Benchmark.RELAUG_DENSE:
            raise InputError("--attribution goes with --benchmark relaug-dense")
        if benchmark == Benchmark.RELAUG_DENSE:
            if shards is None:
                raise InputError("--benchmark relaug-dense scores the negatives of SHARDS: give a shard directory written by build-coco")
            if data is not None or images is not None:
                raise InputError("--data and --images go with the field's benchmarks; relaug-dense reads SHARDS")
            if _given(ctx, "text_field"):
                raise InputError("--text-field does not apply to relaug-dense: the changed spans stand in each negative's caption")
            from relaug.explain import run_dense

            dense, written = run_dense(
                DenseOptions(
                    shards=shards, checkpoint=checkpoint, model=model, pretrained=pretrained, split=split, out=out,
                    attribution=attribution,
                ),
                progress,
            )
            table = _dense_table(dense)
        elif benchmark is not None or shards is None:
            if benchmark is None:
                raise InputError("give SHARDS (a shard directory written by build-coco), or --benchmark NAME")
            if shards is not None:
                raise InputError(f"give SHARDS or --benchmark, not both (SHARDS {shards}, --benchmark {benchmark})")
            if given := _flags(_given(ctx, "split", "text_field")):
                raise InputError(f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} to SHARDS, not to --benchmark")
            if data is None or images is None:
                raise InputError(f"--benchmark {benchmark} needs --data PATH (its file or folder) and --images DIR")
            from relaug.benchmarks import run_benchmark

            benchmark_report, written = run_benchmark(
                BenchmarkOptions(
                    benchmark=benchmark, data=data, images=images, checkpoint=checkpoint, model=model,
                    pretrained=pretrained, out=out,
                ),
                progress,
            )
            table = _benchmark_table(benchmark_report)
        else:
            if data is not None or images is not None:
                raise InputError("--data and --images go with --benchmark")
            report, written = run_eval(
                EvalOptions(
                    shards=shards, checkpoint=checkpoint, model=model, pretrained=pretrained, split=split,
                    text_field=text_field, out=out,
                ),
                progress,
            )
            table = _eval_table(report)
    Console().print(table)
    STDERR.print(f"report written to {written}", highlight=False)


def _given(ctx: typer.Context, *names: str) -> list[str]:
    """The parameters of `names` given on the command line (typer ships its own click: its
    ParameterSource is not click's, so it is compared by name)."""
    return [name for name in names if ctx.get_parameter_source(name).name == "COMMANDLINE"]


def _flags(names: list[str]) -> list[str]:
    return [f"--{name.replace('_', '-')}" for name in names]


@app.command()
def explain(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(
            exists=True, metavar="IMAGE|SHARDS",
            help="An image file; or a shard directory written by build-coco, whose split's negatives are explained.",
        ),
    ],
    caption: Annotated[str | None, typer.Argument(metavar="CAPTION", help="The caption to explain against IMAGE.")] = None,
    checkpoint: Checkpoint = None,
    model: ScoredModel = None,
    pretrained: Pretrained = None,
    split: Annotated[Split, typer.Option(help="SHARDS: the split whose negatives are explained.")] = ExplainOptions.split,
    limit: Annotated[
        int, typer.Option(min=1, metavar="N", help="SHARDS: explain the split's first N negatives.")
    ] = ExplainOptions.limit,
    html: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write the words coloured by attribution as an HTML page.")
    ] = ExplainOptions.html,
    attribution: AttributionMethod = ExplainOptions.attribution,
) -> None:
    """Which words of a caption the image contradicts: signed per-word attributions of the image-text
    score (CLIP4DM's, by default), the cosine and the F-CLIPScore."""
    from relaug.explain import run_explain

    with (
        reported_errors(kept_when_interrupted="nothing was written"),
        TerminalProgress() as progress,
    ):
        if not source.is_dir():
            if given := _flags(_given(ctx, "split", "limit")):
                raise InputError(f"{' and '.join(given)} {'go' if len(given) > 1 else 'goes'} with SHARDS, not with an image")
        report = run_explain(
            ExplainOptions(
                source=source, caption=caption, checkpoint=checkpoint, model=model, pretrained=pretrained,
                split=split, limit=limit, html=html, attribution=attribution,
            ),
            progress,
        )
    Console().print(_explain_table(report))
    if not report.shards:
        e = report.explained[0].explanation
        typer.echo(f"cosine {e.cosine:.4f}")
        typer.echo(f"F-CLIPScore {e.f_clipscore:.4f}")
    if report.html is not None:
        STDERR.print(f"HTML written to {report.html}", highlight=False)


@app.command("synthetic-world")
def synthetic_world(
    out: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write the COCO root into.")],
    train_images: Annotated[int, typer.Option(min=1, metavar="N", help="Images in train2017/.")] = 2000,
    val_images: Annotated[int, typer.Option(min=1, metavar="N", help="Images in val2017/ (cut into validation and test).")] = 400,
    image_size: Annotated[int, typer.Option(min=16, metavar="PIXELS", help="Side of the square images.")] = 64,
    seed: Annotated[int, typer.Option(metavar="N", help="Seeds the scenes drawn.")] = 0,
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


def _print_mine_summary(report: MineReport) -> None:
    STDERR.print(
        f"Mined {report.triples:,} triples from {report.captions:,} captions "
        f"({report.captions_without_triples:,} with none) in {report.seconds:.1f} s -> {report.out}",
        soft_wrap=True,
        highlight=False,
    )
    if report.negatives or report.rejected_negatives:
        STDERR.print(
            f"  negatives written: {_negatives_written(report.negatives)}, "
            f"on {report.triples_with_negatives:,} of {report.triples:,} triples",
            soft_wrap=True, highlight=False,
        )
    for reason, candidates in report.rejected_negatives.most_common():
        STDERR.print(f"  negatives rejected: {reason}: {candidates:,}", soft_wrap=True, highlight=False)


_NEGATIVE_KINDS = {"verb_swap": "verb swaps", "prep_swap": "preposition swaps", "role_swap": "role swaps"}


def _negatives_written(by_kind: Counter) -> str:
    return ", ".join(f"{by_kind[kind]:,} {name}" for kind, name in _NEGATIVE_KINDS.items() if by_kind[kind]) or "none"


def _build_table(report: BuildReport) -> Table:
    """The closing summary of build and build-coco."""
    table = Table(title=f"relaug build: {report.source} -> {report.out}", show_header=False)
    table.add_row("captions read", f"{report.captions_read:,}")
    table.add_row("triples mined", f"{report.triples_mined:,}")
    table.add_row("captions with no triple", f"{report.captions_without_triples:,}")
    table.add_row("images written", f"{report.images_written:,}")
    for split in Split:
        if (counts := report.stats.splits.get(split)) is not None:
            table.add_row(f"  {split}", f"{counts.images:,} images, {counts.relations:,} relations")
    for kind, skipped in report.skipped.items():
        for reason, n in skipped.most_common():
            table.add_row(f"{kind} skipped: {reason}", f"{n:,}")
    for mode, images in sorted(report.converted_images.items()):
        table.add_row(f"images converted to RGB from {mode}", f"{images:,}")
    relations = sum(counts.relations for counts in report.stats.splits.values())
    table.add_row(
        "negatives written",
        f"{_negatives_written(report.stats.negatives)}, on {report.stats.relations_with_negatives:,} of {relations:,} relations",
    )
    if report.reference_captions:
        reference = f"{report.reference_captions:,} ({report.recorded['reference_captions']})"
        table.add_row("  chosen with reference captions", reference)
    for reason, candidates in report.rejected_negatives.most_common():
        table.add_row(f"negatives rejected: {reason}", f"{candidates:,}")
    table.add_row("shard files", f"{len(report.files)} ({sum(f.bytes for f in report.files) / 1e6:.1f} MB)")
    if report.shards_reused:
        table.add_row("  finished by an earlier, interrupted run", f"{report.shards_reused}")
    if report.corpus_reused:
        table.add_row("mining, image checks, negatives", "done by an earlier, interrupted run")
    table.add_row("time", f"{report.seconds:.1f} s, of which {report.write_seconds:.1f} s writing shards")
    return table


def _eval_table(report: EvalReport) -> Table:
    """The metrics of relaug eval."""
    table = Table(title=f"relaug eval: {report.split}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")

    def show(a: Accuracy) -> str:
        return "-" if a.accuracy is None else f"{100 * a.accuracy:.1f}%"

    for name, accuracy in report.hard_negatives.items():
        table.add_row(f"hard negatives {name}", show(accuracy), str(accuracy.total))
    if not report.hard_negatives:
        table.add_row("hard negatives", "- (the shards carry no negatives)", "0")
    for source, group in report.groups.items():
        table.add_row(f"group {source} image->text", show(group.image_to_text), str(group.image_to_text.total))
        table.add_row(f"group {source} text->image", show(group.text_to_image), str(group.text_to_image.total))
    r = report.retrieval
    for direction, values, n in (("image->text", r.image_to_text, r.images), ("text->image", r.text_to_image, r.captions)):
        for k, value in values.items():
            table.add_row(f"retrieval {direction} {k}", f"{100 * value:.1f}%", str(n))
    return table


def _benchmark_table(report: BenchmarkReport) -> Table:
    """The scores of relaug eval --benchmark."""
    table = Table(title=f"relaug eval: {report.benchmark}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    for name, score in report.scores.items():
        table.add_row(name, "-" if score.value is None else f"{100 * score.value:.1f}%", f"{score.n:,} {score.over}")
    for reason, items in report.skipped.items():
        table.add_row(f"skipped: {reason}", "", f"{items:,} items")
    return table


def _signed(value: float | None) -> str:
    if value is None:
        return "-"
    return f"[{'red' if value < 0 else 'green'}]{value:+.6f}[/]"


def _explain_table(report: ExplainReport) -> Table:
    """relaug explain: the words and their attributions; for SHARDS, one row per negative."""
    if not report.shards:
        item = report.explained[0]
        table = Table(title="relaug explain")
        table.add_column("word")
        table.add_column("attribution", justify="right")
        for w in item.explanation.words:
            table.add_row(escape(w.text), _signed(w.attribution))
        return table
    table = Table(title="relaug explain: negatives")
    for column in ("kind", "negative caption", "most negative word", "changed", "cosine", "F-CLIPScore"):
        table.add_column(column, justify="right" if column in ("cosine", "F-CLIPScore") else "left")
    for item in report.explained:
        e, negative = item.explanation, item.negative
        weakest = e.most_negative
        changed = ", ".join(e.caption[a:b] for a, b in negative.changed or ())
        table.add_row(
            negative.kind, escape(e.caption), "-" if weakest is None else f"{escape(weakest.text)} {_signed(weakest.attribution)}",
            escape(changed) or "-", f"{e.cosine:.4f}", f"{e.f_clipscore:.4f}",
        )
    return table


def _dense_table(report: DenseReport) -> Table:
    """The scores of relaug eval --benchmark relaug-dense."""
    table = Table(title=f"relaug eval: relaug-dense ({report.split})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    share = lambda value: "-" if value is None else f"{100 * value:.1f}%"
    for name, score in report.scores.items():
        table.add_row(f"top-1 precision {name}", share(score.top1_precision), f"{score.negatives:,} negatives")
        table.add_row(f"top-1 by chance {name}", share(score.top1_chance), f"{score.negatives:,} negatives")
        auroc = score.auroc
        table.add_row(f"word AUROC {name}", "-" if auroc is None else f"{auroc:.3f}", f"{len(score.words):,} words")
    for reason, negatives in report.skipped.items():
        table.add_row(f"skipped: {reason}", "", f"{negatives:,} negatives")
    return table

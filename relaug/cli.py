"""The `relaug` command line: each command parses its options and calls one library function."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from relaug.build import BuildOptions, MineOptions, build_coco, mine_file
from relaug.errors import InputError

app = typer.Typer(
    help="Mine relation triples from image captions, publish them as typed Parquet shards, "
    "and fine-tune CLIP on them with the DRIVE loss.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn bad user input into one line on stderr and exit code 2 (a usage error), no traceback."""
    try:
        yield
    except InputError as e:
        message = " ".join(str(e).split())
        typer.echo(f"relaug: error: {message}", err=True)
        raise typer.Exit(code=2) from None


SpacyModel = Annotated[
    str | None,
    typer.Option(help="spaCy pipeline to parse with; default en_core_web_sm or another installed English one."),
]
BatchSize = Annotated[int, typer.Option(min=1, help="Captions per spaCy batch.")]


@app.command()
def mine(
    captions: Annotated[
        Path, typer.Argument(help="COCO captions JSON, or JSONL with caption_id, image_id, caption.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL to write: one line per caption, in input order.")],
    spacy_model: SpacyModel = None,
    batch_size: BatchSize = 256,
) -> None:
    """Mine (subject, relation, object) triples from every caption of a file; the first of each line is its primary."""
    with input_errors():
        mine_file(MineOptions(captions=captions, out=out, spacy_model=spacy_model, batch_size=batch_size))


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
) -> None:
    """Mine COCO captions into typed Parquet shards that datasets.load_dataset(OUT) opens."""
    with input_errors():
        build_coco(
            BuildOptions(
                out=out,
                coco_root=coco_root,
                embed_images=embed_images,
                max_shard_size=max_shard_size,
                spacy_model=spacy_model,
                batch_size=batch_size,
            )
        )

"""Every job's options and their defaults, declared once.

The jobs take these records, the CLI reads its defaults from them, and a run's
`config.json` records them. This module imports nothing heavy, so that
`relaug --help` can read the defaults without loading spaCy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from relaug.choices import Attribution, Benchmark, Engine, Loss, Precision, SourceFormat, Split, TextField

# The English pipeline a job loads when none is named (`spacy_model` None), where installed;
# else another installed English one.
PREFERRED_SPACY_PIPELINE = "en_core_web_sm"


@dataclass(frozen=True)
class NegativeOptions:
    per_triple: int = 3  # negatives kept per relation, at most
    seed: int = 0  # seeds the choice of negatives and partners: same seed, same output
    max_partners: int = 8  # DRIVE partners and swap partners per relation, at most
    min_relation_count: int = 2  # verb candidates fewer captions state are miner noise
    similarity_band: tuple[float, float] = (0.2, 0.75)  # MiniLM cosine a verb candidate must fall in
    max_verb_candidates: int = 60  # verb candidates tried per relation before giving up
    # Also verb swaps two captions do not state whole, only in two pairs (the relation of this
    # object, and of this subject) and one caption joining them: evidence "pairs", tried after
    # every whole one. Off: blind reviews found them weaker than the rest (docs/negatives.md)
    pairs_evidence: bool = False


@dataclass(frozen=True)
class MineOptions:
    captions: Path  # COCO captions JSON or caption JSONL
    out: Path  # JSONL, one line per caption
    spacy_model: str | None = None  # None: en_core_web_sm or another installed English pipeline
    batch_size: int = 256  # captions per spaCy batch
    negatives: bool = False  # also write each triple's id and hard negatives
    workers: int | None = None  # processes that mine and build negatives; None: all cores
    negatives_per_triple: int = NegativeOptions.per_triple
    seed: int = NegativeOptions.seed
    pairs_evidence: bool = NegativeOptions.pairs_evidence
    engine: Engine = Engine.LOCAL  # where mining and negatives run; the output is the same
    ray_address: str | None = None  # with Engine.RAY: the cluster to join; None: start a local one
    # With negatives: a caption file of other images (COCO JSON or JSONL) whose relations add to
    # the statistics negatives are chosen by, not to the output; None: the input's captions alone
    reference_captions: Path | None = None


@dataclass(frozen=True)
class BuildOptions:
    out: Path
    coco_root: Path | None = None  # None: the bundled sample, examples/coco-sample
    embed_images: bool = True  # False: store absolute image paths instead of bytes
    max_shard_size: str | int = "500MB"
    spacy_model: str | None = MineOptions.spacy_model
    batch_size: int = MineOptions.batch_size
    negatives_per_triple: int = NegativeOptions.per_triple
    max_partners: int = NegativeOptions.max_partners
    seed: int = NegativeOptions.seed
    pairs_evidence: bool = NegativeOptions.pairs_evidence
    workers: int | None = None  # mining and negative-building processes, image threads; None: all cores
    engine: Engine = MineOptions.engine
    ray_address: str | None = MineOptions.ray_address
    # None: none, except for the bundled sample, whose statistics come from the bundled val2017 captions
    reference_captions: Path | None = MineOptions.reference_captions
    overwrite: bool = False  # replace a build in `out` made with other options instead of refusing


@dataclass(frozen=True)
class CollectionOptions:
    """What `relaug build` reads, and which of its columns or fields mean what."""

    path: Path  # a table or tar file, or a folder of them
    source: SourceFormat = SourceFormat.PARQUET
    caption_column: str = "caption"  # a table's column; in WebDataset, the .json field (.txt is used first)
    image_column: str = "image"  # a table's column: relative path, bytes, or {bytes, path}
    id_column: str | None = None  # None: a table's row number, a WebDataset sample's __key__
    split_column: str | None = None  # None: split by a hash of the id (split_of_key)
    images_root: Path | None = None  # where relative image paths start; None: the table's folder
    text_only: bool = False  # read no image: mine and pair the captions alone


@dataclass
class TrainOptions:
    """The DRIVE reference setup by default."""

    shards: Path
    out: Path | None = None  # None: a new folder under runs/
    model: str = "ViT-B-32"  # an open_clip name, or an open_clip model-config JSON
    pretrained: str = "openai"  # an open_clip tag, a local weights file, or "none"
    loss: Loss = Loss.DRIVE
    partners: int = 1  # K partner pairs per anchor
    epochs: int = 7
    batch_size: int = 64  # groups per device
    lr: float = 1.8748e-5
    weight_decay: float = 4.5269e-5
    warmup: int = 1430  # optimiser steps
    precision: Precision = Precision.AMP
    grad_clip: float | None = 1.0
    accum_steps: int = 1
    workers: int | None = None  # DataLoader workers per process; None: the cores beside this one, at most 4
    seed: int = 0
    resume: Path | None = None  # a checkpoint of this run to continue from
    text_field: TextField = TextField.CAPTION  # train on the original captions, or on the short rendered `text`
    max_negatives: int = 3  # text negatives per anchor, for negclip and drive
    log_every: int = 10  # optimiser steps between metrics.jsonl lines
    validate: bool = True  # evaluate on the validation split after every epoch


@dataclass(frozen=True, kw_only=True)
class ModelChoice:
    """The model a scoring job loads: a `relaug finetune` checkpoint, or an open_clip model and tag."""

    checkpoint: Path | None = None
    model: str | None = None  # with a checkpoint: overrides the model name it records
    pretrained: str | None = None


@dataclass(frozen=True)
class EvalOptions(ModelChoice):
    shards: Path
    split: Split = Split.TEST
    text_field: TextField = TextField.CAPTION
    out: Path | None = None  # JSON report; default next to the checkpoint, else ./eval_{split}.json
    batch_size: int = 256


@dataclass(frozen=True)
class BenchmarkOptions(ModelChoice):
    benchmark: Benchmark
    data: Path  # the benchmark's file (SugarCrepe: its data folder)
    images: Path  # the folder of its images
    out: Path | None = None  # JSON report; default next to the checkpoint, else ./eval_{benchmark}.json
    batch_size: int = 64


@dataclass(frozen=True, kw_only=True)
class AttributionChoice(ModelChoice):
    """A scoring job that attributes the cosine to the caption's words."""

    attribution: Attribution = Attribution.ATTENTION


@dataclass(frozen=True)
class ExplainOptions(AttributionChoice):
    source: Path  # an image file, or a shard directory (its split's negatives are explained)
    caption: str | None = None  # the caption to explain against the image; none with a shard directory
    split: Split = Split.TEST  # a shard directory's split
    limit: int | None = 20  # a shard directory's first negatives explained; None: all
    html: Path | None = None  # also write the words coloured by attribution as a self-contained HTML page
    batch_size: int = 64


@dataclass(frozen=True)
class DenseOptions(AttributionChoice):
    """`relaug eval --benchmark relaug-dense SHARDS`: word attributions against the negatives' changed spans."""

    shards: Path
    split: Split = Split.TEST
    out: Path | None = None  # JSON report; default next to the checkpoint, else ./eval_relaug-dense.json
    batch_size: int = 64

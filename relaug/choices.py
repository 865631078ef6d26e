"""The named choices of relaug's options, declared once: the CLI offers them, the library checks them.

Each is a StrEnum, so a choice is also its plain string: it compares equal to it and is
written to `config.json` as it.
"""

from __future__ import annotations

from enum import StrEnum

from relaug.errors import InputError


class Loss(StrEnum):
    DRIVE = "drive"
    NEGCLIP = "negclip"
    CLIP = "clip"


class Precision(StrEnum):
    AMP = "amp"  # fp16 autocast with a GradScaler
    BF16 = "bf16"
    FP32 = "fp32"


class TextField(StrEnum):
    """The relation field texts are read from: the original caption, or the short rendered text."""

    CAPTION = "caption"
    TEXT = "text"


class Split(StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"


class Engine(StrEnum):
    """Where the stages that spread over cores run: local processes, or a Ray cluster (Ray Data)."""

    LOCAL = "local"
    RAY = "ray"


class SourceFormat(StrEnum):
    """What `relaug build` reads (COCO has `relaug build-coco`)."""

    PARQUET = "parquet"
    CSV = "csv"  # .csv, or .tsv read tab-separated
    WEBDATASET = "webdataset"


class Benchmark(StrEnum):
    """A benchmark of the field `relaug eval --benchmark` reads in its published format; or
    relaug-dense, the dense-misalignment benchmark made of a build's own negatives (SHARDS)."""

    SUGARCREPE = "sugarcrepe"
    ARO_RELATION = "aro-relation"  # ARO's VG-Relation
    ARO_ATTRIBUTION = "aro-attribution"  # ARO's VG-Attribution
    WINOGROUND = "winoground"
    RELAUG_DENSE = "relaug-dense"  # word attributions against the changed spans of SHARDS' negatives


class Attribution(StrEnum):
    """How `relaug explain` attributes the image-text cosine to the caption's tokens, signed."""

    ATTENTION = "attention"  # CLIP4DM's: gradient x attention map of the last text layers, the end token's row
    GRADIENT = "gradient"  # gradient x input on the token embeddings
    # the cosine less its mean with each word replaced by another word of its part of speech
    SUBSTITUTION = "substitution"


def checked(choice: type[StrEnum], value: str, option: str) -> StrEnum:
    """`value` as a member of `choice`, or an InputError naming the option and the choices."""
    try:
        return choice(value)
    except ValueError:
        raise InputError(f"{option} {value}: choose one of {', '.join(choice)}") from None

"""A build read back by `datasets`, from its Parquet files named explicitly."""

from __future__ import annotations

from pathlib import Path

import datasets

from relaug.shards.schema import CONFIG_DIRS


def load_split(root: str | Path, config: str, split: str) -> datasets.Dataset:
    """One split of one config, read from its Parquet files named explicitly: `datasets` keys its
    cache on their paths and modification times then, so a folder rebuilt in place is never read
    from a stale cache (a folder's own card keys it on the card's YAML alone)."""
    files = sorted(str(p) for p in (Path(root) / CONFIG_DIRS[config]).glob(f"{split}-*.parquet"))
    if not files:
        raise FileNotFoundError(f"{root}: no {CONFIG_DIRS[config]}/{split}-*.parquet")
    return datasets.load_dataset("parquet", data_files={split: files}, split=split)

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
from datasets import Image, List, Value
from huggingface_hub import DatasetCard

from relaug.shards import FEATURES, sha256_of


def test_schema_is_the_published_contract():
    default, triples = FEATURES["default"], FEATURES["triples"]
    assert list(default) == ["image", "image_id", "file_name", "captions", "relations"]
    assert isinstance(default["image"], Image)
    relation = default["relations"].feature
    assert list(triples) == ["image_id", *relation]
    assert relation["subject_box"] == List(Value("float32"), length=4)
    assert relation["partners"] == List(Value("string"))
    assert list(relation["negatives"].feature) == ["caption", "text", "kind", "relation"]


def test_loaded_columns_are_typed_as_declared(sample_dataset, sample_triples):
    for split in sample_dataset.values():
        assert split.features == FEATURES["default"]
    for split in sample_triples.values():
        assert split.features == FEATURES["triples"]


def test_every_parquet_file_carries_the_huggingface_schema(sample_build):
    for shard in sample_build.files:
        metadata = pq.read_schema(sample_build.out / shard.path).metadata
        features = json.loads(metadata[b"huggingface"])["info"]["features"]
        assert list(features) == list(FEATURES[shard.config])


def test_shards_are_named_and_sized_as_configured(sample_build):
    data = [f for f in sample_build.files if f.config == "default"]
    for split in ("train", "validation", "test"):
        names = sorted(f.path for f in data if f.split == split)
        assert len(names) >= 2  # 1MB holds only a few embedded images
        assert names == [f"data/{split}-{i:05d}-of-{len(names):05d}.parquet" for i in range(len(names))]
    assert all(f.bytes < 1.5e6 for f in data)
    assert {f.path.split("/")[0] for f in sample_build.files} == {"data", "triples"}
    assert not list(sample_build.out.rglob("*.tmp"))


def test_manifest_lists_every_file_with_rows_and_sha256(sample_shards):
    manifest = json.loads((sample_shards / "manifest.json").read_text())
    on_disk = {p.relative_to(sample_shards).as_posix() for p in sample_shards.rglob("*.parquet")}
    assert {f["path"] for f in manifest["files"]} == on_disk
    for entry in manifest["files"]:
        path = sample_shards / entry["path"]
        assert sha256_of(path) == entry["sha256"]
        assert pq.ParquetFile(path).metadata.num_rows == entry["rows"]
    assert sha256_of(sample_shards / "README.md") == manifest["card"]["sha256"]
    assert manifest["options"]["max_shard_size"] == "1MB"
    assert {"relaug", "spacy", "spacy_pipeline"} <= set(manifest["versions"])


def test_dataset_card_declares_both_configs_and_reports_the_build(sample_build):
    card = DatasetCard.load(sample_build.out / "README.md")
    configs = {c["config_name"]: c for c in card.data.configs}
    assert set(configs) == {"default", "triples"}
    assert {c["config_name"] for c in card.data.dataset_info} == {"default", "triples"}
    text = card.text
    for heading in ("## Source", "## Licence", "## How it was built", "## Counts",
                    "## The 20 most frequent relations", "## Rejected negative candidates"):  # fmt: skip
        assert heading in text
    top, count = sample_build.stats.relations.most_common(1)[0]
    assert f"| {top} | {count} |" in text
    train = sample_build.stats.splits["train"]
    assert f"| train | {train.images} | {train.captions} | {train.relations} |" in text
    assert not re.search(r"TODO|TBD|\{\w+\}", text)

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
from datasets import Image, List, Value
from huggingface_hub import DatasetCard

from relaug.build import SAMPLE_ROOT
from relaug.coco import read_coco
from relaug.files import sha256_of
from relaug.records import CharSpan, ImageExample, Relation, Triple, relation_id
from relaug.shards.schema import FEATURES
from relaug.shards.write import plan_shards


def test_schema_is_the_published_contract():
    default, triples = FEATURES["default"], FEATURES["triples"]
    assert list(default) == ["image", "image_id", "file_name", "captions", "relations"]
    assert isinstance(default["image"], Image)
    relation = default["relations"].feature
    assert list(triples) == ["image_id", *relation]
    assert relation["subject_box"] == List(Value("float32"), length=4)
    assert relation["partners"] == List(Value("string"))
    assert list(relation["negatives"].feature) == ["caption", "text", "kind", "relation", "evidence", "attestation", "changed"]
    assert relation["negatives"].feature["changed"] == List({"start": Value("int32"), "end": Value("int32")})


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
    assert manifest["options"]["pairs_evidence"] is False  # verb swaps of two pairs alone: only with --pairs-evidence
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


def _with_text(example, text: str):
    relation = replace(example.relations[0], text=text)
    return replace(example, relations=(relation, *example.relations[1:]))


def _examples():
    """Examples shaped like the build's: the sample's images with one made-up relation each."""
    span = CharSpan(0, 1)
    examples = []
    for image in read_coco(SAMPLE_ROOT).images:
        caption = image.captions[0]
        triple = Triple("man", "ride", "horse", "dynamic", span, span, span, "VBG", None, False, False, False)
        relation = Relation(relation_id(caption, 0), caption, triple, "a man riding a horse", None, None, None, None)
        examples.append(ImageExample(image.image_id, image.file_name, Path(image.file_name), image.split,
                                     image.captions, (relation,)))
    return examples


def test_plan_cuts_each_split_under_the_limit_and_names_every_file_up_front():
    examples = _examples()
    sizes = {e.image_id: 40_000 for e in examples}
    plan = plan_shards(examples, sizes, max_shard_bytes=100_000)
    default = [s for s in plan if s.config == "default"]
    for split in ("train", "validation", "test"):
        mine = [s for s in default if s.split == split]
        assert [s.path for s in mine] == [f"data/{split}-{i:05d}-of-{len(mine):05d}.parquet" for i in range(len(mine))]
        assert [(s.start, s.end) for s in mine] == [(i, min(i + 2, mine[-1].end)) for i in range(0, mine[-1].end, 2)]
    assert sum(s.rows for s in plan if s.config == "triples") == len(examples)
    assert plan == plan_shards(examples, sizes, max_shard_bytes=100_000)


def test_a_shard_digest_changes_with_its_content_only():
    examples = _examples()
    sizes = {e.image_id: 40_000 for e in examples}
    before = {s.path: s.digest for s in plan_shards(examples, sizes, 100_000)}
    changed = [_with_text(examples[0], "a man feeding a horse"), *examples[1:]]
    after = {s.path: s.digest for s in plan_shards(changed, sizes, 100_000)}
    differ = {path for path in before if before[path] != after[path]}
    assert differ == {"data/train-00000-of-00010.parquet", "triples/train-00000-of-00001.parquet"}
    bigger = {**sizes, examples[0].image_id: 40_001}  # an image that converts to other bytes
    assert plan_shards(examples, bigger, 100_000)[0].digest != before["data/train-00000-of-00010.parquet"]

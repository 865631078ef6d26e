from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import datasets
import PIL.Image
import pyarrow.parquet as pq
import pytest

from relaug.build import SAMPLE_ROOT, BuildOptions, build_coco
from relaug.errors import InputError
from relaug.shards import write as shard_writer


def test_sample_loads_with_three_splits_and_real_images(sample_dataset):
    assert set(sample_dataset) == {"train", "validation", "test"}
    row = sample_dataset["train"][0]
    assert isinstance(row["image"], PIL.Image.Image)
    assert row["image"].size[0] > 0
    assert row["file_name"].endswith(".jpg")


def test_no_image_is_in_two_splits(sample_dataset):
    ids = {name: set(split["image_id"]) for name, split in sample_dataset.items()}
    assert not ids["train"] & ids["validation"]
    assert not ids["train"] & ids["test"]
    assert not ids["validation"] & ids["test"]


def test_every_row_has_a_complete_triple_from_its_own_captions(sample_dataset):
    for split in sample_dataset.values():
        for row in split.select_columns(["image_id", "captions", "relations"]):
            assert row["relations"], row["image_id"]
            caption_ids = {c["caption_id"] for c in row["captions"]}
            for relation in row["relations"]:
                assert relation["subject"] and relation["relation"] and relation["object"]
                assert relation["relation_kind"] in {"dynamic", "stative", "spatial"}
                assert relation["caption_id"] in caption_ids
                assert re.fullmatch(rf"{row['image_id']}-{relation['caption_id']}-\d+", relation["id"])
                assert relation["text"]
                for negative in relation["negatives"]:
                    assert negative["kind"] in {"verb_swap", "prep_swap", "role_swap"}
                    assert negative["caption"] != relation["caption"]


def test_triples_config_has_one_row_per_relation(sample_dataset, sample_triples):
    for name, split in sample_dataset.items():
        ids = [r["id"] for relations in split["relations"] for r in relations]
        assert sorted(ids) == sorted(sample_triples[name]["id"])
        assert len(set(ids)) == len(ids)


def test_partners_are_relations_of_the_same_split(sample_triples):
    for split in sample_triples.values():
        by_id = {r["id"]: r for r in split.select_columns(["id", "image_id", "subject", "relation", "object"])}
        for row in split:
            for partner in map(by_id.get, row["partners"]):
                assert partner is not None and partner["image_id"] != row["image_id"]
                assert (partner["subject"], partner["object"]) == (row["subject"], row["object"])
                assert partner["relation"] != row["relation"]
            for partner in map(by_id.get, row["swap_partners"]):
                assert partner is not None
                assert (partner["subject"], partner["object"]) == (row["object"], row["subject"])
                assert partner["relation"] == row["relation"]


def test_some_relations_are_grounded_with_boxes(sample_triples):
    train = sample_triples["train"]
    assert "person" in train["subject_category"]
    boxes = [b for b in train["subject_box"] if b is not None]
    assert boxes and all(len(b) == 4 and b[2] > 0 and b[3] > 0 for b in boxes)


def test_report_counts_what_was_read_and_written(sample_build):
    report = sample_build
    assert report.captions_read == 200
    assert report.images_written == sum(c.images for c in report.stats.splits.values())
    assert report.images_written + sum(report.skipped_images.values()) == 40
    assert set(report.skipped_images) <= {"no relation mined from its captions"}  # the sample is complete
    assert report.triples_mined == sum(c.relations for c in report.stats.splits.values())


def _tiny_root(tmp_path: Path) -> Path:
    """A COCO root of four val2017 images: one good, one missing, one escaping the root, one relation-free."""
    sample = json.loads((SAMPLE_ROOT / "annotations/captions_val2017.json").read_text())
    good = sample["images"][0]
    images = [
        good,
        {**good, "id": 1, "file_name": "missing.jpg"},
        {**good, "id": 2, "file_name": "../../etc/passwd"},
        {**good, "id": 3},
    ]
    annotations = [a for a in sample["annotations"] if a["image_id"] == good["id"]] + [
        {"id": 10, "image_id": 1, "caption": "A man riding a horse."},
        {"id": 20, "image_id": 2, "caption": "A man riding a horse."},
        {"id": 30, "image_id": 3, "caption": "A close up view."},
    ]
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    (root / "val2017").mkdir()
    shutil.copy(SAMPLE_ROOT / "val2017" / good["file_name"], root / "val2017")
    captions = {**sample, "images": images, "annotations": annotations}
    (root / "annotations/captions_val2017.json").write_text(json.dumps(captions))
    return root


def test_images_skipped_by_reason_and_paths_stored_without_embedding(tmp_path):
    root = _tiny_root(tmp_path)
    out = tmp_path / "shards"
    report = build_coco(BuildOptions(out=out, coco_root=root, embed_images=False))
    assert report.skipped_images == {
        "image file missing": 1,
        "file_name outside the COCO root": 1,
        "no relation mined from its captions": 1,
    }
    assert report.images_written == 1
    ds = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    (split,) = ds.values()
    raw = split.cast_column("image", datasets.Image(decode=False))[0]["image"]
    assert raw["bytes"] is None and Path(raw["path"]).is_absolute()
    assert isinstance(split[0]["image"], PIL.Image.Image)


def test_rebuild_replaces_the_previous_build(tmp_path):
    root = _tiny_root(tmp_path)
    out = tmp_path / "shards"
    build_coco(BuildOptions(out=out, coco_root=root))
    stale = out / "data" / "train-00000-of-00001.parquet"
    stale.write_bytes(b"left over")
    report = build_coco(BuildOptions(out=out, coco_root=root))
    assert not stale.exists()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == sorted(
        f.path for f in report.files
    )


def test_refuses_to_write_into_a_directory_that_is_not_a_build(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        build_coco(BuildOptions(out=tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_root_with_no_usable_image_is_an_input_error(tmp_path):
    root = _tiny_root(tmp_path)
    (root / "val2017").rename(root / "elsewhere")
    with pytest.raises(InputError, match="no image could be written .*image file missing"):
        build_coco(BuildOptions(out=tmp_path / "shards", coco_root=root))
    assert not (tmp_path / "shards" / "manifest.json").exists()


def test_every_row_stores_its_own_image_file_whatever_its_row_group(tmp_path, monkeypatch):
    """Image bytes are read a row group at a time, on threads, apart from the rows they join."""
    monkeypatch.setattr(shard_writer, "ROW_GROUP_ROWS", {**shard_writer.ROW_GROUP_ROWS, "default": 3})
    out = tmp_path / "shards"
    report = build_coco(BuildOptions(out=out, max_shard_size="2MB", workers=2))
    assert not report.converted_images  # so every stored image is its file, byte for byte
    files = sorted((out / "data").glob("*.parquet"))
    assert len(files) > 3 and max(pq.ParquetFile(f).metadata.num_row_groups for f in files) > 2
    names = []
    for file in files:
        for row in pq.read_table(file, columns=["image", "file_name"]).to_pylist():
            (path,) = SAMPLE_ROOT.glob(f"*2017/{row['file_name']}")
            assert row["image"] == {"bytes": path.read_bytes(), "path": row["file_name"]}
            names.append(row["file_name"])
    assert len(names) == len(set(names)) == report.images_written

"""`relaug build`: the bundled sample as a Parquet table of image paths, as WebDataset tars of image
bytes and as a CSV of captions alone (examples/collections) gives the shards build-coco gives, and
bad collections get a counted skip or one line naming the file."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import datasets
import PIL.Image
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import disk_full_at, one_line_error
from typer.testing import CliRunner

import relaug.build
from relaug.build import SAMPLE_ROOT, BuildOptions, build_collection
from relaug.choices import SourceFormat
from relaug.cli import app
from relaug.errors import StoppedError
from relaug.options import CollectionOptions
from relaug.reasons import Skip

COLLECTIONS = Path(__file__).resolve().parents[1] / "examples" / "collections"

SOURCES = {
    "parquet": CollectionOptions(
        path=COLLECTIONS / "coco-sample.parquet", id_column="id", images_root=SAMPLE_ROOT
    ),
    "webdataset": CollectionOptions(path=COLLECTIONS / "webdataset", source=SourceFormat.WEBDATASET, id_column="id"),
    "csv": CollectionOptions(path=COLLECTIONS / "coco-sample.csv", source=SourceFormat.CSV, id_column="id", text_only=True),
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("collections")
    return {name: build_collection(BuildOptions(out=base / name), options) for name, options in SOURCES.items()}


def _load(out: Path, tmp_path: Path, config: str = "default") -> datasets.DatasetDict:
    return datasets.load_dataset(str(out), config, cache_dir=str(tmp_path / "hf-cache"))


@pytest.mark.parametrize("name", ["parquet", "webdataset"])
def test_a_collection_with_images_loads_typed_with_images(builds, name, tmp_path):
    dataset = _load(builds[name].out, tmp_path)
    assert sum(split.num_rows for split in dataset.values()) == 40
    row = dataset["train"][0]
    assert isinstance(row["image"], PIL.Image.Image) and row["image"].size[0] > 0
    assert isinstance(row["image_id"], int) and row["captions"][0]["caption"]
    assert isinstance(dataset["train"].features["image"], datasets.Image)


def test_a_text_only_collection_has_rows_without_images(builds, tmp_path):
    dataset = _load(builds["csv"].out, tmp_path)
    assert all(image is None for split in dataset.values() for image in split["image"])
    assert "a text-only build" in (builds["csv"].out / "README.md").read_text()


def test_the_same_captions_give_the_same_triples_whatever_holds_them(builds):
    tables = {
        name: pa.concat_tables(pq.read_table(f) for f in sorted((report.out / "triples").glob("*.parquet")))
        for name, report in builds.items()
    }
    assert tables["parquet"].num_rows > 250
    assert tables["parquet"].equals(tables["webdataset"])
    assert tables["parquet"].equals(tables["csv"])


def test_the_card_names_the_collection(builds):
    card = (builds["webdataset"].out / "README.md").read_text()
    assert "pretty_name: relaug relations from webdataset" in card
    assert "MS-COCO" not in card


def _table(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_bad_rows_are_skipped_and_counted(tmp_path):
    image = "val2017/" + next((SAMPLE_ROOT / "val2017").iterdir()).name
    caption = "A man riding a horse on a beach."
    rows = [
        {"id": 1, "caption": caption, "image": image, "split": "train"},
        {"id": 2, "caption": "   ", "image": image, "split": "train"},
        {"id": 3, "caption": caption, "image": "http://example.com/a.jpg", "split": "train"},
        {"id": 4, "caption": caption, "image": "../../etc/passwd", "split": "train"},
        {"id": 5, "caption": caption, "image": None, "split": "train"},
        {"id": 5, "caption": "A second caption of the image without one.", "image": None, "split": "train"},
        {"id": 6, "caption": caption, "image": image, "split": "holdout"},
        {"id": 7, "caption": caption, "image": "val2017/absent.jpg", "split": "train"},
    ]
    options = CollectionOptions(
        path=_table(tmp_path / "bad.parquet", rows), id_column="id", split_column="split", images_root=SAMPLE_ROOT
    )
    report = build_collection(BuildOptions(out=tmp_path / "out"), options)
    assert report.images_written == 1
    assert report.skipped_captions == {Skip.CAPTION_EMPTY: 1, Skip.SPLIT_UNKNOWN: 1}
    assert report.skipped_images == {
        Skip.REMOTE_IMAGE: 1, Skip.OUTSIDE_IMAGES_ROOT: 1, Skip.NO_IMAGE: 1, Skip.MISSING: 1,
    }  # fmt: skip
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["skipped"]["images"][Skip.REMOTE_IMAGE] == 1


def test_image_bytes_in_a_table_are_embedded(tmp_path):
    buffer = io.BytesIO()
    PIL.Image.new("RGB", (32, 24), "red").save(buffer, "PNG")
    rows = [{"id": 9, "caption": "A man riding a horse on a beach.", "image": {"bytes": buffer.getvalue(), "path": "red.png"}}]
    report = build_collection(BuildOptions(out=tmp_path / "out"), CollectionOptions(path=_table(tmp_path / "t.parquet", rows), id_column="id"))
    dataset = _load(report.out, tmp_path)
    (split,) = [s for s in dataset.values() if s.num_rows]
    assert split[0]["image"].size == (32, 24)


def test_a_missing_column_is_one_line_naming_the_file_and_the_columns(tmp_path):
    table = _table(tmp_path / "t.parquet", [{"text": "A man riding a horse.", "image": "a.jpg"}])
    result = CliRunner().invoke(app, ["build", str(table), "--out", str(tmp_path / "out")])
    line = one_line_error(result)
    assert str(table) in line and "'caption'" in line and "text, image" in line
    assert not (tmp_path / "out" / "data").exists()


def test_a_broken_tar_is_one_line_naming_it(tmp_path):
    good = COLLECTIONS / "webdataset" / "coco-sample-000000.tar"
    broken = tmp_path / "shards" / "broken.tar"
    broken.parent.mkdir()
    broken.write_bytes(good.read_bytes()[: 700_000])
    result = CliRunner().invoke(app, ["build", str(broken.parent), "--source", "webdataset", "--out", str(tmp_path / "out")])
    line = one_line_error(result)
    assert str(broken) in line
    assert tarfile.is_tarfile(good)


def test_bytes_images_cannot_be_stored_as_paths(tmp_path):
    result = CliRunner().invoke(
        app, ["build", str(COLLECTIONS / "webdataset"), "--source", "webdataset", "--no-embed-images",
              "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert "--no-embed-images" in one_line_error(result)


def test_a_changed_collection_is_refused_in_the_same_out_without_overwrite(tmp_path):
    rows = [{"id": 1, "caption": "A man riding a horse on a beach."}]
    table = _table(tmp_path / "t.parquet", rows)
    options = CollectionOptions(path=table, id_column="id", text_only=True)
    build_collection(BuildOptions(out=tmp_path / "out"), options)
    _table(table, rows + [{"id": 2, "caption": "A dog chasing a cat in a yard."}])
    result = CliRunner().invoke(app, ["build", str(table), "--id-column", "id", "--text-only", "--out", str(tmp_path / "out")])
    assert "--overwrite" in one_line_error(result)


def test_a_text_only_build_is_refused_by_the_trainer_with_one_line(builds, tmp_path):
    result = CliRunner().invoke(
        app, ["finetune", str(builds["csv"].out), "--model", "tiny-clip", "--pretrained", "none", "--precision", "fp32",
              "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "text-only build" in result.output.strip().splitlines()[-1]


def test_a_webdataset_build_stopped_while_writing_resumes_to_the_same_shards(builds, tmp_path, monkeypatch):
    """The images written out of the tars stay staged: the rerun reuses them, the mining and the
    shards finished before the stop."""
    write = relaug.build.write_shard
    filling_up, _ = disk_full_at(write, 3)
    options = BuildOptions(out=tmp_path / "out")
    monkeypatch.setattr(relaug.build, "write_shard", filling_up)
    with pytest.raises(StoppedError):
        build_collection(options, SOURCES["webdataset"])
    monkeypatch.setattr(relaug.build, "write_shard", write)
    report = build_collection(options, SOURCES["webdataset"])
    assert report.corpus_reused and report.shards_reused == 2
    assert not (options.out / ".relaug-staging").exists()

    def files(out: Path) -> dict[str, bytes]:
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.glob("*/*.parquet"))}

    assert files(options.out) == files(builds["webdataset"].out)


def test_a_build_inside_the_collection_folder_never_reads_its_own_shards(tmp_path):
    folder = tmp_path / "collection"
    folder.mkdir()
    _table(folder / "captions.parquet", [{"id": 1, "caption": "A man riding a horse on a beach."}])
    options = CollectionOptions(path=folder, id_column="id", text_only=True)
    first = build_collection(BuildOptions(out=folder / "shards"), options)
    again = build_collection(BuildOptions(out=folder / "shards"), options)
    assert first.captions_read == again.captions_read == 1

from __future__ import annotations

import codecs
import dataclasses
import json
import shutil

import pyarrow.parquet as pq
import pytest
import typer
from helpers import one_line_error
from typer.testing import CliRunner

from relaug.build import SAMPLE_ROOT, BuildOptions, build_coco
from relaug.cli import app
from relaug.coco import read_captions, read_coco
from relaug.mine import MineOptions, mine_file
from relaug.options import TrainOptions

runner = CliRunner()




def test_build_coco_without_root_builds_the_bundled_sample(tmp_path):
    out = tmp_path / "shards"
    result = runner.invoke(app, ["build-coco", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "sample" in result.output and "--coco-root" in result.output
    triples = [r for path in sorted((out / "triples").glob("*.parquet")) for r in pq.read_table(path).to_pylist()]
    swaps = sum(n["kind"] == "verb_swap" for r in triples for n in r["negatives"])
    with_any = sum(bool(r["negatives"]) for r in triples)
    assert swaps and f"{swaps:,} verb swaps" in result.output
    assert f"on {with_any:,} of {len(triples):,} relations" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f["split"] for f in manifest["files"]} == {"train", "validation", "test"}


def test_missing_coco_root_is_a_one_line_error(tmp_path):
    line = one_line_error(
        runner.invoke(app, ["build-coco", "--coco-root", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    )
    assert "--coco-root" in line and "nope" in line


@pytest.mark.parametrize("content", ['{"images": []}', "just some text\n"])
def test_caption_file_that_is_not_coco_is_a_one_line_error(tmp_path, content):
    captions = tmp_path / "captions.json"
    captions.write_text(content)
    line = one_line_error(runner.invoke(app, ["mine", str(captions), "--out", str(tmp_path / "t.jsonl")]))
    assert str(captions) in line
    assert not (tmp_path / "t.jsonl").exists()


def test_mine_writes_one_line_per_caption_in_input_order(tmp_path):
    captions = tmp_path / "captions.jsonl"
    rows = [
        {"caption_id": 3, "image_id": 9, "caption": "A man riding a horse on a beach."},
        {"caption_id": 1, "image_id": 9, "caption": "A close up view."},
        {"caption_id": 2, "image_id": 8, "caption": "A cat is sitting on a table."},
    ]
    captions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "triples.jsonl"
    result = runner.invoke(app, ["mine", str(captions), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["caption_id"], line["image_id"], line["caption"]) for line in lines] == [
        (r["caption_id"], r["image_id"], r["caption"]) for r in rows
    ]
    assert lines[0]["triples"][0] == {
        "subject": "man", "relation": "ride", "object": "horse", "relation_kind": "dynamic",
    }  # fmt: skip
    assert lines[1]["triples"] == []
    assert {"subject": "cat", "relation": "sit on", "object": "table"}.items() <= lines[2]["triples"][0].items()


def test_caption_file_that_does_not_exist_is_a_one_line_error(tmp_path):
    line = one_line_error(runner.invoke(app, ["mine", str(tmp_path / "nope.json"), "--out", str(tmp_path / "t")]))
    assert "nope.json" in line


def test_bad_shard_size_is_a_one_line_error(tmp_path):
    line = one_line_error(runner.invoke(app, ["build-coco", "--out", str(tmp_path), "--max-shard-size", "lots"]))
    assert "--max-shard-size" in line


@pytest.mark.parametrize("command", ["mine", "build-coco"])
def test_an_out_that_cannot_be_written_is_a_one_line_error(tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    out = blocker / ("triples.jsonl" if command == "mine" else "shards")
    source = [str(SAMPLE_ROOT / "annotations" / "captions_val2017.json")] if command == "mine" else ["--coco-root", str(SAMPLE_ROOT)]
    line = one_line_error(runner.invoke(app, [command, *source, "--out", str(out)]))
    assert f"--out {out}: cannot write there (Not a directory)" in line
    assert blocker.read_text() == "not a folder\n"


def test_version_names_the_installed_package():
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"relaug {version('relaug')}"


# Encodings editors write: UTF-8 with a byte-order mark (Notepad), UTF-16 with one (PowerShell's >).
ENCODINGS = ["utf-8-sig", "utf-16", "utf-16-be-bom"]


def _encoded(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_mine_reads_captions_in_any_unicode_encoding_with_a_byte_order_mark(tmp_path, encoding):
    text = '{"caption_id": 1, "image_id": 2, "caption": "A café owner riding a horse."}\n'
    captions = tmp_path / "captions.jsonl"
    captions.write_bytes(_encoded(text, encoding))
    assert read_captions(captions) == read_captions_text(tmp_path, text)
    out = tmp_path / "triples.jsonl"
    assert runner.invoke(app, ["mine", str(captions), "--out", str(out), "--workers", "1"]).exit_code == 0
    (line,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert line["caption"] == "A café owner riding a horse." and line["triples"][0]["relation"] == "ride"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_build_coco_reads_annotation_files_in_any_unicode_encoding_with_a_byte_order_mark(tmp_path, encoding):
    root = tmp_path / "coco"
    shutil.copytree(SAMPLE_ROOT, root)
    for name in ("captions_val2017.json", "instances_val2017.json"):
        path = root / "annotations" / name
        path.write_bytes(_encoded(path.read_text(encoding="utf-8"), encoding))
    as_shipped, re_encoded = read_coco(SAMPLE_ROOT), read_coco(root)
    assert [(i.image_id, i.captions, i.instances) for i in re_encoded.images] == [
        (i.image_id, i.captions, i.instances) for i in as_shipped.images
    ]


def test_text_in_another_encoding_is_one_line_saying_how_to_save_it(tmp_path):
    captions = tmp_path / "latin1.jsonl"
    captions.write_bytes('{"caption_id": 1, "image_id": 2, "caption": "A café."}\n'.encode("latin-1"))
    line = one_line_error(runner.invoke(app, ["mine", str(captions), "--out", str(tmp_path / "t.jsonl")]))
    assert str(captions) in line and "not UTF-8 text" in line and "save it as UTF-8" in line


def test_mine_with_a_folder_as_out_stops_before_any_work(tmp_path):
    line = one_line_error(
        runner.invoke(app, ["mine", str(SAMPLE_ROOT / "annotations" / "captions_val2017.json"), "--out", str(tmp_path)])
    )
    assert f"--out {tmp_path}: a directory" in line


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_spacy_model_not_installed_is_one_line_naming_it_before_any_work(tmp_path, workers):
    """With workers, each loads its own pipeline: the job says what is missing, not that a worker died."""
    captions = tmp_path / "captions.jsonl"
    captions.write_text("".join(json.dumps({"caption_id": k, "image_id": k, "caption": "A dog on a bed."}) + "\n" for k in range(5000)))
    out = tmp_path / "t.jsonl"
    command = ["mine", str(captions), "--out", str(out), "--workers", workers, "--spacy-model", "en_no_such_pipeline"]
    line = one_line_error(runner.invoke(app, command))
    assert "'en_no_such_pipeline' is not installed" in line and "--spacy-model" in line
    assert not out.exists()


def read_captions_text(folder, text: str):
    plain = folder / "plain.jsonl"
    plain.write_text(text, encoding="utf-8")
    return read_captions(plain)


def test_the_library_prints_nothing_and_tells_its_progress_to_whoever_asks(tmp_path, capfd):
    """mine_file and build_coco report through `progress`; only the CLI draws."""
    started, noted = [], []

    class Recorder:
        def start(self, description, total, done=0):
            started.append((description, total))
            return lambda units: None

        def note(self, message):
            noted.append(message)

    captions = tmp_path / "captions.jsonl"
    captions.write_text('{"caption_id": 1, "image_id": 2, "caption": "A man riding a horse."}\n')
    report = mine_file(MineOptions(captions=captions, out=tmp_path / "t.jsonl", workers=1), Recorder())
    assert report.triples == 1
    assert started == [("Mining captions", 1)]
    build_coco(BuildOptions(out=tmp_path / "shards", workers=1), Recorder())
    assert [d for d, _ in started[1:]] == [
        "Reading COCO annotations", "Mining captions, checking images", "Mining reference captions",
        "Building negatives and partners", "Writing shards",
    ]
    assert len(noted) == 1 and "bundled COCO sample" in noted[0]
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize(
    "command, options", [("mine", MineOptions), ("build-coco", BuildOptions), ("finetune", TrainOptions)]
)
def test_every_option_defaults_to_what_the_library_does(command, options):
    """An option's default is its options record's: the CLI and Python give the same run."""
    click_command = typer.main.get_command(app).commands[command]
    fields = {f.name: f.default for f in dataclasses.fields(options) if f.default is not dataclasses.MISSING}
    compared = 0
    for param in click_command.params:
        if param.name in fields and param.default is not None:
            assert param.default == fields[param.name], param.name
            compared += 1
    assert compared >= 3

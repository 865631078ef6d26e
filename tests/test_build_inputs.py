"""build-coco over a corpus of broken inputs, generated here: every bad record is skipped and counted
by its reason, every good one is written, and a broken file stops the build before anything is written."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import datasets
import PIL.Image
import pytest
from test_images import CASES, write_case
from typer.testing import CliRunner

from relaug.build import SAMPLE_ROOT, BuildOptions, build_coco
from relaug.cli import app
from relaug.reasons import Skip

GOOD = "A man riding a horse on a beach."
NON_ASCII = ["Un homme à cheval sur la plage près de l'eau.", "A dog 🐶 catching a frisbee 🥏 in the park."]


def _sample(name: str) -> dict:
    return json.loads((SAMPLE_ROOT / "annotations" / name).read_text())


def _image(image_id: int, file_name: object) -> dict:
    return {"id": image_id, "file_name": file_name, "width": 640, "height": 480}


def _broken_root(base: Path) -> tuple[Path, dict]:
    """The sample's val2017 plus one image per broken case and one caption record per broken shape.

    Returns the root and the skip counts the build must report.
    """
    root = base / "coco"
    shutil.copytree(SAMPLE_ROOT / "val2017", root / "val2017")
    (root / "annotations").mkdir()
    (base / "outside.jpg").write_bytes(CASES["rgb.jpg"][0]())  # a real image the build must never open
    captions, instances = _sample("captions_val2017.json"), _sample("instances_val2017.json")
    images, annotations = list(captions["images"]), list(captions["annotations"])
    next_caption = iter(range(900_000, 901_000))

    def add(image_id: int, file_name: object, text: str = GOOD) -> None:
        images.append(_image(image_id, file_name))
        annotations.append({"id": next(next_caption), "image_id": image_id, "caption": text})

    # One image per file case, each with a caption that mines a relation.
    for k, name in enumerate(sorted(CASES)):
        write_case(root / "val2017", name)
        add(800_000 + k, name)
    add(800_100, "never-written.jpg")
    add(800_101, "/etc/passwd")
    add(800_102, "../../outside.jpg")
    add(800_103, 12345)  # file_name not a string: the entry is dropped, so its caption's image is unlisted
    images.append({"id": "800104", "file_name": "rgb.jpg"})  # id not an integer
    images.append(_image(800_000, "rgb.jpg"))  # duplicate id
    # Captions: the non-ASCII ones are good records; the rest each break one rule.
    polyglot = 800_200
    shutil.copy(root / "val2017" / "rgb.jpg", root / "val2017" / "polyglot.jpg")
    images.append(_image(polyglot, "polyglot.jpg"))
    for text in NON_ASCII:
        annotations.append({"id": next(next_caption), "image_id": polyglot, "caption": text})
    first = annotations[0]
    annotations += [
        {"id": 910_001, "image_id": polyglot, "caption": 42},
        {"id": 910_002, "image_id": polyglot, "caption": None},
        {"id": 910_003, "image_id": str(polyglot), "caption": GOOD},
        {"id": "910004", "image_id": polyglot, "caption": GOOD},
        "not a record",
        {"id": 910_006, "image_id": polyglot, "caption": ""},
        {"id": 910_007, "image_id": polyglot, "caption": " \n\t "},
        {"id": 910_008, "image_id": polyglot, "caption": "a man riding a horse " * 500},
        {"id": 910_009, "image_id": 999_999, "caption": GOOD},
        {"id": first["id"], "image_id": first["image_id"], "caption": "A duplicate of another caption's id."},
    ]
    instances["annotations"] += [
        {"id": 1, "image_id": first["image_id"], "category_id": 999, "bbox": [0, 0, 5, 5], "iscrowd": 0},
        {"id": 2, "image_id": first["image_id"], "category_id": 1, "bbox": "oops", "iscrowd": 0},
    ]
    (root / "annotations/captions_val2017.json").write_text(
        json.dumps({**captions, "images": images, "annotations": annotations}, ensure_ascii=False)
    )
    (root / "annotations/instances_val2017.json").write_text(json.dumps(instances))
    expected = {
        "images": {
            Skip.EMPTY: 1,
            Skip.TRUNCATED: 1,
            Skip.NOT_AN_IMAGE: 1,
            Skip.BOMB: 2,
            "image file missing": 1,
            "file_name outside the COCO root": 2,
            Skip.IMAGE_MALFORMED: 2,
            Skip.IMAGE_DUPLICATE: 1,
        },
        "captions": {
            Skip.CAPTION_NOT_TEXT: 2,
            Skip.CAPTION_IDS: 3,
            Skip.CAPTION_EMPTY: 2,
            Skip.CAPTION_TOO_LONG: 1,
            Skip.CAPTION_UNLISTED: 2,
            Skip.CAPTION_DUPLICATE: 1,
        },
        "instances": {Skip.INSTANCE_CATEGORY: 1, Skip.INSTANCE_MALFORMED: 1},
    }
    return root, expected


@pytest.fixture(scope="module")
def broken_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("broken")
    root, expected = _broken_root(base)
    opened = []

    def audit(event: str, args: tuple) -> None:
        if event == "open" and recording and isinstance(args[0], (str, Path)):
            opened.append(Path(args[0]))

    recording = False
    sys.addaudithook(audit)  # hooks cannot be removed; `recording` confines this one to the build
    recording = True
    try:
        report = build_coco(BuildOptions(out=base / "shards", coco_root=root, workers=1))
    finally:
        recording = False
    return report, expected, root, opened


def test_every_bad_record_is_skipped_and_counted_by_reason(broken_build):
    report, expected, _, _ = broken_build
    assert dict(report.skipped_captions) == expected["captions"]
    assert dict(report.skipped_instances) == expected["instances"]
    # Whether the sample's own images mine a relation is the miner's business, not this test's.
    file_problems = {k: n for k, n in report.skipped_images.items() if k != "no relation mined from its captions"}
    assert file_problems == expected["images"]
    assert dict(report.converted_images) == {"CMYK": 1, "I;16": 1, "RGBA": 1}


def test_counts_reach_the_card_and_the_manifest(broken_build):
    report, expected, _, _ = broken_build
    manifest = json.loads((report.out / "manifest.json").read_text())
    assert manifest["skipped"] == {kind: dict(sorted(c.items())) for kind, c in report.skipped.items()}
    assert manifest["converted_images"] == {"CMYK": 1, "I;16": 1, "RGBA": 1}
    card = (report.out / "README.md").read_text()
    for kind, reasons in expected.items():
        for reason, n in reasons.items():
            assert f"| {kind} | {reason} | {n} |" in card


def test_no_good_record_is_lost(broken_build, sample_dataset, tmp_path):
    report, _, _, _ = broken_build
    ds = datasets.load_dataset(str(report.out), cache_dir=str(tmp_path / "cache"))
    rows = {r["image_id"]: r for split in ds.values() for r in split.select_columns(["image_id", "captions"])}
    # Every sample image the clean build writes is written here, with every caption.
    for split in ("validation", "test"):
        for clean in sample_dataset[split].select_columns(["image_id", "captions"]):
            assert rows[clean["image_id"]]["captions"] == clean["captions"]
    # The readable odd files are written, and the non-ASCII captions kept exactly.
    for k, name in enumerate(sorted(CASES)):
        assert ((800_000 + k) in rows) == (CASES[name][1] is None), name
    assert [c["caption"] for c in rows[800_200]["captions"]] == NON_ASCII


def test_every_written_image_decodes(broken_build, tmp_path):
    report, _, _, _ = broken_build
    ds = datasets.load_dataset(str(report.out), cache_dir=str(tmp_path / "cache"))
    for split in ds.values():
        for row in split:
            assert isinstance(row["image"], PIL.Image.Image) and row["image"].mode in {"RGB", "L"}
    raw = ds["validation"].cast_column("image", datasets.Image(decode=False))
    raw = raw.filter(lambda r: r["image_id"] in {800_000 + k for k in range(len(CASES))})
    for row in raw:
        PIL.Image.open(io.BytesIO(row["image"]["bytes"])).verify()


def test_no_path_outside_the_coco_root_is_opened(broken_build):
    _, _, root, opened = broken_build
    images = [p for p in opened if p.suffix in {".jpg", ".png"}]
    assert len(images) > len(CASES), "the audit hook saw no image open"
    assert all(p.resolve().is_relative_to(root.resolve()) for p in images)
    assert not [p for p in opened if p.name in {"passwd", "outside.jpg"}]


runner = CliRunner()


def _fresh_root(tmp_path: Path) -> Path:
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    for name in ("captions_val2017.json", "instances_val2017.json"):
        shutil.copy(SAMPLE_ROOT / "annotations" / name, root / "annotations" / name)
    return root


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


# (file, how it is broken, the problem the message must state)
STRUCTURAL = [
    ("captions_val2017.json", lambda t: "hello, not json", "cannot read it as JSON"),
    ("captions_val2017.json", _truncated, "cannot read it as JSON"),
    ("captions_val2017.json", lambda t: "[1, 2]", "the top level is not an object"),
    ("captions_val2017.json", lambda t: json.dumps({**json.loads(t), "annotations": None}), "no 'annotations' list"),
    ("captions_val2017.json", lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "annotations"}),
     "no 'annotations' list"),
    ("captions_val2017.json", lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "images"}),
     "no 'images' list"),
    ("instances_val2017.json", _truncated, "cannot read it as JSON"),
    ("instances_val2017.json", lambda t: json.dumps({**json.loads(t), "categories": "person"}),
     "needs 'annotations' and 'categories' lists"),
    ("instances_val2017.json", lambda t: json.dumps({**json.loads(t), "categories": [{"id": "1"}]}),
     "categories[0] lacks an integer 'id' or a string 'name'"),
    ("instances_val2017.json",
     lambda t: json.dumps({**json.loads(t), "categories": [{**c, "id": c["id"] + 1000} for c in json.loads(t)["categories"]]}),
     "no instance's category_id is in 'categories'"),
]


@pytest.mark.parametrize("name, break_it, problem", STRUCTURAL)
def test_a_broken_file_is_one_line_naming_it_exit_2_and_nothing_written(tmp_path, name, break_it, problem):
    root = _fresh_root(tmp_path)
    path = root / "annotations" / name
    path.write_text(break_it(path.read_text()))
    out = tmp_path / "shards"
    result = runner.invoke(app, ["build-coco", "--coco-root", str(root), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert str(path) in line and problem in line
    assert not out.exists()


@pytest.mark.parametrize(
    "write_it, problem",
    [(None, "No such file"), (lambda path: path.write_text("not captions\n"), "")],
)
def test_a_reference_caption_file_that_cannot_be_read_is_named_and_nothing_written(tmp_path, write_it, problem):
    reference = tmp_path / "reference.jsonl"
    if write_it is not None:
        write_it(reference)
    out = tmp_path / "shards"
    result = runner.invoke(app, ["build-coco", "--out", str(out), "--reference-captions", str(reference), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert str(reference) in result.output and problem in result.output
    assert not out.exists()

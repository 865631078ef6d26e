"""relaug.benchmarks and `relaug eval --benchmark`: the readers on fixtures in the published formats,
bad files, scoring on stub models whose answers are known, the macro arithmetic, and the CLI end to end."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import PIL.Image
import pytest
import torch
from helpers import one_line_error
from typer.testing import CliRunner

from relaug.benchmarks import (
    SUGARCREPE_CATEGORIES,
    Accuracy,
    BenchmarkData,
    Choice,
    Group,
    Skip,
    aro_scores,
    macro,
    read_benchmark,
    read_sugarcrepe,
    score_benchmark,
    sugarcrepe_scores,
)
from relaug.choices import Benchmark
from relaug.cli import app
from relaug.errors import InputError

FIXTURES = Path(__file__).parent / "data" / "benchmarks"
IMAGES = Path(__file__).parent.parent / "examples" / "coco-sample" / "val2017"
DATA = {
    Benchmark.SUGARCREPE: FIXTURES / "sugarcrepe",
    Benchmark.ARO_RELATION: FIXTURES / "aro" / "visual_genome_relation.json",
    Benchmark.ARO_ATTRIBUTION: FIXTURES / "aro" / "visual_genome_attribution.json",
    Benchmark.WINOGROUND: FIXTURES / "winoground" / "examples.jsonl",
}

runner = CliRunner()


# --------------------------------------------------------------------------------------------- readers


def test_sugarcrepe_reader_reads_every_category_file_of_the_folder():
    bench = read_benchmark("sugarcrepe", DATA[Benchmark.SUGARCREPE], IMAGES)
    assert bench.benchmark == Benchmark.SUGARCREPE
    assert Counter(c.label for c in bench.items) == {c: 2 for c in SUGARCREPE_CATEGORIES}
    assert bench.items[0] == Choice(
        "replace_obj/0",
        IMAGES / "000000022892.jpg",
        "A dog looks through a window at a cat sitting on a table.",
        "A horse looks through a window at a cat sitting on a table.",
        "replace_obj",
    )
    assert all(c.box is None and c.image.is_file() for c in bench.items)


def test_sugarcrepe_reader_takes_one_category_file():
    items = read_sugarcrepe(DATA[Benchmark.SUGARCREPE] / "swap_obj.json", IMAGES)
    assert [(c.id, c.negative) for c in items] == [
        ("swap_obj/0", "A bed sitting on a book with a lamp next to it"),
        ("swap_obj/1", "A cat looks through a window at a dog sitting on a table."),
    ]


def test_aro_relation_reader_keeps_the_box_and_the_relation():
    items = read_benchmark("aro-relation", DATA[Benchmark.ARO_RELATION], IMAGES).items
    assert len(items) == 8
    assert items[0] == Choice(
        "0", IMAGES / "000000022892.jpg", "the cat is sitting on the table", "the table is sitting on the cat",
        "sitting on", (238, 23, 262, 307),
    )  # fmt: skip
    assert Counter(c.label for c in items) == {"on": 3, "sitting on": 2, "riding": 1, "holding": 1, "wearing": 1}


def test_aro_attribution_reader_names_a_pair_as_aro_does():
    items = read_benchmark("aro-attribution", DATA[Benchmark.ARO_ATTRIBUTION], IMAGES).items
    assert len(items) == 8
    assert (items[0].label, items[0].caption, items[0].negative, items[0].box) == (
        "brown_messy", "the brown dog and the messy bed", "the messy dog and the brown bed", (0, 121, 640, 305),
    )  # fmt: skip
    for c in items:  # the boxes lie inside their images
        with PIL.Image.open(c.image) as image:
            x, y, w, h = c.box
            assert x >= 0 and y >= 0 and x + w <= image.width and y + h <= image.height


def test_winoground_reader_reads_one_group_a_line():
    groups = read_benchmark("winoground", DATA[Benchmark.WINOGROUND], IMAGES).items
    assert len(groups) == 6
    assert groups[1] == Group(
        "1", (IMAGES / "000000174231.jpg", IMAGES / "000000553664.jpg"), ("a cat lies on a laptop", "a laptop lies on a table")
    )


def test_winoground_reader_finds_the_png_its_own_file_names_without_suffix(tmp_path):
    for name in ("ex_0_img_0", "ex_0_img_1"):
        PIL.Image.new("RGB", (8, 8)).save(tmp_path / f"{name}.png")
    data = tmp_path / "examples.jsonl"
    line = {"id": 0, "image_0": "ex_0_img_0", "image_1": "ex_0_img_1", "caption_0": "a b", "caption_1": "b a", "tag": "x"}
    data.write_text(json.dumps(line) + "\n\n")
    (group,) = read_benchmark("winoground", data, tmp_path).items
    assert group.images == (tmp_path / "ex_0_img_0.png", tmp_path / "ex_0_img_1.png")


def _sugarcrepe_folder(tmp_path: Path, content: str) -> Path:
    (tmp_path / "replace_rel.json").write_text(content)
    return tmp_path


BAD_FILES = {
    "sugarcrepe file that is a list": (
        "sugarcrepe", "replace_rel.json", '[{"filename": "000000022892.jpg", "caption": "a", "negative_caption": "b"}]',
    ),
    "sugarcrepe item without negative_caption": (
        "sugarcrepe", "replace_rel.json", '{"0": {"filename": "000000022892.jpg", "caption": "a"}}',
    ),
    "sugarcrepe file that is not JSON": ("sugarcrepe", "replace_rel.json", "filename,caption\n"),
    "sugarcrepe image that is not there": (
        "sugarcrepe", "replace_rel.json", '{"0": {"filename": "nope.jpg", "caption": "a", "negative_caption": "b"}}',
    ),
    "aro file that is an object": ("aro-relation", "vgr.json", '{"image_path": "000000022892.jpg"}'),
    "aro item without relation_name": (
        "aro-relation", "vgr.json",
        '[{"image_path": "000000022892.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 9, "bbox_h": 9,'
        ' "true_caption": "a", "false_caption": "b"}]',
    ),
    "aro box that is text": (
        "aro-relation", "vgr.json",
        '[{"image_path": "000000022892.jpg", "bbox_x": "0", "bbox_y": 0, "bbox_w": 9, "bbox_h": 9,'
        ' "true_caption": "a", "false_caption": "b", "relation_name": "on"}]',
    ),
    "aro attributes that are one string": (
        "aro-attribution", "vga.json",
        '[{"image_path": "000000022892.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 9, "bbox_h": 9,'
        ' "true_caption": "a", "false_caption": "b", "attributes": "red"}]',
    ),
    "aro file with no items": ("aro-relation", "vgr.json", "[]"),
    "winoground line that is not JSON": ("winoground", "examples.jsonl", "{'id': 0}\n"),
    "winoground line without caption_1": (
        "winoground", "examples.jsonl",
        '{"id": 0, "image_0": "000000022892.jpg", "image_1": "000000022192.jpg", "caption_0": "a"}\n',
    ),
    "winoground image that is not there": (
        "winoground", "examples.jsonl",
        '{"id": 0, "image_0": "000000022892.jpg", "image_1": "nope.png", "caption_0": "a", "caption_1": "b"}\n',
    ),
}  # fmt: skip


@pytest.mark.parametrize("benchmark, name, content", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_one_input_error_naming_it(tmp_path, benchmark, name, content):
    path = tmp_path / name
    path.write_text(content)
    data = tmp_path if benchmark == "sugarcrepe" else path
    with pytest.raises(InputError) as raised:
        read_benchmark(benchmark, data, IMAGES)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("benchmark", list(DATA))  # the field's benchmarks; relaug-dense reads SHARDS (tests/test_explain.py)
def test_missing_data_or_images_is_an_input_error_naming_the_option(tmp_path, benchmark):
    with pytest.raises(InputError, match="--data"):
        read_benchmark(benchmark, tmp_path / "nope", IMAGES)
    with pytest.raises(InputError, match="--images"):
        read_benchmark(benchmark, DATA[benchmark], tmp_path / "nope")


def test_a_folder_without_sugarcrepe_files_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="none of SugarCrepe's files"):
        read_benchmark("sugarcrepe", tmp_path, IMAGES)


# --------------------------------------------------------------------------------------------- scoring


class StubClip(torch.nn.Module):
    """Features given by the stub preprocess and tokenizer: the encoders pass them through."""

    def encode_image(self, pixels, normalize=True):
        return pixels

    def encode_text(self, tokens, normalize=True):
        return tokens


class StubTokenizer:
    def __init__(self, vector):
        self.vector = vector  # text -> feature vector

    def __call__(self, texts):
        return torch.stack([torch.as_tensor(self.vector(t), dtype=torch.float) for t in texts])


class SizeRecorder:
    """Every image embeds to (1, 0); the sizes seen are kept."""

    def __init__(self):
        self.sizes = []

    def __call__(self, image):
        self.sizes.append(image.size)
        return torch.tensor([1.0, 0.0])


TRUE, FALSE = (1.0, 0.0), (0.0, 1.0)


@pytest.mark.parametrize("benchmark", [Benchmark.SUGARCREPE, Benchmark.ARO_RELATION, Benchmark.ARO_ATTRIBUTION])
@pytest.mark.parametrize(
    "true, false, expected", [(TRUE, FALSE, 1.0), (FALSE, TRUE, 0.0), (TRUE, TRUE, 0.0)], ids=["right", "wrong", "tie"]
)
def test_a_choice_is_right_when_the_image_prefers_the_true_caption_and_a_tie_is_wrong(benchmark, true, false, expected):
    bench = read_benchmark(benchmark, DATA[benchmark], IMAGES)
    captions = {c.caption for c in bench.items}
    assert not captions & {c.negative for c in bench.items}
    report = score_benchmark(
        bench, model=StubClip(), preprocess=SizeRecorder(), tokenizer=StubTokenizer(lambda t: true if t in captions else false)
    )
    assert report.items == report.scored == len(bench.items) and not report.skipped
    assert all(a.accuracy == expected for a in report.by_label.values())
    assert all(s.value == expected for s in report.scores.values() if s.n)


def test_aro_is_scored_on_the_image_cropped_to_the_box():
    bench = read_benchmark("aro-relation", DATA[Benchmark.ARO_RELATION], IMAGES)
    preprocess = SizeRecorder()
    score_benchmark(bench, model=StubClip(), preprocess=preprocess, tokenizer=StubTokenizer(lambda t: TRUE))
    boxes = dict.fromkeys((c.image, c.box) for c in bench.items)  # each image and box is read once
    assert sorted(preprocess.sizes) == sorted((w, h) for _, (x, y, w, h) in boxes)


# Winoground: images embed by colour, captions by text, so each similarity is set by hand.
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "grey": (128, 128, 128)}
IMAGE_FEATURES = {(255, 0, 0): (1.0, 0.0), (0, 255, 0): (0.0, 1.0), (0, 0, 255): (0.5, 0.1), (128, 128, 128): (0.6, 0.9)}


def _winoground(tmp_path: Path, groups: list[tuple[str, str, str, str]]) -> BenchmarkData:
    for colour, rgb in COLOURS.items():
        PIL.Image.new("RGB", (4, 4), rgb).save(tmp_path / f"{colour}.png")
    data = tmp_path / "groups.jsonl"
    lines = [dict(id=i, image_0=f"{a}.png", image_1=f"{b}.png", caption_0=c0, caption_1=c1) for i, (a, b, c0, c1) in enumerate(groups)]
    data.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return read_benchmark("winoground", data, tmp_path)


def _score_winoground(bench: BenchmarkData, text_features: dict[str, tuple[float, float]]):
    preprocess = lambda image: torch.tensor(IMAGE_FEATURES[image.getpixel((0, 0))])
    return score_benchmark(bench, model=StubClip(), preprocess=preprocess, tokenizer=StubTokenizer(text_features.get))


def test_winoground_text_image_and_group_scores(tmp_path):
    captions = {"x": (1.0, 0.0), "y": (0.0, 1.0), "same": (1.0, 1.0)}
    bench = _winoground(
        tmp_path,
        [
            ("red", "green", "x", "y"),  # s00 1, s10 0, s01 0, s11 1: all right
            ("green", "red", "x", "y"),  # the captions exchanged: all wrong
            # s00 .5, s10 .1, s01 .6, s11 .9: each image prefers its caption, but caption 0 prefers image 1
            ("blue", "grey", "x", "y"),
            ("red", "green", "same", "same"),  # ties everywhere: wrong
        ],
    )
    report = _score_winoground(bench, captions)
    assert {name: (s.value, s.n, s.over) for name, s in report.scores.items()} == {
        "text": (2 / 4, 4, "groups"), "image": (1 / 4, 4, "groups"), "group": (1 / 4, 4, "groups"),
    }  # fmt: skip
    assert report.by_label == {}


# --------------------------------------------------------------------------------------------- arithmetic


def test_sugarcrepe_groups_are_the_mean_of_their_categories_present():
    by_category = {"replace_obj": Accuracy(1, 2), "replace_att": Accuracy(3, 4), "replace_rel": Accuracy(0, 1), "swap_obj": Accuracy(2, 5)}
    scores = sugarcrepe_scores(by_category)
    assert list(scores) == ["replace_obj", "replace_att", "replace_rel", "swap_obj", "replace", "swap"]
    assert scores["replace"].value == pytest.approx((0.5 + 0.75 + 0.0) / 3) and scores["replace"].n == 3
    assert scores["swap"].value == pytest.approx(0.4) and (scores["swap"].n, scores["swap"].over) == (1, "categories")
    assert "add" not in scores  # none of its categories present
    assert (scores["replace_att"].value, scores["replace_att"].n) == (0.75, 4)


def test_aro_macro_is_over_labels_and_micro_over_items():
    by_label = {"on": Accuracy(3, 4), "by": Accuracy(0, 1), "under": Accuracy(0, 0)}
    scores = aro_scores(by_label, Benchmark.ARO_RELATION)
    assert (scores["macro"].value, scores["macro"].n, scores["macro"].over) == (0.375, 2, "relations")
    assert (scores["micro"].value, scores["micro"].n) == (0.6, 5)
    assert "macro_25_plus" not in scores


def test_aro_attribution_also_reports_the_macro_over_pairs_of_25_items_or_more():
    by_label = {"red_blue": Accuracy(20, 25), "big_small": Accuracy(0, 24)}
    scores = aro_scores(by_label, Benchmark.ARO_ATTRIBUTION)
    assert scores["macro"].value == pytest.approx(0.4)
    assert (scores["macro_25_plus"].value, scores["macro_25_plus"].n) == (0.8, 1)
    assert macro([], "pairs").value is None


# --------------------------------------------------------------------------------------------- unreadable items


def test_an_unreadable_image_or_an_empty_box_skips_its_items_and_is_counted(tmp_path):
    (tmp_path / "good.png").parent.mkdir(exist_ok=True)
    PIL.Image.new("RGB", (16, 16), (255, 0, 0)).save(tmp_path / "good.png")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    items = [
        Choice("0", tmp_path / "good.png", "a", "b", "on", (0, 0, 8, 8)),
        Choice("1", tmp_path / "bad.jpg", "a", "b", "on", (0, 0, 8, 8)),
        Choice("2", tmp_path / "good.png", "a", "b", "by", (4, 4, 0, 8)),
    ]
    bench = BenchmarkData(Benchmark.ARO_RELATION, tmp_path / "vgr.json", tmp_path, items)
    report = score_benchmark(bench, model=StubClip(), preprocess=SizeRecorder(), tokenizer=StubTokenizer({"a": TRUE, "b": FALSE}.get))
    assert (report.items, report.scored) == (3, 1)
    assert report.skipped == {Skip.UNREADABLE: 1, Skip.EMPTY_BOX: 1}
    assert report.by_label == {"by": Accuracy(0, 0), "on": Accuracy(1, 1)}
    assert report.scores["micro"].value == 1.0 and report.scores["macro"].n == 1
    assert report.to_dict()["skipped"] == {"image file unreadable": 1, "box of no area": 1}


# --------------------------------------------------------------------------------------------- the CLI


def _eval(*args: str):
    return runner.invoke(app, ["eval", *args])




@pytest.mark.parametrize("benchmark", list(DATA))  # the field's benchmarks; relaug-dense reads SHARDS (tests/test_explain.py)
def test_eval_benchmark_writes_the_json_and_prints_the_table(tmp_path, benchmark):
    out = tmp_path / "report.json"
    result = _eval(
        "--benchmark", benchmark, "--data", str(DATA[benchmark]), "--images", str(IMAGES),
        "--model", "tiny-clip", "--pretrained", "none", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["benchmark"] == benchmark and report["items"] == report["scored"] > 0
    expected = {
        Benchmark.SUGARCREPE: [*SUGARCREPE_CATEGORIES, "replace", "swap", "add"],
        Benchmark.ARO_RELATION: ["macro", "micro"],
        Benchmark.ARO_ATTRIBUTION: ["macro", "micro", "macro_25_plus"],
        Benchmark.WINOGROUND: ["text", "image", "group"],
    }[benchmark]
    assert list(report["scores"]) == expected
    assert all(s["value"] is None or 0 <= s["value"] <= 1 for s in report["scores"].values())
    assert f"relaug eval: {benchmark}" in result.stdout
    assert all(name in result.stdout for name in expected)
    assert str(out) in result.output


def test_eval_benchmark_writes_next_to_the_checkpoints_run(tmp_path):
    from relaug.models import create_clip

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    tiny = create_clip("tiny-clip", "none")
    torch.save({"epoch": 1, "name": "tiny-clip", "state_dict": tiny.model.state_dict()}, run / "checkpoints" / "latest.pt")
    result = _eval(
        "--benchmark", "winoground", "--data", str(DATA[Benchmark.WINOGROUND]), "--images", str(IMAGES),
        "--checkpoint", str(run / "checkpoints" / "latest.pt"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((run / "eval_winoground.json").read_text())["scores"]["group"]["n"] == 6


def test_eval_benchmark_writes_to_the_current_folder_without_a_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = DATA[Benchmark.ARO_RELATION]
    result = _eval("--benchmark", "aro-relation", "--data", str(data), "--images", str(IMAGES), "--model", "tiny-clip", "--pretrained", "none")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "eval_aro-relation.json").is_file()


@pytest.mark.parametrize(
    "args, words",
    [
        ([], ["SHARDS", "--benchmark"]),
        (["--benchmark", "sugarcrepe", "--pretrained", "none"], ["--data", "--images"]),
        (["--benchmark", "sugarcrepe", "--data", "d", "--images", "i", "--split", "train"], ["--split"]),
        (["--benchmark", "sugarcrepe", "--data", "d", "--images", "i"], ["--checkpoint", "--pretrained"]),
        (["--data", "d", "--images", "i"], ["SHARDS", "--benchmark"]),
    ],
    ids=["neither", "no data", "split", "no model", "data without benchmark"],
)
def test_eval_benchmark_usage_errors_are_one_line(args, words):
    line = one_line_error(_eval(*args))
    assert all(word in line for word in words), line


def test_eval_with_an_unknown_benchmark_is_a_usage_error():
    result = _eval("--benchmark", "nope")
    assert result.exit_code == 2 and "nope" in result.output


def test_eval_with_shards_and_a_benchmark_is_a_one_line_error(tmp_path):
    line = one_line_error(_eval(str(tmp_path), "--benchmark", "winoground", "--pretrained", "none"))
    assert "not both" in line


def test_eval_benchmark_bad_file_is_a_one_line_error_naming_it(tmp_path):
    data = tmp_path / "vgr.json"
    data.write_text('{"not": "a list"}')
    line = one_line_error(
        _eval("--benchmark", "aro-relation", "--data", str(data), "--images", str(IMAGES), "--model", "tiny-clip", "--pretrained", "none")
    )
    assert str(data) in line and "VG-Relation" in line

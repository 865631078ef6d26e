"""Score a CLIP model on the field's compositionality benchmarks, read in their published formats.

- SugarCrepe: one JSON per category (`replace_obj.json`, ...), each a map of id ->
  {filename, caption, negative_caption} over COCO val2017 images. An item is right
  when its image is closer to the caption than to the negative caption (ties wrong).
  Reported: accuracy per category, and per group (replace, swap, add) the mean of
  its categories, as SugarCrepe's table does.
- ARO's VG-Relation and VG-Attribution: a JSON list of items (image_path, the box
  bbox_x/y/w/h, true_caption, false_caption, and relation_name or attributes),
  scored on the image cropped to the box, as ARO does; true > false (ties wrong).
  Reported: the macro accuracy over relation names / attribute pairs and the micro
  accuracy over items; for VG-Attribution also the macro over the pairs of 25
  items or more, the pairs ARO's own scoring keeps.
- Winoground: a JSONL of groups (id, image_0, image_1, caption_0, caption_1),
  caption i true of image i. Text score: for each image its caption wins; image
  score: for each caption its image wins; group score: both.

Readers check the files before any model runs: a missing file, a file not in the
format, or an image that is not there is an InputError naming the file. An image
that is there but cannot be decoded (or an ARO box of no area) skips its items,
which the report counts by reason.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import PIL.Image
import torch

from relaug.choices import Benchmark
from relaug.errors import InputError, unwritable_out
from relaug.evaluate import (
    Accuracy,
    check_model_choice,
    check_writable,
    encode_texts,
    load_model,
    report_path,
    write_report,
)
from relaug.options import BenchmarkOptions
from relaug.progress import SILENT, Progress
from relaug.reasons import Skip

# SugarCrepe's categories by group, in the order of its paper's table.
SUGARCREPE_GROUPS: dict[str, tuple[str, ...]] = {
    "replace": ("replace_obj", "replace_att", "replace_rel"),
    "swap": ("swap_obj", "swap_att"),
    "add": ("add_obj", "add_att"),
}
SUGARCREPE_CATEGORIES = tuple(c for categories in SUGARCREPE_GROUPS.values() for c in categories)

# ARO's scoring of VG-Attribution keeps only the attribute pairs with this many items or more.
ARO_MIN_PAIR_ITEMS = 25

_NAMES = {
    Benchmark.SUGARCREPE: "SugarCrepe",
    Benchmark.ARO_RELATION: "VG-Relation",
    Benchmark.ARO_ATTRIBUTION: "VG-Attribution",
    Benchmark.WINOGROUND: "Winoground",
}

# What PIL raises on a damaged file, beside OSError, depending on the format plugin.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, PIL.Image.DecompressionBombError)


# ---------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class Choice:
    """One image and two captions, the true one and the false one (SugarCrepe, ARO)."""

    id: str
    image: Path
    caption: str
    negative: str
    label: str  # SugarCrepe: the category; VG-Relation: the relation; VG-Attribution: the pair "a_b"
    box: tuple[float, float, float, float] | None = None  # x, y, width, height: ARO scores the crop


@dataclass(frozen=True)
class Group:
    """Two images and two captions, caption i true of image i (Winoground)."""

    id: str
    images: tuple[Path, Path]
    captions: tuple[str, str]


@dataclass(frozen=True)
class BenchmarkData:
    """A benchmark's items as read from its files."""

    benchmark: Benchmark
    data: Path
    images: Path
    items: list[Choice] | list[Group]


# ---------------------------------------------------------------------------------------------
# readers


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text, so not JSON") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None


def _json_type(value: object) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def _missing_fields(item: object, strings: Sequence[str] = (), numbers: Sequence[str] = ()) -> str | None:
    """What is wrong with `item` as an object holding those string and number fields, or None."""
    if not isinstance(item, dict):
        return f"a {_json_type(item)}, not an object"
    for name in strings:
        if not isinstance(item.get(name), str):
            return f"no string {name!r}" if name not in item else f"{name!r} is not a string"
    for name in numbers:
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"no number {name!r}" if name not in item else f"{name!r} is not a number"
    return None


def _check_images_dir(images: Path) -> None:
    if not images.is_dir():
        raise InputError(f"--images {images}: no such folder")


def _check_images_exist(source: Path, paths: Iterable[Path], images: Path) -> None:
    """An InputError naming `source` when images it names are not under `images`."""
    missing = sorted({p for p in paths if not p.is_file()})
    if missing:
        example = missing[0].relative_to(images) if missing[0].is_relative_to(images) else missing[0]
        raise InputError(
            f"{source}: {len(missing):,} image(s) it names are not in --images {images}, "
            f"e.g. {example}; is --images the right folder?"
        )


def read_sugarcrepe(data: Path, images: Path) -> list[Choice]:
    """SugarCrepe's items from its data folder (every category file present), or from one category file."""
    if data.is_dir():
        files = [data / f"{c}.json" for c in SUGARCREPE_CATEGORIES if (data / f"{c}.json").is_file()]
        if not files:
            raise InputError(
                f"--data {data}: holds none of SugarCrepe's files ({', '.join(c + '.json' for c in SUGARCREPE_CATEGORIES)})"
            )
    elif data.is_file():
        if data.stem not in SUGARCREPE_CATEGORIES or data.suffix != ".json":
            raise InputError(
                f"--data {data}: not a SugarCrepe category file; give its data folder, or one of "
                f"{', '.join(c + '.json' for c in SUGARCREPE_CATEGORIES)}"
            )
        files = [data]
    else:
        raise InputError(f"--data {data}: no such file or folder")
    _check_images_dir(images)
    items: list[Choice] = []
    for file in files:
        content = _read_json(file)
        if not isinstance(content, dict):
            raise InputError(
                f"{file}: not SugarCrepe's format: a JSON {_json_type(content)}, not an object of "
                "id -> {filename, caption, negative_caption}"
            )
        category = file.stem
        for key, item in content.items():
            if problem := _missing_fields(item, ("filename", "caption", "negative_caption")):
                raise InputError(f"{file}: item {key!r} is not SugarCrepe's format: {problem}")
            image = images / item["filename"]
            items.append(Choice(f"{category}/{key}", image, item["caption"], item["negative_caption"], category))
        _check_images_exist(file, (c.image for c in items if c.label == category), images)
    if not items:
        raise InputError(f"--data {data}: its SugarCrepe files hold no items")
    return items


def read_aro(data: Path, images: Path, benchmark: Benchmark) -> list[Choice]:
    """ARO's VG-Relation (`aro-relation`) or VG-Attribution (`aro-attribution`) items from its JSON list."""
    if benchmark not in (Benchmark.ARO_RELATION, Benchmark.ARO_ATTRIBUTION):
        raise ValueError(f"not an ARO benchmark: {benchmark}")
    if not data.is_file():
        kind = "relation" if benchmark == Benchmark.ARO_RELATION else "attribution"
        raise InputError(f"--data {data}: no such file (ARO's visual_genome_{kind}.json)")
    _check_images_dir(images)
    name = _NAMES[benchmark]
    content = _read_json(data)
    if not isinstance(content, list):
        raise InputError(f"{data}: not {name}'s format: a JSON {_json_type(content)}, not a list of items")
    relation = benchmark == Benchmark.ARO_RELATION
    items = []
    for i, item in enumerate(content):
        strings = ("image_path", "true_caption", "false_caption") + (("relation_name",) if relation else ())
        problem = _missing_fields(item, strings, ("bbox_x", "bbox_y", "bbox_w", "bbox_h"))
        if problem is None and not relation:
            attributes = item.get("attributes")
            if not (isinstance(attributes, list) and len(attributes) == 2 and all(isinstance(a, str) for a in attributes)):
                problem = "'attributes' is not a list of two strings" if "attributes" in item else "no 'attributes'"
        if problem:
            raise InputError(f"{data}: item {i} is not {name}'s format: {problem}")
        label = item["relation_name"] if relation else "_".join(item["attributes"])  # ARO names a pair "a_b"
        box = (item["bbox_x"], item["bbox_y"], item["bbox_w"], item["bbox_h"])
        items.append(Choice(str(i), images / item["image_path"], item["true_caption"], item["false_caption"], label, box))
    if not items:
        raise InputError(f"{data}: holds no items")
    _check_images_exist(data, (c.image for c in items), images)
    return items


def _winoground_image(images: Path, name: str) -> Path:
    """The file `name` under `images`; Winoground's own examples.jsonl names its PNGs without the suffix."""
    path = images / name
    if not path.is_file() and not path.suffix and (images / f"{name}.png").is_file():
        return images / f"{name}.png"
    return path


def read_winoground(data: Path, images: Path) -> list[Group]:
    """Winoground-style groups from a JSONL, one group a line."""
    if not data.is_file():
        raise InputError(f"--data {data}: no such file (a JSONL of id, image_0, image_1, caption_0, caption_1)")
    _check_images_dir(images)
    try:
        lines = data.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{data}: not UTF-8 text, so not JSONL") from None
    except OSError as e:
        raise InputError(f"{data}: cannot be read ({e.strerror or e})") from None
    groups = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{data}, line {number}: not JSON ({e.msg}); the file must hold one JSON object a line") from None
        problem = _missing_fields(item, ("image_0", "image_1", "caption_0", "caption_1"))
        if problem is None and not isinstance(item.get("id"), int | str):
            problem = "no 'id'" if "id" not in item else "'id' is not a number or a string"
        if problem:
            raise InputError(f"{data}, line {number}: not Winoground's format: {problem}")
        groups.append(
            Group(
                str(item["id"]),
                (_winoground_image(images, item["image_0"]), _winoground_image(images, item["image_1"])),
                (item["caption_0"], item["caption_1"]),
            )
        )
    if not groups:
        raise InputError(f"{data}: holds no groups")
    _check_images_exist(data, (p for g in groups for p in g.images), images)
    return groups


def read_benchmark(benchmark: Benchmark | str, data: Path, images: Path) -> BenchmarkData:
    """The items of `benchmark` from its files at `data`, its images under `images`."""
    benchmark = Benchmark(benchmark)
    if benchmark == Benchmark.RELAUG_DENSE:
        raise InputError("relaug-dense is made of a build's own negatives: relaug eval --benchmark relaug-dense SHARDS")
    data, images = Path(data), Path(images)
    if benchmark == Benchmark.SUGARCREPE:
        items = read_sugarcrepe(data, images)
    elif benchmark == Benchmark.WINOGROUND:
        items = read_winoground(data, images)
    else:
        items = read_aro(data, images, benchmark)
    return BenchmarkData(benchmark, data, images, items)


# ---------------------------------------------------------------------------------------------
# reports


@dataclass(frozen=True)
class Score:
    """A headline figure: a share of items or groups right, or a mean of such shares (macro)."""

    value: float | None  # in [0, 1]; None when nothing was scored
    n: int  # what it is over: items, groups, or for a mean the accuracies averaged
    over: str  # "items", "groups", "categories", "relations", "attribute pairs"


@dataclass
class BenchmarkReport:
    benchmark: Benchmark
    data: Path
    images: Path
    scores: dict[str, Score]  # the headline figures, in the order the field reports them
    by_label: dict[str, Accuracy]  # per category / relation / attribute pair; empty for Winoground
    items: int  # items (Winoground: groups) read
    skipped: dict[str, int] = field(default_factory=dict)  # a Skip reason -> items not scored

    @property
    def scored(self) -> int:
        return self.items - sum(self.skipped.values())

    def to_dict(self) -> dict:
        return {
            "benchmark": str(self.benchmark),
            "data": str(self.data),
            "images": str(self.images),
            "items": self.items,
            "scored": self.scored,
            "skipped": dict(self.skipped),
            "scores": {name: {"value": s.value, "n": s.n, "over": s.over} for name, s in self.scores.items()},
            "by_label": {
                name: {"accuracy": a.accuracy, "correct": a.correct, "total": a.total} for name, a in self.by_label.items()
            },
        }


def macro(accuracies: Iterable[Accuracy], over: str, min_items: int = 1) -> Score:
    """The mean of the accuracies over `min_items` items or more (and at least one): a macro average."""
    values = [a.accuracy for a in accuracies if a.total >= max(min_items, 1)]
    return Score(sum(values) / len(values) if values else None, len(values), over)


def sugarcrepe_scores(by_category: dict[str, Accuracy]) -> dict[str, Score]:
    """Each category's accuracy, then each group's: the mean of its categories present."""
    scores = {c: Score(by_category[c].accuracy, by_category[c].total, "items") for c in SUGARCREPE_CATEGORIES if c in by_category}
    for group, categories in SUGARCREPE_GROUPS.items():
        if any(c in by_category for c in categories):
            scores[group] = macro((by_category[c] for c in categories if c in by_category), "categories")
    return scores


def aro_scores(by_label: dict[str, Accuracy], benchmark: Benchmark) -> dict[str, Score]:
    """The macro accuracy over labels, the micro accuracy over items; for VG-Attribution also ARO's
    macro over the pairs of ARO_MIN_PAIR_ITEMS items or more."""
    over = "relations" if benchmark == Benchmark.ARO_RELATION else "attribute pairs"
    correct, total = sum(a.correct for a in by_label.values()), sum(a.total for a in by_label.values())
    scores = {"macro": macro(by_label.values(), over), "micro": Score(correct / total if total else None, total, "items")}
    if benchmark == Benchmark.ARO_ATTRIBUTION:
        scores[f"macro_{ARO_MIN_PAIR_ITEMS}_plus"] = macro(by_label.values(), over, ARO_MIN_PAIR_ITEMS)
    return scores


# ---------------------------------------------------------------------------------------------
# scoring

_ImageKey = tuple[Path, tuple[float, float, float, float] | None]


class _Unusable(Exception):
    """Raised with a Skip reason when an image cannot be scored."""


def _load(key: _ImageKey, preprocess: Callable) -> torch.Tensor:
    path, box = key
    if box is not None:
        x, y, w, h = box
        if not all(math.isfinite(v) for v in box) or w <= 0 or h <= 0:
            raise _Unusable(Skip.EMPTY_BOX)
    try:
        with PIL.Image.open(path) as image:
            image = image.convert("RGB")
    except _DECODE_ERRORS as e:
        raise _Unusable(Skip.UNREADABLE) from e
    if box is not None:
        image = image.crop((x, y, x + w, y + h))  # as ARO: a box over the edge is padded black
    return preprocess(image)


@torch.no_grad()
def _encode_images(
    model, preprocess, keys: list[_ImageKey], device, batch_size: int, advance: Callable[[int], None]
) -> tuple[dict[_ImageKey, torch.Tensor], dict[_ImageKey, str]]:
    """Each image's features, and for those that could not be read, why."""

    def load(key: _ImageKey) -> torch.Tensor | str:
        try:
            return _load(key, preprocess)
        except _Unusable as e:
            return str(e)

    features: dict[_ImageKey, torch.Tensor] = {}
    unusable: dict[_ImageKey, str] = {}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(keys), batch_size):
            batch = keys[start : start + batch_size]
            loaded = list(pool.map(load, batch))
            good = [(k, t) for k, t in zip(batch, loaded) if isinstance(t, torch.Tensor)]
            unusable.update((k, t) for k, t in zip(batch, loaded) if isinstance(t, str))
            if good:
                pixels = torch.stack([t for _, t in good]).to(device)
                encoded = model.encode_image(pixels, normalize=True).float().cpu()
                features.update((k, row) for (k, _), row in zip(good, encoded))
            advance(len(batch))
    return features, unusable


def score_benchmark(
    bench: BenchmarkData,
    *,
    model,
    preprocess,
    tokenizer,
    device: torch.device | str = "cpu",
    batch_size: int = BenchmarkOptions.batch_size,
    progress: Progress = SILENT,
) -> BenchmarkReport:
    """Score `model` on the items of `bench`; `progress` is told how many images are done."""
    items = bench.items
    if bench.benchmark == Benchmark.WINOGROUND:
        keys = [(p, None) for g in items for p in g.images]
        texts = [t for g in items for t in g.captions]
    else:
        keys = [(c.image, c.box) for c in items]
        texts = [t for c in items for t in (c.caption, c.negative)]
    keys = list(dict.fromkeys(keys))
    texts = list(dict.fromkeys(texts))

    was_training = model.training
    model.eval()
    try:
        advance = progress.start(f"{_NAMES[bench.benchmark]} images", len(keys))
        images, unusable = _encode_images(model, preprocess, keys, device, batch_size, advance)
        text = dict(zip(texts, encode_texts(model, tokenizer, texts, device, batch_size).cpu()))
    finally:
        model.train(was_training)
    sim = lambda key, caption: float(images[key] @ text[caption])  # features are unit vectors: the cosine
    skipped: Counter[str] = Counter()

    if bench.benchmark == Benchmark.WINOGROUND:
        text_score, image_score, group_score = Accuracy(), Accuracy(), Accuracy()
        for g in items:
            (i0, i1), (c0, c1) = [(p, None) for p in g.images], g.captions
            if reason := unusable.get(i0) or unusable.get(i1):
                skipped[reason] += 1
                continue
            s00, s01, s10, s11 = sim(i0, c0), sim(i1, c0), sim(i0, c1), sim(i1, c1)  # s{caption}{image}
            text_right = s00 > s10 and s11 > s01  # each image prefers its own caption
            image_right = s00 > s01 and s11 > s10  # each caption prefers its own image
            outcomes = ((text_score, text_right), (image_score, image_right), (group_score, text_right and image_right))
            for accuracy, right in outcomes:
                accuracy.correct += right
                accuracy.total += 1
        named = (("text", text_score), ("image", image_score), ("group", group_score))
        scores = {name: Score(a.accuracy, a.total, "groups") for name, a in named}
        return BenchmarkReport(bench.benchmark, bench.data, bench.images, scores, {}, len(items), dict(skipped))

    by_label = {label: Accuracy() for label in dict.fromkeys(c.label for c in items)}
    for c in items:
        key = (c.image, c.box)
        if reason := unusable.get(key):
            skipped[reason] += 1
            continue
        accuracy = by_label[c.label]
        accuracy.correct += sim(key, c.caption) > sim(key, c.negative)  # a tie is wrong
        accuracy.total += 1
    if bench.benchmark == Benchmark.SUGARCREPE:
        by_label = {c: by_label[c] for c in SUGARCREPE_CATEGORIES if c in by_label}
        scores = sugarcrepe_scores(by_label)
    else:
        by_label = dict(sorted(by_label.items()))
        scores = aro_scores(by_label, bench.benchmark)
    return BenchmarkReport(bench.benchmark, bench.data, bench.images, scores, by_label, len(items), dict(skipped))


def run_benchmark(options: BenchmarkOptions, progress: Progress = SILENT) -> tuple[BenchmarkReport, Path]:
    """`relaug eval --benchmark`: read the benchmark's files (checked before the model loads), load
    the model, score it, write the JSON; the report and where it was written."""
    check_model_choice(options)
    bench = read_benchmark(options.benchmark, options.data, options.images)
    out = report_path(options.out, options.checkpoint, options.benchmark)
    check_writable(out)
    bundle, device = load_model(options, progress)
    report = score_benchmark(
        bench, model=bundle.model, preprocess=bundle.preprocess_val, tokenizer=bundle.tokenizer, device=device,
        batch_size=options.batch_size, progress=progress,
    )
    try:
        write_report(report, out)
    except OSError as e:
        raise unwritable_out(out, e) from e
    return report, out

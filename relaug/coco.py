"""Read COCO caption and instance files, resolve image paths safely, assign splits."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pycocotools.coco import COCO

from relaug.errors import InputError
from relaug.reasons import MAX_CAPTION_CHARS, Skip
from relaug.records import Caption, Instance, Split, corpus_record

# COCO 2017 folders and the published splits they feed.
COCO_FOLDERS = ("train2017", "val2017")

@corpus_record
class CocoImage:
    """An image of a COCO folder with everything annotated about it."""

    image_id: int
    file_name: str
    folder: str  # "train2017" or "val2017"
    split: Split
    captions: tuple[Caption, ...]
    instances: tuple[Instance, ...]  # empty when the root has no instance file


class UnsafeImagePath(InputError):
    """An image `file_name` that would reach outside the COCO root."""


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _caption_from(record: object, fields: tuple[str, str, str]) -> Caption | None:
    """A Caption from a JSON object with the three given keys, or None if it is not one."""
    if not isinstance(record, dict):
        return None
    caption_id, image_id, caption = (record.get(key) for key in fields)
    if not (_is_id(caption_id) and _is_id(image_id) and isinstance(caption, str)):
        return None
    return Caption(caption_id=caption_id, image_id=image_id, caption=caption)


def _coco_captions(path: Path, data: dict) -> list[Caption]:
    annotations = data.get("annotations")
    if not isinstance(annotations, list):
        raise InputError(
            f"{path}: not a COCO caption file: it has no 'annotations' list "
            "(expected COCO captions JSON or JSONL with caption_id, image_id, caption)"
        )
    captions = []
    for index, record in enumerate(annotations):
        caption = _caption_from(record, ("id", "image_id", "caption"))
        if caption is None:
            raise InputError(
                f"{path}: not a COCO caption file: annotations[{index}] lacks an integer "
                "'id', an integer 'image_id' or a string 'caption'"
            )
        captions.append(caption)
    return captions


def _jsonl_captions(path: Path, text: str) -> list[Caption]:
    captions = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        caption = _caption_from(record, ("caption_id", "image_id", "caption"))
        if caption is None:
            raise InputError(
                f"{path}: not a caption file: line {number} is not a JSON object with an "
                "integer caption_id, an integer image_id and a string caption (expected COCO "
                "captions JSON or caption JSONL)"
            )
        captions.append(caption)
    return captions


# Byte-order marks and the codecs they announce; UTF-32's before UTF-16's, which begin them.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_text(path: Path, what: str) -> str:
    """The text of an input file, for every reader of captions and annotations: UTF-8, or any
    Unicode encoding its byte-order mark names (editors on Windows write UTF-8 with one, and
    UTF-16). Raises InputError naming the file and the problem."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the {what}: {e.strerror or e}") from e
    encoding = next((codec for mark, codec in _BYTE_ORDER_MARKS if raw.startswith(mark)), "utf-8")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: the {what} is not {encoding.upper()} text (byte {e.start} cannot be read); "
            "save it as UTF-8, or as UTF-16 with a byte-order mark"
        ) from e


def read_captions(path: str | os.PathLike) -> list[Caption]:
    """The captions of a COCO captions JSON file or of a JSONL file, in file order.

    COCO JSON is an object with an `annotations` list of `{id, image_id, caption}`;
    JSONL has one `{caption_id, image_id, caption}` object per line. Raises
    InputError naming the file and what is wrong when it is neither.
    """
    path = Path(path)
    text = read_text(path, "caption file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        # Several JSON values (or none): only JSONL can be that.
        return _jsonl_captions(path, text)
    if isinstance(data, dict) and "annotations" in data:
        return _coco_captions(path, data)
    # A single-line JSONL file is also one valid JSON value.
    return _jsonl_captions(path, text)


def split_of(image_id: int, folder: str) -> Split:
    """The published split of a COCO image.

    train2017 is `train`. val2017 is cut in two halves by a hash of the image id,
    so an image's split depends on its id alone: the same in the full set and in
    any subset of it, on every machine.
    """
    if folder == "train2017":
        return "train"
    if folder == "val2017":
        return "test" if hashlib.sha256(str(image_id).encode()).digest()[0] % 2 else "validation"
    raise ValueError(f"unknown COCO folder {folder!r}; expected one of {COCO_FOLDERS}")


def image_path(root: str | os.PathLike, image: CocoImage) -> Path:
    """The file of `image` under `root`, refusing any `file_name` that would leave the root.

    The check is on the path as written (no symlink resolution), so a COCO root
    whose image folders are symlinks to another disk still works.
    """
    name = PurePosixPath(image.file_name.replace("\\", "/"))
    if not image.file_name or name.is_absolute() or ".." in name.parts or ":" in image.file_name:
        raise UnsafeImagePath(
            f"image {image.image_id}: file_name {image.file_name!r} points outside the COCO root"
        )
    return Path(root, image.folder, *name.parts)


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(read_text(path, "annotation file"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: cannot read it as JSON: {e}") from e
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a COCO annotation file: the top level is not an object")
    return data


def _index(data: dict) -> COCO:
    """A pycocotools index over already-loaded JSON (its constructor would read the file again)."""
    coco = COCO()
    coco.dataset = data
    # createIndex reports progress with print(); relaug has its own progress display.
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


@dataclass
class CocoSource:
    """The usable images of a COCO root and every record left out of them, by reason."""

    images: list[CocoImage]
    skipped_captions: Counter = field(default_factory=Counter)
    skipped_images: Counter = field(default_factory=Counter)
    skipped_instances: Counter = field(default_factory=Counter)


def _is_box(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def _instances(path: Path, source: CocoSource) -> dict[int, tuple[Instance, ...]]:
    """Instances by image id, reduced to what grounding needs (the polygons are dropped).

    Malformed instances and those whose category is not declared are counted in
    `source` and left out; a file where no instance names a declared category is
    the instances file of something else, an InputError.
    """
    data = _load_json(path)
    annotations, categories = data.get("annotations"), data.get("categories")
    if not isinstance(annotations, list) or not isinstance(categories, list):
        raise InputError(
            f"{path}: not a COCO instances file: it needs 'annotations' and 'categories' lists"
        )
    names = {}
    for index, category in enumerate(categories):
        if not (isinstance(category, dict) and _is_id(category.get("id")) and isinstance(category.get("name"), str)):
            raise InputError(
                f"{path}: not a COCO instances file: categories[{index}] lacks an integer 'id' or a string 'name'"
            )
        names[category["id"]] = category["name"]
    kept = []
    for a in annotations:
        if not (isinstance(a, dict) and _is_id(a.get("image_id")) and _is_id(a.get("category_id")) and _is_box(a.get("bbox"))):
            source.skipped_instances[Skip.INSTANCE_MALFORMED] += 1
        elif a["category_id"] not in names:
            source.skipped_instances[Skip.INSTANCE_CATEGORY] += 1
        else:
            kept.append(a)
    if annotations and not kept and source.skipped_instances[Skip.INSTANCE_CATEGORY]:
        used = sorted({a["category_id"] for a in annotations if isinstance(a, dict) and _is_id(a.get("category_id"))})
        raise InputError(
            f"{path}: no instance's category_id is in 'categories' (instances use {used[:5]}..., "
            f"categories declare {sorted(names)[:5]}...): is it the instances file of another dataset?"
        )
    # pycocotools indexes only what was checked: its createIndex assumes well-formed records.
    coco = _index({"annotations": kept, "categories": categories, "images": []})
    return {
        image_id: tuple(
            Instance(
                category=names[a["category_id"]],
                box=tuple(float(v) for v in a["bbox"]),
                crowd=bool(a.get("iscrowd", 0)),
            )
            for a in instances
        )
        for image_id, instances in coco.imgToAnns.items()
    }


def _listed_images(path: Path, data: dict, source: CocoSource) -> dict[int, str]:
    """file_name by image id of a caption file's 'images'; malformed entries counted and left out."""
    entries = data.get("images")
    if not isinstance(entries, list):
        raise InputError(f"{path}: not a COCO caption file: it has no 'images' list")
    listed: dict[int, str] = {}
    for entry in entries:
        if not (isinstance(entry, dict) and _is_id(entry.get("id")) and isinstance(entry.get("file_name"), str)):
            source.skipped_images[Skip.IMAGE_MALFORMED] += 1
        elif entry["id"] in listed:
            source.skipped_images[Skip.IMAGE_DUPLICATE] += 1
        else:
            listed[entry["id"]] = entry["file_name"]
    return listed


def _caption_skip(record: object, listed: dict[int, str], seen: set[int]) -> str | None:
    """Why a caption record cannot be used, or None."""
    if not (isinstance(record, dict) and _is_id(record.get("id")) and _is_id(record.get("image_id"))):
        return Skip.CAPTION_IDS
    caption = record.get("caption")
    if not isinstance(caption, str):
        return Skip.CAPTION_NOT_TEXT
    if not caption.strip():
        return Skip.CAPTION_EMPTY
    if len(caption) > MAX_CAPTION_CHARS:
        return Skip.CAPTION_TOO_LONG
    if record["image_id"] not in listed:
        return Skip.CAPTION_UNLISTED
    if record["id"] in seen:
        return Skip.CAPTION_DUPLICATE
    return None


def read_coco(root: str | os.PathLike) -> CocoSource:
    """Every captioned image of a COCO 2017 root, train2017 then val2017, by image id.

    Reads `annotations/captions_{train,val}2017.json` (at least one must exist)
    and, where present, `annotations/instances_{train,val}2017.json`. A file that
    cannot be read as what it should be is an InputError naming it; a record that
    cannot be used is left out and counted by reason in the returned source.
    Images without usable captions are left out: there is nothing to mine from them.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"--coco-root {root}: no such directory")
    annotations = root / "annotations"
    found = [f for f in COCO_FOLDERS if (annotations / f"captions_{f}.json").is_file()]
    if not found:
        raise InputError(
            f"--coco-root {root}: no annotations/captions_train2017.json or "
            "annotations/captions_val2017.json; point it at the folder that holds "
            "COCO's annotations/, train2017/ and val2017/"
        )
    source = CocoSource(images=[])
    seen: set[int] = set()  # caption ids are unique across COCO's files
    for folder in found:
        caption_file = annotations / f"captions_{folder}.json"
        data = _load_json(caption_file)
        if not isinstance(data.get("annotations"), list):
            raise InputError(
                f"{caption_file}: not a COCO caption file: it has no 'annotations' list"
            )
        listed = _listed_images(caption_file, data, source)
        by_image: dict[int, list[Caption]] = defaultdict(list)
        for record in data["annotations"]:
            if (reason := _caption_skip(record, listed, seen)) is not None:
                source.skipped_captions[reason] += 1
                continue
            seen.add(record["id"])
            by_image[record["image_id"]].append(Caption(record["id"], record["image_id"], record["caption"]))
        instance_file = annotations / f"instances_{folder}.json"
        instances = _instances(instance_file, source) if instance_file.is_file() else {}
        for image_id in sorted(by_image):
            source.images.append(
                CocoImage(
                    image_id=image_id,
                    file_name=listed[image_id],
                    folder=folder,
                    split=split_of(image_id, folder),
                    captions=tuple(by_image[image_id]),
                    instances=instances.get(image_id, ()),
                )
            )
    return source

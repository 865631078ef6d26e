from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from relaug.build import SAMPLE_ROOT
from relaug.coco import (
    CocoImage,
    UnsafeImagePath,
    image_path,
    read_captions,
    read_coco,
    split_of,
)
from relaug.errors import InputError
from relaug.records import Caption

VAL_CAPTIONS = Path(__file__).resolve().parents[2] / "shared/data/coco-val2017-captions/captions_val2017.json"


def test_reads_coco_caption_json_in_file_order():
    path = SAMPLE_ROOT / "annotations/captions_val2017.json"
    first = json.loads(path.read_text())["annotations"][0]
    captions = read_captions(path)
    assert len(captions) == 100
    assert captions[0] == Caption(first["id"], first["image_id"], first["caption"])


def test_reads_caption_jsonl(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_text(
        '{"caption_id": 1, "image_id": 7, "caption": "A man riding a horse."}\n\n'
        '{"caption_id": 2, "image_id": 7, "caption": "A cat on a table."}\n'
    )
    assert read_captions(path) == [
        Caption(1, 7, "A man riding a horse."),
        Caption(2, 7, "A cat on a table."),
    ]


@pytest.mark.parametrize(
    "content, problem",
    [
        ('{"images": []}', "not a caption file"),
        ('{"annotations": [{"id": 1, "caption": "no image id"}]}', "annotations[0]"),
        ('{"caption_id": 1, "image_id": 2, "caption": "ok"}\n{"caption": "no ids"}\n', "line 2"),
        ("[1, 2, 3]", "line 1"),
        ("caption\tA man riding a horse.", "line 1"),
    ],
)
def test_non_caption_file_is_an_input_error_naming_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "captions.json"
    path.write_text(content)
    with pytest.raises(InputError) as error:
        read_captions(path)
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def _image(file_name: str) -> CocoImage:
    return CocoImage(1, file_name, "val2017", "test", (), ())


@pytest.mark.parametrize("file_name", ["/etc/passwd", "../secret.jpg", "a/../../b.jpg", "..\\b.jpg", ""])
def test_image_paths_never_leave_the_coco_root(tmp_path, file_name):
    with pytest.raises(UnsafeImagePath):
        image_path(tmp_path, _image(file_name))


def test_image_path_is_under_the_split_folder(tmp_path):
    assert image_path(tmp_path, _image("000000397133.jpg")) == tmp_path / "val2017/000000397133.jpg"


def test_val2017_is_cut_into_two_halves_by_image_id():
    image_ids = {c.image_id for c in read_captions(VAL_CAPTIONS)} if VAL_CAPTIONS.is_file() else range(5000)
    splits = Counter(split_of(image_id, "val2017") for image_id in image_ids)
    assert set(splits) == {"validation", "test"}
    assert 0.45 < splits["test"] / sum(splits.values()) < 0.55
    assert split_of(397133, "train2017") == "train"


def test_val2017_split_of_an_image_never_changes():
    # Published splits must stay put across versions and machines: pinned here.
    assert split_of(397133, "val2017") == "validation"
    assert split_of(87038, "val2017") == "test"


def test_reads_the_sample_root_with_captions_and_instances():
    source = read_coco(SAMPLE_ROOT)
    images = source.images
    assert not (source.skipped_captions or source.skipped_images or source.skipped_instances)
    assert Counter(i.split for i in images) == {"train": 20, "validation": 10, "test": 10}
    assert all(len(i.captions) >= 5 for i in images)
    assert all(c.image_id == i.image_id for i in images for c in i.captions)
    with_boxes = [i for i in images if i.instances]
    assert len(with_boxes) == 40
    assert all(len(x.box) == 4 and x.category for i in with_boxes for x in i.instances)


def test_missing_root_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such directory"):
        read_coco(tmp_path / "nope")
    with pytest.raises(InputError, match="captions_train2017.json"):
        read_coco(tmp_path)

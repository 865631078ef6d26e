from __future__ import annotations

import json

import pytest

from relaug.build import SAMPLE_ROOT
from relaug.grounding import ground
from relaug.nouns import CATEGORY_OF, COCO_CATEGORIES, category_of
from relaug.records import CharSpan, Instance, Triple


def test_categories_are_cocos_80():
    instances = json.loads((SAMPLE_ROOT / "annotations/instances_val2017.json").read_text())
    assert COCO_CATEGORIES == tuple(c["name"] for c in instances["categories"])
    assert set(CATEGORY_OF.values()) == set(COCO_CATEGORIES)


@pytest.mark.parametrize(
    "noun, category",
    [
        ("man", "person"),
        ("woman", "person"),
        ("people", "person"),
        ("skier", "person"),
        ("tennis player", "person"),
        ("puppy", "dog"),
        ("kitten", "cat"),
        ("bike", "bicycle"),
        ("motorbike", "motorcycle"),
        ("dirt bike", "motorcycle"),
        ("plane", "airplane"),
        ("passenger jet", "airplane"),
        ("television", "tv"),
        ("sofa", "couch"),
        ("cellphone", "cell phone"),
        ("phone", "cell phone"),
        ("tennis racket", "tennis racket"),
        ("hot dog", "hot dog"),
        ("teddy bear", "teddy bear"),
        ("dog bed", "bed"),
        ("laptop computer", "laptop"),
        ("table", "dining table"),
    ],
)
def test_caption_nouns_ground_to_coco_categories(noun, category):
    assert category_of(noun) == category


@pytest.mark.parametrize("noun", ["view", "pizza box", "street", "glass", "group"])
def test_nouns_naming_no_category_stay_ungrounded(noun):
    assert category_of(noun) is None


def _triple(subject: str, object: str, subject_plural: bool = False, object_plural: bool = False) -> Triple:
    span = CharSpan(0, 1)
    return Triple(
        subject, "ride", object, "dynamic", span, span, span, "VBG", None,
        subject_plural, object_plural, False,
    )  # fmt: skip


PERSON = Instance("person", (10.0, 20.0, 30.0, 40.0), False)
HORSE = Instance("horse", (1.0, 2.0, 3.0, 4.0), False)


def test_box_is_attached_when_the_category_has_exactly_one_instance():
    grounding = ground(_triple("man", "horse"), (PERSON, HORSE))
    assert grounding.subject_category == "person" and grounding.object_category == "horse"
    assert grounding.subject_box == PERSON.box and grounding.object_box == HORSE.box


def test_no_box_when_ambiguous():
    two_people = (PERSON, Instance("person", (0.0, 0.0, 5.0, 5.0), False), HORSE)
    assert ground(_triple("man", "horse"), two_people).subject_box is None
    crowd = (PERSON, Instance("person", (0.0, 0.0, 50.0, 50.0), True), HORSE)
    assert ground(_triple("man", "horse"), crowd).subject_box is None
    assert ground(_triple("horse", "field", subject_plural=True), (HORSE,)).subject_box is None
    same_category = ground(_triple("man", "woman"), (PERSON,))
    assert same_category.subject_box is None and same_category.object_box is None
    assert ground(_triple("man", "horse"), ()).object_box is None

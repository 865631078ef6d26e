"""Ground a triple's subject and object to COCO categories and, when unambiguous, to a box."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from relaug.nouns import category_of
from relaug.records import Instance, Triple

Box = tuple[float, float, float, float]

@dataclass(frozen=True)
class Grounding:
    """Where a triple's subject and object sit among the image's annotated objects."""

    subject_category: str | None
    object_category: str | None
    subject_box: Box | None
    object_box: Box | None


def _single_box(
    category: str | None, plural: bool, counts: Counter, instances: tuple[Instance, ...]
) -> Box | None:
    # A box is "the" referent only for a singular noun whose category has exactly
    # one instance; a crowd region stands for many and so makes it ambiguous.
    if category is None or plural or counts[category] != 1:
        return None
    return next(i.box for i in instances if i.category == category)


def ground(triple: Triple, instances: tuple[Instance, ...]) -> Grounding:
    """Categories for the triple's subject and object, and their boxes when each is unambiguous."""
    subject_category, object_category = category_of(triple.subject), category_of(triple.object)
    counts = Counter(i.category for i in instances)
    for instance in instances:
        if instance.crowd:
            counts[instance.category] += 1
    subject_box = _single_box(subject_category, triple.subject_plural, counts, instances)
    object_box = _single_box(object_category, triple.object_plural, counts, instances)
    if subject_category == object_category:
        # Two nouns of one category need two instances: one box cannot be both.
        subject_box = object_box = None
    return Grounding(subject_category, object_category, subject_box, object_box)

"""Ground a triple's subject and object to COCO categories and, when unambiguous, to a box."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from relaug.nouns import CATEGORY_OF, COCO_CATEGORIES
from relaug.records import Instance, Triple

Box = tuple[float, float, float, float]

def category_of(noun: str) -> str | None:
    """The COCO category a caption noun names, or None.

    The whole noun is tried first ("hot dog", "teddy bear"), then ever shorter
    endings of it, since the head of an English compound is its last word:
    "passenger jet" -> "jet" -> airplane, "tennis player" -> "player" -> person.
    """
    words = noun.lower().split()
    for start in range(len(words)):
        category = CATEGORY_OF.get(" ".join(words[start:]))
        if category is not None:
            return category
    return None


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


# COCO's supercategories, by category, as its instance files give them.
_SUPERCATEGORY_RANGES = (
    ("person", "person", "person"), ("vehicle", "bicycle", "boat"), ("outdoor", "traffic light", "bench"),
    ("animal", "bird", "giraffe"), ("accessory", "backpack", "suitcase"), ("sports", "frisbee", "tennis racket"),
    ("kitchen", "bottle", "bowl"), ("food", "banana", "cake"), ("furniture", "chair", "toilet"),
    ("electronic", "tv", "cell phone"), ("appliance", "microwave", "refrigerator"), ("indoor", "book", "toothbrush"),
)
SUPERCATEGORY: dict[str, str] = {
    category: name
    for name, first, last in _SUPERCATEGORY_RANGES
    for category in COCO_CATEGORIES[COCO_CATEGORIES.index(first) : COCO_CATEGORIES.index(last) + 1]
}
# Things that hold others up and do nothing themselves, which COCO does not annotate:
# the ground, surfaces, water. "A table sitting on a cat" inverts one of these.
GROUND_NOUNS = frozenset({
    "ground", "floor", "grass", "field", "street", "road", "sidewalk", "pavement", "beach", "sand", "snow",
    "water", "ocean", "sea", "lake", "river", "pond", "wave", "hill", "hillside", "mountain", "slope", "dirt",
    "track", "court", "runway", "tarmac", "lawn", "yard", "park", "shore", "surface", "counter", "countertop",
    "shelf", "desk", "table", "ledge", "wall", "ceiling", "roof", "sky", "air", "ramp", "rail", "curb",
    "platform", "pole", "tree", "branch", "fence", "path", "trail", "highway", "lot", "parking lot", "area",
})
# Words for animals and people that COCO grounds to no single category.
_ANIMAL_NOUNS = frozenset({"animal", "pet", "puppy", "kitten", "calf", "lamb", "pony", "foal", "cub", "duck", "goose"})


def noun_class(noun: str) -> str | None:
    """The class of a caption noun, for statistics too sparse at the noun itself: its COCO
    category where it grounds (puppy -> dog, jet -> airplane), `ground` for the ground and
    surfaces, `animal` for animal words COCO does not ground, else None."""
    head = noun.lower().split()[-1]
    if noun in GROUND_NOUNS or head in GROUND_NOUNS:
        return "ground"
    category = category_of(noun)
    if category is not None:
        return category
    return "animal" if head in _ANIMAL_NOUNS else None


def noun_kind(noun: str) -> str | None:
    """What sort of thing a noun names: COCO's supercategory (person, animal, vehicle, food,
    furniture, ...) where it grounds, `ground` or `animal` as `noun_class` says, else None."""
    cls = noun_class(noun)
    return SUPERCATEGORY.get(cls, cls) if cls else None

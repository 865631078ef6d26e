"""Ground a triple's subject and object to COCO categories and, when unambiguous, to a box."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from relaug.records import Instance, Triple

Box = tuple[float, float, float, float]

# The 80 object categories of COCO 2017 instances, in COCO's id order.
COCO_CATEGORIES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

# Caption nouns (as the miner writes them: lemma, singular, lower case) that name
# a COCO category by another word. Words that name several categories or none
# reliably ("glass", "bag", "board", "animal", "vehicle") are left out on
# purpose: no grounding is better than a wrong one.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "person": (
        "man", "woman", "person", "people", "child", "kid", "boy", "girl", "baby", "toddler",
        "infant", "guy", "lady", "gentleman", "adult", "teenager", "teen", "youth", "player",
        "skier", "surfer", "snowboarder", "skateboarder", "skater", "rider", "biker",
        "cyclist", "bicyclist", "motorcyclist", "batter", "catcher", "umpire", "athlete",
        "chef", "cook", "worker", "officer", "policeman", "police officer", "soldier",
        "student", "tourist", "spectator", "fan", "customer", "vendor", "driver", "passenger",
        "pedestrian", "shopper", "friend", "mother", "father", "mom", "dad", "daughter", "son",
        "brother", "sister", "husband", "wife", "bride", "groom", "male", "female", "human",
        "individual", "businessman", "cowboy", "jockey", "fisherman", "farmer", "kiteboarder",
        "kitesurfer", "windsurfer", "paddler", "swimmer", "runner", "hiker", "traveler",
        "traveller", "tennis player", "baseball player", "soccer player",
    ),
    "bicycle": ("bicycle", "bike", "mountain bike"),
    "car": ("car", "automobile", "sedan", "taxi", "cab", "suv", "hatchback", "convertible"),
    "motorcycle": ("motorcycle", "motorbike", "motor bike", "dirt bike", "moped", "scooter"),
    "airplane": (
        "airplane", "plane", "jet", "aircraft", "airliner", "jetliner", "aeroplane", "jumbo jet",
    ),
    "bus": ("bus", "double decker", "minibus", "coach bus"),
    "train": ("train", "locomotive", "tram", "streetcar", "trolley"),
    "truck": ("truck", "pickup", "pickup truck", "lorry", "semi"),
    "boat": (
        "boat", "ship", "sailboat", "canoe", "kayak", "yacht", "ferry", "vessel", "rowboat",
        "sail boat", "speedboat", "gondola",
    ),
    "traffic light": ("traffic light", "stoplight", "stop light", "traffic signal"),
    "fire hydrant": ("fire hydrant", "hydrant"),
    "stop sign": ("stop sign",),
    "parking meter": ("parking meter", "meter"),
    "bench": ("bench", "park bench"),
    "bird": (
        "bird", "seagull", "gull", "pigeon", "duck", "goose", "swan", "parrot", "owl", "eagle",
        "hawk", "sparrow", "crow", "pelican", "heron", "chicken", "hen", "rooster", "dove",
        "finch", "flamingo", "ostrich", "penguin", "seabird",
    ),
    "cat": ("cat", "kitten", "kitty"),
    "dog": ("dog", "puppy", "pup", "doggy"),
    "horse": ("horse", "pony", "foal", "stallion", "mare"),
    "sheep": ("sheep", "lamb", "ram"),
    "cow": ("cow", "cattle", "calf", "bull", "ox", "steer", "heifer"),
    "elephant": ("elephant",),
    "bear": ("bear", "polar bear", "grizzly"),
    "zebra": ("zebra",),
    "giraffe": ("giraffe",),
    "backpack": ("backpack", "back pack", "rucksack", "knapsack"),
    "umbrella": ("umbrella", "parasol"),
    "handbag": ("handbag", "purse", "hand bag"),
    "tie": ("tie", "necktie", "neck tie", "bow tie"),
    "suitcase": ("suitcase", "suit case", "luggage"),
    "frisbee": ("frisbee", "frisbe", "frizbee"),
    "skis": ("ski", "skis"),
    "snowboard": ("snowboard", "snow board"),
    "sports ball": (
        "sports ball", "ball", "tennis ball", "soccer ball", "basketball", "volleyball",
        "beach ball",
    ),
    "kite": ("kite",),
    "baseball bat": ("baseball bat", "bat"),
    "baseball glove": ("baseball glove", "glove", "mitt"),
    "skateboard": ("skateboard", "skate board"),
    "surfboard": ("surfboard", "surf board"),
    "tennis racket": ("tennis racket", "racket", "racquet", "tennis racquet"),
    "bottle": ("bottle",),
    "wine glass": ("wine glass", "wineglass"),
    "cup": ("cup", "mug", "teacup"),
    "fork": ("fork",),
    "knife": ("knife",),
    "spoon": ("spoon",),
    "bowl": ("bowl",),
    "banana": ("banana",),
    "apple": ("apple",),
    "sandwich": ("sandwich", "sub", "panini"),
    "orange": ("orange",),
    "broccoli": ("broccoli",),
    "carrot": ("carrot",),
    "hot dog": ("hot dog", "hotdog"),
    "pizza": ("pizza",),
    "donut": ("donut", "doughnut"),
    "cake": ("cake", "cupcake", "birthday cake"),
    "chair": ("chair", "armchair"),
    "couch": ("couch", "sofa", "loveseat"),
    "potted plant": ("potted plant", "houseplant", "plant"),
    "bed": ("bed",),
    "dining table": ("dining table", "table"),
    "toilet": ("toilet",),
    "tv": ("tv", "television", "tv set", "monitor"),
    "laptop": ("laptop", "laptop computer", "notebook computer"),
    "mouse": ("mouse", "computer mouse"),
    "remote": ("remote", "remote control", "controller"),
    "keyboard": ("keyboard",),
    "cell phone": (
        "cell phone", "cellphone", "phone", "smartphone", "smart phone", "mobile phone",
        "iphone",
    ),
    "microwave": ("microwave",),
    "oven": ("oven", "stove"),
    "toaster": ("toaster",),
    "sink": ("sink",),
    "refrigerator": ("refrigerator", "fridge"),
    "book": ("book", "novel", "textbook"),
    "clock": ("clock",),
    "vase": ("vase",),
    "scissors": ("scissors", "scissor"),
    "teddy bear": ("teddy bear", "teddy", "stuffed animal", "stuffed bear"),
    "hair drier": ("hair drier", "hair dryer", "hairdryer", "blow dryer"),
    "toothbrush": ("toothbrush", "tooth brush"),
}  # fmt: skip

CATEGORY_OF: dict[str, str] = {
    word: category for category, words in _SYNONYMS.items() for word in words
}


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

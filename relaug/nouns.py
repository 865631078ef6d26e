"""Nouns: which ones name a thing in the picture, their core form, and their article."""

from __future__ import annotations

from functools import lru_cache

from lemminflect import getLemma

# Measure and collective words that only quantify what follows "of":
# "a group of people" is about people (tests/data/gold/README.md).
QUANTIFIERS = frozenset({
    "group", "couple", "bunch", "pair", "piece", "slice", "lot", "lots", "row", "herd",
    "flock", "pack", "set", "number", "variety", "assortment", "pile", "stack", "bundle",
    "crowd", "team", "line", "collection", "selection", "array", "kind", "type", "sort",
    "handful", "few", "plenty", "bit", "bite", "portion", "serving", "half",
    "cluster", "fleet", "bowlful", "plateful", "dozen", "dozens", "hundred", "thousand", "series", "display", "mix",
    "body", "roll", "flight",  # "a body of water", "a roll of toilet paper", "a flight of stairs"
    "duo", "trio", "quartet",
})

# Containers whose "of" names what they hold, which is then the thing a relation is about ("a
# cup of coffee sitting on a table" -> coffee; the cup too), as the triples spec settles it.
CONTAINERS = frozenset({
    "cup", "mug", "glass", "bottle", "jar", "can", "bowl", "plate", "platter", "dish", "tray",
    "pan", "pot", "box", "carton", "crate", "basket", "bag", "sack", "bucket", "bin", "vase",
    "pitcher", "jug", "container",
})

# Containers that quantify only when the caption names nothing else about them;
# "a plate of food" has no triple, but "a plate holds a salad" relates the plate.
DEPICTIONS = frozenset({
    "picture", "image", "photo", "photograph", "painting", "drawing", "sign",
    "poster", "sketch", "illustration", "close", "closeup", "shot", "view", "statue",
    "sculpture", "model", "replica", "figurine", "reflection",
})

# Parts and regions of a thing or a scene: alone they name no object ("on the side
# of the street"); after a compound they do ("a store front", "a table top").
PART_WORDS = frozenset({
    "side", "top", "front", "middle", "edge", "back", "corner", "end", "bottom", "center",
    "centre", "part", "inside", "outside", "interior", "exterior", "midst", "outskirts",
    "left", "right", "base",
})

# Words that never name an object, compound or not: views, events, games, times,
# abstractions, light and weather (tests/data/gold/README.md: "view", "picture", "scene", "way").
NON_OBJECTS = frozenset({
    "view", "picture", "image", "photo", "photograph", "scene", "way", "background",
    "foreground", "distance", "day", "night", "time", "game", "match", "tennis", "baseball",
    "soccer", "football", "golf", "basketball", "volleyball", "polo", "fun", "trick", "jump",
    "shot", "look", "lot", "wild", "variety", "kind", "type", "sort", "close", "closeup",
    "break", "rest", "turn", "ride", "walk", "stroll", "attempt", "moment", "fight", "stunt",
    "nap", "race", "performance", "lesson", "competition", "contest", "dance", "attention",
    "weather", "sunlight", "daylight", "sun", "sunshine", "shade", "shadow", "air", "rain",
    "fog", "mist", "dark", "darkness",
    # times of day, like "day" and "night": "stopped at an intersection at twilight"
    "morning", "afternoon", "evening", "noon", "midnight", "dawn", "dusk", "twilight", "sunrise",
    "sunset", "nighttime", "daytime",
    # no thing, like "way": "looking in different directions", "painted various colors"
    "direction", "color", "colour",
    # states, no place: "a house under construction", "a kitchen in the midst of repairs"
    "construction", "renovation", "repair",
})

# Compounds of a NON_OBJECTS or QUANTIFIERS head that name a thing, not an activity (../shared/spec/triples.md:
# "devices and named things stay: playing a video game"), and sidewalk, crosswalk and boardwalk
# written in two words.
THING_COMPOUNDS = frozenset({"video game", "board game", "parking lot", "side walk", "cross walk", "board walk"})
# Quantifiers that also name a place: with no "of" after them, the object of a preposition is
# that place ("a bus parked in a lot", as "in a parking lot"), not a quantity.
QUANTIFIER_PLACES = frozenset({"lot"})
# Games of NON_OBJECTS named after their ball: with an article or in the plural the word names
# the ball ("hitting a baseball", "two footballs"), bare it names the game ("playing baseball").
BALL_GAMES = frozenset({"baseball", "football", "basketball", "volleyball", "softball"})

# Adverbs of place the tagger reads as the head noun of the phrase before them ("on a carpeted
# floor indoors"): the noun before them names the thing.
PLACE_ADVERBS = frozenset({"indoors", "outdoors", "upstairs", "downstairs", "overhead", "nearby", "abroad"})

# Nouns that are plural in form for one thing: "a pair of scissors" -> scissors.
PLURALIA_TANTUM = frozenset({
    "scissors", "glasses", "sunglasses", "eyeglasses", "goggles", "binoculars", "pants",
    "jeans", "shorts", "trousers", "tongs", "pliers", "clothes", "headphones", "earphones",
    "overalls", "pajamas", "tweezers", "leggings", "tights", "slacks", "sweatpants", "bellbottoms", "khakis",
})

PRONOUNS = frozenset({
    "it", "its", "they", "them", "he", "him", "she", "her", "we", "us", "you", "i", "me",
    "this", "that", "these", "those", "something", "someone", "somebody", "anything",
    "everything", "nothing", "one", "ones", "other", "others", "another", "each",
    "itself", "themselves", "himself", "herself", "who", "which", "what", "there",
    "all", "both", "some", "many", "several", "most",
})

_VOWEL_SOUND_EXCEPTIONS = ("hour", "honest", "honor", "heir")
_CONSONANT_SOUND_EXCEPTIONS = (
    "uni", "use", "usu", "ute", "uti", "ufo", "eu", "ewe", "one", "once", "uk", "u.s",
)


def indefinite_article(word: str) -> str:
    """ "a" or "an" by the sound the word starts with: "an umbrella", "a uniform", "an hour"."""
    lowered = word.lower()
    if lowered.startswith(_VOWEL_SOUND_EXCEPTIONS):
        return "an"
    if lowered.startswith(_CONSONANT_SOUND_EXCEPTIONS):
        return "a"
    return "an" if lowered[:1] in "aeiou" else "a"


# Nouns that take no "a": mass nouns and plurals without a singular ("people").
# Checked on the head word, so "tomato sauce" and "ocean water" go bare too.
BARE_NOUNS = frozenset({
    "people", "cattle", "police", "livestock", "water", "grass", "snow", "sand", "food",
    "dirt", "mud", "ice", "rice", "meat", "bread", "cheese", "broccoli", "traffic",
    "furniture", "luggage", "equipment", "hay", "wine", "coffee", "milk", "juice", "sauce",
    "frosting", "icing", "foliage", "gravel", "pasta", "lettuce", "salad", "soup", "fruit",
    "produce", "candy", "chocolate", "beer", "tea", "soap", "paper", "toilet paper",
    "clothing", "gear", "debris", "trash", "garbage", "graffiti", "fencing", "lumber",
    "hair", "fur", "smoke", "steam", "foam", "surf", "sunlight", "pavement", "concrete",
    "asphalt", "seaweed", "brush", "vegetation", "greenery", "shrubbery", "scenery",
})


def with_article(noun: str) -> str:
    """A noun phrase for rendered text: "a man", "an umbrella", "people", "water"."""
    if noun.split()[-1] in BARE_NOUNS or noun in PLURALIA_TANTUM:
        return noun
    return f"{indefinite_article(noun)} {noun}"


# Nouns whose first lemminflect lemma is another word: "leaves" on a tree are leaves of a
# leaf, not of a leave; captions write "graffiti" for the singular too.
_LEMMA_EXCEPTIONS = {"leaves": "leaf", "graffiti": "graffiti"}


@lru_cache(maxsize=65536)
def noun_lemma(word: str) -> str:
    """The singular of a noun, lower case: dogs -> dog, men -> man, sheep -> sheep.

    Words lemminflect offers as their own lemma, and words it does not know, stay
    as written unless they look plural ("cola", not "colon"; "skiis" -> "ski").
    """
    word = word.lower()
    if word in _LEMMA_EXCEPTIONS:
        return _LEMMA_EXCEPTIONS[word]
    lemmas = getLemma(word, upos="NOUN", lemmatize_oov=False)
    if not lemmas and word.endswith("s"):  # an unknown plural: "skiis"; but not "papia" -> "papium"
        lemmas = getLemma(word, upos="NOUN")
    if not lemmas or (word in lemmas and not word.endswith("s")):
        return word
    return lemmas[0]


@lru_cache(maxsize=65536)
def is_known_noun(word: str) -> bool:
    """Whether the dictionary knows `word` as a common noun ("building", "painting"), not only
    as the form of another word ("walking" is only a verb's)."""
    return bool(getLemma(word.lower(), upos="NOUN", lemmatize_oov=False))


@lru_cache(maxsize=65536)
def is_noun_not_adjective(word: str) -> bool:
    """Whether the dictionary knows `word` as a common noun and not as an adjective ("hydrant",
    not "full" or "white")."""
    return is_known_noun(word) and not getLemma(word.lower(), upos="ADJ", lemmatize_oov=False)


def is_known_plural(word: str) -> bool:
    """Whether the dictionary knows `word` as the plural of a common noun ("clouds"), not by
    guessing from its ending ("mets", "texas")."""
    lemmas = getLemma(word.lower(), upos="NOUN", lemmatize_oov=False)
    return bool(lemmas) and lemmas[0] != word.lower()


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
COCO_NOUNS: dict[str, tuple[str, ...]] = {
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
        "traveller", "tennis player", "baseball player", "soccer player", "family", "boarder",
        "president", "clown", "cop", "marine", "owner", "racer", "preteen", "coach", "teammate",
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
        "beach ball", "baseball", "football", "softball",
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
    "hot dog": ("hot dog", "hotdog", "chili dog", "chilli dog", "corn dog"),
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
    word: category for category, words in COCO_NOUNS.items() for word in words
}

# The COCO nouns of more than one word ("hot dog", "teddy bear", "stop sign"): the tagger
# often reads their first word as an adjective ("hot"), which would cut them short.
MULTIWORD_NOUNS = frozenset(word for words in COCO_NOUNS.values() for word in words if " " in word)


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
# Of those, the surfaces things are set on, which people and animals are seldom on.
SET_ON_SURFACES = frozenset({"counter", "countertop", "shelf", "desk", "table", "ledge"})
# Words for animals and people that COCO grounds to no single category.
_ANIMAL_NOUNS = frozenset({
    "animal", "pet", "puppy", "kitten", "calf", "lamb", "pony", "foal", "cub", "duck", "goose",
    "goat", "donkey", "deer", "mule", "camel", "llama", "pig", "monkey", "lion", "tiger", "fox", "rabbit", "squirrel",
})


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

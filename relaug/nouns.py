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
    "cluster", "fleet", "bowlful", "plateful", "dozen", "dozens", "series", "display", "mix",
    "body", "roll",  # "a body of water", "a roll of toilet paper"
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
})

# Nouns that are plural in form for one thing: "a pair of scissors" -> scissors.
PLURALIA_TANTUM = frozenset({
    "scissors", "glasses", "sunglasses", "eyeglasses", "goggles", "binoculars", "pants",
    "jeans", "shorts", "trousers", "tongs", "pliers", "clothes", "headphones", "earphones",
    "overalls", "pajamas", "tweezers",
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


def is_known_plural(word: str) -> bool:
    """Whether the dictionary knows `word` as the plural of a common noun ("clouds"), not by
    guessing from its ending ("mets", "texas")."""
    lemmas = getLemma(word.lower(), upos="NOUN", lemmatize_oov=False)
    return bool(lemmas) and lemmas[0] != word.lower()

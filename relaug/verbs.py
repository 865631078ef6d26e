"""Verb lemmas, inflection and the dynamic/stative/spatial kinds of relations."""

from __future__ import annotations

from lemminflect import getInflection, getLemma

# Prepositions that make a relation on their own (spec/triples.md), longest first
# so that "in front of" wins over "in".
SPATIAL_PREPOSITIONS = (
    "in front of", "on top of", "next to", "to the left of", "to the right of",
    "on", "in", "inside", "under", "underneath", "beneath", "below", "above", "over",
    "behind", "beside", "near", "by", "at", "across", "along", "around", "through",
    "between", "against", "outside", "atop", "among", "toward", "towards",
)

# Prepositions that never make a relation alone; after a verb they may ("play with").
NON_RELATION_PREPOSITIONS = frozenset({"with", "of", "for", "like", "as", "from", "about"})

# Prepositions that may follow a verb to reach its object ("bite into", "drink from").
# Temporal and abstract ones (during, for, after, ...) are left out: they relate no two things.
VERB_PREPOSITIONS = frozenset(SPATIAL_PREPOSITIONS) | {
    "with", "from", "into", "onto", "down", "up", "out", "off", "past", "inside of",
    "out of", "away from", "across from",
}

# Verbs that state nothing visible between two things (spec/triples.md), and light
# verbs whose object is an event rather than a thing ("take a picture", "make a jump").
NON_RELATION_VERBS = frozenset({
    "be", "have", "contain", "show", "feature", "depict", "display", "include",
    "make", "take", "do", "perform", "get", "give", "try", "attempt", "seem", "appear",
    "want", "need", "begin", "start", "prepare", "enjoy", "wait", "pose", "go", "come",
    "see", "let", "help", "keep",
})

# Verbs whose "with"/"in" phrase names the agent of a passive: "covered in frosting"
# means the frosting covers it (the locative alternation).
LOCATIVE_AGENT_VERBS = frozenset({
    "cover", "fill", "clutter", "surround", "crowd", "line", "top", "decorate",
    "litter", "load", "pack", "stuff", "cram", "pile", "stack", "coat", "sprinkle",
})

# State verbs: posture, position, possession, perception. Anything else is dynamic.
STATIVE_VERBS = frozenset({
    "sit", "stand", "lie", "lay", "rest", "hang", "lean", "perch", "park", "wear",
    "hold", "look", "watch", "face", "overlook", "surround", "cover", "line", "fill",
    "border", "sleep", "stay", "remain", "float", "hover", "touch", "support",
    "clutter", "crowd", "top", "own", "balance", "set", "place", "display", "store",
    "keep", "gaze", "stare", "view", "see", "observe", "await",
})


def verb_lemma(word: str) -> str:
    """The English lemma of a verb form: riding -> ride (not "rid"), left -> leave."""
    lemmas = getLemma(word.lower(), upos="VERB")
    return lemmas[0] if lemmas else word.lower()


def inflect(lemma: str, tag: str) -> str | None:
    """The form of `lemma` for a Penn tag (VB, VBD, VBG, VBN, VBP, VBZ), or None if unknown."""
    forms = getInflection(lemma, tag=tag)
    return forms[0] if forms else None


def relation_kind(relation: str) -> str:
    """`spatial` for a bare preposition, else `stative` or `dynamic` by the verb."""
    if relation in SPATIAL_PREPOSITIONS:
        return "spatial"
    return "stative" if relation.split()[0] in STATIVE_VERBS else "dynamic"

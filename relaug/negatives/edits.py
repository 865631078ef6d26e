"""Caption edits: where a negative's words go and how they are written.

Every edit is placed by the character spans the miner recorded, never by
searching the caption for a string; these are the tables and helpers the three
kinds of negative share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from relaug.records import CharSpan, Triple
from relaug.verbs import inflect, preposition_of, verb_lemma

# Relations that read the same with roles exchanged: no role swap for them.
SYMMETRIC_PREPOSITIONS = frozenset({
    "next to", "near", "beside", "by", "with", "between", "among", "against", "across from",
    "along", "alongside", "around", "close to", "far from", "opposite",
})
# Verbs that are symmetric whatever follows them ...
SYMMETRIC_VERBS = frozenset({
    "meet", "face", "touch", "kiss", "hug", "embrace", "cuddle", "marry", "fight", "wrestle",
    "race", "greet", "resemble", "match", "spar", "snuggle", "nuzzle", "collide", "intersect",
    "overlap", "accompany", "join", "battle", "compete", "argue", "converse", "chat",
})
# ... and those that are symmetric with "with" or "to": "talk to", "play with", "sit with".
SYMMETRIC_WITH_VERBS = frozenset({
    "talk", "speak", "play", "dance", "sit", "stand", "lie", "lay", "walk", "pose", "share",
    "mingle", "interact", "visit", "hang", "ride", "eat", "cuddle", "wait", "travel",
})

# Words that may stand between a subject and its verb in a clause a role swap can edit.
AUX_SINGULAR = {"is": "is", "are": "is", "was": "was", "were": "was", "has": "has", "have": "has",
                 "does": "does", "do": "does"}
AUX_PLURAL = {"is": "are", "are": "are", "was": "were", "were": "were", "has": "have", "have": "have",
               "does": "do", "do": "do"}
GAP_WORDS = frozenset({
    *AUX_SINGULAR, "being", "been", "be", "had", "did", "also", "still", "just", "currently",
    "happily", "slowly", "quickly", "casually", "calmly", "carefully",
    # "about to ride", "can ride", "trying to ride": the phrase moves, the verb group stays
    "to", "about", "can", "could", "will", "would", "going", "trying", "ready", "able",
})
THERE_IS = re.compile(r"(there|here) (is|are|was|were)")
# Verbs that take an object only with a place: "putting a pastry" is not English.
NEEDS_PLACE = frozenset({"put", "place", "set", "position", "rest", "lean", "prop", "stand", "sit", "lie"})
# Adverbs that may stand between a verb and its preposition: "standing outside next to".
ADVERBS = frozenset({
    "together", "outside", "alone", "quietly", "peacefully", "calmly", "patiently", "happily",
    "nearby", "closely", "sideways", "still", "close", "very", "idly", "lazily", "proudly",
})
POSSESSIVES = frozenset({"his", "her", "their", "its", "my", "your", "our", "whose"})
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
WORD_SPAN = re.compile(r"\S+")  # a word as spaCy's tokenizer first splits: between whitespace
VERB_TAGS = ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ")
# A preposition and a possessive right after a verb's object: the verb's instrument or the
# body part it works with ("hitting the ball with his bat", "holding a frisbee in his hand").
OWNED_AFTER = re.compile(r"\s+(with|in|on|under|between|by|from|to|against|over)\s+(?:his|her|their|its|my|your|our)\b", re.I)


# Words that open a noun phrase that is not bare: "playing frisbee" is bare, "a frisbee" is not.
DETERMINERS = POSSESSIVES | {
    "a", "an", "the", "this", "that", "these", "those", "some", "any", "another", "each", "every", "no", "one",
}  # fmt: skip


def bare_singular(triple: Triple, caption: str) -> bool:
    """Whether the triple's object is a singular noun phrase without a determiner: "frisbee" in
    "playing frisbee", "tall grass"; a verb that takes such an object is most often said of a
    game or a mass, and another verb seldom takes it so ("chasing frisbee")."""
    first = WORD.match(caption[triple.object_span.start : triple.object_span.end].lstrip())
    return not triple.object_plural and first is not None and first.group().lower() not in DETERMINERS


def owned_after(caption: str, end: int) -> str | None:
    """The preposition of a phrase like "with his bat" starting at `end`, lower case, or None."""
    match = OWNED_AFTER.match(caption, end)
    return match.group(1).lower() if match else None


def part_before_object(triple: Triple, caption: str) -> str | None:
    """The part word of a phrase ending in "of" between the relation's words and its object, lower
    case ("back" in "riding on the back of a horse"), or None. The new verb of a swap takes that
    part as its object, so it must be one captions say of it ("guiding the back of a horse" is not)."""
    words = triple.preposition_span or triple.verb_span
    if words is None or words.end > triple.object_span.start:
        return None
    gap = WORD.findall(caption[words.end : triple.object_span.start])
    return gap[-2].lower() if len(gap) > 1 and gap[-1].lower() == "of" else None


@lru_cache(maxsize=None)
def verb_forms(lemma: str) -> frozenset[str]:
    """Every written form of a verb: ride, rides, riding, rode, ridden."""
    return frozenset({lemma, *(f for t in VERB_TAGS if (f := inflect(lemma, t)))})


def nouns_match(mined: str, wanted: str) -> bool:
    """Nouns equal, or a compound equal to the other on its last word (tests/data/gold/README.md scoring)."""
    return mined == wanted or mined.split()[-1] == wanted or wanted.split()[-1] == mined


def splice(text: str, edits: Sequence[tuple[CharSpan, str]]) -> tuple[str, tuple[CharSpan, ...]]:
    """`text` with each span replaced (spans given in any order and never overlapping), and where
    the words that changed stand in it: an edit that writes what was there, or nothing, marks none."""
    out, position, length, changed = [], 0, 0, []
    for span, new in sorted(edits, key=lambda e: e[0].start):
        if span.start < position:
            raise ValueError(f"overlapping edits in {text!r}")
        kept = text[position : span.start]
        out += [kept, new]
        length += len(kept)
        if new and new != text[span.start : span.end]:
            changed.append(CharSpan(length, length + len(new)))
        length += len(new)
        position = span.end
    out.append(text[position:])
    return "".join(out), tuple(changed)


def match_case(new: str, old: str) -> str:
    """`new` written in the case of `old`: "Riding" -> "Feeding", "RIDING" -> "FEEDING"."""
    if len(old) > 1 and old.isupper():
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def relation_span(triple: Triple, caption: str) -> CharSpan | None:
    """The characters of the relation words: the verb through its preposition, when contiguous."""
    spans = [s for s in (triple.verb_span, triple.preposition_span) if s is not None]
    if not spans:
        return None
    if len(spans) == 2:
        verb, prep = spans
        if prep.start < verb.end or caption[verb.end : prep.start].strip():
            return None  # "picking a ball up", "sitting quietly on"
    return CharSpan(spans[0].start, spans[-1].end)


def inflected(relation: str, tag: str) -> str | None:
    """A verb relation written for a Penn tag: ("sit on", "VBZ") -> "sits on"."""
    verb, *rest = relation.split()
    form = inflect(verb, tag)
    if form is None or verb_lemma(form) != verb:
        return None
    return " ".join([form, *rest])


def is_symmetric(relation: str) -> bool:
    if relation in SYMMETRIC_PREPOSITIONS:
        return True
    prep = preposition_of(relation)
    if prep in SYMMETRIC_PREPOSITIONS:
        return True
    verb, *rest = relation.split()
    return verb in SYMMETRIC_VERBS or (verb in SYMMETRIC_WITH_VERBS and " ".join(rest) in ("with", "to"))

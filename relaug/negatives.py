"""Text hard negatives that are really negative, and DRIVE partners (`spec/design.md`).

Three kinds of negative, each an edit of the original caption placed by the
character spans the miner recorded (never by searching the caption for a
string) and the same edit of the short rendered text:

- `verb_swap`: the relation's verb (with its particle and preposition) replaced
  by another verb relation of the corpus, inflected to the original's Penn tag;
- `prep_swap`: a preposition replaced by its opposite (on <-> under, ...);
- `role_swap`: subject and object phrases exchanged, verb agreement fixed.

A candidate is kept only when it is plausible (seen in the corpus with this
object or its category, or with the subject's category), not a near-synonym
(verbs that other images' captions use for the same scene, and a MiniLM
similarity band), and not true of the image (no caption of the image states
it). Every rejected candidate is counted by reason.

The choice among the valid candidates is seeded per relation id, so the same
corpus and options give the same negatives in any order and in any process.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import pickle
import random
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache, partial
from pathlib import Path

import numpy as np
from spacy.language import Language

from relaug.errors import StoppedError
from relaug.grounding import category_of
from relaug.mining import mine_doc, render_text, worker_pipeline
from relaug.nouns import noun_lemma
from relaug.records import (
    Caption,
    CharSpan,
    ImageExample,
    MinedCaption,
    Negative,
    Relation,
    Triple,
    relation_id,
)
from relaug.verbs import (
    GENERIC_VERBS,
    LOCATIVE_AGENT_VERBS,
    SPATIAL_PREPOSITIONS,
    VerbSimilarity,
    inflect,
    relation_kind,
    verb_lemma,
)

__all__ = [
    "Negative",
    "NegativeOptions",
    "NegativeResult",
    "Partners",
    "Reason",
    "add_negatives",
    "build_negatives",
    "default_similarity",
    "find_partners",
    "relations_of",
]

# Opposites for preposition swaps. Only prepositions whose opposite is a plain
# falsehood are swapped; "in", "at", "with" have no such opposite.
OPPOSITE_PREPOSITIONS: dict[str, str] = {
    "on": "under",
    "on top of": "under",
    "atop": "under",
    "under": "on",
    "underneath": "on top of",
    "beneath": "above",
    "below": "above",
    "above": "below",
    "over": "under",
    "in front of": "behind",
    "behind": "in front of",
    "inside": "outside",
    "inside of": "outside of",
    "outside": "inside",
    "to the left of": "to the right of",
    "to the right of": "to the left of",
    "into": "out of",
    "out of": "into",
    "toward": "away from",
    "towards": "away from",
    "away from": "toward",
    "near": "far from",
}

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
_AUX_SINGULAR = {"is": "is", "are": "is", "was": "was", "were": "was", "has": "has", "have": "has",
                 "does": "does", "do": "does"}
_AUX_PLURAL = {"is": "are", "are": "are", "was": "were", "were": "were", "has": "have", "have": "have",
               "does": "do", "do": "do"}
_GAP_WORDS = frozenset({
    *_AUX_SINGULAR, "being", "been", "be", "had", "did", "also", "still", "just", "currently",
    "happily", "slowly", "quickly", "casually", "calmly", "carefully",
    # "about to ride", "can ride", "trying to ride": the phrase moves, the verb group stays
    "to", "about", "can", "could", "will", "would", "going", "trying", "ready", "able",
})
_THERE_IS = re.compile(r"(there|here) (is|are|was|were)")
# Verbs that take an object only with a place: "putting a pastry" is not English.
_NEEDS_PLACE = frozenset({"put", "place", "set", "position", "rest", "lean", "prop", "stand", "sit", "lie"})
# Adverbs that may stand between a verb and its preposition: "standing outside next to".
_ADVERBS = frozenset({
    "together", "outside", "alone", "quietly", "peacefully", "calmly", "patiently", "happily",
    "nearby", "closely", "sideways", "still", "close", "very", "idly", "lazily", "proudly",
})
_POSSESSIVES = frozenset({"his", "her", "their", "its", "my", "your", "our", "whose"})
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_WORD_SPAN = re.compile(r"\S+")  # a word as spaCy's tokenizer first splits: between whitespace
_VERB_TAGS = ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ")
_SPARE_VERB_SWAPS = 3  # valid verb swaps kept beyond those wanted, for the re-parse check


class Reason:
    """Why a candidate negative was rejected; the strings are the build report's rows."""

    NOT_PLAUSIBLE = "not plausible: never seen with this object, its category or the subject's category"
    SYNONYM_CORPUS = "near-synonym: other images' captions use both for one scene"
    SYNONYM_EMBEDDING = "near-synonym: verb embeddings above the similarity band"
    UNRELATED_EMBEDDING = "unrelated: verb embeddings below the similarity band"
    TRUE_OF_IMAGE = "true of the image: a caption of the image states it"
    INFLECTION = "inflection failed"
    PASSIVE_FRAME = "passive: the candidate takes no direct object"
    INTRANSITIVE = "no object alone: the verb needs a preposition (sit on, put on)"
    TAG_CHANGED = "re-parsed, the new verb gets another tag"
    NOT_REPARSED = "re-parsed, the negative does not state the swapped triple"
    AGREEMENT = "role swap changes the subject's number and a later verb still agrees with the old one"
    SYMMETRIC = "symmetric relation"
    PASSIVE = "passive-stated triple"
    SAME_NOUN = "subject and object are the same noun"
    POSSESSIVE = "possessive in a noun phrase"
    LAYOUT = "caption layout: not a plain subject, relation, object sequence"
    EQUALS_POSITIVE = "equals the positive"


@dataclass(frozen=True)
class NegativeOptions:
    per_triple: int = 3  # negatives kept per relation, at most
    seed: int = 0
    max_partners: int = 8
    min_relation_count: int = 2  # verb candidates fewer captions state are miner noise
    similarity_band: tuple[float, float] = (0.2, 0.75)  # MiniLM cosine a verb candidate must fall in
    max_verb_candidates: int = 60  # verb candidates tried per relation before giving up


@dataclass
class NegativeResult:
    negatives: dict[str, tuple[Negative, ...]]  # relation id -> its negatives
    rejected: Counter = field(default_factory=Counter)  # reason -> rejected candidates


@dataclass(frozen=True)
class Partners:
    partners: tuple[str, ...]  # same split, other image, same subject and object, other relation
    swap_partners: tuple[str, ...]  # same split, other image, subject and object exchanged


# --------------------------------------------------------------------------- corpus


@lru_cache(maxsize=65536)
def _key(noun: str) -> tuple[str, str | None]:
    return noun, category_of(noun)


def _same(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    """Same noun, or both grounded to the same COCO category."""
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def _noun_match(mined: str, wanted: str) -> bool:
    """Nouns equal, or a compound equal to the other on its last word (spec/triples.md scoring)."""
    return mined == wanted or mined.split()[-1] == wanted or wanted.split()[-1] == mined


@lru_cache(maxsize=65536)
def _prep_part(relation: str) -> str:
    """The preposition a relation ends with ("sit on" -> "on", "on" -> "on"), or ""."""
    if relation in SPATIAL_PREPOSITIONS:
        return relation
    words = relation.split()
    for start in range(1, len(words)):
        tail = " ".join(words[start:])
        if tail in SPATIAL_PREPOSITIONS or tail in OPPOSITE_PREPOSITIONS:
            return tail
    return ""


@lru_cache(maxsize=None)
def _forms(lemma: str) -> frozenset[str]:
    """Every written form of a verb: ride, rides, riding, rode, ridden."""
    return frozenset({lemma, *(f for t in _VERB_TAGS if (f := inflect(lemma, t)))})


@dataclass
class _Image:
    words: set[str]
    triples: list[tuple[tuple[str, str | None], str, tuple[str, str | None]]]

    def states(self, subject, relation: str, obj) -> bool:
        return _any_pair(self._by_relation.get(relation, ()), subject, obj)

    def states_preposition(self, subject, preposition: str, obj) -> bool:
        """Whether a caption puts `subject` `preposition` `obj`, with a verb or without."""
        return _any_pair(self._by_preposition.get(preposition, ()), subject, obj)

    @cached_property
    def _by_relation(self) -> dict[str, list[tuple]]:
        return _pairs_by(self.triples, lambda relation: relation)

    @cached_property
    def _by_preposition(self) -> dict[str, list[tuple]]:
        return _pairs_by(self.triples, _prep_part)


def _pairs_by(triples: list[tuple], key: Callable[[str], str]) -> dict[str, list[tuple]]:
    """(subject, object) pairs of an image's triples, by `key` of their relation."""
    pairs: dict[str, list[tuple]] = defaultdict(list)
    for s, r, o in triples:
        pairs[key(r)].append((s, o))
    return pairs


def _any_pair(pairs: Sequence[tuple], subject, obj) -> bool:
    # Most lookups find no pair: answered without starting a generator.
    return bool(pairs) and any(_same(s, subject) and _same(o, obj) for s, o in pairs)


@dataclass
class _Vocabulary:
    """The verb relations of one frame of the corpus, and what they were said of."""

    count: Counter = field(default_factory=Counter)  # relation -> triples
    # relation -> captions stating it: one misparsed caption can give a relation many
    # triples ("a living room witj a couch, chairs and a tv": three of "wit")
    captions: Counter = field(default_factory=Counter)
    verb_count: Counter = field(default_factory=Counter)  # its verb -> triples, with any preposition
    with_object: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    with_object_category: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    with_subject_category: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    with_subject: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, t: Triple, first_in_caption: bool) -> None:
        self.count[t.relation] += 1
        self.captions[t.relation] += first_in_caption
        self.verb_count[t.relation.split()[0]] += 1
        self.with_object[t.object].add(t.relation)
        self.with_subject[t.subject].add(t.relation)
        if category := category_of(t.object):
            self.with_object_category[category].add(t.relation)
        if category := category_of(t.subject):
            self.with_subject_category[category].add(t.relation)


def _frame(t: Triple, caption: str) -> str | None:
    """How the caption states a verb triple, which decides what may replace its verb.

    `active` ("riding a horse"); `by_passive` ("thrown by a dog": another transitive
    verb fits); `participle` ("a truck parked on a street": another participle with
    its preposition fits); None for the rest ("covered in cheese": the verbs that
    fit there, topped, filled, are near-synonyms).
    """
    if t.relation_kind == "spatial" or t.verb_span is None:
        return None
    if not t.passive:
        return "active"
    if t.preposition_span is not None:
        return "participle"
    following = [w.lower() for w in _WORD.findall(caption[t.verb_span.end :])[:1]]
    if following == ["by"] and t.verb_tag == "VBN":  # not "a man standing by the ocean"
        return "by_passive"
    return None


class _Corpus:
    """What the whole corpus says: relation counts, who does what to what, and per image."""

    def __init__(self, captions: Iterable[Caption], relations: Sequence[Relation]):
        self.images: dict[int, _Image] = defaultdict(lambda: _Image(set(), []))
        for caption in captions:
            self.images[caption.image_id].words.update(w.lower() for w in _WORD.findall(caption.caption))
        self.active = _Vocabulary()  # verbs as captions use them actively: "riding a horse"
        self.participle = _Vocabulary()  # participles with a preposition: "parked on a street"
        vocabularies = {"active": self.active, "participle": self.participle}
        scenes: dict[tuple, set[str]] = defaultdict(set)
        # (frame, relation) of the caption at hand: relations come caption by caption
        # (relations_of, the build), and a set per caption stays small on full COCO.
        caption, stated = None, set()
        for r in relations:
            if r.caption != caption:
                caption, stated = r.caption, set()
            t = r.triple
            image = self.images[r.caption.image_id]
            image.words.update(w.lower() for w in _WORD.findall(r.caption.caption))
            subject, obj = _key(t.subject), _key(t.object)
            image.triples.append((subject, t.relation, obj))
            frame = _frame(t, r.caption.caption)
            vocabulary = vocabularies.get(frame)
            if vocabulary is None:
                continue
            vocabulary.add(t, first_in_caption=(frame, t.relation) not in stated)
            stated.add((frame, t.relation))
            scene = (r.caption.image_id, subject[1] or subject[0], obj[1] or obj[0])
            scenes[scene].add(t.relation)
            scenes[scene].add(t.relation.split()[0])  # "ride" and "drive" a motorcycle, whatever follows
        self.images = dict(self.images)  # picklable, for worker processes
        # Verbs that captions of one image use for one subject and object describe one scene.
        self.same_scene: Counter = Counter()
        for verbs in scenes.values():
            ordered = sorted(verbs)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    self.same_scene[(a, b)] += 1

    def takes_object(self, relation: str) -> bool:
        """Whether a one-word verb relation takes a direct object: "hold" does; "sit" does not,
        though a misparse now and then says so, since the corpus nearly always writes "sit on"."""
        active = self.active
        if relation in _NEEDS_PLACE:
            return False
        return " " in relation or active.count[relation] * 2 >= active.verb_count[relation]

    def can_take_object(self, verb: str, min_count: int) -> bool:
        """Whether captions use a verb with a direct object at all (`min_count` captions), not only mostly."""
        return verb not in _NEEDS_PLACE and self.active.captions[verb] >= min_count

    def synonyms(self, a: str, b: str) -> bool:
        """Whether captions of one image use both relations, or both verbs, for one subject and object."""
        return self._same_scene(a, b) or self._same_scene(a.split()[0], b.split()[0])

    def _same_scene(self, a: str, b: str) -> bool:
        return a != b and ((a, b) if a < b else (b, a)) in self.same_scene


# --------------------------------------------------------------------------- caption edits


def _splice(text: str, edits: Sequence[tuple[CharSpan, str]]) -> str:
    """`text` with each span replaced, spans given in any order and never overlapping."""
    out, position = [], 0
    for span, new in sorted(edits, key=lambda e: e[0].start):
        if span.start < position:
            raise ValueError(f"overlapping edits in {text!r}")
        out += [text[position : span.start], new]
        position = span.end
    out.append(text[position:])
    return "".join(out)


def _match_case(new: str, old: str) -> str:
    """`new` written in the case of `old`: "Riding" -> "Feeding", "RIDING" -> "FEEDING"."""
    if len(old) > 1 and old.isupper():
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def _relation_span(triple: Triple, caption: str) -> CharSpan | None:
    """The characters of the relation words: the verb through its preposition, when contiguous."""
    spans = [s for s in (triple.verb_span, triple.preposition_span) if s is not None]
    if not spans:
        return None
    if len(spans) == 2:
        verb, prep = spans
        if prep.start < verb.end or caption[verb.end : prep.start].strip():
            return None  # "picking a ball up", "sitting quietly on"
    return CharSpan(spans[0].start, spans[-1].end)


def _inflected(relation: str, tag: str) -> str | None:
    """A verb relation written for a Penn tag: ("sit on", "VBZ") -> "sits on"."""
    verb, *rest = relation.split()
    form = inflect(verb, tag)
    if form is None or verb_lemma(form) != verb:
        return None
    return " ".join([form, *rest])


def _reparse_text(candidate: _Candidate) -> str:
    return candidate.caption.lower() if candidate.caption.isupper() else candidate.caption


def _tags_at(nlp: Language, texts: Sequence[str], offsets: Sequence[int]) -> list[str | None]:
    """The tag of the token starting at each offset of each text (None where none starts
    there), from the pipeline up to its tagger: half the cost of a parse.

    Where the tagger sees a fixed number of tokens on each side (`_tagging_context`),
    only the words within that many of the token are tagged, which gives the tag the
    whole text gives in about three quarters of the time.
    """
    names = nlp.pipe_names
    context = _tagging_context(nlp)
    windows = [_words_around(t, at, context) for t, at in zip(texts, offsets)] if context else list(zip(texts, offsets))
    with nlp.select_pipes(enable=names[: names.index("tagger") + 1] if "tagger" in names else names):
        docs = nlp.pipe([text for text, _ in windows], batch_size=256)
        return [next((w.tag_ for w in doc if w.idx == at), None) for doc, (_, at) in zip(docs, windows)]


# Layers whose output for a token depends on that token alone (static vectors included).
_PER_TOKEN_EMBEDDINGS = ("spacy.MultiHashEmbed.v2", "spacy.CharacterEmbed.v2")


@lru_cache(maxsize=4)
def _tagging_context(nlp: Language) -> int | None:
    """How many tokens on each side a token's tag depends on, where the pipeline says so
    for certain: a per-token softmax over a CNN of `depth` layers that each look
    `window_size` tokens to each side, padded at each text's ends (the core pipelines:
    4 for en_core_web_sm), with nothing but its tok2vec before the tagger and no
    tokenizer rule spanning whitespace. None for anything else, a transformer's tagger
    for one: it is given whole texts."""
    names = nlp.pipe_names
    if "tagger" not in names or any(any(c.isspace() for c in rule.strip()) for rule in nlp.tokenizer.rules or {}):
        return None
    try:
        components = nlp.config["components"]
        tagger = components["tagger"]["model"]
        tok2vec = tagger["tok2vec"]
        before_tagger = names[: names.index("tagger")]
        if tok2vec["@architectures"] == "spacy.Tok2VecListener.v1":
            if before_tagger != [tok2vec["upstream"]]:
                return None
            tok2vec = components[tok2vec["upstream"]]["model"]
        elif before_tagger:
            return None
        if tok2vec["@architectures"] == "spacy.HashEmbedCNN.v2":
            encoder = tok2vec  # hashed per-token embeddings, then a MaxoutWindowEncoder
        elif tok2vec["@architectures"] == "spacy.Tok2Vec.v2" and tok2vec["embed"]["@architectures"] in _PER_TOKEN_EMBEDDINGS:
            encoder = tok2vec["encode"]
            if encoder["@architectures"] != "spacy.MaxoutWindowEncoder.v2":  # the Mish one does not pad
                return None
        else:
            return None
        if tagger["@architectures"] != "spacy.Tagger.v2":
            return None
        depth, window = encoder["depth"], encoder["window_size"]
    except (KeyError, TypeError, ValueError):  # a config of another shape, or one spaCy cannot write out
        return None
    return depth * window if isinstance(depth, int) and isinstance(window, int) else None


def _words_around(text: str, at: int, context: int) -> tuple[str, int]:
    """The part of `text` from `context` words before the word at `at` to `context` words
    after it (with the whitespace that follows), and `at` within it.

    spaCy's tokenizer splits at whitespace first and tokenizes each word on its own, so
    the words kept give the same tokens; each is one token or more, so `context` words
    hold at least `context` tokens; the whitespace kept after the last keeps its token's
    trailing-space feature."""
    words = list(_WORD_SPAN.finditer(text))
    k = next((n for n, w in enumerate(words) if w.start() <= at < w.end()), None)
    if k is None:
        return text, at
    start = words[k - context].start() if k >= context else 0  # whitespace before the first word is a token too
    after = k + context + 1
    end = words[after].start() if after < len(words) else len(text)
    return text[start:end], at - start


# --------------------------------------------------------------------------- the builder


def _swappable(vocabulary: _Vocabulary, min_captions: int) -> list[str]:
    """The relations of a vocabulary a verb swap may bring in, in name order: stated by
    `min_captions` captions or more (fewer is most often a misparse or a typo), and not
    one that holds of nearly anything done with a thing (use, touch, handle).

    Left out here, not rejected as drawn: a rejected candidate spends one of
    `max_verb_candidates` tries, and on val2017 about 40,000 went to relations one
    caption states."""
    return sorted(
        r for r, n in vocabulary.captions.items() if n >= min_captions and r.split()[0] not in GENERIC_VERBS
    )


class _RelationIndex:
    """The verb relations of a vocabulary a swap may bring in, with the arrays verb swaps are drawn from."""

    UNSEEN = 4  # tier of a relation never said of the subject or object

    def __init__(self, vocabulary: _Vocabulary, min_captions: int):
        self.vocabulary = vocabulary
        self.relations = _swappable(vocabulary, min_captions)
        self.position = {r: i for i, r in enumerate(self.relations)}
        self.counts = np.array([vocabulary.count[r] for r in self.relations], dtype=np.float64)
        self._members: dict[tuple[str, str], np.ndarray] = {}

    def tiers(self, subject: str, obj: str) -> np.ndarray:
        """Each relation's plausibility tier for a subject and object: 0 seen with this object,
        1 its category, 2 the subject's category, 3 only with the subject noun, else UNSEEN."""
        subject_category, object_category = category_of(subject), category_of(obj)
        tiers = np.full(len(self.relations), self.UNSEEN, dtype=np.int8)
        # Lowest tier last, so that it wins where a relation is in several.
        for tier, table, key in (
            (3, "with_subject", subject), (2, "with_subject_category", subject_category),
            (1, "with_object_category", object_category), (0, "with_object", obj),
        ):
            if key is not None:
                tiers[self._positions(table, key)] = tier
        return tiers

    def _positions(self, table: str, key: str) -> np.ndarray:
        positions = self._members.get((table, key))
        if positions is None:
            relations = getattr(self.vocabulary, table).get(key, ())
            positions = self._members[(table, key)] = np.array(
                sorted(self.position[r] for r in relations if r in self.position), dtype=np.int64
            )
        return positions


def _seed(*parts: object) -> int:
    """A seed that is the same in every process and every run (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest(), "little")


@dataclass
class _Candidate:
    kind: str
    relation: str
    caption: str
    text: str
    # Role swaps that change the subject's number: where the edits end in the new caption,
    # after which no present-tense verb may still agree with the old subject.
    agreement_from: int | None = None


class _Builder:
    def __init__(
        self,
        corpus: _Corpus,
        options: NegativeOptions,
        similarity: Callable[[str, str], float] | None,
    ):
        self.corpus = corpus
        self.options = options
        self.similarity = similarity
        self.rejected: Counter = Counter()
        # Verb relations as captions use them actively, and as participles (by frame == "participle").
        self._indexes = {
            participle: _RelationIndex(vocabulary, options.min_relation_count)
            for participle, vocabulary in ((False, corpus.active), (True, corpus.participle))
        }

    def reject(self, reason: str) -> None:
        self.rejected[reason] += 1

    def negatives(self, relations: Sequence[Relation], nlp: Language | None) -> _ChunkResult:
        """Negatives of a chunk of relations, and the candidates it rejected."""
        self.rejected = Counter()
        found = {r.id: self.candidates(r) for r in relations}
        if nlp is not None:
            self.verify(relations, found, nlp)
        return {r.id: self.choose(r, found[r.id]) for r in relations}, self.rejected

    def candidates(self, relation: Relation) -> dict[str, list[_Candidate]]:
        """Valid candidates of each kind; verb swaps a few beyond what is wanted, in seeded order,
        as spares for those the re-parse check throws out."""
        rng = np.random.default_rng(_seed(self.options.seed, relation.id, "verb"))
        found: dict[str, list[_Candidate]] = {"prep_swap": [], "role_swap": []}
        if (prep := self.prep_swap(relation)) is not None:
            found["prep_swap"].append(prep)
        if (role := self.role_swap(relation)) is not None:
            found["role_swap"].append(role)
        found["verb_swap"] = self.verb_swaps(relation, self.verb_wanted(found) + _SPARE_VERB_SWAPS, rng)
        return found

    def verb_wanted(self, found: dict[str, list[_Candidate]]) -> int:
        others = len(found["prep_swap"]) + len(found["role_swap"])
        return max(1, self.options.per_triple - others)

    def verify(self, relations: Sequence[Relation], found: dict[str, dict[str, list[_Candidate]]], nlp) -> None:
        """Parse the negatives about to be used again and drop those the parser reads otherwise.

        A verb swap must keep the original's tag at the verb ("parks" read as a plural
        noun fails); a preposition or role swap must be mined back as the triple it
        claims ("A cat is chasing two dogs" -> (cat, chase, dog)), which catches phrases
        the miner cut short. Verb swaps held in reserve move up as others fail.
        """
        checked: set[int] = set()
        for _ in range(1 + _SPARE_VERB_SWAPS):
            pending = []
            for r in relations:
                mine = found[r.id]
                pending += [(r, c) for kind in ("prep_swap", "role_swap") for c in mine[kind] if id(c) not in checked]
                pending += [(r, c) for c in mine["verb_swap"][: self.verb_wanted(mine)] if id(c) not in checked]
            if not pending:
                return
            checked.update(id(c) for _, c in pending)
            swaps = [(r, c) for r, c in pending if c.kind == "verb_swap"]
            tags = _tags_at(nlp, [_reparse_text(c) for _, c in swaps], [r.triple.verb_span.start for r, _ in swaps])
            for (r, c), tag in zip(swaps, tags, strict=True):
                if tag is None or tag != r.triple.verb_tag:
                    self.reject(Reason.TAG_CHANGED)
                    found[r.id][c.kind].remove(c)
            edits = [(r, c) for r, c in pending if c.kind != "verb_swap"]
            for (r, c), doc in zip(edits, nlp.pipe([_reparse_text(c) for _, c in edits], batch_size=256), strict=True):
                t = r.triple
                subject, obj = (t.object, t.subject) if c.kind == "role_swap" else (t.subject, t.object)
                if c.agreement_from is not None and any(
                    w.idx >= c.agreement_from and w.tag_ in ("VBZ", "VBP") for w in doc
                ):
                    self.reject(Reason.AGREEMENT)  # "A field on two kids play soccer"
                elif not any(
                    m.relation == c.relation and _noun_match(m.subject, subject) and _noun_match(m.object, obj)
                    for m in mine_doc(doc)
                ):
                    self.reject(Reason.NOT_REPARSED)
                else:
                    continue
                found[r.id][c.kind].remove(c)

    def choose(self, relation: Relation, found: dict[str, list[_Candidate]]) -> tuple[Negative, ...]:
        """Up to per_triple negatives: one of each kind first, kinds in a seeded order, then the rest."""
        rng = random.Random(f"{self.options.seed}:{relation.id}")
        found = {**found, "verb_swap": found["verb_swap"][: self.verb_wanted(found)]}
        kinds = [k for k in ("verb_swap", "prep_swap", "role_swap") if found[k]]
        rng.shuffle(kinds)
        chosen = [found[k][0] for k in kinds]
        rest = [c for k in kinds for c in found[k][1:]]
        rng.shuffle(rest)
        chosen = (chosen + rest)[: self.options.per_triple]
        return tuple(Negative(c.caption, c.text, c.kind, c.relation) for c in chosen)  # type: ignore[arg-type]

    # ---- verb swaps

    def verb_swaps(self, relation: Relation, wanted: int, rng: np.random.Generator) -> list[_Candidate]:
        triple, caption = relation.triple, relation.caption.caption
        if triple.relation_kind == "spatial" or triple.verb_span is None or not triple.verb_tag:
            return []
        frame = _frame(triple, caption)
        if frame is None:
            return []
        index = self._indexes[frame == "participle"]
        tiers = index.tiers(triple.subject, triple.object)
        if (own := index.position.get(triple.relation)) is not None:
            tiers[own] = _RelationIndex.UNSEEN
        whole = _relation_span(triple, caption)
        spans: tuple[CharSpan, ...] = (whole,) if whole is not None else ()
        prep = triple.preposition_span
        fits: Callable[[str], bool] | None = None
        if whole is None and prep is not None and prep.start > triple.verb_span.end and all(
            w.lower() in _ADVERBS for w in _WORD_SPAN.findall(caption[triple.verb_span.end : prep.start])
        ):
            # "standing outside next to a truck": verb and preposition are replaced apart,
            # the adverb between stays ("sitting outside on a truck").
            spans = (triple.verb_span, prep)
            between = {w.lower() for w in _WORD.findall(caption[triple.verb_span.end : prep.start])}
            fits = lambda r: len(r.split()) > 1 and not between & set(r.split()[1:])  # noqa: E731
        elif whole is None:
            # "riding a skateboard down a sidewalk": the verb alone is replaced, by a verb
            # that takes the same preposition there ("pushing a skateboard down"). What
            # stands between stays, so the new verb must read it as the old one did: as
            # its object (a verb captions use with one), or not ("jumping in the air with"
            # may become "smiling in the air with", a verb mostly used without one).
            spans = (triple.verb_span, None)
            verb, *tail = triple.relation.split()
            if self._object_between(relation, verb):
                takes = lambda v: self.corpus.can_take_object(v, self.options.min_relation_count)  # noqa: E731
            else:
                takes = lambda v: not self.corpus.takes_object(v)  # noqa: E731
            fits = lambda r: r.split()[1:] == tail and takes(r.split()[0])  # noqa: E731
        # Within a tier, a seeded draw weighted by corpus frequency (Efraimidis-Spirakis,
        # key log(u) / count): common relations come first, rare ones (often misparses) last.
        eligible = np.flatnonzero(tiers < _RelationIndex.UNSEEN)
        keys = np.log(rng.random(len(eligible))) / index.counts[eligible]
        order = eligible[np.lexsort((-keys, tiers[eligible]))]
        kept: list[_Candidate] = []
        tried = 0
        for i, tier in zip(order.tolist(), tiers[order].tolist()):
            candidate = index.relations[i]
            if fits is not None and not fits(candidate):
                continue
            tried += 1
            if tried > self.options.max_verb_candidates:
                break
            made = self.verb_swap(relation, spans, candidate, tier, frame)
            if made is not None:
                kept.append(made)
                if len(kept) >= wanted:
                    break
        return kept

    def _object_between(self, relation: Relation, verb: str) -> bool:
        """Whether a caption of the image has the subject `verb` a noun written between the
        relation's verb and its preposition: "riding a horse down a street" has (man, ride, horse)."""
        triple, caption = relation.triple, relation.caption.caption
        end = triple.preposition_span.start if triple.preposition_span is not None else len(caption)
        between = {noun_lemma(w.lower()) for w in _WORD.findall(caption[triple.verb_span.end : end])}
        subject = _key(triple.subject)
        image = self.corpus.images[relation.caption.image_id]
        return any(
            r == verb and _same(s, subject) and o[0].split()[-1] in between for s, r, o in image.triples
        )

    def verb_swap(
        self, relation: Relation, spans: tuple, candidate: str, tier: int, frame: str
    ) -> _Candidate | None:
        """`spans`: (the relation words,) replaced whole; (verb, preposition) replaced
        apart; or (verb, None): the verb alone, the candidate having the same preposition."""
        triple, caption = relation.triple, relation.caption.caption
        corpus, options = self.corpus, self.options
        if tier == 3:
            return self.reject(Reason.NOT_PLAUSIBLE)
        if frame != "participle" and not corpus.takes_object(candidate):
            return self.reject(Reason.INTRANSITIVE)
        if frame == "by_passive" and len(candidate.split()) > 1:
            return self.reject(Reason.PASSIVE_FRAME)
        image = corpus.images[relation.caption.image_id]
        subject, obj = _key(triple.subject), _key(triple.object)
        verb = candidate.split()[0]
        own_verb = triple.relation.split()[0]
        if (verb != own_verb and not image.words.isdisjoint(_forms(verb))) or image.states(subject, candidate, obj):
            return self.reject(Reason.TRUE_OF_IMAGE)
        if (prep := _prep_part(candidate)) and image.states_preposition(subject, prep, obj):
            return self.reject(Reason.TRUE_OF_IMAGE)
        if corpus.synonyms(triple.relation, candidate):
            return self.reject(Reason.SYNONYM_CORPUS)
        if self.similarity is not None:
            low, high = options.similarity_band
            similarity = self.similarity(triple.relation, candidate)
            if similarity > high:
                return self.reject(Reason.SYNONYM_EMBEDDING)
            if similarity < low:
                return self.reject(Reason.UNRELATED_EMBEDDING)
        written = _inflected(candidate, triple.verb_tag)
        if written is None:
            return self.reject(Reason.INFLECTION)
        verb_form, *tail = written.split()
        first = spans[0]
        if len(spans) == 1:
            edits = [(first, _match_case(written, caption[first.start : first.end]))]
        else:
            edits = [(first, _match_case(verb_form, caption[first.start : first.end]))]
            if spans[1] is not None:
                edits.append((spans[1], " ".join(tail)))
        new_caption = _splice(caption, edits)
        text = render_text(triple.subject, candidate, triple.object, relation_kind(candidate))  # type: ignore[arg-type]
        if new_caption == caption or text == relation.text:
            return self.reject(Reason.EQUALS_POSITIVE)
        return _Candidate("verb_swap", candidate, new_caption, text)

    # ---- preposition swaps

    def prep_swap(self, relation: Relation) -> _Candidate | None:
        triple, caption = relation.triple, relation.caption.caption
        prep = _prep_part(triple.relation)
        opposite = OPPOSITE_PREPOSITIONS.get(prep)
        if opposite is None or triple.preposition_span is None:
            return None
        if triple.passive and triple.relation_kind != "spatial":
            return None  # "a car parked under a street" mixes two edits' worth of risk
        span = triple.preposition_span
        words = list(_WORD.finditer(caption, span.start, span.end))
        n = len(prep.split())
        if len(words) < n or [w.group().lower() for w in words[-n:]] != prep.split():
            return self.reject(Reason.LAYOUT)
        prep_span = CharSpan(words[-n].start(), span.end)
        image = self.corpus.images[relation.caption.image_id]
        subject, obj = _key(triple.subject), _key(triple.object)
        if image.states_preposition(subject, opposite, obj) or image.states_preposition(obj, prep, subject):
            return self.reject(Reason.TRUE_OF_IMAGE)
        new_relation = (
            opposite if triple.relation == prep else f"{triple.relation[: -len(prep)]}{opposite}"
        )
        new_caption = _splice(caption, [(prep_span, _match_case(opposite, caption[prep_span.start : prep_span.end]))])
        text = render_text(triple.subject, new_relation, triple.object, triple.relation_kind)
        if new_caption == caption or text == relation.text:
            return self.reject(Reason.EQUALS_POSITIVE)
        return _Candidate("prep_swap", new_relation, new_caption, text)

    # ---- role swaps

    def role_swap(self, relation: Relation) -> _Candidate | None:
        """Subject and object phrases exchanged, as the caption's surface has them.

        Active: "Two dogs are chasing a cat" -> "A cat is chasing two dogs". Passive,
        with its agent after by/with/in: "A pizza covered in cheese" (cheese, cover,
        pizza) -> "Cheese covered in a pizza" (pizza, cover, cheese).
        """
        triple, caption = relation.triple, relation.caption.caption
        if _is_symmetric(triple.relation):
            return self.reject(Reason.SYMMETRIC)
        if triple.subject == triple.object:
            return self.reject(Reason.SAME_NOUN)
        if triple.passive:
            frame = _frame(triple, caption)
            following = next(_WORD.finditer(caption, triple.verb_span.end), None) if triple.verb_span else None
            if frame != "by_passive" and not (
                triple.verb_tag == "VBN" and triple.relation in LOCATIVE_AGENT_VERBS and following is not None
                and following.group().lower() in ("with", "in")
            ):
                return self.reject(Reason.PASSIVE)
            # The surface subject is the triple's object; the agent follows by/with/in.
            subject_span, object_span = triple.object_span, triple.subject_span
            subject_plural, object_plural = triple.object_plural, triple.subject_plural
            relation_span = CharSpan(triple.verb_span.start, following.end())
        else:
            subject_span, object_span = triple.subject_span, triple.object_span
            subject_plural, object_plural = triple.subject_plural, triple.object_plural
            relation_span = _relation_span(triple, caption)
        if (
            relation_span is None
            or not subject_span.end <= relation_span.start
            or not relation_span.end <= object_span.start
            or caption[relation_span.end : object_span.start].strip()
        ):
            return self.reject(Reason.LAYOUT)
        if re.match(r"\s*(of|'s|and|or)\b", caption[object_span.end :]):
            return self.reject(Reason.LAYOUT)  # "hundreds of feet", "skis and a snowboard": the phrase goes on
        gap = list(_WORD.finditer(caption, subject_span.end, relation_span.start))
        gap_text = _WORD.sub("", caption[subject_span.end : relation_span.start])
        if gap_text.strip() or any(w.group().lower() not in _GAP_WORDS for w in gap):
            return self.reject(Reason.LAYOUT)
        subject_text = caption[subject_span.start : subject_span.end]
        object_text = caption[object_span.start : object_span.end]
        phrase_words = {w.lower() for w in _WORD.findall(subject_text + " " + object_text)}
        if phrase_words & _POSSESSIVES:
            return self.reject(Reason.POSSESSIVE)
        image = self.corpus.images[relation.caption.image_id]
        if image.states(_key(triple.object), triple.relation, _key(triple.subject)):
            return self.reject(Reason.TRUE_OF_IMAGE)

        edits: list[tuple[CharSpan, str]] = []
        prefix = caption[: subject_span.start].strip().lower()
        if prefix and not _THERE_IS.fullmatch(prefix):
            # The subject is the caption's own ("Two dogs are chasing a cat", "There are two
            # dogs ..."), not a phrase inside another ("a couple of men", "kites in a park").
            return self.reject(Reason.LAYOUT)
        starts_sentence = not prefix
        folded = caption.isupper()
        new_subject, new_object = object_text, subject_text
        if starts_sentence and not folded:
            new_subject = new_subject[:1].upper() + new_subject[1:]
            first = _WORD.match(new_object)
            if first and first.group()[1:].islower() or (first and len(first.group()) == 1 and first.group() != "I"):
                new_object = new_object[:1].lower() + new_object[1:]
        edits += [(subject_span, new_subject), (object_span, new_object)]
        # Agreement: the finite verb or auxiliary follows the new subject's number.
        if subject_plural != object_plural:
            table = _AUX_PLURAL if object_plural else _AUX_SINGULAR
            aux = [w for w in gap if w.group().lower() in table]
            before = list(_WORD.finditer(caption, 0, subject_span.start))
            if before and before[-1].group().lower() in table and len(before) >= 2 and before[-2].group().lower() in ("there", "here"):
                aux.append(before[-1])  # "There are two dogs chasing a cat"
            for w in aux:
                edits.append((CharSpan(w.start(), w.end()), _match_case(table[w.group().lower()], w.group())))
            if triple.verb_span is not None and triple.verb_tag in ("VBZ", "VBP"):
                tag = "VBP" if object_plural else "VBZ"
                verb = triple.relation.split()[0]
                form = inflect(verb, tag)
                if form is None:
                    return self.reject(Reason.INFLECTION)
                old = caption[triple.verb_span.start : triple.verb_span.end]
                edits.append((triple.verb_span, _match_case(form, old)))
        new_caption = _splice(caption, edits)
        text = render_text(triple.object, triple.relation, triple.subject, triple.relation_kind)
        if new_caption == caption or text == relation.text:
            return self.reject(Reason.EQUALS_POSITIVE)
        number_changed = subject_plural != object_plural
        edited_end = max(subject_span.end, object_span.end) + len(new_caption) - len(caption)
        return _Candidate("role_swap", triple.relation, new_caption, text, edited_end if number_changed else None)


def _is_symmetric(relation: str) -> bool:
    if relation in SYMMETRIC_PREPOSITIONS:
        return True
    prep = _prep_part(relation)
    if prep in SYMMETRIC_PREPOSITIONS:
        return True
    verb, *rest = relation.split()
    return verb in SYMMETRIC_VERBS or (verb in SYMMETRIC_WITH_VERBS and " ".join(rest) in ("with", "to"))


def relations_of(mined: Iterable[MinedCaption]) -> list[Relation]:
    """Relations of mined captions without images: ids, short texts and categories, no boxes.

    What `relaug mine --negatives` and the text-only benchmark build negatives from.
    """
    relations = []
    for m in mined:
        for k, t in enumerate(m.triples):
            relations.append(
                Relation(
                    id=relation_id(m.caption, k),
                    caption=m.caption,
                    triple=t,
                    text=render_text(t.subject, t.relation, t.object, t.relation_kind),
                    subject_category=category_of(t.subject),
                    object_category=category_of(t.object),
                    subject_box=None,
                    object_box=None,
                )
            )
    return relations


def build_negatives(
    captions: Iterable[Caption],
    relations: Sequence[Relation],
    options: NegativeOptions = NegativeOptions(),
    similarity: Callable[[str, str], float] | None = None,
    nlp: Language | None = None,
    *,
    pool: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> NegativeResult:
    """Hard negatives for every relation of a corpus, and every rejected candidate by reason.

    `captions` are all captions of the corpus (those without a triple too: a verb
    any caption of an image uses is never a negative for it); `relations` every
    mined relation. `similarity` scores two verb relations (a
    `relaug.verbs.VerbSimilarity`); None skips the embedding band. `nlp` (the
    mining pipeline) re-parses the negatives kept, so that none the parser reads
    otherwise (a verb read as a noun) is published; None skips that.

    The corpus statistics are gathered here; candidates and their re-parse then run
    over chunks of relations, on the processes of `pool` (a `relaug.mining.parsing_pool`,
    whose workers hold the pipeline `nlp` was loaded as) when there is more than one
    chunk, else here. Chunks do not depend on the pool, so neither does the result.
    `progress` is told how many relations each finished chunk had.
    """
    corpus = _Corpus(captions, relations)
    if similarity is not None and hasattr(similarity, "prepare"):
        similarity.prepare(
            r for vocabulary in (corpus.active, corpus.participle) for r in _swappable(vocabulary, options.min_relation_count)
        )
        similarity.prepare(r.triple.relation for r in relations if r.triple.relation_kind != "spatial")
    chunks = [relations[i : i + CHUNK_RELATIONS] for i in range(0, len(relations), CHUNK_RELATIONS)]
    if pool is None or len(chunks) <= 1:
        builder = _Builder(corpus, options, similarity)
        return _gather((builder.negatives(chunk, nlp) for chunk in chunks), progress)
    # The set-up goes to the workers as a file each reads once, not with every chunk.
    with _setup_file((corpus, options, similarity, nlp is not None)) as setup:
        return _gather(pool.map(partial(_negatives_in_worker, str(setup)), chunks), progress)


@contextlib.contextmanager
def _setup_file(setup: object) -> Iterator[Path]:
    """`setup` pickled into a temporary folder for the worker processes to read, removed afterwards.

    The folder is the system's temporary one, not --out: a full one stops the run
    with a StoppedError saying so (TMPDIR moves it), not an OSError naming --out.
    """
    with contextlib.ExitStack() as cleanup:
        folder = None
        try:
            folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="relaug-negatives-"))
            path = Path(folder) / "setup.pickle"
            path.write_bytes(pickle.dumps(setup, pickle.HIGHEST_PROTOCOL))
        except OSError as e:
            # The folder TMPDIR sets, found from what failed: tempfile.gettempdir() can fail the same way.
            made = folder or e.filename
            where = Path(made).parent if made else "the temporary folder"
            raise StoppedError(
                f"{where}: cannot write the negative builders' set-up there ({e.strerror or e}); "
                "make room or set TMPDIR to a folder with room, then run the same command again"
            ) from e
        yield path


CHUNK_RELATIONS = 2048  # relations per task: small enough to spread, large enough to batch the re-parse
_ChunkResult = tuple[dict[str, tuple[Negative, ...]], Counter]


def _gather(results: Iterable[_ChunkResult], progress: Callable[[int], None] | None) -> NegativeResult:
    gathered = NegativeResult(negatives={})
    for negatives, rejected in results:
        gathered.negatives.update(negatives)
        gathered.rejected.update(rejected)
        if progress is not None:
            progress(len(negatives))
    return gathered


_worker_state: dict[str, object] = {}


def _negatives_in_worker(setup: str, relations: Sequence[Relation]) -> _ChunkResult:
    if _worker_state.get("setup") != setup:  # the first chunk of this build in this worker
        corpus, options, similarity, verify = pickle.loads(Path(setup).read_bytes())
        _worker_state.update(setup=setup, builder=_Builder(corpus, options, similarity), verify=verify)
        # The set-up lives as long as the build: out of the collector's passes, which the
        # re-parses' short-lived Docs trigger all along (relaug mine --negatives 4% faster).
        gc.freeze()
    nlp = worker_pipeline() if _worker_state["verify"] else None
    return _worker_state["builder"].negatives(relations, nlp)  # type: ignore[union-attr]


@lru_cache(maxsize=1)
def default_similarity() -> VerbSimilarity:
    """One VerbSimilarity per process: MiniLM is loaded once, however many builds run."""
    return VerbSimilarity()


# --------------------------------------------------------------------------- partners


def _rank(seed: int, anchor: str, other: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{anchor}:{other}".encode(), digest_size=8).digest()


def _choose(seed: int, anchor: Relation, candidates: list[Relation], limit: int) -> tuple[str, ...]:
    """Up to `limit` ids, spread over relations: one per relation in a seeded order, then again."""
    by_relation: dict[str, list[Relation]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: _rank(seed, anchor.id, c.id)):
        by_relation[c.triple.relation].append(c)
    order = sorted(by_relation, key=lambda r: _rank(seed, anchor.id, r))
    chosen: list[str] = []
    depth = 0
    while len(chosen) < limit and any(len(by_relation[r]) > depth for r in order):
        chosen += [by_relation[r][depth].id for r in order if len(by_relation[r]) > depth]
        depth += 1
    return tuple(chosen[:limit])


def find_partners(examples: Iterable[ImageExample], max_partners: int = 8, seed: int = 0) -> dict[str, Partners]:
    """DRIVE partners of every relation, found only within its split and only on other images."""
    by_pair: dict[tuple[str, str, str], list[Relation]] = defaultdict(list)
    placed: list[tuple[str, Relation]] = []
    for example in examples:
        for r in example.relations:
            by_pair[(example.split, r.triple.subject, r.triple.object)].append(r)
            placed.append((example.split, r))
    result = {}
    for split, r in placed:
        t, image = r.triple, r.caption.image_id
        same = [
            o for o in by_pair[(split, t.subject, t.object)]
            if o.caption.image_id != image and o.triple.relation != t.relation
        ]
        swapped = [
            o for o in by_pair[(split, t.object, t.subject)]
            if o.caption.image_id != image and o.triple.relation == t.relation and t.subject != t.object
        ]
        result[r.id] = Partners(_choose(seed, r, same, max_partners), _choose(seed, r, swapped, max_partners))
    return result


def add_negatives(
    examples: Sequence[ImageExample],
    options: NegativeOptions = NegativeOptions(),
    similarity: Callable[[str, str], float] | None = None,
    nlp: Language | None = None,
    *,
    pool: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ImageExample], Counter]:
    """The examples with `negatives`, `partners` and `swap_partners` filled; and the rejection counts.

    `pool` and `progress` are those of `build_negatives`.
    """
    relations = [r for e in examples for r in e.relations]
    captions = [c for e in examples for c in e.captions]
    result = build_negatives(
        captions, relations, options, similarity, nlp, pool=pool, progress=progress
    )
    partners = find_partners(examples, options.max_partners, options.seed)
    filled = [
        replace(
            e,
            relations=tuple(
                replace(
                    r,
                    negatives=result.negatives[r.id],
                    partners=partners[r.id].partners,
                    swap_partners=partners[r.id].swap_partners,
                )
                for r in e.relations
            ),
        )
        for e in examples
    ]
    return filled, result.rejected

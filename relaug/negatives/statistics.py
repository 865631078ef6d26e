"""What the corpus says: which relations are said of which things, overall and per image."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from relaug.grounding import category_of
from relaug.negatives.edits import NEEDS_PLACE, WORD, preposition_of
from relaug.records import Caption, Relation, Triple


@lru_cache(maxsize=65536)
def noun_key(noun: str) -> tuple[str, str | None]:
    return noun, category_of(noun)


def same_thing(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    """Same noun, or both grounded to the same COCO category."""
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


@dataclass
class ImageFacts:
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
        return _pairs_by(self.triples, preposition_of)


def _pairs_by(triples: list[tuple], key: Callable[[str], str]) -> dict[str, list[tuple]]:
    """(subject, object) pairs of an image's triples, by `key` of their relation."""
    pairs: dict[str, list[tuple]] = defaultdict(list)
    for s, r, o in triples:
        pairs[key(r)].append((s, o))
    return pairs


def _any_pair(pairs: Sequence[tuple], subject, obj) -> bool:
    # Most lookups find no pair: answered without starting a generator.
    return bool(pairs) and any(same_thing(s, subject) and same_thing(o, obj) for s, o in pairs)


@dataclass
class Vocabulary:
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


def frame_of(t: Triple, caption: str) -> str | None:
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
    following = [w.lower() for w in WORD.findall(caption[t.verb_span.end :])[:1]]
    if following == ["by"] and t.verb_tag == "VBN":  # not "a man standing by the ocean"
        return "by_passive"
    return None


class Corpus:
    """What the whole corpus says: relation counts, who does what to what, and per image."""

    def __init__(self, captions: Iterable[Caption], relations: Sequence[Relation]):
        self.images: dict[int, ImageFacts] = defaultdict(lambda: ImageFacts(set(), []))
        for caption in captions:
            self.images[caption.image_id].words.update(w.lower() for w in WORD.findall(caption.caption))
        self.active = Vocabulary()  # verbs as captions use them actively: "riding a horse"
        self.participle = Vocabulary()  # participles with a preposition: "parked on a street"
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
            image.words.update(w.lower() for w in WORD.findall(r.caption.caption))
            subject, obj = noun_key(t.subject), noun_key(t.object)
            image.triples.append((subject, t.relation, obj))
            frame = frame_of(t, r.caption.caption)
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
        if relation in NEEDS_PLACE:
            return False
        return " " in relation or active.count[relation] * 2 >= active.verb_count[relation]

    def can_take_object(self, verb: str, min_count: int) -> bool:
        """Whether captions use a verb with a direct object at all (`min_count` captions), not only mostly."""
        return verb not in NEEDS_PLACE and self.active.captions[verb] >= min_count

    def synonyms(self, a: str, b: str) -> bool:
        """Whether captions of one image use both relations, or both verbs, for one subject and object."""
        return self._same_scene(a, b) or self._same_scene(a.split()[0], b.split()[0])

    def _same_scene(self, a: str, b: str) -> bool:
        return a != b and ((a, b) if a < b else (b, a)) in self.same_scene

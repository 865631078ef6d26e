"""What the corpus says: which relations are said of which things, overall and per image."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain

from lemminflect import getInflection

from relaug.negatives.edits import NEEDS_PLACE, WORD, bare_singular, owned_after, part_before_object, relation_span
from relaug.nouns import category_of, noun_class, noun_kind
from relaug.records import Caption, Relation, Triple
from relaug.verbs import (
    PATH_WORDS,
    PATHS_COUNTED_ALONE,
    contradicts,
    inflect,
    is_present_participle,
    preposition_of,
    relation_kind,
)


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
    # (verb, preposition, ground head): a caption of the image has the verb done there
    doings: set[tuple[str, str, str]] = field(default_factory=set)

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

    def add(self, t: Triple, first_in_caption: bool) -> None:
        self.count[t.relation] += 1
        self.captions[t.relation] += first_in_caption
        self.verb_count[t.relation.split()[0]] += 1


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


PAST_TAGS = frozenset({"VBD", "VBN"})


def reference_key(image_id: int) -> tuple[str, int]:
    """Where a reference caption's image is counted: apart from every image of the build, so
    that a reference never stands for an anchor's own image."""
    return ("reference", image_id)

# A verb swap is a paraphrase where captions of more than this share of the scenes that say
# the old relation also say the new one: the swap would be true of about that share of photos.
# One co-use anywhere is too strict: on a large corpus nearly every pair of common verbs meets
# once ("throwing" and "catching" a frisbee). `bench/negatives_quality.py --hidden-caption`
# measures what gets through.
PARAPHRASE_RATE = 0.02
_MOTION_PATHS = PATH_WORDS - PATHS_COUNTED_ALONE  # down, through, across, ...: one stands for all
# A verb of motion takes a path in at least this share of its uses: captions say "riding
# down", "walking across" 0.12 and 0.44 of the time, "sitting along" a bench in 2 of 2,805,
# so "sitting on top of a horse through a yard" is no English, however often "sit" is said.
MOTION_VERB_RATE = 0.01

# Captions that must say two verbs of one subject at once for one to go along with the other.
MIN_SAID_AT_ONCE = 2
# ... and the share of the captions saying the rarer of the two with another verb that pair it
# with the other: "sitting" and "standing" meet now and then ("people sitting and standing").
GOES_ALONG_RATE = 0.05


# A verb whose -ing form is one letter away from that of a verb captions use this many times as
# often is most likely a misspelling of it, even where it is a word: "ridding" (riding), "holing"
# (holding) ...
MISSPELLING_RATIO = 100
# ... and where the dictionary does not know it, this many times suffices: "staning" (standing).
NON_WORD_MISSPELLING_RATIO = 30
# An object written one letter from a noun that captions state this many times as often with the
# same relation and subject class is likely a typo of it: "a man on skies" (on skis; one caption in
# ten of val2017's people on skis writes "skies").
MISSPELLED_OBJECT_RATIO = 5


def _one_letter_variants(word: str) -> set[str]:
    """The word, and the word with any one letter left out. Two words one insertion, deletion,
    substitution or swap of neighbours apart share one of these."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _one_letter_apart(a: str, b: str) -> bool:
    """Whether one word is the other with one letter more ("skies", "skis")."""
    if abs(len(a) - len(b)) != 1:
        return False
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return shorter in _one_letter_variants(longer)


@lru_cache(maxsize=65536)
def written_forms(noun: str) -> tuple[str, ...]:
    """A noun lemma as captions write it: itself and its plural."""
    return (noun, *(getInflection(noun, tag="NNS") or ()))


def likely_misspellings(verb_counts: Counter) -> frozenset[str]:
    """The verbs of `verb_counts` (lemma -> triples) that are likely misspellings of another of them."""
    forms = {verb: inflect(verb, "VBG") or verb for verb in verb_counts}
    variants = {verb: _one_letter_variants(form) for verb, form in forms.items()}
    by_variant: dict[str, set[str]] = defaultdict(set)
    for verb, its_variants in variants.items():
        for variant in its_variants:
            by_variant[variant].add(verb)

    def misspelled(verb: str, n: int) -> bool:
        ratio = MISSPELLING_RATIO if is_present_participle(forms[verb]) else NON_WORD_MISSPELLING_RATIO
        near = {other for variant in variants[verb] for other in by_variant[variant]}
        return any(verb_counts[other] >= ratio * n for other in near)

    return frozenset(verb for verb, n in verb_counts.items() if misspelled(verb, n))


class Corpus:
    """What the whole corpus says: relation counts, who does what to what, and per image.

    `reference`: relations mined from captions of other images (a larger corpus, such as COCO
    train's captions for a build of val2017), which add to what the corpus says of things (the
    statistics, paraphrases, which verbs take an object) but never to what an image's own
    captions state.
    """

    def __init__(self, captions: Iterable[Caption], relations: Sequence[Relation], reference: Sequence[Relation] = ()):
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
        at_verb: dict[tuple, list[Relation]] = defaultdict(list)
        at_phrase: dict[tuple, list[Relation]] = defaultdict(list)  # (caption, preposition) -> relations
        subject_verbs: dict[tuple, dict[int, str]] = defaultdict(dict)  # (caption, subject) -> verb at each place
        # (caption, noun) -> (preposition, head) of the ground or surface the caption puts it on, in, at, ...
        grounds_of: dict[tuple, set[tuple[str, str]]] = defaultdict(set)
        doers: list[tuple[Relation, bool]] = []  # verb relations, and whether of the corpus's own captions
        # active verb relations with a preposition -> triples, and those written with words
        # between the verb and its preposition ("carrying a surfboard down the beach")
        self.with_preposition: Counter = Counter()
        self.written_apart: Counter = Counter()
        # (relation, preposition) -> triples whose object a phrase like "with his bat" follows
        self.owned_after_object: Counter = Counter()
        # (relation, object head) -> triples whose object is a bare singular ("playing frisbee")
        self.bare_object: Counter = Counter()
        # (relation, part word) -> triples with that part before their object ("riding on the back of a horse")
        self.part_before: Counter = Counter()
        reference_verbs: dict[tuple, dict[int, str]] = defaultdict(dict)  # as subject_verbs, of the reference
        for r, own in chain(((r, True) for r in relations), ((r, False) for r in reference)):
            if r.caption != caption:
                caption, stated = r.caption, set()
            t = r.triple
            if own and t.preposition_span is not None:
                at_phrase[(r.caption, t.preposition_span.start)].append(r)
            if t.verb_span is not None:
                if own:
                    at_verb[(r.caption, t.verb_span.start)].append(r)
                verbs = subject_verbs if own else reference_verbs
                verbs[(r.caption, t.subject_span.start)][t.verb_span.start] = t.relation.split()[0]
                if t.preposition_span is not None and not t.passive:  # "stuck into the snow" has none between
                    self.with_preposition[t.relation] += 1
                    self.written_apart[t.relation] += relation_span(t, r.caption.caption) is None
                if (owned := owned_after(r.caption.caption, t.object_span.end)) is not None:
                    self.owned_after_object[(t.relation, owned)] += 1
                if bare_singular(t, r.caption.caption):
                    self.bare_object[(t.relation, head(t.object))] += 1
                if (part := part_before_object(t, r.caption.caption)) is not None:
                    self.part_before[(t.relation, part)] += 1
            if t.relation_kind == "spatial" and noun_class(t.object) == "ground":
                grounds_of[(r.caption, t.subject_span.start)].add((t.relation, head(t.object)))
            elif t.verb_span is not None:
                doers.append((r, own))
            subject, obj = noun_key(t.subject), noun_key(t.object)
            if own:
                image = self.images[r.caption.image_id]
                image.words.update(w.lower() for w in WORD.findall(r.caption.caption))
                image.triples.append((subject, t.relation, obj))
            frame = frame_of(t, r.caption.caption)
            vocabulary = vocabularies.get(frame)
            if vocabulary is None:
                continue
            # A caption's "-ed" verb after its subject is nearly always a participle the tagger
            # read as a past tense ("a teddy bear placed on a table"): it says nothing of how
            # the verb is used actively ("placing on" a table is not English).
            if not (frame == "active" and t.verb_tag in PAST_TAGS):
                vocabulary.add(t, first_in_caption=(frame, t.relation) not in stated)
                stated.add((frame, t.relation))
            image_key = r.caption.image_id if own else reference_key(r.caption.image_id)
            scene = (image_key, subject[1] or subject[0], obj[1] or obj[0])
            scenes[scene].add(t.relation)
            scenes[scene].add(t.relation.split()[0])  # "ride" and "drive" a motorcycle, whatever follows
        self.images = dict(self.images)  # picklable, for worker processes
        # Relations whose phrase the caption says of two things: the miner's reading of "a giraffe
        # reaching leaves on a tree" has the leaves on the tree, and perhaps the giraffe.
        self.placed_twice = frozenset(
            r.id for group in at_phrase.values() if len({head(o.triple.subject) for o in group}) > 1 for r in group
        )
        self.misspelled = likely_misspellings(self.active.verb_count + self.participle.verb_count)
        self.statistics = RelationStatistics(relations, reference)
        # The other triples a caption states with the same verb token, by relation id: a verb
        # swap changes them too ("riding a skateboard down a street" -> "pushing ... down").
        self.verb_siblings: dict[str, tuple[tuple[str, str, str], ...]] = {
            r.id: tuple((o.triple.subject, o.triple.relation, o.triple.object) for o in group if o is not r)
            for group in at_verb.values()
            if len(group) > 1
            for r in group
        }
        # The verbs a caption gives a relation's subject at its other verb tokens, by relation id
        # ("two giraffes standing in a field grazing on grass": "stand" for the grazing).
        self.other_verbs: dict[str, frozenset[str]] = {}
        for r in relations:
            t = r.triple
            if t.verb_span is not None:
                verbs = subject_verbs[(r.caption, t.subject_span.start)]
                if len(verbs) > 1:
                    self.other_verbs[r.id] = frozenset(v for at, v in verbs.items() if at != t.verb_span.start)
        # Verb pairs one caption says of one subject at once ("a man smiling while holding a
        # pizza"), counted once per caption and subject.
        self.said_at_once: Counter = Counter()
        self.said_with_another: Counter = Counter()  # verb -> captions saying it with another of its subject
        # On what ground captions have what done ("riding a surfboard on a wave", "carrying a
        # surfboard on the beach", the board or its carrier on it): the images saying each (verb,
        # preposition, ground head), and per verb relation the grounds its caption gives its
        # subject or its object (`done_elsewhere`).
        self.grounds: dict[str, frozenset[tuple[str, str]]] = {}  # relation id -> (preposition, ground head)
        doings_of: dict[object, set[tuple[str, str, str]]] = defaultdict(set)  # image (own or reference) -> doings
        for r, own in doers:
            t = r.triple
            grounds = grounds_of.get((r.caption, t.subject_span.start), set()) | grounds_of.get(
                (r.caption, t.object_span.start), set()
            )
            if not grounds:
                continue
            if own:
                self.grounds[r.id] = frozenset(grounds)
            image_key = r.caption.image_id if own else reference_key(r.caption.image_id)
            verb = t.relation.split()[0]
            doings_of[image_key].update((verb, *ground) for ground in grounds)
        self.doings: Counter = Counter()  # one image counts once
        for image_key, doings in doings_of.items():
            self.doings.update(doings)
            if image_key in self.images:
                self.images[image_key].doings = doings
        for verbs in chain(subject_verbs.values(), reference_verbs.values()):
            distinct = sorted(set(verbs.values()))
            if len(distinct) > 1:
                self.said_with_another.update(distinct)
            for i, a in enumerate(distinct):
                for b in distinct[i + 1 :]:
                    self.said_at_once[(a, b)] += 1
        # How often captions of one image say each relation (and each verb) of one subject and
        # object, alone and with each other one: over all objects, and per object.
        self.scene_count: Counter = Counter()
        self.same_scene: Counter = Counter()
        for (_, _, thing), said in scenes.items():
            ordered = sorted(said)
            for i, a in enumerate(ordered):
                self.scene_count[a] += 1
                self.scene_count[(a, thing)] += 1
                for b in ordered[i + 1 :]:
                    self.same_scene[(a, b)] += 1
                    self.same_scene[(a, b, thing)] += 1

    def done_elsewhere(self, verb: str, preposition: str, ground: str, image_id: int) -> int:
        """How many images but `image_id` have captions with `verb` done `preposition` a `ground`
        (its head noun), by a subject there or on an object there: "riding ... on a wave"."""
        return self.doings[(verb, preposition, ground)] - ((verb, preposition, ground) in self.images[image_id].doings)

    def takes_object(self, relation: str) -> bool:
        """Whether a one-word verb relation takes a direct object: "hold" does; "sit" does not,
        though a misparse now and then says so, since the corpus nearly always writes "sit on"."""
        active = self.active
        if relation in NEEDS_PLACE:
            return False
        return " " in relation or active.count[relation] * 2 >= active.verb_count[relation]

    def goes_along_with(self, verb: str, other: str) -> bool:
        """Whether one of the two verbs is one captions use without an object (pose, stand, sit)
        and captions say them of one subject at once, often enough ("standing while holding",
        "sitting at a table eating"): the one is then likely true where the other is ("standing
        under an umbrella" one holds, "eating from a feeder" a bird sits on)."""
        if (self.takes_object(verb) and self.takes_object(other)) or contradicts(verb, other):
            return False
        pair = (verb, other) if verb < other else (other, verb)
        together = self.said_at_once[pair]
        fewer = min(self.said_with_another[verb], self.said_with_another[other])
        return together >= MIN_SAID_AT_ONCE and together >= GOES_ALONG_RATE * fewer

    def takes_path(self, verb: str, word: str, min_count: int) -> bool:
        """Whether captions say `verb` with the path word `word` (`min_count` captions or more),
        or, for a path of motion (down, through, across, ...), with any such path, and that
        often enough for a verb of motion (MOTION_VERB_RATE)."""
        if word in PATHS_COUNTED_ALONE:
            return self.active.captions[f"{verb} {word}"] >= min_count
        with_path = sum(self.active.captions[f"{verb} {w}"] for w in _MOTION_PATHS)
        return with_path >= min_count and with_path >= MOTION_VERB_RATE * self.active.verb_count[verb]

    def says_owned_after_object(self, relation: str, preposition: str, min_count: int) -> bool:
        """Whether captions say a verb relation with a phrase like "with his bat" after its object
        (`preposition` "with"), `min_count` times or more."""
        return self.owned_after_object[(relation, preposition)] >= min_count

    def says_bare(self, relation: str, obj: str, min_count: int) -> bool:
        """Whether captions say a verb relation of this object (its head noun) with no determiner
        before it ("tossing frisbee"), `min_count` times or more."""
        return self.bare_object[(relation, head(obj))] >= min_count

    def says_part_before_object(self, relation: str, part: str, min_count: int) -> bool:
        """Whether captions say a verb relation of this part of its object ("standing on the edge
        of", `part` "edge"), `min_count` times or more."""
        return self.part_before[(relation, part)] >= min_count

    def written_around_an_object(self, relation: str) -> bool:
        """Whether captions mostly write a verb relation, where active, with its object between the verb and the
        preposition ("carrying a surfboard down the beach"): written whole in place of another
        ("standing on a street" -> "carrying down a street") it lacks that object. Two such
        captions at least: one is as often a misparse."""
        apart = self.written_apart[relation]
        return apart >= 2 and apart * 2 > self.with_preposition[relation]

    def can_take_object(self, verb: str, min_count: int) -> bool:
        """Whether captions use a verb with a direct object at all (`min_count` captions), not only mostly."""
        return verb not in NEEDS_PLACE and self.active.captions[verb] >= min_count

    def synonyms(self, a: str, b: str, obj: str) -> bool:
        """Whether `b` is too likely true where `a` is: of the scenes (an image, a subject and an
        object) whose captions say `a`, more than PARAPHRASE_RATE also say `b` ("laying on" a
        couch -> "sitting on" it), relation by relation or verb by verb, over all objects or
        over this object's class alone ("sitting on" a couch -> "laying on" it, though not a
        bench). Not symmetric: the share is of the scenes that say `a`."""
        thing = noun_key(obj)[1] or obj
        return any(self._implies(x, y, thing) for x, y in ((a, b), (a.split()[0], b.split()[0])))

    def _implies(self, a: str, b: str, thing: str) -> bool:
        if a == b:
            return False
        pair = (a, b) if a < b else (b, a)
        overall = self.same_scene[pair] > PARAPHRASE_RATE * self.scene_count[a]
        # Per object, two co-uses at least: one is as often a misparse or a second person.
        together = self.same_scene[(*pair, thing)]
        return overall or (together >= 2 and together > PARAPHRASE_RATE * self.scene_count[(a, thing)])


@lru_cache(maxsize=65536)
def head(noun: str) -> str:
    """What statistics count a core noun as: its last word ("tennis racket" -> "racket"), unless
    the last word alone names another kind of thing ("hot dog" is food, not a dog; "teddy
    bear", "stop sign"): then the whole noun."""
    last = noun.rsplit(" ", 1)[-1]
    return noun if last != noun and noun_class(noun) != noun_class(last) else last


# How close to the anchor's own nouns a negative's triple is stated, best first: with both head
# nouns; with the object's head and the subject's class (any person may ride what people
# ride); with both classes (its COCO category: a puppy is a dog); or in two pairs, never in
# one triple: a one-verb relation said of this object by other subjects, and of this subject
# (or its class) with other objects, for triples no whole one reaches (`in_pairs`).
LEVELS = ("noun", "subject class", "class", "pairs")


@dataclass(frozen=True)
class Evidence:
    """Why a negative is plausible: how many captions of other images state it, and how close to
    the anchor's own nouns."""

    count: int  # captions of other images stating its whole triple
    level: str  # one of LEVELS


class RelationStatistics:
    """Who does what to what across the corpus, by noun (a compound, or its head) and by noun class.

    Counted in captions (a caption stating a triple twice counts once), so that one
    misparsed caption weighs one. Every lookup is for an anchor relation and leaves
    out the captions of the anchor's own image: what makes a negative plausible is
    that *other* photos are described that way. `reference`: relations of other images
    (`Corpus`), counted in every lookup.
    """

    # An object named by fewer captions of other images backs off: a compound to its head noun
    # ("tennis ball" to "ball"), a head noun to its class.
    RARE = 5
    # Captions of other images that must state a whole triple, at every level: one caption is as
    # often a misparse ("a man on an umbrella") or a one-off as a scene people photograph, and a
    # class stands for many nouns it may not fit. Blind review seed 283 (bench/reviews/) scored
    # the verb swaps of head nouns stated twice 0.81 all three, above any earlier round's.
    MIN_WHOLE_CAPTIONS = 2
    # ... and the other images those captions must come from: two of the five captions of one odd
    # photo ("two men biting a surfboard") make no likely scene. (Role swaps keep their own
    # count, `MIN_ROLE_SWAP_CAPTIONS`.)
    MIN_WHOLE_IMAGES = 2
    # Captions that must state each pair of the "pairs" level: the relation of the object, and of
    # the subject (its head noun or its class).
    MIN_PAIR_CAPTIONS = 2
    # Other images whose captions must put a subject by a preposition of an object, with any verb
    # or none, for `laid_out`: two photos, not two captions of one unusual photo.
    MIN_LAYOUT_IMAGES = 2
    # Captions of other images that must say what a subject does (any relation) before what
    # they never say of it counts against it (`_subject_does`).
    KNOWN_SUBJECT = 20

    def __init__(self, relations: Iterable[Relation], reference: Iterable[Relation] = ()):
        # object noun (head, or whole compound) -> captions naming it, once per relation they say of it
        self.object_counts: Counter = Counter()
        # whole triples -> captions: ("sro", subject head, relation, object noun), and with the
        # subject's class ("Sro") or both classes ("SrO") in place of the nouns, and the subject's
        # number, which a class hides: "people filling a beach" says nothing of one surfer
        self.triples: Counter = Counter()
        self.triple_images: Counter = Counter()  # the same whole triples -> images
        # image -> what its captions state: (caption, subject head, the whole subject noun, its
        # class, its number, relation, object head, its class, the whole object noun), the classes
        # those of the whole nouns, as lookups take them
        self.stated: dict[int, set[tuple]] = defaultdict(set)
        # the same of the reference's images, counted, not kept: only an anchor's own image is left out
        reference_stated: dict[int, set[tuple]] = defaultdict(set)
        relations, reference = list(relations), list(reference)
        # "A woman feeds a toddler a hot dog": the hot dog is what she gives, not what she feeds,
        # so that triple says nothing of "feeding a hot dog"
        given = _second_objects(chain(relations, reference))
        for r, stated in chain(((r, self.stated) for r in relations), ((r, reference_stated) for r in reference)):
            if r.id in given:
                continue
            t = r.triple
            subject = (head(t.subject), t.subject, noun_class(t.subject), t.subject_plural)
            obj = (head(t.object), noun_class(t.object), t.object)
            stated[r.caption.image_id].add((r.caption.caption_id, *subject, t.relation, *obj))
        # A compound said of unlike its head noun is a thing of its own, counted whole only:
        # "sliding into home plate" says nothing of a plate of food.
        self.used_apart = _compounds_used_apart(chain(*self.stated.values(), *reference_stated.values()))
        # A subject that does unlike the rest of its class stands for itself only: "a batter
        # kicking a ball" is no likely photo, though people kick balls.
        self.acting_apart = _subjects_acting_apart(chain(*self.stated.values(), *reference_stated.values()))
        for image_stated in chain(self.stated.values(), reference_stated.values()):
            apart = {t for t in image_stated if t[-1] in self.used_apart}
            image_stated -= apart
            image_stated |= {(*t[:-3], t[-1], *t[-2:]) for t in apart}
        # pairs -> captions: ("ro", relation, object noun), ("sr", subject noun, relation) and
        # ("Sr", subject class, its number, relation)
        self.pairs: Counter = Counter()
        # subject noun (head, or whole compound) -> captions saying it does something, once per
        # relation they say of it
        self.subject_counts: Counter = Counter()
        # layouts -> images, and captions: (subject head, preposition, object noun), whatever the
        # verb ("sitting under", "hiding under" and "under" a table are one layout)
        self.layout_images: Counter = Counter()
        self.layout_captions: Counter = Counter()
        for image_stated in chain(self.stated.values(), reference_stated.values()):
            counts = _image_counts(image_stated)
            self.object_counts.update(counts.named)
            self.triples.update(counts.triples)
            self.triple_images.update(counts.triples.keys())
            self.pairs.update(counts.pairs)
            self.subject_counts.update(counts.subject_counts)
            self.layout_images.update(counts.layouts.keys())
            self.layout_captions.update(counts.layouts)
        self.stated = dict(self.stated)
        # object noun -> the relations stated of it
        self.of_object: dict[str, list[str]] = defaultdict(list)
        for key in self.pairs:
            if key[0] == "ro":
                self.of_object[key[2]].append(key[1])
        self.of_object = dict(self.of_object)
        # a whole triple less its relation -> the relations stated with it (the keys of `triples`),
        # and one with a subject class less its object -> the objects stated with it
        self.together: dict[tuple, list[str]] = defaultdict(list)
        self.together_objects: dict[tuple, list[str]] = defaultdict(list)
        for key in self.triples:
            self.together[(*key[:-2], key[-1])].append(key[-2])
            if key[0] == "Sro":
                self.together_objects[key[:-1]].append(key[-1])
        self.together = dict(self.together)
        self.together_objects = dict(self.together_objects)
        self._by_class_relation: dict[tuple, Counter] = {}
        self._misspelled_objects: dict[tuple, bool] = {}
        self._own_image: int | None = None
        self._own_counts = _ImageCounts()

    def _own(self, image_id: int) -> _ImageCounts:
        """What the image's own captions give (`_image_counts`)."""
        if image_id != self._own_image:
            # Lookups come relation by relation, image by image: the last image's counts answer most.
            self._own_image, self._own_counts = image_id, _image_counts(self.stated.get(image_id, ()))
        return self._own_counts

    def _named_elsewhere(self, image_id: int, noun: str) -> int:
        """Captions of other images naming `noun` as an object, once per relation they say of it."""
        n = self.object_counts.get(noun, 0)
        return n - self._own(image_id).named[noun] if n else 0

    def _object_noun(self, image_id: int, obj: str) -> str:
        """What an object is looked up as: the whole compound where other images name it often
        (a tennis ball is hit, a soccer ball kicked) or say of it unlike its head noun
        (`used_apart`), else its head noun."""
        object_head = head(obj)
        if obj != object_head and (obj in self.used_apart or self._named_elsewhere(image_id, obj) >= self.RARE):
            return obj
        return object_head

    def _backs_off(self, image_id: int, object_noun: str) -> bool:
        """Whether an object's class stands in for it: only where other images name it rarely
        (what can be done to a thing depends on the thing: nothing rides a cigarette); a
        subject's class always may (what people do to a thing, any person may do). Never for a
        compound `used_apart`: its class is its head noun's ("skiing on a dining room table")."""
        return object_noun not in self.used_apart and self._named_elsewhere(image_id, object_noun) < self.RARE

    def _subject_noun(self, image_id: int, subject: str) -> str:
        """What a subject is looked up as: the whole compound where captions of other images say
        it does things often (a tennis player hits and serves the ball, a baseball player
        pitches it, a soccer player kicks it), else its head noun."""
        subject_head = head(subject)
        if subject != subject_head and self._subject_said_elsewhere(image_id, subject) >= self.RARE:
            return subject
        return subject_head

    def _subject_said_elsewhere(self, image_id: int, noun: str) -> int:
        """Captions of other images saying `noun` does something, once per relation they say of it."""
        n = self.subject_counts.get(noun, 0)
        return n - self._own(image_id).subject_counts[noun] if n else 0

    def triple(self, image_id: int, subject: str, relation: str, obj: str) -> int:
        """Captions of other images stating the whole triple, by the subject's noun (`_subject_noun`)
        and the object's head."""
        return self._stated_elsewhere(image_id, ("sro", self._subject_noun(image_id, subject), relation, head(obj)))

    def whole(
        self, image_id: int, subject: str, subject_plural: bool, relation: str, obj: str, *,
        subject_class: bool = True, object_class: bool = True,
    ) -> Evidence | None:
        """The evidence that other images' captions state `relation` of this subject and this
        object together, in one triple: of the subject's noun (`_subject_noun`) and the object's
        noun (`_object_noun`); else (`subject_class`) of the subject's class, in its
        number, and the object; else (`object_class` too, and an object other images name rarely:
        `_backs_off`) of both classes. None where none does.

        Two pairs said apart are not enough: "a cat sitting under a bench" and "a woman sitting
        under an umbrella" do not make "a woman sitting under a bench" a likely photo."""
        for group, level in self._groups(image_id, subject, subject_plural, obj, object_class, subject_class):
            if level != "noun" and not self._subject_does(image_id, subject, relation):
                break
            if (evidence := self._stated_whole(image_id, (*group[:-1], relation, group[-1]), level)) is not None:
                return evidence
        return None

    def said_together(
        self, image_id: int, subject: str, subject_plural: bool, obj: str, *, pairs: bool = False
    ) -> dict[str, Evidence]:
        """Every relation `whole` finds for this subject and object, with its evidence; with
        `pairs`, also those `in_pairs` finds."""
        found: dict[str, Evidence] = {}
        for group, level in self._groups(image_id, subject, subject_plural, obj, True):
            for relation in self.together.get(group, ()):
                if relation not in found and (level == "noun" or self._subject_does(image_id, subject, relation)):
                    evidence = self._stated_whole(image_id, (*group[:-1], relation, group[-1]), level)
                    if evidence is not None:
                        found[relation] = evidence
        if pairs:
            for relation in self.of_object.get(self._object_noun(image_id, obj), ()):
                if relation not in found:
                    evidence = self.in_pairs(image_id, subject, subject_plural, relation, obj)
                    if evidence is not None:
                        found[relation] = evidence
        return found

    def in_pairs(self, image_id: int, subject: str, subject_plural: bool, relation: str, obj: str) -> Evidence | None:
        """The evidence that other images' captions state `relation` of this object
        (`_object_noun`) and of this subject's noun (`_subject_noun`) or its class in its number,
        MIN_PAIR_CAPTIONS captions each, and of the two together in one caption at least (of
        the subject's noun, or its class in either number); None where any is missing.
        The count is the object's.

        Only for a relation of one verb, which takes its object directly: what is done to a
        thing depends on the thing (cut a pizza, pet a dog), and who can do it on the doer.
        Where a thing sits, stands or lies depends on both together, which no pair says: a
        man sits on a horse and a dog sits on a couch, yet "a dog sitting on two horses".
        Nor do two pairs alone, without a caption joining them, say the doer can do it to this
        thing: "a dog pulling a car", "a cat eating dead leaves" (reviewers scored such verb
        swaps 0.44 grammatical, false and plausible at once, those joined once 0.60; 148
        reviewed, bench/reviews/)."""
        if " " in relation:
            return None
        object_noun = self._object_noun(image_id, obj)
        with_object = self._paired_elsewhere(image_id, ("ro", relation, object_noun))
        if with_object < self.MIN_PAIR_CAPTIONS:
            return None
        subject_class = self._stands_for(subject)
        subject_noun = self._subject_noun(image_id, subject)
        subject_keys = [("sr", subject_noun, relation)]
        together = [("sro", subject_noun, relation, object_noun)]
        if subject_class is not None:
            subject_keys.append(("Sr", subject_class, subject_plural, relation))
            together += [("Sro", subject_class, plural, relation, object_noun) for plural in (False, True)]
        if not any(self._stated_elsewhere(image_id, key) for key in together):
            return None
        if any(self._paired_elsewhere(image_id, key) >= self.MIN_PAIR_CAPTIONS for key in subject_keys):
            return Evidence(with_object, "pairs")
        return None

    def laid_out(self, image_id: int, subject: str, relation: str, obj: str) -> Evidence | None:
        """The evidence that other images' captions put this subject (its head noun) by the
        preposition of `relation` of this object (`_object_noun`), with any verb or none: where a
        thing can be depends on the two things and the preposition, not on the verb ("a cat
        hiding under a table" says a cat sits under one too). Captions of MIN_LAYOUT_IMAGES
        other images at least (level "noun", the count theirs); None otherwise."""
        preposition = preposition_of(relation)
        if not preposition:
            return None
        key = (head(subject), preposition, self._object_noun(image_id, obj))
        own = self._own(image_id).layouts[key]
        if self.layout_images.get(key, 0) - (own > 0) < self.MIN_LAYOUT_IMAGES:
            return None
        return Evidence(self.layout_captions[key] - own, "noun")

    def _stands_for(self, subject: str) -> str | None:
        """The class a subject's lookups may back off to: its own, unless it acts apart from it
        (`acting_apart`)."""
        return None if head(subject) in self.acting_apart else noun_class(subject)

    def likely_misspelled_object(self, subject: str, relation: str, obj: str, written: str) -> bool:
        """Whether the object, `written` so in the caption, is likely another noun mistyped: one
        written with a letter more or less ("skies" for skis), which captions state with this
        relation of this subject's class MISSPELLED_OBJECT_RATIO times as often ("a man on
        skies": men are on skis, the sky is above them). Counted over the whole corpus: a typo
        is as likely on any image."""
        subject_class = noun_class(subject)
        if subject_class is None:
            return False
        key = (subject_class, relation, head(obj), written.lower())
        if key not in self._misspelled_objects:  # the same few objects come back relation after relation
            self._misspelled_objects[key] = self._misspelled_object(*key)
        return self._misspelled_objects[key]

    def _misspelled_object(self, subject_class: str, relation: str, own: str, written: str) -> bool:
        said = self._said_with_class(subject_class, relation)
        least = MISSPELLED_OBJECT_RATIO * max(1, said.get(own, 0))
        return any(
            n >= least and written not in forms and any(_one_letter_apart(written, form) for form in forms)
            for noun, n in said.items()
            if head(noun) != own and (forms := written_forms(head(noun).rsplit(" ", 1)[-1]))
        )

    def _said_with_class(self, subject_class: str, relation: str) -> Counter:
        """Object nouns (heads) -> captions stating `relation` of them with this subject class, either number."""
        key = (subject_class, relation)
        if key not in self._by_class_relation:
            said: Counter = Counter()
            for plural in (False, True):
                for noun in self.together_objects.get(("Sro", subject_class, plural, relation), ()):
                    said[noun] += self.triples[("Sro", subject_class, plural, relation, noun)]
            self._by_class_relation[key] = said
        return self._by_class_relation[key]

    def _paired_elsewhere(self, image_id: int, key: tuple) -> int:
        n = self.pairs.get(key, 0)
        return n - self._own(image_id).pairs[key] if n else 0

    def _groups(
        self, image_id: int, subject: str, subject_plural: bool, obj: str, object_class: bool, by_class: bool = True
    ) -> list[tuple[tuple, str]]:
        """The keys of `together` for this subject and object, best level first; with `by_class`
        False, of their head nouns only."""
        subject_class = self._stands_for(subject) if by_class else None
        object_noun = self._object_noun(image_id, obj)
        groups = [(("sro", self._subject_noun(image_id, subject), object_noun), "noun")]
        if subject_class is not None:
            groups.append((("Sro", subject_class, subject_plural, object_noun), "subject class"))
            backs_off = object_class and self._backs_off(image_id, object_noun)
            if backs_off and (cls := noun_class(obj)) is not None:
                groups.append((("SrO", subject_class, subject_plural, cls), "class"))
        return groups

    def _subject_does(self, image_id: int, subject: str, relation: str) -> bool:
        """Whether the subject's class may stand in for it in `relation`: where captions of other
        images say much of the subject (KNOWN_SUBJECT captions), only if they say its own noun
        (`_subject_noun`) does `relation`, to any object, MIN_PAIR_CAPTIONS times at least. People plow
        fields, but of the hundreds of captions about boys none has one plow anything ("a
        little boy plowing a field"); of a subject captions say little of, silence tells nothing,
        and its class carries. Reviewers scored the verb swaps of evidence `subject class`
        whose subject was said to do it 0.74 all three at once, the others 0.61
        (bench/reviews/, seeds 97 to 327; 0.74 and 0.52 in seed 329, drawn before this rule)."""
        subject = self._subject_noun(image_id, subject)
        if self._subject_said_elsewhere(image_id, subject) < self.KNOWN_SUBJECT:
            return True
        return self._paired_elsewhere(image_id, ("sr", subject, relation)) >= self.MIN_PAIR_CAPTIONS

    def _stated_whole(self, image_id: int, key: tuple, level: str) -> Evidence | None:
        n = self._stated_elsewhere(image_id, key)
        if n < self.MIN_WHOLE_CAPTIONS or self._images_elsewhere(image_id, key) < self.MIN_WHOLE_IMAGES:
            return None
        return Evidence(n, level)

    def _images_elsewhere(self, image_id: int, key: tuple) -> int:
        """Other images whose captions give the whole-triple `key`."""
        n = self.triple_images.get(key, 0)
        return n - (self._own(image_id).triples[key] > 0) if n else 0

    def _stated_elsewhere(self, image_id: int, key: tuple) -> int:
        """Captions of other images whose triples give the whole-triple `key`."""
        n = self.triples.get(key, 0)
        return n - self._own(image_id).triples[key] if n else 0


# A noun stands for a wider one (a compound for its head noun, a subject for its class) where
# the relations captions say of the two are alike: cosine of the two relation counts at least
# SAID_ALIKE. Both said this often at least, or there is too little to tell and it stands for it.
SAID_ALIKE = 0.3
MIN_CAPTIONS_TO_COMPARE = 5


def _second_objects(relations: Iterable[Relation]) -> frozenset[str]:
    """The ids of relations whose object is the second of a verb taking two, the first a person
    or an animal right before it, who receives it ("feeds a toddler a hot dog", "handing an
    elephant a stick"); objects joined by "and" or a comma are each the verb's own ("holding a
    purse and a cellphone"), and a noun the parse split ("a floral print parasol umbrella")
    receives nothing."""
    by_verb: dict[tuple, list[Relation]] = defaultdict(list)
    for r in relations:
        t = r.triple
        if t.verb_span is not None and t.preposition_span is None and t.relation_kind != "spatial":
            by_verb[(r.caption, t.subject_span.start, t.verb_span.start)].append(r)
    second = set()
    for (caption, *_), objects in by_verb.items():
        objects.sort(key=lambda r: r.triple.object_span.start)
        for first, then in zip(objects, objects[1:]):
            gap = caption.caption[first.triple.object_span.end : then.triple.object_span.start]
            receives = noun_kind(first.triple.object) in ("person", "animal")
            if receives and first.triple.object_span.end <= then.triple.object_span.start and not gap.strip():
                second.add(then.id)
    return frozenset(second)


def _said_unlike(said: Counter, wider: Counter) -> bool:
    """Whether two relation counts are unlike (`SAID_ALIKE`), each of enough captions to tell."""
    if min(said.total(), wider.total()) < MIN_CAPTIONS_TO_COMPARE:
        return False
    dot = sum(n * wider[r] for r, n in said.items())
    norms = math.sqrt(sum(n * n for n in said.values()) * sum(n * n for n in wider.values()))
    return dot < SAID_ALIKE * norms


def _compounds_used_apart(stated: Iterable[tuple]) -> frozenset[str]:
    """The compound object nouns of `stated` (RelationStatistics.stated's tuples) that captions
    say of unlike their head noun alone: home plate (slid into, swung at) is not a plate
    (held, eaten from), a toilet bowl not a bowl."""
    relations: dict[str, Counter] = defaultdict(Counter)  # object noun, whole -> relation -> captions
    for *_, relation, object_head, _, whole_object in stated:
        relations[whole_object][relation] += 1
    return frozenset(
        noun for noun, said in relations.items()
        if noun != (noun_head := head(noun)) and noun_head in relations and _said_unlike(said, relations[noun_head])
    )


def _subjects_acting_apart(stated: Iterable[tuple]) -> frozenset[str]:
    """The subject nouns (heads) of `stated` whose verb relations are unlike those of the rest of
    their class: a batter swings and waits for pitches, a catcher squats behind the plate, a
    groom cuts a cake; what other people do to a ball or a cake says little of what they do."""
    relations: dict[str, Counter] = defaultdict(Counter)  # subject head -> verb relation -> captions
    classes: dict[str, Counter] = defaultdict(Counter)  # subject class -> verb relation -> captions
    class_of: dict[str, str] = {}
    for _, subject, _, subject_class, _, relation, *_ in stated:
        if subject_class is not None and relation_kind(relation) != "spatial":
            relations[subject][relation] += 1
            classes[subject_class][relation] += 1
            class_of[subject] = subject_class
    return frozenset(
        subject for subject, said in relations.items() if _said_unlike(said, classes[class_of[subject]] - said)
    )


@dataclass
class _ImageCounts:
    """What one image's captions give, each caption counted once."""

    triples: Counter = field(default_factory=Counter)  # whole-triple key (`_keys`) -> captions stating it
    named: Counter = field(default_factory=Counter)  # object noun -> captions naming it, once per relation they say of it
    pairs: Counter = field(default_factory=Counter)  # pair key (`_keys`: "ro", "sr", "Sr") -> captions stating it
    layouts: Counter = field(default_factory=Counter)  # (subject head, preposition, object noun) -> captions stating it
    subject_counts: Counter = field(default_factory=Counter)  # subject noun -> captions, once per relation said of it


def _image_counts(image_stated: Iterable[tuple]) -> _ImageCounts:
    by_caption: dict[int, set[tuple]] = defaultdict(set)
    placed: dict[tuple, set[str]] = defaultdict(set)  # (caption, preposition, object noun) -> subjects
    for caption_id, *triple in image_stated:
        by_caption[caption_id].update(_keys(*triple))
        s, _, _, _, relation, o, _, whole_object = triple
        if preposition := preposition_of(relation):
            for noun in {o, whole_object}:
                placed[(caption_id, preposition, noun)].add(s)
    # A phrase one caption says of two things is one the parse could not place ("a giraffe
    # reaching leaves on a tree" has leaves on the tree, and perhaps the giraffe): no layout.
    layouts = Counter((s, p, o) for (_, p, o), subjects in placed.items() if len(subjects) == 1 for s in subjects)
    counts = _ImageCounts(layouts=layouts)
    for keys in by_caption.values():
        for key in keys:
            if key[0] in _PAIR_KEYS:
                counts.pairs[key] += 1
                if key[0] == "ro":
                    counts.named[key[2]] += 1
                elif key[0] == "sr":
                    counts.subject_counts[key[1]] += 1
            else:
                counts.triples[key] += 1
    return counts


_PAIR_KEYS = frozenset({"ro", "sr", "Sr"})


@lru_cache(maxsize=65536)
def _keys(
    s: str, whole_subject: str, subject_class: str | None, subject_plural: bool, relation: str, o: str,
    object_class: str | None, whole_object: str,
) -> frozenset[tuple]:
    """What one stated triple counts for: its object with its relation ("ro", for how often other
    images name the object), its subject with its relation ("sr" by noun, "Sr" by class and
    number), and its whole triple by nouns, with the subject's class, and with both classes
    (the latter two with the subject's number). Subject and object count by their head noun
    and, a compound, by the whole compound too."""
    subjects = {s, whole_subject}
    keys = {("sr", subject, relation) for subject in subjects}
    for noun in {o, whole_object}:
        keys |= {("ro", relation, noun)} | {("sro", subject, relation, noun) for subject in subjects}
        if subject_class:
            keys.add(("Sro", subject_class, subject_plural, relation, noun))
    if subject_class:
        keys.add(("Sr", subject_class, subject_plural, relation))
        if object_class:
            keys.add(("SrO", subject_class, subject_plural, relation, object_class))
    return frozenset(keys)

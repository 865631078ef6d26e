"""The records that pass between the pipeline's stages, below all of them.

source (Caption, Instance) -> mining (CharSpan, Triple, MinedCaption) -> negatives
(Negative) -> shards (Relation, ImageExample). Every stage imports its inputs and
outputs from here, never from the stage that makes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from relaug.choices import Split
from relaug.verbs import is_opposite

T = TypeVar("T")


def corpus_record(cls: type[T]) -> type[T]:
    """`@dataclass(frozen=True, slots=True)`, pickled as a call to its constructor.

    Slots take the per-object dict away: the examples of 5,000 images hold 83 MB
    instead of 152 MB. The dataclass's own pickling of a slotted class calls
    `fields()` for every object, which made them 2.4 times slower to pickle and
    unpickle than the constructor is (the mining and negative-building processes
    send them back, and a build keeps its corpus for a resume).
    """
    cls = dataclass(frozen=True, slots=True)(cls)
    names = cls.__slots__

    def __reduce__(self):
        return type(self), tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__
    return cls


SPLITS: tuple[str, ...] = tuple(s.value for s in Split)  # plain strings, as YAML and JSON write them


@corpus_record
class Caption:
    """One caption of one image, as the caption file gives it."""

    caption_id: int
    image_id: int
    caption: str


@corpus_record
class Instance:
    """One annotated object of an image: its COCO category and xywh box."""

    category: str
    box: tuple[float, float, float, float]
    crowd: bool  # a crowd region covers several objects at once


RelationKind = Literal["dynamic", "stative", "spatial"]


@corpus_record
class CharSpan:
    """Half-open character range [start, end) in the caption."""

    start: int
    end: int


@corpus_record
class Triple:
    """A (subject, relation, object) triple and where its parts sit in the caption.

    The spans let later stages edit the caption in place (verb swaps, role swaps)
    without searching for strings in it.
    """

    subject: str
    relation: str
    object: str
    relation_kind: RelationKind
    subject_span: CharSpan  # the whole noun phrase, determiner included
    object_span: CharSpan
    verb_span: CharSpan | None  # the verb token as written; None for verbless spatial triples
    verb_tag: str | None  # its Penn tag (VBG, VBZ, ...)
    preposition_span: CharSpan | None  # particle/preposition tokens that reach the object
    subject_plural: bool
    object_plural: bool
    passive: bool  # the caption states it in the passive ("thrown by a dog")


@corpus_record
class MinedCaption:
    caption: Caption
    triples: tuple[Triple, ...]  # the first is the primary triple


@corpus_record
class Negative:
    """A text hard negative of one relation (docs/negatives.md)."""

    caption: str  # the original caption, edited
    text: str  # the short rendered caption, edited
    kind: Literal["verb_swap", "prep_swap", "role_swap"]
    relation: str  # the relation the negative states instead
    # Why it is plausible: "noun" when captions of other images state its triple with these
    # head nouns (a role swap: the swapped triple, by two captions at least), "subject class"
    # when with this object and the subject's class, "class" when with both classes, two
    # captions at least for either (a role swap: between two people, stated or not), "pairs"
    # for a verb swap stated of this object and of this subject apart, two captions each ...
    evidence: Literal["noun", "subject class", "class", "pairs"]
    attestation: int  # ... and how many captions of other images do (0: the class rule alone)
    # Where the words it changed stand in `caption`: the exact place a model reading the
    # caption against the image should find the contradiction (`relaug eval --benchmark relaug-dense`).
    changed: tuple[CharSpan, ...] = ()

    def record(self) -> dict:
        """The negative as the shards and the mined-lines file write it."""
        return {
            "caption": self.caption, "text": self.text, "kind": self.kind, "relation": self.relation,
            "evidence": self.evidence, "attestation": self.attestation,
            "changed": [{"start": s.start, "end": s.end} for s in self.changed],
        }


def relation_id(caption: Caption, k: int) -> str:
    """The stable id of the k-th triple of a caption: `"{image_id}-{caption_id}-{k}"`."""
    return f"{caption.image_id}-{caption.caption_id}-{k}"


@corpus_record
class Relation:
    """One mined triple of one caption, grounded, as the shards publish it."""

    id: str  # "{image_id}-{caption_id}-{k}"
    caption: Caption
    triple: Triple  # keeps the character spans that negatives edit
    text: str
    subject_category: str | None
    object_category: str | None
    subject_box: tuple[float, float, float, float] | None
    object_box: tuple[float, float, float, float] | None
    negatives: tuple[Negative, ...] = ()
    partners: tuple[str, ...] = ()
    swap_partners: tuple[str, ...] = ()

    @property
    def modifiers(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The words of the subject's and the object's phrase before their core nouns,
        articles left out: "A black dog chasing a white cat" -> (("black",), ("white",))."""
        t, caption = self.triple, self.caption.caption
        return (
            phrase_modifiers(caption[t.subject_span.start : t.subject_span.end], t.subject),
            phrase_modifiers(caption[t.object_span.start : t.object_span.end], t.object),
        )


_ARTICLES = frozenset({"a", "an", "the"})
_WORD = re.compile(r"[\w'-]+")


def phrase_modifiers(phrase: str, noun: str) -> tuple[str, ...]:
    """The words of a noun phrase that ends in its core noun, the core noun's words and
    articles left out, in lower case: ("two large brown dogs", "dog") -> ("two", "large", "brown")."""
    words = [w.lower() for w in _WORD.findall(phrase)]
    words = words[: max(0, len(words) - len(noun.split()))]
    return tuple(w for w in words if w not in _ARTICLES)


def partner_closeness(
    anchor_modifiers: tuple, anchor_relation: str, other_modifiers: tuple, other_relation: str
) -> tuple[bool, int, bool]:
    """How little else than the relation tells a partner from its anchor, larger is closer: the
    same (subject, object) modifiers; how many of them it shares; whether its relation is the
    anchor's turned to the opposite ("on" / "under": the same two things, the layout inverted).
    DRIVE partners are ranked by it."""
    same = anchor_modifiers == other_modifiers
    shared = sum(len(set(mine) & set(theirs)) for mine, theirs in zip(anchor_modifiers, other_modifiers))
    return same, shared, is_opposite(anchor_relation, other_relation)


@corpus_record
class ImageExample:
    """One row of the default config; the image file is read only when the row is written."""

    image_id: int
    file_name: str
    path: Path | None  # None in a text-only build
    split: Split
    captions: tuple[Caption, ...]
    relations: tuple[Relation, ...]

"""spaCy parse -> relation triples. The contract is spec/triples.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from relaug.coco import Caption

RelationKind = Literal["dynamic", "stative", "spatial"]


@dataclass(frozen=True)
class CharSpan:
    """Half-open character range [start, end) in the caption."""

    start: int
    end: int


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class MinedCaption:
    caption: Caption
    triples: tuple[Triple, ...]  # the first is the primary triple

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


def load_pipeline(name: str | None = None):
    """The spaCy English pipeline: `name` if given, else en_core_web_sm, else any installed English one."""
    raise NotImplementedError


def mine_captions(captions, nlp, batch_size: int = 256):
    """Iterator[MinedCaption] in input order: a pure function of the captions and the pipeline."""
    raise NotImplementedError


def render_text(subject: str, relation: str, object: str, relation_kind: RelationKind) -> str:
    """The short rule-based caption of a triple: ("man", "ride", "horse") -> "a man riding a horse"."""
    raise NotImplementedError

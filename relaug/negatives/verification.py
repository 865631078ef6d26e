"""The re-parse check: a negative is published only when the parser reads it as intended."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.tokens import Doc

from relaug.mining import mine_doc
from relaug.negatives.edits import nouns_match
from relaug.reasons import Rejection
from relaug.records import Relation


def reparse_text(caption: str) -> str:
    """A negative as the parser is given it: a caption in capitals is read lower-cased."""
    return caption.lower() if caption.isupper() else caption


def verb_round_trip(relation: Relation, candidate, doc: Doc, siblings: Sequence[tuple[str, str, str]]) -> str | None:
    """None when a verb swap is read back as intended, else why not (`CandidateBuilder.verify`)."""
    t = relation.triple
    at = t.verb_span.start
    if next((w.tag_ for w in doc if w.idx == at), None) != t.verb_tag:
        return Rejection.TAG_CHANGED
    expected = [(t.subject, candidate.relation, t.object), *swapped_siblings(t.relation, candidate.relation, siblings)]
    read = [m for m in mine_doc(doc) if m.verb_span is not None and m.verb_span.start == at]
    if same_triples(read, expected):
        return None
    return Rejection.NOT_ROUND_TRIP


def swapped_siblings(
    relation: str, new_relation: str, siblings: Sequence[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """The other triples at a verb once a verb swap replaced `relation` with `new_relation`:
    "putting doughnuts into a bag" -> "licking doughnuts into a bag" gives (person, lick into, bag)."""
    verb = new_relation.split()[0]
    return [(s, new_relation if r == relation else " ".join([verb, *r.split()[1:]]), o) for s, r, o in siblings]


def edit_round_trip(relation: Relation, candidate, doc: Doc) -> str | None:
    """None when a preposition or role swap is mined back as its triple, else why not."""
    t = relation.triple
    subject, obj = (t.object, t.subject) if candidate.kind == "role_swap" else (t.subject, t.object)
    if candidate.agreement_from is not None and any(
        w.idx >= candidate.agreement_from and w.tag_ in ("VBZ", "VBP") for w in doc
    ):
        return Rejection.AGREEMENT  # "A field on two kids play soccer"
    if not any(
        m.relation == candidate.relation and nouns_match(m.subject, subject) and nouns_match(m.object, obj)
        for m in mine_doc(doc)
    ):
        return Rejection.NOT_REPARSED
    return None


def same_triples(read: Sequence, expected: Sequence[tuple[str, str, str]]) -> bool:
    """Whether the triples mined at a verb are exactly those expected, nouns compared as the scoring does."""

    def matches(m, e) -> bool:
        return m.relation == e[1] and nouns_match(m.subject, e[0]) and nouns_match(m.object, e[2])

    return all(any(matches(m, e) for m in read) for e in expected) and all(
        any(matches(m, e) for e in expected) for m in read
    )

"""Text-only judges of hard negatives, built from the *other half* of a corpus's images.

- `TrigramLM`: an interpolated Kneser-Ney trigram model of captions. A negative is
  "hackable" when the model, which never sees the image, prefers its positive: the
  share of pairs where it does is the hackability (0.5: it cannot tell them apart).
- `Attestation`: the triples relaug mines from the other half's captions. A negative is
  attested when its (relation, object head) and (subject head, relation) both occur
  there; a role swap when its whole (subject, relation, object) does.

A half is decided by a hash of the image id, so that each caption is judged by a
model that has never read a caption of its image.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_DISCOUNT = 0.75


def half_of(image_id: int) -> int:
    return hashlib.blake2b(str(image_id).encode(), digest_size=1).digest()[0] & 1


def share_of(image_id: int) -> float:
    """Where an image falls in [0, 1), by a hash of its id independent of `half_of`'s."""
    return int.from_bytes(hashlib.blake2b(f"share:{image_id}".encode(), digest_size=4).digest(), "little") / 2**32


def tokens(caption: str) -> list[str]:
    return _TOKEN.findall(caption.lower())


class TrigramLM:
    """Interpolated Kneser-Ney over words, with sentence-boundary padding."""

    def __init__(self, sentences: Iterable[str]):
        trigrams: Counter = Counter()
        for s in sentences:
            words = ["<s>", "<s>", *tokens(s), "</s>"]
            trigrams.update(zip(words, words[1:], words[2:]))
        self.tri = trigrams
        self.context = Counter()  # c(u v .)
        self.context_types = Counter()  # N1+(u v .)
        bigram_continuation = Counter()  # N1+(. v w)
        for (u, v, w), c in trigrams.items():
            self.context[(u, v)] += c
            self.context_types[(u, v)] += 1
            bigram_continuation[(v, w)] += 1
        self.bi = bigram_continuation
        self.middle = Counter()  # N1+(. v .)
        self.middle_types = Counter()  # N1+(v .) over continuation bigrams
        unigram_continuation = Counter()  # N1+(. w)
        for (v, w), c in bigram_continuation.items():
            self.middle[v] += c
            self.middle_types[v] += 1
            unigram_continuation[w] += 1
        self.uni = unigram_continuation
        self.bigram_types = sum(unigram_continuation.values())
        self.vocabulary = len(unigram_continuation) + 1  # + the unknown word

    def _unigram(self, w: str) -> float:
        # A little mass for unseen words, so that no caption gets probability 0.
        return (self.uni[w] + 0.5) / (self.bigram_types + 0.5 * self.vocabulary)

    def _bigram(self, v: str, w: str) -> float:
        total = self.middle[v]
        if not total:
            return self._unigram(w)
        return max(self.bi[(v, w)] - _DISCOUNT, 0) / total + _DISCOUNT * self.middle_types[v] / total * self._unigram(w)

    def _trigram(self, u: str, v: str, w: str) -> float:
        total = self.context[(u, v)]
        if not total:
            return self._bigram(v, w)
        return (
            max(self.tri[(u, v, w)] - _DISCOUNT, 0) / total
            + _DISCOUNT * self.context_types[(u, v)] / total * self._bigram(v, w)
        )

    def logprob(self, sentence: str) -> float:
        words = ["<s>", "<s>", *tokens(sentence), "</s>"]
        return sum(math.log(self._trigram(u, v, w)) for u, v, w in zip(words, words[1:], words[2:]))


def head(noun: str) -> str:
    return noun.split()[-1]


class Attestation:
    """Which (relation, object), (subject, relation) and whole triples a set of captions states, by head noun."""

    def __init__(self, triples: Iterable[tuple[str, str, str]]):
        self.relation_object: set[tuple[str, str]] = set()
        self.subject_relation: set[tuple[str, str]] = set()
        self.triples: set[tuple[str, str, str]] = set()
        for s, r, o in triples:
            s, o = head(s), head(o)
            self.relation_object.add((r, o))
            self.subject_relation.add((s, r))
            self.triples.add((s, r, o))

    def pairs(self, subject: str, relation: str, obj: str) -> bool:
        return (relation, head(obj)) in self.relation_object and (head(subject), relation) in self.subject_relation

    def triple(self, subject: str, relation: str, obj: str) -> bool:
        return (head(subject), relation, head(obj)) in self.triples


def judges_by_half(captions, mined) -> tuple[dict[int, TrigramLM], dict[int, Attestation]]:
    """For each half, the judges built from the *other* half: index them by `half_of(image_id)`."""
    sentences = defaultdict(list)
    for c in captions:
        sentences[half_of(c.image_id)].append(c.caption)
    triples = defaultdict(list)
    for m in mined:
        triples[half_of(m.caption.image_id)] += [(t.subject, t.relation, t.object) for t in m.triples]
    lms = {h: TrigramLM(sentences[1 - h]) for h in (0, 1)}
    attestations = {h: Attestation(triples[1 - h]) for h in (0, 1)}
    return lms, attestations

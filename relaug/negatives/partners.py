"""DRIVE partners: relations of other images of the same split that differ in the relation or the roles."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from relaug.records import ImageExample, Relation, partner_closeness


@dataclass(frozen=True)
class Partners:
    partners: tuple[str, ...]  # same split, other image, same subject and object, other relation
    swap_partners: tuple[str, ...]  # same split, other image, subject and object exchanged


def _rank(seed: int, anchor: str, other: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{anchor}:{other}".encode(), digest_size=8).digest()


def _spread(seed: int, anchor: Relation, candidates: list[Relation]) -> list[str]:
    """Ids spread over relations: one per relation in a seeded order, then again."""
    by_relation: dict[str, list[Relation]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: _rank(seed, anchor.id, c.id)):
        by_relation[c.triple.relation].append(c)
    order = sorted(by_relation, key=lambda r: _rank(seed, anchor.id, r))
    depth = max((len(v) for v in by_relation.values()), default=0)
    return [by_relation[r][d].id for d in range(depth) for r in order if len(by_relation[r]) > d]


def _choose(
    seed: int, anchor: Relation, candidates: list[Relation], limit: int, swapped: bool, modifiers: dict[str, tuple]
) -> tuple[str, ...]:
    """Up to `limit` ids, the closest first (`partner_closeness`: "a black dog chasing a white
    cat" meets "a black dog ... a white cat" first, "a red ring on a pink triangle" meets
    "a red ring under a pink triangle" first), each tier spread over relations in a seeded
    order. `swapped`: the candidates' subject stands for the anchor's object. `modifiers`:
    every relation's, by id."""
    mine, relation = modifiers[anchor.id], anchor.triple.relation
    tiers: dict[tuple[bool, int, bool], list[Relation]] = defaultdict(list)
    for c in candidates:
        subject, obj = modifiers[c.id]
        theirs = (obj, subject) if swapped else (subject, obj)
        tiers[partner_closeness(mine, relation, theirs, c.triple.relation)].append(c)
    chosen: list[str] = []
    for tier in sorted(tiers, reverse=True):
        chosen += _spread(seed, anchor, tiers[tier])
        if len(chosen) >= limit:
            break
    return tuple(chosen[:limit])


def find_partners(examples: Iterable[ImageExample], max_partners: int = 8, seed: int = 0) -> dict[str, Partners]:
    """DRIVE partners of every relation, found only within its split and only on other images."""
    by_pair: dict[tuple[str, str, str], list[Relation]] = defaultdict(list)
    placed: list[tuple[str, Relation]] = []
    for example in examples:
        for r in example.relations:
            by_pair[(example.split, r.triple.subject, r.triple.object)].append(r)
            placed.append((example.split, r))
    modifiers = {r.id: r.modifiers for _, r in placed}  # read from the caption once, not once per anchor
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
        result[r.id] = Partners(
            _choose(seed, r, same, max_partners, swapped=False, modifiers=modifiers),
            _choose(seed, r, swapped, max_partners, swapped=True, modifiers=modifiers),
        )
    return result

"""Tune a spaCy pipeline's tagger and parser on hand-corrected caption parses.

The stock English models learnt from news and the web, where a sentence has a finite verb;
a caption mostly has none ("A man riding a horse on a beach"). `tests/data/trees/` holds
val2017 captions whose spaCy parse two annotators corrected by hand, each on their own
(tests/data/trees/README.md). `bench/caption_parser.py` tunes en_core_web_sm on the tokens
where the two agree, scores it against the stock model on captions kept out, and writes the
tuned pipeline to a folder that `relaug mine --spacy-model FOLDER` parses with. The miner's
default stays the stock model: docs/mining.md says why.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed
from thinc.api import Adam

from relaug.errors import InputError
from relaug.mining import prepared_text

TUNED_COMPONENTS = ("tok2vec", "tagger", "parser")


@dataclass(frozen=True)
class CaptionTree:
    """One caption's parse as a CoNLL-U sentence gives it, heads 0-based (a root is its own head)."""

    caption_id: int
    text: str  # the caption, whitespace collapsed
    words: tuple[str, ...]
    tags: tuple[str, ...]
    heads: tuple[int, ...]
    deps: tuple[str, ...]


def read_trees(path: Path) -> list[CaptionTree]:
    """The sentences of a CoNLL-U file: FORM, XPOS, HEAD and DEPREL, and the `sent_id` (the
    caption id) and `text` comments."""
    trees: list[CaptionTree] = []
    comments: dict[str, str] = {}
    rows: list[list[str]] = []
    for number, line in enumerate([*path.read_text(encoding="utf-8").splitlines(), ""], start=1):
        if line.startswith("# ") and " = " in line:
            key, value = line[2:].split(" = ", 1)
            comments[key] = value
        elif line.strip():
            columns = line.split("\t")
            if len(columns) != 10 or not columns[0].isdigit() or not columns[6].isdigit():
                raise InputError(f"{path}:{number}: not a CoNLL-U token line (ten tab-separated columns)")
            rows.append(columns)
        elif rows:
            if "sent_id" not in comments or "text" not in comments:
                raise InputError(f"{path}:{number}: a sentence without `# sent_id` and `# text`")
            trees.append(CaptionTree(
                caption_id=int(comments["sent_id"]),
                text=comments["text"],
                words=tuple(r[1] for r in rows),
                tags=tuple(r[4] for r in rows),
                heads=tuple(int(r[6]) - 1 if r[6] != "0" else k for k, r in enumerate(rows)),
                deps=tuple(r[7] for r in rows),
            ))
            comments, rows = {}, []
    return trees


@dataclass(frozen=True)
class AgreedTree:
    """What two annotation passes both say of a caption: a token's arc where they agree on its
    head and label, its tag where they agree on the tag; None where they differ."""

    tree: CaptionTree
    heads: tuple[int | None, ...]
    deps: tuple[str | None, ...]
    tags: tuple[str | None, ...]

    @property
    def complete(self) -> bool:
        return None not in self.heads and None not in self.tags


def agreed_trees(pass_a: Sequence[CaptionTree], pass_b: Sequence[CaptionTree]) -> list[AgreedTree]:
    if len(pass_a) != len(pass_b):
        raise InputError(f"the passes hold {len(pass_a)} and {len(pass_b)} captions")
    agreed = []
    for a, b in zip(pass_a, pass_b):
        if (a.caption_id, a.words) != (b.caption_id, b.words):
            raise InputError(f"the passes differ in caption or words at caption {a.caption_id}")
        same_arc = [(ha, da) == (hb, db) for ha, da, hb, db in zip(a.heads, a.deps, b.heads, b.deps)]
        agreed.append(AgreedTree(
            tree=a,
            heads=tuple(h if same else None for h, same in zip(a.heads, same_arc)),
            deps=tuple(d if same else None for d, same in zip(a.deps, same_arc)),
            tags=tuple(ta if ta == tb else None for ta, tb in zip(a.tags, b.tags)),
        ))
    return agreed


def _as_the_miner_reads(nlp: Language, tree: CaptionTree) -> Doc | None:
    """The caption's text as the miner parses it (`prepared_text`), tokenized; None where its
    tokens are not the tree's words ("it's" read as "its")."""
    doc = nlp.make_doc(prepared_text(tree.text))
    return doc if [t.lower_ for t in doc] == [w.lower() for w in tree.words] else None


def training_example(nlp: Language, agreed: AgreedTree) -> Example | None:
    """The caption as the miner reads it, annotated with what the passes agree on and the
    pipeline has labels for; None where the miner's text tokenizes otherwise."""
    doc = _as_the_miner_reads(nlp, agreed.tree)
    if doc is None:
        return None
    tag_labels = set(nlp.get_pipe("tagger").labels)
    dep_labels = set(nlp.get_pipe("parser").labels) | {"ROOT"}
    deps = [d if d in dep_labels else None for d in agreed.deps]
    heads = [h if d is not None else None for h, d in zip(agreed.heads, deps)]
    tags = [t if t in tag_labels else "" for t in agreed.tags]
    return Example.from_dict(doc, {"heads": heads, "deps": deps, "tags": tags})


def tree_doc(nlp: Language, tree: CaptionTree) -> Doc | None:
    """The caption as the miner reads it, with the tree's tags and arcs in place of a parse, and
    what `nlp`'s components after the parser add (parts of speech); None where the miner's text
    tokenizes otherwise. Mining it scores the rules on a parse without slips."""
    made = _as_the_miner_reads(nlp, tree)
    if made is None:
        return None
    doc = Doc(nlp.vocab, words=[t.text for t in made], spaces=[bool(t.whitespace_) for t in made],
              tags=list(tree.tags), heads=list(tree.heads), deps=list(tree.deps))
    for name, component in nlp.pipeline:
        if name not in TUNED_COMPONENTS:
            doc = component(doc)
    return doc


def tune(nlp: Language, examples: list[Example], *, epochs: int = 8, learn_rate: float = 1e-4,
         batch_size: int = 8, dropout: float = 0.1, seed: int = 0) -> None:
    """Fine-tune `nlp`'s tok2vec, tagger and parser on `examples`, in place, and leave the
    optimizer's averaged weights in them. The same inputs and seed give the same weights."""
    fix_random_seed(seed)  # dropout masks
    order = random.Random(seed)
    examples = list(examples)
    optimizer = Adam(learn_rate)
    with nlp.select_pipes(enable=list(TUNED_COMPONENTS)):
        for _ in range(epochs):
            order.shuffle(examples)
            for i in range(0, len(examples), batch_size):
                nlp.update(examples[i : i + batch_size], sgd=optimizer, drop=dropout)
    for name in TUNED_COMPONENTS:
        for node in nlp.get_pipe(name).model.walk():
            for param in node.param_names:
                if (node.id, param) in optimizer.averages:
                    node.set_param(param, optimizer.averages[(node.id, param)])


def parse_scores(nlp: Language, examples: list[Example]) -> dict[str, float]:
    """Tag accuracy and unlabelled and labelled attachment (punctuation left out) over the
    annotated tokens, and the share of captions whose every annotated arc is right."""
    tags = tagged = arcs = unlabelled = labelled = whole = 0
    for eg, doc in zip(examples, nlp.pipe(eg.reference.text for eg in examples)):
        all_right = True
        for gold, parsed in zip(eg.reference, doc):
            if gold.tag_:
                tagged += 1
                tags += gold.tag_ == parsed.tag_
            if not gold.has_dep() or gold.is_punct:
                continue
            arcs += 1
            unlabelled += gold.head.i == parsed.head.i
            right = gold.head.i == parsed.head.i and gold.dep_ == parsed.dep_
            labelled += right
            all_right &= right
        whole += all_right
    return {"tag": tags / tagged, "uas": unlabelled / arcs, "las": labelled / arcs, "whole": whole / len(examples)}

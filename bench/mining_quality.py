"""Precision, recall and primary accuracy of `relaug mine` on gold sets, beside a naive spaCy baseline.

    python bench/mining_quality.py                  # tests/data/gold dev and held-out parts, all six batches (+ ../shared dev gold if present)
    python bench/mining_quality.py --gold FILE.jsonl --show-errors
    python bench/mining_quality.py --spacy-model runs/caption-parser   # relaug with another pipeline, beside the default
    python bench/mining_quality.py --tree-parse    # also relaug on the hand-corrected parse, where tests/data/trees has one

Scored as tests/data/gold/README.md says: precision over mined triples (with/of/...
ignored), recall over required triples, primary accuracy per caption.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

IGNORED_RELATIONS = {"with", "of", "for", "like", "as", "from", "about"}
REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "tests" / "data" / "gold"
SHARED_GOLD = Path(__file__).resolve().parents[1].parent / "shared" / "gold" / "triples-dev.jsonl"


def _norm(triple) -> tuple[str, str, str]:
    return tuple(part.strip().lower() for part in triple)  # type: ignore[return-value]


def _matches(mined: tuple[str, str, str], gold: tuple[str, str, str]) -> bool:
    """Equal parts, where a compound subject or object also matches on its last word alone."""
    if mined[1] != gold[1]:
        return False
    for m, g in ((mined[0], gold[0]), (mined[2], gold[2])):
        if m != g and m.rsplit(" ", 1)[-1] != g and g.rsplit(" ", 1)[-1] != m:
            return False
    return True


def score(gold_rows: list[dict], mined_rows: list[dict], show_errors: bool = False) -> dict[str, float]:
    correct = counted = found = required = primary_right = 0
    for gold, mined in zip(gold_rows, mined_rows, strict=True):
        required_triples = [_norm(t) for t in gold["triples"]]
        allowed = required_triples + [_norm(t) for t in gold["also_ok"]]
        mined_triples = [_norm((t["subject"], t["relation"], t["object"])) for t in mined["triples"]]
        wrong = []
        for triple in mined_triples:
            if triple[1] in IGNORED_RELATIONS:
                continue
            counted += 1
            if any(_matches(triple, g) for g in allowed):
                correct += 1
            else:
                wrong.append(triple)
        missed = [g for g in required_triples if not any(_matches(m, g) for m in mined_triples)]
        required += len(required_triples)
        found += len(required_triples) - len(missed)
        gold_primary = _norm(gold["primary"]) if gold["primary"] else None
        mined_primary = mined_triples[0] if mined_triples else None
        right = (gold_primary is None and mined_primary is None) or (
            gold_primary is not None and mined_primary is not None and _matches(mined_primary, gold_primary)
        )
        primary_right += right
        if show_errors and (wrong or missed or not right):
            print(f"\n{gold['caption']!r}\n  wrong: {wrong}\n  missed: {missed}\n"
                  f"  primary: {mined_primary} vs {gold_primary}")
    return {
        "precision": correct / max(counted, 1),
        "recall": found / max(required, 1),
        "primary": primary_right / len(gold_rows),
    }


def naive_triples(doc) -> list[dict]:
    """The baseline a spaCy user writes first: each verb's nominal subject with its direct
    object, and with each prepositional object (verb lemma + preposition); noun lemmas."""
    found = []
    for verb in doc:
        subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
        if verb.pos_ not in ("VERB", "AUX") or not subjects:
            continue
        subject = subjects[0].lemma_.lower()
        for child in verb.children:
            if child.dep_ == "dobj":
                found.append({"subject": subject, "relation": verb.lemma_.lower(), "object": child.lemma_.lower()})
            elif child.dep_ == "prep":
                for obj in (c for c in child.children if c.dep_ == "pobj"):
                    relation = child.lower_ if verb.lemma_ == "be" else f"{verb.lemma_.lower()} {child.lower_}"
                    found.append({"subject": subject, "relation": relation, "object": obj.lemma_.lower()})
    return found


def tagger_slips(gold_rows: list[dict], mined_rows: list[dict], nlp) -> tuple[int, int, list[tuple]]:
    """Required triples relaug missed where the tagger slipped on one of their words: the gold
    verb written in the caption but not tagged a verb ("elephants file through": NN), or a
    gold noun tagged a verb or adjective ("fire hydrant": JJ). Returns (missed, slipped, examples)."""
    from relaug.nouns import noun_lemma
    from relaug.verbs import SPATIAL_PREPOSITIONS, verb_lemma

    spatial_words = {w for p in SPATIAL_PREPOSITIONS for w in p.split()}
    missed = slipped = 0
    examples = []
    for gold, mined, doc in zip(gold_rows, mined_rows, nlp.pipe(g["caption"] for g in gold_rows), strict=True):
        mined_triples = [_norm((t["subject"], t["relation"], t["object"])) for t in mined["triples"]]
        for triple in map(_norm, gold["triples"]):
            if any(_matches(m, triple) for m in mined_triples):
                continue
            missed += 1
            verb = triple[1].split()[0]
            nouns = {triple[0].split()[-1], triple[2].split()[-1]}
            slips = [t for t in doc if verb not in spatial_words and t.pos_ not in ("VERB", "AUX") and verb_lemma(t.text) == verb]
            slips += [t for t in doc if t.pos_ in ("VERB", "ADJ") and noun_lemma(t.lower_) in nouns]
            if slips:
                slipped += 1
                examples.append((gold["caption"], triple, [(t.text, t.tag_) for t in slips]))
    return missed, slipped, examples


def mine_with_relaug(gold_rows: list[dict], spacy_model: str | None = None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        captions = Path(tmp) / "captions.jsonl"
        captions.write_text("".join(
            json.dumps({"caption_id": g["caption_id"], "image_id": g["image_id"], "caption": g["caption"]}) + "\n"
            for g in gold_rows
        ))
        out = Path(tmp) / "triples.jsonl"
        pipeline = ["--spacy-model", spacy_model] if spacy_model else []
        subprocess.run([sys.executable, "-m", "relaug", "mine", str(captions), "--out", str(out), "--workers", "1", *pipeline],
                       check=True, capture_output=True)
        return [json.loads(line) for line in out.read_text().splitlines()]


def mine_on_tree_parse(gold_rows: list[dict], trees: dict, nlp) -> tuple[list[int], list[dict]]:
    """relaug's rules on the hand-corrected parse (tests/data/trees, pass A) of the gold captions
    that have one, `nlp` (the miner's pipeline) adding the parts of speech: the indices of the
    gold rows kept, and what was mined from them."""
    from relaug.caption_parser import tree_doc
    from relaug.mining import mine_doc

    kept, mined = [], []
    for i, gold in enumerate(gold_rows):
        doc = tree_doc(nlp, trees[gold["caption_id"]]) if gold["caption_id"] in trees else None
        if doc is not None:
            kept.append(i)
            mined.append({"triples": [{"subject": t.subject, "relation": t.relation, "object": t.object} for t in mine_doc(doc)]})
    return kept, mined


def mine_with_textacy(gold_rows: list[dict], nlp) -> list[dict] | None:
    try:
        from textacy.extract import subject_verb_object_triples
    except ImportError:
        return None
    rows = []
    for doc in nlp.pipe(g["caption"] for g in gold_rows):
        rows.append({"triples": [
            {"subject": t.subject[-1].lemma_.lower(), "relation": " ".join(w.lemma_.lower() for w in t.verb),
             "object": t.object[-1].lemma_.lower()}
            for t in subject_verb_object_triples(doc)
        ]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, nargs="*", help="gold JSONL files (default: the repo's dev and held-out parts, and the shared dev gold where present)")
    parser.add_argument("--show-errors", action="store_true", help="print relaug's errors on each gold set")
    parser.add_argument("--spacy-model", help="also score relaug parsing with this spaCy pipeline (a package or a folder)")
    parser.add_argument("--tree-parse", action="store_true", help="also score relaug on the hand-corrected parse of the gold captions that have one")
    parser.add_argument("--tagger-slips", action="store_true", help="count relaug's misses where the tagger slipped")
    args = parser.parse_args()
    golds = args.gold or [
        p for p in (*(GOLD / f"triples-{part}.jsonl" for part in ("dev", "heldout", "dev-2", "heldout-2", "dev-3", "heldout-3", "dev-4", "heldout-4", "dev-5", "heldout-5", "dev-6", "heldout-6")), SHARED_GOLD)
        if p.is_file()
    ]
    import spacy

    from relaug.mining import installed_english_pipeline

    nlp = spacy.load(installed_english_pipeline())  # stock, as a baseline's user loads it
    trees, miners_pipeline = {}, None
    if args.tree_parse:
        from relaug.caption_parser import read_trees
        from relaug.mining import load_pipeline

        trees = {t.caption_id: t for t in read_trees(REPO / "tests" / "data" / "trees" / "captions-pass-a.conllu")}
        miners_pipeline = load_pipeline()
    print(f"{'gold':44s} {'captions':>8s}  {'miner':12s} {'precision':>9s} {'recall':>7s} {'primary':>8s}")
    for path in golds:
        gold_rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        miners = {
            "relaug": mine_with_relaug(gold_rows),
            "relaug+model": mine_with_relaug(gold_rows, args.spacy_model) if args.spacy_model else None,
            "spacy": [{"triples": naive_triples(doc)} for doc in nlp.pipe(g["caption"] for g in gold_rows)],
            "textacy": mine_with_textacy(gold_rows, nlp),
        }
        for name, mined_rows in miners.items():
            if mined_rows is None:
                continue
            result = score(gold_rows, mined_rows, args.show_errors and name == "relaug")
            label = str(path.resolve().relative_to(REPO.parent)) if path.resolve().is_relative_to(REPO.parent) else str(path)
            print(f"{label:44s} {len(gold_rows):8d}  {name:12s} {result['precision']:9.3f} {result['recall']:7.3f}"
                  f" {result['primary']:8.3f}")
        if trees:
            kept, mined_rows = mine_on_tree_parse(gold_rows, trees, miners_pipeline)
            if kept:
                kept_rows = [gold_rows[i] for i in kept]
                for name, rows in (("relaug", [miners["relaug"][i] for i in kept]), ("relaug+tree", mined_rows)):
                    result = score(kept_rows, rows)
                    print(f"{'  captions with a tree':44s} {len(kept):8d}  {name:12s} {result['precision']:9.3f}"
                          f" {result['recall']:7.3f} {result['primary']:8.3f}")
        if args.tagger_slips:
            missed, slipped, examples = tagger_slips(gold_rows, miners["relaug"], nlp)
            print(f"  relaug missed {missed} required triples; the tagger slipped on a word of {slipped} of them")
            for caption, triple, slips in examples:
                print(f"    {triple} <- {slips}: {caption}")
    if trees:
        print("relaug+tree: relaug's rules on the hand-corrected parse (tests/data/trees, pass A)")
    if args.spacy_model:
        print(f"relaug+model: relaug parsing with --spacy-model {args.spacy_model}")
    print("spacy: each verb's nsubj with its dobj and its prepositions' pobj; textacy: its SVO triples, where installed")


if __name__ == "__main__":
    main()

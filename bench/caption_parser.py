"""Tune en_core_web_sm's tok2vec, tagger and parser on the corrected caption trees, score them
against the stock ones on trees kept out of training, and write the tuned pipeline.

    python bench/caption_parser.py --out runs/caption-parser
    relaug mine captions.jsonl --out triples.jsonl --spacy-model runs/caption-parser
    python bench/mining_quality.py --spacy-model runs/caption-parser

The trees (tests/data/trees/README.md) come in two independent passes; training and scores read
only what both passes say (relaug.caption_parser.agreed_trees). 15% of the captions, drawn with
a fixed seed, are kept out for the scores. The same trees and seed give the same weights.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import spacy
from thinc.api import use_ops

from relaug.caption_parser import agreed_trees, parse_scores, read_trees, training_example, tune
from relaug.mining import installed_english_pipeline, load_pipeline

TREES = Path(__file__).resolve().parents[1] / "tests" / "data" / "trees"
SEED, TEST_SHARE = 0, 0.15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the tuned spaCy pipeline to")
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    agreed = agreed_trees(*(read_trees(TREES / f"captions-pass-{p}.conllu") for p in "ab"))
    arcs = [h is not None for a in agreed for h in a.heads]
    print(f"{len(agreed)} captions; the passes agree on {sum(arcs) / len(arcs):.3f} of the arcs, "
          f"and on every arc and tag of {sum(a.complete for a in agreed) / len(agreed):.3f} of the captions")
    random.Random(SEED).shuffle(agreed)
    n_test = int(len(agreed) * TEST_SHARE)
    name = installed_english_pipeline()
    with use_ops("numpy", use_blis=False):  # as relaug.mining.load_pipeline parses
        nlp = spacy.load(name)
    test = [e for e in (training_example(nlp, a) for a in agreed[:n_test]) if e]
    train = [e for e in (training_example(nlp, a) for a in agreed[n_test:]) if e]
    print(f"train on {len(train)} captions, score on {len(test)} ({len(agreed) - len(train) - len(test)} tokenize otherwise)")
    tune(nlp, train, epochs=args.epochs, seed=SEED)
    nlp.meta["name"] = f"{nlp.meta['name']}_captions"
    nlp.meta["description"] = f"{name}, tok2vec, tagger and parser tuned on relaug's caption trees (bench/caption_parser.py)"
    nlp.to_disk(args.out)
    print(f"{'pipeline':28s} {'tag':>6s} {'UAS':>6s} {'LAS':>6s} {'whole':>6s}")
    for label, pipeline in ((name, load_pipeline(name)), (str(args.out), load_pipeline(str(args.out)))):
        s = parse_scores(pipeline, test)
        print(f"{label:28s} {s['tag']:6.3f} {s['uas']:6.3f} {s['las']:6.3f} {s['whole']:6.3f}")


if __name__ == "__main__":
    main()

"""The -ing words the small English model reads as verbs in nearly all of a corpus's captions.

    python bench/participle_lexicon.py [--captions examples/val2017_captions.jsonl]

Parses every caption with the pipeline `relaug mine` loads and counts, for each -ing
word, how often the tagger gives it VBG. A word used at least --min-uses times and
tagged VBG in at least --min-share of them is printed: the corpus's own evidence that
the word is a verb, which `relaug.verbs.PARTICIPLES` holds (`relaug.mining` then reads
such a word as a participle where the tagger slipped to a noun or an adjective). Run
it on a caption collection to see what that collection's list would be.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from relaug.coco import read_captions
from relaug.mining import load_pipeline
from relaug.verbs import PARTICIPLES

DEFAULT_CAPTIONS = Path(__file__).resolve().parents[1] / "examples" / "val2017_captions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captions", type=Path, default=DEFAULT_CAPTIONS)
    parser.add_argument("--min-uses", type=int, default=20)
    parser.add_argument("--min-share", type=float, default=0.9)
    args = parser.parse_args()
    nlp = load_pipeline()
    tags: dict[str, Counter] = defaultdict(Counter)
    texts = (c.caption for c in read_captions(args.captions))
    for doc in nlp.pipe(texts, batch_size=256):
        for token in doc:
            if token.is_alpha and token.lower_.endswith("ing"):
                tags[token.lower_][token.tag_] += 1
    found = sorted(
        word for word, counts in tags.items()
        if counts.total() >= args.min_uses and counts["VBG"] / counts.total() >= args.min_share
    )
    for word in found:
        counts = tags[word]
        print(f"{word:16s} {counts.total():6d} uses  VBG {counts['VBG'] / counts.total():.3f}")
    print(f"{len(found)} words; relaug.verbs.PARTICIPLES {'holds exactly these' if set(found) == PARTICIPLES else 'differs'}")
    for word in sorted(set(found) ^ PARTICIPLES):
        print(f"  {'only here' if word in found else 'only in PARTICIPLES'}: {word}")


if __name__ == "__main__":
    main()

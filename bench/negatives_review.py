"""A blind review of relaug's hard negatives beside SugarCrepe's, by people (or agents) who see only the captions.

    python bench/negatives_review.py sample --out review/ --sugarcrepe DIR [--seed N]
    python bench/negatives_review.py score review/ review/ratings-1.jsonl review/ratings-2.jsonl

`sample` builds the negatives of the val2017 captions (as `bench/negatives_quality.py`
does) and writes `items.jsonl`: 90 verb swaps, 30 preposition swaps and 20 role swaps
of relaug (fewer where fewer exist) and 60 replace-rel and 20 swap-obj negatives of
SugarCrepe (`DIR`: its `data/` folder, https://github.com/RAIVNLab/sugar-crepe), drawn
with `--seed` and shuffled together, each as an original caption and an altered one;
nothing says which tool made which (`--half-pairs`: built with `--pairs-evidence`, and
half the verb swaps are of evidence `pairs`, attested in two pairs, not whole). The key (source, kind, evidence) goes to
`key.json` beside it: reviewers are given `items.jsonl` alone, with `INSTRUCTIONS`
below, and each writes a JSONL of `{"id", "g", "f", "p", "note"}`.

`score` reads the key and any number of ratings files and prints, per source, kind
and evidence level, the mean share of items each reviewer found grammatical, false
of the photo, plausible, and all three at once; and how often two reviewers agree.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from relaug.coco import read_captions
from relaug.mining import load_pipeline, mine_captions, parsing_pool
from relaug.negatives import NegativeOptions, build_negatives, relations_of
from relaug.verbs import VerbSimilarity

DEFAULT_CAPTIONS = Path(__file__).resolve().parents[1] / "examples" / "val2017_captions.jsonl"
RELAUG_DRAWS = {"verb_swap": 90, "prep_swap": 30, "role_swap": 20}
SUGARCREPE_DRAWS = {"replace_rel": 60, "swap_obj": 20}

INSTRUCTIONS = """\
Each line has an ORIGINAL caption that correctly describes a real photo (COCO), and an
ALTERED caption made from it by changing a relation (a verb, a preposition, or swapping
who does what). You cannot see the photo. For each item judge three things, 1 (yes) or 0 (no):
- "g" (grammatical): the altered caption is grammatical, fluent English of the kind people
  write as captions; judge only errors the alteration introduced or left.
- "f" (false): given that the original is true of the photo, the altered caption is most
  likely FALSE of that same photo; 0 for a paraphrase, a near-synonym, or one likely still true.
- "p" (plausible): read on its own, the altered caption describes a scene that commonly or
  reasonably occurs in real photos, so that a reader could not reject it without seeing the
  image; 0 if physically odd or absurd ("a man riding a cigarette", "a table sitting on a
  cat"), or a thing doing what only people or animals do.
Be strict and consistent. Write one JSON object per line:
{"id": <id>, "g": 0|1, "f": 0|1, "p": 0|1, "note": "<short reason when any is 0>"}
"""


def sample(args: argparse.Namespace) -> int:
    captions = read_captions(args.captions)
    nlp = load_pipeline()
    relations = relations_of(mine_captions(captions, nlp))
    with parsing_pool(args.workers) if args.workers > 1 else contextlib.nullcontext() as pool:
        options = NegativeOptions(pairs_evidence=args.half_pairs)
        result = build_negatives(captions, relations, options, VerbSimilarity(), nlp, pool=pool)
    rng = random.Random(args.seed)
    by_kind = defaultdict(list)
    for r in relations:
        for n in result.negatives[r.id]:
            by_kind[n.kind].append({
                "source": "relaug", "kind": n.kind, "original": r.caption.caption.strip(),
                "altered": n.caption.strip(), "evidence": n.evidence, "attestation": n.attestation,
            })
    if args.half_pairs:  # half the verb swaps from those two pairs alone attest, to set beside the rest
        verb_swaps = by_kind.pop("verb_swap")
        by_kind["verb_swap pairs"] = [x for x in verb_swaps if x["evidence"] == "pairs"]
        by_kind["verb_swap"] = [x for x in verb_swaps if x["evidence"] != "pairs"]
    draws = dict(RELAUG_DRAWS)
    if args.half_pairs:
        draws["verb_swap pairs"] = draws["verb_swap"] = RELAUG_DRAWS["verb_swap"] // 2
    items = [x for kind, k in draws.items() for x in rng.sample(by_kind[kind], min(k, len(by_kind[kind])))]
    for name, k in SUGARCREPE_DRAWS.items():
        found = list(json.loads((args.sugarcrepe / f"{name}.json").read_text()).values())
        items += [
            {"source": "sugarcrepe", "kind": name, "original": x["caption"].strip(), "altered": x["negative_caption"].strip()}
            for x in rng.sample(found, k)
        ]
    rng.shuffle(items)
    for i, item in enumerate(items):
        item["id"] = i
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "key.json").write_text(json.dumps(items, indent=1))
    (args.out / "items.jsonl").write_text(
        "".join(json.dumps({"id": x["id"], "original": x["original"], "altered": x["altered"]}) + "\n" for x in items)
    )
    (args.out / "INSTRUCTIONS.txt").write_text(INSTRUCTIONS)
    print(f"{len(items)} items in {args.out / 'items.jsonl'}; give reviewers that file and INSTRUCTIONS.txt, not key.json")
    return 0


def score(args: argparse.Namespace) -> int:
    key = {item["id"]: item for item in json.loads((args.review / "key.json").read_text())}
    reviews = []
    for path in args.ratings:
        ratings = {}
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                rating = json.loads(line)
                if rating.get("id") not in key or any(rating.get(k) not in (0, 1) for k in "gfp"):
                    sys.exit(f"{path}:{number}: not a rating of an item (id, g, f, p in 0/1): {line[:80]}")
                ratings[rating["id"]] = rating
        if missing := len(key) - len(ratings):
            sys.exit(f"{path}: {missing} of {len(key)} items have no rating")
        reviews.append(ratings)
    groups = defaultdict(list)
    for i, item in key.items():
        groups[item["source"]].append(i)
        groups[f"{item['source']} {item['kind']}"].append(i)
        if "evidence" in item:
            groups[f"relaug evidence: {item['evidence']}"].append(i)

    def rate(ids: list[int], judged) -> float:
        votes = [judged(ratings[i]) for ratings in reviews for i in ids]
        return sum(votes) / len(votes)

    print(f"{'group':32s} {'items':>5s} {'gramm.':>7s} {'false':>7s} {'plaus.':>7s} {'all 3':>7s}  (mean of {len(reviews)} reviewers)")
    for name in sorted(groups):
        ids = groups[name]
        shares = [rate(ids, lambda r, k=k: r[k]) for k in "gfp"] + [rate(ids, lambda r: r["g"] * r["f"] * r["p"])]
        print(f"{name:32s} {len(ids):5d} " + " ".join(f"{s:7.3f}" for s in shares))
    for a in range(len(reviews)):
        for b in range(a + 1, len(reviews)):
            agreement = [sum(reviews[a][i][k] == reviews[b][i][k] for i in key) / len(key) for k in "gfp"]
            print(f"reviewers {a + 1} and {b + 1} agree: " + ", ".join(f"{k} {s:.3f}" for k, s in zip("gfp", agreement)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    drawing = commands.add_parser("sample", help="write a blind sample of negatives for review")
    drawing.add_argument("--out", type=Path, required=True)
    drawing.add_argument("--sugarcrepe", type=Path, required=True, help="SugarCrepe's data/ folder")
    drawing.add_argument("--captions", type=Path, default=DEFAULT_CAPTIONS)
    drawing.add_argument("--seed", type=int, default=0)
    drawing.add_argument("--workers", type=int, default=2)
    drawing.add_argument(
        "--half-pairs", action="store_true", help="build with the 'pairs' level and draw half the verb swaps from it"
    )
    scoring = commands.add_parser("score", help="score reviewers' ratings against the key")
    scoring.add_argument("review", type=Path, help="the folder `sample` wrote")
    scoring.add_argument("ratings", type=Path, nargs="+", help="one JSONL of ratings per reviewer")
    args = parser.parse_args(argv)
    return sample(args) if args.command == "sample" else score(args)


if __name__ == "__main__":
    sys.exit(main())

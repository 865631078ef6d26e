"""Precision, recall and primary accuracy of `relaug mine` on a gold set (spec/triples.md scoring).

    python bench/mining_quality.py [--gold ../shared/gold/triples-dev.jsonl] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

IGNORED_RELATIONS = {"with", "of", "for", "like", "as", "from", "about"}
DEFAULT_GOLD = Path(__file__).resolve().parents[1].parent / "shared" / "gold" / "triples-dev.jsonl"


def _norm(triple) -> tuple[str, str, str]:
    return tuple(part.strip().lower() for part in triple)  # type: ignore[return-value]


def _matches(mined: tuple[str, str, str], gold: tuple[str, str, str]) -> bool:
    """Equal parts, where a compound subject or object also matches on its last word alone."""
    if mined[1] != gold[1]:
        return False
    for m, g in ((mined[0], gold[0]), (mined[2], gold[2])):
        if m != g and m.split()[-1] != g and g.split()[-1] != m:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    gold_rows = [json.loads(line) for line in args.gold.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        captions = Path(tmp) / "captions.jsonl"
        captions.write_text("".join(
            json.dumps({"caption_id": g["caption_id"], "image_id": g["image_id"], "caption": g["caption"]}) + "\n"
            for g in gold_rows
        ))
        out = Path(tmp) / "triples.jsonl"
        subprocess.run([sys.executable, "-m", "relaug", "mine", str(captions), "--out", str(out)], check=True)
        mined_rows = [json.loads(line) for line in out.read_text().splitlines()]
    result = score(gold_rows, mined_rows, args.show_errors)
    print(f"captions {len(gold_rows)}  precision {result['precision']:.3f}  "
          f"recall {result['recall']:.3f}  primary {result['primary']:.3f}")
    print("targets: precision >= 0.93, recall >= 0.88, primary >= 0.88")


if __name__ == "__main__":
    main()

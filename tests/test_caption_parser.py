"""The hand-corrected caption trees, and tuning a pipeline on them (relaug.caption_parser)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
import spacy

from relaug.caption_parser import agreed_trees, parse_scores, read_trees, training_example, tree_doc, tune
from relaug.errors import InputError
from relaug.mining import installed_english_pipeline, load_pipeline, mine_captions, mine_doc
from relaug.records import Caption

TREES = Path(__file__).parent / "data" / "trees"


@pytest.fixture(scope="module")
def passes():
    return [read_trees(TREES / f"captions-pass-{p}.conllu") for p in "ab"]


def test_the_two_passes_cover_the_same_captions_word_for_word_as_trees(passes):
    a, b = passes
    assert len(a) == len(b) == 1440
    assert [(t.caption_id, t.words) for t in a] == [(t.caption_id, t.words) for t in b]
    for tree in a + b:
        roots = [i for i, head in enumerate(tree.heads) if head == i]
        assert roots and [tree.deps[i] for i in roots] == ["ROOT"] * len(roots), tree.text
        assert all(0 <= head < len(tree.words) for head in tree.heads), tree.text


def test_where_the_passes_differ_the_token_is_left_unannotated(passes):
    a = passes[0][0]  # "A white fuzzy stuffed animal depicting a polar bear."
    b = replace(a, heads=(a.heads[0], 2, *a.heads[2:]), tags=("NN", *a.tags[1:]))
    [agreed] = agreed_trees([a], [b])
    assert agreed.heads[1] is None and agreed.deps[1] is None and agreed.heads[2:] == a.heads[2:]
    assert agreed.tags[0] is None and agreed.tags[1:] == a.tags[1:]
    assert not agreed.complete and agreed_trees([a], [a])[0].complete


def test_passes_of_other_captions_are_refused(passes):
    with pytest.raises(InputError, match="differ in caption or words"):
        agreed_trees(passes[0][:1], passes[1][1:2])


def test_the_miner_reads_a_hand_corrected_parse_as_it_reads_the_parsers(passes, nlp):
    [tree] = [t for t in passes[0] if t.text == "An old man sits in the back of a truck."]
    doc = tree_doc(nlp, tree)
    assert [(t.tag_, t.head.i, t.dep_) for t in doc] == list(zip(tree.tags, tree.heads, tree.deps))
    assert [t.pos_ for t in doc][:4] == ["DET", "ADJ", "NOUN", "VERB"]
    assert [(t.subject, t.relation, t.object) for t in mine_doc(doc)] == [("man", "sit in", "truck")]


def test_a_tree_file_with_a_broken_line_names_the_file_and_line(tmp_path):
    bad = tmp_path / "trees.conllu"
    bad.write_text("# sent_id = 1\n# text = A dog.\n1\tA\t_\t_\tDT\t_\t2\tdet\t_\t_\n2\tdog\tNN\n\n")
    with pytest.raises(InputError, match=r"trees\.conllu:4: not a CoNLL-U token line"):
        read_trees(bad)


@pytest.mark.slow
def test_tuning_on_the_trees_parses_kept_out_captions_better_and_the_miner_runs_on_it(passes, tmp_path):
    agreed = agreed_trees(*passes)
    random.Random(0).shuffle(agreed)
    nlp = spacy.load(installed_english_pipeline())
    test = [e for e in (training_example(nlp, a) for a in agreed[:200]) if e]
    train = [e for e in (training_example(nlp, a) for a in agreed[200:600]) if e]
    stock = parse_scores(load_pipeline(), test)
    tune(nlp, train, epochs=2)
    nlp.to_disk(tmp_path / "tuned")
    tuned_pipeline = load_pipeline(str(tmp_path / "tuned"))
    tuned = parse_scores(tuned_pipeline, test)
    assert tuned["las"] > stock["las"] + 0.01 and tuned["tag"] > stock["tag"]
    [mined] = mine_captions([Caption(1, 1, "A man riding a horse on a beach.")], tuned_pipeline)
    assert (mined.triples[0].subject, mined.triples[0].relation, mined.triples[0].object) == ("man", "ride", "horse")

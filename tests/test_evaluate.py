import datasets
import pytest
import torch

from relaug.evaluate import _recall, evaluate
from relaug.models import create_clip


class ConstantClip(torch.nn.Module):
    """Every image and every text embeds to the same vector: every comparison is a tie."""

    training = False

    def encode_image(self, pixels, normalize=True):
        return torch.ones(pixels.shape[0], 4) / 2

    def encode_text(self, tokens, normalize=True):
        return torch.ones(tokens.shape[0], 4) / 2


@pytest.fixture(scope="module")
def tiny():
    return create_clip("tiny-clip", "none")


def test_ties_count_as_wrong(sample_shards, tiny):
    report = evaluate(sample_shards, "test", model=ConstantClip(), preprocess=tiny.preprocess_val, tokenizer=tiny.tokenizer)
    assert report.hard_negatives, "the sample's test split has hard negatives"
    assert all(a.correct == 0 and a.total > 0 for a in report.hard_negatives.values())
    for group in report.groups.values():
        assert group.image_to_text.correct == 0 and group.text_to_image.correct == 0


def test_hard_negatives_are_counted_by_kind_and_by_relation_kind(sample_shards, tiny):
    triples = datasets.load_dataset(str(sample_shards), "triples", split="test")
    pairs = [(t["relation_kind"], n["kind"]) for t in triples for n in t["negatives"]]
    report = evaluate(sample_shards, "test", model=tiny.model, preprocess=tiny.preprocess_val, tokenizer=tiny.tokenizer)
    by = lambda prefix: {k.split("/")[1]: a.total for k, a in report.hard_negatives.items() if k.startswith(prefix)}
    assert report.hard_negatives["all"].total == len(pairs)
    assert by("kind/") == {kind: sum(k == kind for _, k in pairs) for _, kind in pairs}
    assert by("relation_kind/") == {rk: sum(r == rk for r, _ in pairs) for rk, _ in pairs}
    assert 0 <= report.hard_negatives["all"].correct <= len(pairs)


def test_recall_at_k_counts_a_hit_among_the_top_k():
    similarity = torch.tensor([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]])
    # query 0 wants column 2 (second best), query 1 wants column 2 (best)
    assert _recall(similarity, [{2}, {2}], ks=(1, 2)) == {"R@1": 0.5, "R@2": 1.0}

"""relaug.explain: words and their spans, gradient x input on a stub whose answer is known, F-CLIPScore,
the HTML, the AUROC, `relaug explain` and `relaug eval --benchmark relaug-dense` end to end."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path

import datasets
import open_clip
import pytest
import torch
import typer
from helpers import one_line_error
from typer.testing import CliRunner

from relaug.choices import Attribution
from relaug.cli import app
from relaug.errors import InputError
from relaug.explain import (
    NO_SPANS,
    PAST_CONTEXT,
    Explanation,
    SplitNegative,
    Substitutes,
    Word,
    auroc,
    caption_words,
    dense_scores,
    explain_captions,
    f_clipscore,
    gradient_x_attention,
    gradient_x_input,
    render_html,
    substitutes_of,
    tagger,
    token_rows,
)
from relaug.models import create_clip
from relaug.options import ExplainOptions

SAMPLE = Path(__file__).parent.parent / "examples" / "coco-sample"
IMAGE = SAMPLE / "val2017" / "000000022892.jpg"

runner = CliRunner()


@pytest.fixture(scope="module")
def tokenizer():
    return open_clip.get_tokenizer("ViT-B-32")  # open_clip's SimpleTokenizer, 77 tokens


@pytest.fixture(scope="module")
def sample_captions() -> list[str]:
    files = sorted((SAMPLE / "annotations").glob("captions_*.json"))
    return [a["caption"] for f in files for a in json.loads(f.read_text())["annotations"]]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A checkpoint as relaug finetune --model tiny-clip --pretrained none writes it."""
    run = tmp_path_factory.mktemp("run")
    (run / "checkpoints").mkdir()
    tiny = create_clip("tiny-clip", "none")
    torch.save({"epoch": 1, "name": "tiny-clip", "state_dict": tiny.model.state_dict()}, run / "checkpoints" / "latest.pt")
    return run / "checkpoints" / "latest.pt"


def _caption_of(image: Path) -> str:
    data = json.loads((SAMPLE / "annotations" / "captions_val2017.json").read_text())
    image_id = int(image.stem)
    return next(a["caption"] for a in data["annotations"] if a["image_id"] == image_id)


# --------------------------------------------------------------------------------------------- words


def test_words_keep_their_spans_and_punctuation_stands_apart(tokenizer):
    caption = "A man's t-shirt, red.  Two dogs!"
    words = caption_words(caption, tokenizer)
    assert [w.text for w in words] == ["A", "man's", "t-shirt", ",", "red", ".", "Two", "dogs", "!"]
    assert all(caption[w.start : w.end] == w.text for w in words)
    assert [w.is_punctuation for w in words] == [False, False, False, True, False, True, False, False, True]
    assert words[2].tokens == tuple(tokenizer.encode("t-shirt")) and len(words[2].tokens) > 1


def test_the_words_tokens_are_the_tokenizers_on_every_sample_caption(tokenizer, sample_captions):
    """Each word encoded on its own gives, in order, exactly the tokens of the whole caption."""
    for caption in sample_captions:
        words = caption_words(caption, tokenizer)
        assert all(caption[w.start : w.end] == w.text for w in words)
        assert "".join(caption[w.start : w.end] for w in words) == "".join(caption.split())
        assert [t for w in words for t in w.tokens] == tokenizer.encode(caption), caption


def test_the_model_reads_the_tokenizers_rows_cut_to_its_context(sample_captions):
    tiny = open_clip.get_tokenizer("tiny-clip")  # 32 tokens
    cut = 0
    for caption in [*sample_captions, " ".join(sample_captions[:3])]:  # the last one longer than the context
        words = caption_words(caption, tiny)
        row, owner = token_rows(words, tiny, tiny.context_length)
        assert row == tiny(caption)[0].tolist()
        assert owner == sorted(owner) and len(owner) == min(sum(len(w.tokens) for w in words), tiny.context_length - 2)
        cut += len(owner) < sum(len(w.tokens) for w in words)
    assert cut >= 1


def test_a_word_past_the_context_has_no_attribution():
    tiny = create_clip("tiny-clip", "none")
    caption = " ".join(["dog"] * 40)
    (e,) = explain_captions(tiny.model, tiny.tokenizer, torch.nn.functional.normalize(torch.ones(1, 64), dim=-1), [caption])
    assert [w.attribution is None for w in e.words] == [False] * 30 + [True] * 10
    assert e.truncated == 10 and len(e.scored_words) == 30


# --------------------------------------------------------------------------------------------- attributions


class LinearText(torch.nn.Module):
    """The text feature is the sum of the token embeddings; the image feature a fixed unit vector.
    cos = x.v / |x| with x = sum e_t, so gradient x input is known in closed form:
    a_t = e_t.v / |x| - cos (e_t.x) / |x|^2, and the a_t sum to 0 (the cosine ignores |x|)."""

    def __init__(self, embeddings: dict[int, list[float]], image: list[float]):
        super().__init__()
        self.token_embedding = torch.nn.Embedding(49408, len(image))
        with torch.no_grad():
            self.token_embedding.weight.zero_()
            for token, vector in embeddings.items():
                self.token_embedding.weight[token] = torch.tensor(vector)
        self.image = torch.nn.functional.normalize(torch.tensor([image]), dim=-1)

    def encode_text(self, tokens, normalize=True):
        x = self.token_embedding(tokens).sum(1)
        return torch.nn.functional.normalize(x, dim=-1) if normalize else x

    def encode_image(self, pixels, normalize=True):
        return self.image.expand(pixels.shape[0], -1)


def test_gradient_x_input_is_exact_on_a_linear_text_tower(tokenizer):
    (red,), (cube,), zebras = tokenizer.encode("red"), tokenizer.encode("cube"), tokenizer.encode("zebras")
    assert len(zebras) == 2
    e = {red: [2.0, 0.0, 0.0], cube: [0.0, 1.0, 0.0], zebras[0]: [1.0, 0.0, 0.3], zebras[1]: [0.5, 0.0, 0.0]}
    model = LinearText(e, [1.0, 0.0, 0.0])  # the image is all "red"
    (explanation,) = explain_captions(model, tokenizer, model.image, ["red cube, zebras"], attribution=Attribution.GRADIENT)

    x = torch.tensor([sum(v[i] for v in e.values()) for i in range(3)])
    v = model.image[0]
    cosine = float(x @ v / x.norm())
    a = {t: float(torch.tensor(vec) @ v / x.norm() - cosine * (torch.tensor(vec) @ x) / x.norm() ** 2) for t, vec in e.items()}
    words = {w.text: w.attribution for w in explanation.words}
    assert explanation.cosine == pytest.approx(cosine)
    assert words["red"] == pytest.approx(a[red]) and words["red"] > 0  # what the image shows
    assert words["cube"] == pytest.approx(a[cube]) and words["cube"] < 0  # what it does not
    assert words["zebras"] == pytest.approx(a[zebras[0]] + a[zebras[1]])  # a word: the sum of its tokens
    assert words[","] == pytest.approx(0.0)
    assert sum(words.values()) == pytest.approx(0.0, abs=1e-6)
    assert explanation.most_negative.text == "cube"


def test_substitution_sets_each_word_against_its_alternatives_of_one_part_of_speech(tokenizer):
    (red,), (blue,), (cube,), (ball,), (behind,) = (tokenizer.encode(w) for w in ("red", "blue", "cube", "ball", "behind"))
    e = {red: [1.0, 0.0, 0.0], blue: [0.0, 0.0, 1.0], cube: [0.0, 1.0, 0.0], ball: [1.0, 0.0, 0.0], behind: [0.0, 2.0, 0.0]}
    model = LinearText(e, [1.0, 0.0, 0.0])  # a red ball; "a", "in front of" and "box" embed to nothing
    substitutes = Substitutes({"JJ": ("red", "blue"), "NN": ("cube", "ball"), "IN": ("in front of", "behind")}, tagger())
    explained = explain_captions(
        model, tokenizer, model.image.expand(2, -1), ["A red cube.", "A red ball in front of a box."],
        attribution=Attribution.SUBSTITUTION, substitutes=substitutes,
    )
    cube, front = ({w.text: w.attribution for w in e.words} for e in explained)
    root2 = 2**0.5
    assert explained[0].cosine == pytest.approx(1 / root2)
    assert cube["red"] == pytest.approx(1 / root2 - 0.0)  # "A blue cube." is at right angles to the image
    assert cube["cube"] == pytest.approx(1 / root2 - 1.0)  # "A red ball." is the image
    assert cube["A"] == cube["."] == 0.0  # nothing of their tags to put in their place
    assert explained[0].most_negative.text == "cube"
    # "in front of" is one word, replaced whole: "A red ball behind a box." turns away from the image.
    assert "in front of" in front and "front" not in front
    assert front["in front of"] == pytest.approx(1.0 - 2 / 8**0.5)
    assert front["ball"] == pytest.approx(1.0 - 1 / root2)


def test_substitutes_are_the_most_frequent_words_of_each_tag():
    substitutes = substitutes_of(
        ["A dog on a sofa.", "A cat in front of a dog.", "Two dogs on a bed.", "A cat under a table."], tagger(), per_tag=2
    )
    assert substitutes.by_tag["IN"] == ("on", "in front of")
    assert substitutes.by_tag["NN"] == ("dog", "cat")
    assert "dogs" in substitutes.by_tag["NNS"]


def test_rows_of_a_batch_are_explained_each_on_its_own(tokenizer):
    tiny = create_clip("tiny-clip", "none")
    captions = ["A dog looks through a window.", "Two cats sleeping on a red couch next to a lamp."]
    images = torch.nn.functional.normalize(torch.randn(2, 64, generator=torch.Generator().manual_seed(0)), dim=-1)
    together = explain_captions(tiny.model, tiny.tokenizer, images, captions)
    alone = [explain_captions(tiny.model, tiny.tokenizer, images[i : i + 1], [c])[0] for i, c in enumerate(captions)]
    for a, b in zip(together, alone):
        assert a.cosine == pytest.approx(b.cosine, abs=1e-5)
        assert [w.attribution for w in a.words] == pytest.approx([w.attribution for w in b.words], abs=1e-5)
    with torch.no_grad():
        text = tiny.model.encode_text(tiny.tokenizer(captions), normalize=True)
    assert [e.cosine for e in together] == pytest.approx((text * images).sum(-1).tolist(), abs=1e-5)


def test_the_attention_attribution_reads_the_maps_the_model_computes(tokenizer):
    """CLIP4DM's attribution recomputes each block's self-attention step by step to keep its map:
    the text features stay the model's own, and the attribution is the end token's row of the
    gradient x attention map, averaged over heads and blocks, computed here without relaug."""
    tiny = create_clip("tiny-clip", "none")
    model = tiny.model.eval()
    captions = ["A dog looks through a window.", "Two cats sleeping on a red couch."]
    tokens = tiny.tokenizer(captions)
    image = torch.nn.functional.normalize(torch.randn(2, 64, generator=torch.Generator().manual_seed(1)), dim=-1)
    attributions, cosines = gradient_x_attention(model, tokens, image)
    with torch.no_grad():
        own = (model.encode_text(tokens, normalize=True) * image).sum(-1)
    assert cosines.tolist() == pytest.approx(own.tolist(), abs=1e-6)

    maps = []  # each block's attention map as nn.MultiheadAttention computes it, per head

    def keep_map(block):
        def attention(q_x, k_x=None, v_x=None, attn_mask=None):
            mha = block.attn
            _, weights = mha(q_x, q_x, q_x, attn_mask=attn_mask, need_weights=True, average_attn_weights=False)
            weights.retain_grad()
            maps.append(weights)
            batch, length, width = q_x.shape
            v = torch.nn.functional.linear(q_x, mha.in_proj_weight[2 * width :], mha.in_proj_bias[2 * width :])
            v = v.reshape(batch, length, mha.num_heads, -1).transpose(1, 2)
            return mha.out_proj((weights @ v).transpose(1, 2).reshape(batch, length, width))
        return attention

    for block in model.transformer.resblocks:
        block.attention = keep_map(block)
    try:
        cosine = (model.encode_text(tokens, normalize=True) * image).sum(-1)
        cosine.sum().backward()
    finally:
        for block in model.transformer.resblocks:
            del block.attention
    relevance = sum((m.grad * m).mean(1) for m in maps) / len(maps)
    end = tokens.argmax(-1)
    expected = relevance[torch.arange(2), end]
    assert expected.abs().max() > 1e-4 and torch.allclose(attributions, expected, atol=1e-6)
    (explanation, _) = explain_captions(model, tiny.tokenizer, image, captions)
    assert [w.attribution for w in explanation.words if w.text in ("dog", "window")] == pytest.approx(
        [float(attributions[0, 2]), float(attributions[0, 6])], abs=1e-6
    )


def test_a_model_without_a_text_transformer_has_no_attention_attribution(tokenizer):
    model = LinearText({}, [1.0, 0.0, 0.0])
    with pytest.raises(InputError, match="--attribution gradient"):
        explain_captions(model, tokenizer, model.image, ["red cube"])


def test_a_model_without_token_embeddings_is_an_input_error(tokenizer):
    class NoEmbedding(torch.nn.Module):
        def encode_text(self, tokens, normalize=True):
            return torch.ones(tokens.shape[0], 3)

    with pytest.raises(InputError, match="token embedding"):
        gradient_x_input(NoEmbedding(), torch.zeros(1, 77, dtype=torch.long), torch.ones(1, 3))


# --------------------------------------------------------------------------------------------- F-CLIPScore, HTML


def test_f_clipscore_is_the_cosine_plus_the_negative_attributions():
    assert f_clipscore(0.3, [0.1, -0.05, None, -0.02, 0.0]) == pytest.approx(0.23)
    assert f_clipscore(0.3, [0.1, 0.2]) == 0.3
    assert f_clipscore(0.3, [-0.05, -0.02], threshold=-0.03) == pytest.approx(0.25)
    words = (Word("dog", 0, 3, (1,), -0.1), Word(".", 3, 4, (2,), -0.5), Word("cat", 5, 8, (3,), 0.2))
    explanation = Explanation("dog. cat", words, 0.25)
    assert explanation.f_clipscore == pytest.approx(0.15)  # punctuation does not count
    assert explanation.most_negative.text == "dog"


def test_the_html_holds_every_word_coloured_and_escapes_the_caption(tokenizer):
    caption = "A <dog> & a cat."
    values = {"A": 0.1, "<": 0.0, "dog": 0.3, ">": 0.0, "&": 0.0, "a": -0.1, "cat": -0.3, ".": -0.05}
    words = tuple(replace(w, attribution=values[w.text]) for w in caption_words(caption, tokenizer))
    assert [w.text for w in words] == list(values)
    page = render_html([Explanation(caption, words, 0.2)], labels=["an image"], marked=[[(3, 6)]])
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<dog>" not in page and "&lt;" in page and "&amp;" in page
    for word in ("A", "dog", "a", "cat"):
        assert f">{word}</span>" in page
    assert "rgba(220, 38, 38, 1.000)\" title=\"-0.300000\">cat</span>" in page  # the most negative, fully red
    assert "text-decoration: underline\" title=\"+0.300000\">dog</span>" in page  # marked, and fully green
    assert "rgba(22, 163, 74, 1.000)" in page
    assert "F-CLIPScore -0.2000" in page  # 0.2 - 0.1 - 0.3: punctuation does not count
    assert "<script" not in page and "http" not in page  # self-contained


# --------------------------------------------------------------------------------------------- relaug-dense


def test_auroc_on_known_cases():
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert auroc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auroc([0.9, 0.8, 0.1], [False, False, True]) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], [True, False, True, False]) == 0.5  # ties count half
    assert auroc([0.2, 0.5, 0.5], [False, True, False]) == pytest.approx(0.75)
    assert auroc([0.1, 0.2], [True, True]) is None and auroc([], []) is None


def _explained(caption: str, attributions: list[float]) -> Explanation:
    words, at = [], 0
    for text, a in zip(caption.split(), attributions):
        start = caption.index(text, at)
        at = start + len(text)
        words.append(Word(text, start, at, (1,), a))
    return Explanation(caption, tuple(words), 0.2)


def test_dense_scores_count_top1_chance_auroc_and_skips():
    negatives = [
        SplitNegative(1, "verb_swap", "a man riding a horse", "a man feeding a horse", ((6, 12),)),  # riding
        SplitNegative(1, "prep_swap", "a cat under a table", "a cat on a table", ((6, 11),)),  # under
        SplitNegative(2, "prep_swap", "a dog near a car", "a dog in a car", None),
        SplitNegative(2, "role_swap", "a car x", "x a car", ((30, 35),)),  # past the words kept
    ]
    explanations = [
        _explained("a man riding a horse", [0.1, 0.0, -0.5, 0.1, 0.2]),  # riding is the most negative
        _explained("a cat under a table", [0.1, -0.4, -0.1, 0.1, 0.2]),  # cat is, under is not
        _explained("a dog near a car", [0.0] * 5),
        _explained("a car x", [0.0] * 3),
    ]
    report = dense_scores(negatives, explanations)
    assert report.items == 4 and report.scored == 2
    assert report.skipped == {NO_SPANS: 1, PAST_CONTEXT: 1}
    assert list(report.scores) == ["all", "kind/prep_swap", "kind/verb_swap"]
    everything = report.scores["all"]
    assert (everything.negatives, everything.top1_correct, everything.top1_precision) == (2, 1, 0.5)
    assert everything.top1_chance == pytest.approx(0.2)  # one changed word of five, twice
    # -attribution: riding 0.5 above all 4 others of its caption; under 0.1 above 4 of the 8 others (ties half) ...
    others = [-0.1, 0.0, -0.1, -0.2, -0.1, 0.4, -0.1, -0.2]
    expected = (sum((0.5 > o) + 0.5 * (0.5 == o) for o in others) + sum((0.1 > o) + 0.5 * (0.1 == o) for o in others)) / 16
    assert everything.auroc == pytest.approx(expected)
    assert report.scores["kind/verb_swap"].auroc == 1.0
    assert report.to_dict()["scores"]["all"]["changed_words"] == 2


# --------------------------------------------------------------------------------------------- the CLI




def test_explain_prints_the_words_the_cosine_and_f_clipscore_and_writes_the_html(tmp_path, checkpoint):
    caption = _caption_of(IMAGE)
    page = tmp_path / "out" / "explain.html"
    result = runner.invoke(app, ["explain", str(IMAGE), caption, "--checkpoint", str(checkpoint), "--html", str(page)])
    assert result.exit_code == 0, result.output
    words = [w.text for w in caption_words(caption, open_clip.get_tokenizer("tiny-clip"))]
    table = result.stdout.split("cosine")[0]
    assert all(word in table for word in words)
    cosine = float(result.stdout.split("cosine ")[1].split()[0])
    f_score = float(result.stdout.split("F-CLIPScore ")[1].split()[0])
    assert -1 <= cosine <= 1 and f_score <= cosine
    html = page.read_text()
    assert all(f">{word}</span>" in html for word in words) and "rgba(" in html
    assert str(page) in result.output


def test_explain_takes_a_model_and_its_weights_instead_of_a_checkpoint():
    result = runner.invoke(app, ["explain", str(IMAGE), "Two cats on a couch.", "--model", "tiny-clip", "--pretrained", "none"])
    assert result.exit_code == 0, result.output
    assert "couch" in result.stdout and "F-CLIPScore" in result.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        ([str(IMAGE), "--pretrained", "none", "--model", "tiny-clip"], ["CAPTION"]),
        ([str(IMAGE), "a cat", "--model", "tiny-clip"], ["--checkpoint", "--pretrained"]),
        ([str(IMAGE), "a cat", "--limit", "3", "--model", "tiny-clip", "--pretrained", "none"], ["--limit", "SHARDS"]),
        ([str(IMAGE), "...", "--model", "tiny-clip", "--pretrained", "none"], ["CAPTION", "word"]),
        ([str(SAMPLE / "annotations" / "captions_val2017.json"), "a cat", "--model", "tiny-clip", "--pretrained", "none"], ["image"]),
        ([str(IMAGE), "a cat", "--attribution", "substitution", "--model", "tiny-clip", "--pretrained", "none"], ["substitution", "SHARDS"]),
    ],
    ids=["no caption", "no model", "limit with an image", "no word", "not an image", "substitution with an image"],
)
def test_explain_usage_errors_are_one_line(args, words):
    line = one_line_error(runner.invoke(app, ["explain", *args]))
    assert all(word in line for word in words), line


def test_explain_over_a_splits_negatives_underlines_the_changed_words(tmp_path, sample_shards):
    page = tmp_path / "negatives.html"
    result = runner.invoke(
        app, ["explain", str(sample_shards), "--limit", "1", "--model", "tiny-clip", "--pretrained", "none", "--html", str(page)]
    )
    assert result.exit_code == 0, result.output
    assert "relaug explain: negatives" in result.stdout
    html = page.read_text()
    # The sample's test split holds two negatives (the sample is too small for more to be attested).
    assert html.count("<section>") == 1 and "text-decoration: underline" in html


@pytest.mark.parametrize("attribution", list(Attribution))
def test_eval_relaug_dense_writes_the_json_and_prints_the_table(tmp_path, sample_shards, checkpoint, attribution):
    out = tmp_path / "dense.json"
    result = runner.invoke(
        app,
        ["eval", "--benchmark", "relaug-dense", str(sample_shards), "--checkpoint", str(checkpoint), "--out", str(out),
         "--attribution", str(attribution)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    triples = datasets.load_dataset(str(sample_shards), "triples", split="test")
    kinds = [n["kind"] for t in triples for n in t["negatives"]]
    assert report["benchmark"] == "relaug-dense" and report["split"] == "test"
    assert report["items"] == len(kinds) > 0 and report["scored"] + sum(report["skipped"].values()) == len(kinds)
    scores = report["scores"]
    assert scores["all"]["negatives"] == report["scored"]
    assert sum(s["negatives"] for name, s in scores.items() if name.startswith("kind/")) == report["scored"]
    for s in scores.values():
        assert 0 <= s["top1_precision"] <= 1 and 0 < s["top1_chance"] < 1
        assert s["auroc"] is None or 0 <= s["auroc"] <= 1
        assert 0 < s["changed_words"] < s["words"]
    assert "relaug eval: relaug-dense" in result.stdout and "top-1 precision all" in result.stdout
    assert str(out) in result.output


def test_eval_relaug_dense_writes_next_to_the_checkpoints_run(sample_shards, checkpoint):
    result = runner.invoke(app, ["eval", str(sample_shards), "--benchmark", "relaug-dense", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 0, result.output
    assert (checkpoint.parent.parent / "eval_relaug-dense.json").is_file()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--benchmark", "relaug-dense", "--pretrained", "none"], ["SHARDS"]),
        (["--benchmark", "relaug-dense", "SHARDS", "--data", "d", "--pretrained", "none"], ["--data", "SHARDS"]),
        (["--benchmark", "relaug-dense", "SHARDS", "--text-field", "text", "--pretrained", "none"], ["--text-field"]),
        (["--benchmark", "relaug-dense", "SHARDS", "--model", "tiny-clip"], ["--checkpoint", "--pretrained"]),
        (["SHARDS", "--attribution", "gradient", "--pretrained", "none"], ["--attribution", "relaug-dense"]),
    ],
    ids=["no shards", "data", "text field", "no model", "attribution"],
)
def test_eval_relaug_dense_usage_errors_are_one_line(args, words, sample_shards):
    args = [str(sample_shards) if a == "SHARDS" else a for a in args]
    line = one_line_error(runner.invoke(app, ["eval", *args]))
    assert all(word in line for word in words), line


def test_relaug_dense_is_not_read_from_benchmark_files(tmp_path):
    from relaug.benchmarks import read_benchmark

    with pytest.raises(InputError, match="SHARDS"):
        read_benchmark("relaug-dense", tmp_path, tmp_path)


def test_explain_options_default_to_what_the_library_does():
    command = typer.main.get_command(app).commands["explain"]
    fields = {f.name: f.default for f in dataclasses.fields(ExplainOptions) if f.default is not dataclasses.MISSING}
    defaults = {p.name: p.default for p in command.params if p.name in fields}
    assert defaults == {name: fields[name] for name in defaults} and {"split", "limit", "html", "attribution"} <= set(defaults)

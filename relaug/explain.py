"""Which words of a caption the image supports or contradicts: signed per-word attributions of the
image-text cosine (`relaug explain`), and the dense-misalignment benchmark on relaug's own negatives
(`relaug eval --benchmark relaug-dense`). docs/training.md, "Explaining a score", says what of
CLIP4DM (Nam et al., "Extract Free Dense Misalignment from CLIP", AAAI 2025) this follows.

- Attribution (`Attribution`), signed: a negative attribution marks a token that pulls the score
  down, one the image contradicts. The start and end tokens are left out.
  - `attention` (the default, CLIP4DM's): in each of the text transformer's last three blocks, the
    attention map times the gradient of the cosine of the image and text features w.r.t. it,
    averaged over heads; summed over the blocks, divided by their number; token t's attribution is
    the end token's row at t (the end token's feature is the text feature).
  - `gradient`: gradient x input on the token embeddings. For each BPE token t, the embedding e_t
    (before the positional embedding is added) times the gradient of the cosine w.r.t. e_t, summed
    over the embedding dimension; exact where the text tower is linear.
  - `substitution`, of words, not tokens: the cosine less its mean over the captions made by putting
    each other word of the same part of speech (Penn tag) in the word's place, so negative where
    the word fits the image worse than its alternatives do. The alternatives are the most frequent
    words of each tag in a set of captions (`Substitutes`: a split's own); a multi-word preposition
    ("in front of") is one word, put in place and replaced whole. Needs no gradient, only the
    model's text and image features, at the price of one text encoding per alternative.
- Words: the caption cut into words and punctuation with their character spans; each word is
  encoded on its own by open_clip's SimpleTokenizer, so its tokens are known, and a word's
  attribution is the sum of its tokens'.
- F-CLIPScore: the cosine plus the sum of the word attributions below a threshold (0): the global
  score, lowered by what the image contradicts. Punctuation is left out, as CLIP4DM does.
- relaug-dense: every negative of a split carries the character spans of the words it changed;
  the words of its caption are explained against its image, and reported per negative kind and
  overall: top-1 precision (the most negative word is a changed one), the word-level AUROC of
  -attribution for "word is changed", and counts.
"""

from __future__ import annotations

import contextlib
import html
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import PIL.Image
import torch

from relaug.choices import Attribution, Benchmark
from relaug.errors import InputError, unwritable_out
from relaug.evaluate import check_model_choice, check_writable, load_model, report_path, write_report
from relaug.options import DenseOptions, ExplainOptions
from relaug.progress import SILENT, Progress
from relaug.splits import ShardSplit
from relaug.verbs import SPATIAL_PREPOSITIONS

# A word: letters and digits, joined by inner apostrophes or hyphens ("don't", "t-shirt"); or a
# run of punctuation. The tokenizer's own pattern cuts at every one of these borders too.
_WORD = re.compile(r"\w+(?:['’-]\w+)*|[^\w\s]+")

# What F-CLIPScore counts as a misaligned word: an attribution below this.
NEGATIVE_THRESHOLD = 0.0

# Why a negative was not scored by relaug-dense.
NO_SPANS = "no changed spans (shards built before the field)"
PAST_CONTEXT = "changed words past the model's context length"

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, PIL.Image.DecompressionBombError)


# ---------------------------------------------------------------------------------------------
# words


@dataclass(frozen=True)
class Word:
    """A word of a caption: its text, where it stands (character offsets, end excluded), its BPE
    tokens, and its attribution, the sum of its tokens' (None: past the model's context length)."""

    text: str
    start: int
    end: int
    tokens: tuple[int, ...]
    attribution: float | None = None

    @property
    def is_punctuation(self) -> bool:
        return not any(c.isalnum() for c in self.text)

    def overlaps(self, spans: Iterable[tuple[int, int]]) -> bool:
        return any(self.start < end and start < self.end for start, end in spans)


def check_tokenizer(tokenizer) -> None:
    from open_clip.tokenizer import SimpleTokenizer

    if not isinstance(tokenizer, SimpleTokenizer):
        raise InputError(
            f"relaug explain maps BPE tokens to words with open_clip's SimpleTokenizer; this model's tokenizer "
            f"is {type(tokenizer).__name__}"
        )


def caption_words(caption: str, tokenizer=None) -> list[Word]:
    """The words and punctuation of `caption`, with their character spans and BPE tokens (none
    without `tokenizer`)."""
    if tokenizer is not None:
        check_tokenizer(tokenizer)
    return [
        Word(m.group(), m.start(), m.end(), tuple(tokenizer.encode(m.group())) if tokenizer is not None else ())
        for m in _WORD.finditer(caption)
    ]


def token_rows(words: Sequence[Word], tokenizer, context_length: int) -> tuple[list[int], list[int]]:
    """The token sequence the model reads (start, the words' tokens, end, padding), cut to the
    context length as open_clip's tokenizer cuts it; and for each kept token, its word's index."""
    tokens = [t for w in words for t in w.tokens][: context_length - 2]
    owner = [i for i, w in enumerate(words) for _ in w.tokens][: len(tokens)]
    row = [tokenizer.sot_token_id, *tokens, tokenizer.eot_token_id]
    return row + [0] * (context_length - len(row)), owner


# ---------------------------------------------------------------------------------------------
# attributions


@dataclass(frozen=True)
class Explanation:
    """A caption read against an image: its words with their attributions, and the cosine."""

    caption: str
    words: tuple[Word, ...]
    cosine: float

    @property
    def scored_words(self) -> list[Word]:
        """The words that count: not punctuation, and within the context length."""
        return [w for w in self.words if not w.is_punctuation and w.attribution is not None]

    @property
    def f_clipscore(self) -> float:
        return f_clipscore(self.cosine, [w.attribution for w in self.scored_words])

    @property
    def most_negative(self) -> Word | None:
        """The word with the lowest attribution (the first of equals)."""
        words = self.scored_words
        return min(words, key=lambda w: w.attribution) if words else None

    @property
    def truncated(self) -> int:
        """Words past the model's context length, left unscored."""
        return sum(w.attribution is None for w in self.words)

    def to_dict(self) -> dict:
        return {
            "caption": self.caption,
            "cosine": self.cosine,
            "f_clipscore": self.f_clipscore,
            "words": [{"word": w.text, "start": w.start, "end": w.end, "attribution": w.attribution} for w in self.words],
        }


def f_clipscore(cosine: float, attributions: Iterable[float | None], threshold: float = NEGATIVE_THRESHOLD) -> float:
    """The global cosine plus the sum of the attributions below `threshold`: lowered by what the image contradicts."""
    return cosine + sum(a for a in attributions if a is not None and a < threshold)


def _token_embedding(model) -> torch.nn.Module:
    for owner in (model, getattr(model, "text", None)):
        embedding = getattr(owner, "token_embedding", None)
        if isinstance(embedding, torch.nn.Module):
            return embedding
    raise InputError("relaug explain needs a text tower with a token embedding (open_clip's token_embedding); this model has none")


def gradient_x_input(model, tokens: torch.Tensor, image_features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per token, the token embedding times the gradient of the cosine w.r.t. it, summed over the
    embedding dimension; and the cosine. `tokens` is (B, L), `image_features` (B, D) unit vectors."""
    captured: list[torch.Tensor] = []

    def hook(module, inputs, output):
        output = output.detach().requires_grad_(True)  # a leaf: the gradient stops here, not at the weights
        captured.append(output)
        return output

    handle = _token_embedding(model).register_forward_hook(hook)
    try:
        with torch.enable_grad():
            text = model.encode_text(tokens, normalize=True).float()
            cosine = (text * image_features.float()).sum(-1)
            (gradient,) = torch.autograd.grad(cosine.sum(), captured[0])  # rows do not mix: each its own gradient
    finally:
        handle.remove()
    return (gradient.float() * captured[0].detach().float()).sum(-1), cosine.detach()


# CLIP4DM reads the attention maps of the text transformer's last three blocks.
ATTENTION_BLOCKS = 3


def _text_blocks(model) -> tuple[bool, list[torch.nn.Module]]:
    """Whether the text transformer is batch first, and its blocks; an InputError where the model
    has no open_clip text transformer of self-attention blocks."""
    for owner in (model, getattr(model, "text", None)):
        transformer = getattr(owner, "transformer", None)
        blocks = list(getattr(transformer, "resblocks", ()))
        if blocks and all(isinstance(getattr(b, "attn", None), torch.nn.MultiheadAttention) for b in blocks):
            if getattr(owner, "text_pool_type", "argmax") != "argmax":
                break
            return getattr(transformer, "batch_first", True), blocks
    raise InputError(
        "--attribution attention needs an open_clip text transformer of self-attention blocks, pooled at "
        "the end token; this model has none: use --attribution gradient"
    )


@contextlib.contextmanager
def _attention_maps_kept(blocks: Sequence[torch.nn.Module], batch_first: bool, maps: list[torch.Tensor]) -> Iterator[None]:
    """While open, each block computes its self-attention step by step, as nn.MultiheadAttention
    does, and appends its attention map (batch, heads, query, key) to `maps`, in the graph."""

    def attention_of(block):
        mha = block.attn

        def attention(q_x, k_x=None, v_x=None, attn_mask=None):
            x = q_x if batch_first else q_x.transpose(0, 1)
            batch, length, width = x.shape
            heads = mha.num_heads
            q, k, v = (
                t.reshape(batch, length, heads, width // heads).transpose(1, 2)
                for t in torch.nn.functional.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, -1)
            )
            scores = q @ k.transpose(-2, -1) / math.sqrt(width // heads)
            if attn_mask is not None:
                scores = scores + attn_mask.to(scores.dtype)
            attention_map = scores.softmax(-1)
            maps.append(attention_map)
            out = mha.out_proj((attention_map @ v).transpose(1, 2).reshape(batch, length, width))
            return out if batch_first else out.transpose(0, 1)

        return attention

    for block in blocks:
        block.attention = attention_of(block)  # the instance's, over the class's
    try:
        yield
    finally:
        for block in blocks:
            del block.attention


def gradient_x_attention(model, tokens: torch.Tensor, image_features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per token, CLIP4DM's attribution of the cosine (`Attribution.ATTENTION`); and the cosine.
    `tokens` is (B, L), `image_features` (B, D) unit vectors."""
    batch_first, blocks = _text_blocks(model)
    maps: list[torch.Tensor] = []
    with torch.enable_grad(), _attention_maps_kept(blocks[-ATTENTION_BLOCKS:], batch_first, maps):
        text = model.encode_text(tokens, normalize=True).float()
        cosine = (text * image_features.float()).sum(-1)
        gradients = torch.autograd.grad(cosine.sum(), maps)  # rows do not mix: each its own gradient
    relevance = sum((g * m).mean(1) for g, m in zip(gradients, maps)) / len(maps)  # (B, L, L)
    end = tokens.argmax(-1)  # the end token has the highest id, as open_clip pools
    return relevance[torch.arange(len(tokens)), end].detach().float(), cosine.detach()


ATTRIBUTIONS = {Attribution.ATTENTION: gradient_x_attention, Attribution.GRADIENT: gradient_x_input}

# The alternatives of a word (`Attribution.SUBSTITUTION`): this many of its tag, the most frequent.
SUBSTITUTES_PER_TAG = 20

# Said as one word and replaced whole: "in" alone has nothing to stand for in "in front of".
_MULTI_WORD_PREPOSITION = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in SPATIAL_PREPOSITIONS if " " in p) + r")\b", re.IGNORECASE
)
_PREPOSITION_TAG = "IN"


@dataclass(frozen=True)
class Substitutes:
    """What may stand in a word's place, by Penn tag (`Attribution.SUBSTITUTION`), and the spaCy
    pipeline that tags the words of a caption to explain as it tagged these."""

    by_tag: dict[str, tuple[str, ...]]
    nlp: object = field(repr=False, compare=False)


def tagger():
    """The spaCy pipeline whose tags choose a word's alternatives: the one `relaug mine` loads."""
    from relaug.mining import load_pipeline

    return load_pipeline(None)


def substitutes_of(captions: Iterable[str], nlp, per_tag: int = SUBSTITUTES_PER_TAG) -> Substitutes:
    """The `per_tag` most frequent words of each tag in `captions` (lower-cased; ties in first-seen
    order), multi-word prepositions among the prepositions."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in nlp.pipe(captions):
        for word, tag in _tagged_words(doc):
            if tag is not None and not word.is_punctuation:
                counts[tag][word.text.lower()] += 1
    return Substitutes({tag: tuple(w for w, _ in c.most_common(per_tag)) for tag, c in counts.items()}, nlp)


def _tagged_words(doc, tokenizer=None) -> list[tuple[Word, str | None]]:
    """The words of the parsed caption (`caption_words`), a multi-word preposition joined into
    one, each with the tag spaCy gave the token it starts at (None: none)."""
    caption = doc.text
    tags = {t.idx: t.tag_ for t in doc}
    whole = {m.start(): m.end() for m in _MULTI_WORD_PREPOSITION.finditer(caption)}
    words = caption_words(caption, tokenizer)
    tagged: list[tuple[Word, str | None]] = []
    end = -1
    for w in words:
        if w.start < end:
            continue  # inside a preposition already joined
        if w.start in whole:
            end = whole[w.start]
            inside = [x for x in words if w.start <= x.start < end]
            tagged.append((Word(caption[w.start : end], w.start, end, tuple(t for x in inside for t in x.tokens)), _PREPOSITION_TAG))
        else:
            tagged.append((w, tags.get(w.start)))
    return tagged


def _in_place(caption: str, word: Word, substitute: str) -> str:
    """The caption with `substitute` in the place of `word`, capitalised as the word is."""
    if word.text[:1].isupper():
        substitute = substitute[:1].upper() + substitute[1:]
    return caption[: word.start] + substitute + caption[word.end :]


@torch.no_grad()
def substitution_explanations(
    model, tokenizer, features: torch.Tensor, captions: Sequence[str], substitutes: Substitutes, *, device="cpu"
) -> list[Explanation]:
    """Each caption's words and `Attribution.SUBSTITUTION` attributions against its row of
    `features` (unit image features)."""
    explanations = []
    for caption, feature, doc in zip(captions, features.to(device), substitutes.nlp.pipe(captions), strict=True):
        words = _tagged_words(doc, tokenizer)
        _, owner = token_rows([w for w, _ in words], tokenizer, tokenizer.context_length)
        kept = set(owner)
        variants, of_word = [caption], [-1]
        for i, (w, tag) in enumerate(words):
            if i in kept and not w.is_punctuation:
                alternatives = [s for s in substitutes.by_tag.get(tag, ()) if s != w.text.lower()]
                variants += [_in_place(caption, w, s) for s in alternatives]
                of_word += [i] * len(alternatives)
        text = model.encode_text(tokenizer(variants).to(device), normalize=True).float()
        cosines = (text @ feature.float()).tolist()
        alternative_cosines: dict[int, list[float]] = defaultdict(list)
        for i, cosine in zip(of_word[1:], cosines[1:]):
            alternative_cosines[i].append(cosine)

        def attribution(i: int) -> float | None:
            if i not in kept and words[i][0].tokens:
                return None  # past the context length
            found = alternative_cosines.get(i)
            return cosines[0] - sum(found) / len(found) if found else 0.0

        explanations.append(Explanation(caption, tuple(replace(w, attribution=attribution(i)) for i, (w, _) in enumerate(words)), cosines[0]))
    return explanations


@torch.no_grad()
def image_features(model, pixels: torch.Tensor) -> torch.Tensor:
    return model.encode_image(pixels, normalize=True).float()


def explain_captions(
    model,
    tokenizer,
    features: torch.Tensor,
    captions: Sequence[str],
    *,
    device: torch.device | str = "cpu",
    attribution: Attribution = Attribution.ATTENTION,
    substitutes: Substitutes | None = None,
) -> list[Explanation]:
    """Each caption's words and attributions against its row of `features` (unit image features);
    `substitutes`: the alternatives of `Attribution.SUBSTITUTION`, which needs them."""
    if not captions:
        return []
    was_training = model.training
    model.eval()
    try:
        if attribution == Attribution.SUBSTITUTION:
            if substitutes is None:
                raise ValueError("the substitution attribution needs the words to substitute (substitutes_of)")
            return substitution_explanations(model, tokenizer, features, captions, substitutes, device=device)
        words = [caption_words(c, tokenizer) for c in captions]
        rows, owners = zip(*(token_rows(w, tokenizer, tokenizer.context_length) for w in words))
        attributions, cosines = ATTRIBUTIONS[attribution](model, torch.tensor(rows, dtype=torch.long, device=device), features.to(device))
    finally:
        model.train(was_training)
    explanations = []
    for caption, ws, owner, row, cosine in zip(captions, words, owners, attributions.cpu(), cosines.cpu().tolist()):
        sums: dict[int, float] = defaultdict(float)
        for position, word in enumerate(owner, start=1):  # position 0 is the start token
            sums[word] += float(row[position])
        kept, cut = set(owner), len(owner) < sum(len(w.tokens) for w in ws)
        last = owner[-1] if owner else -1

        def attribution(i: int, w: Word) -> float | None:
            if i in kept:
                return sums[i]
            if not w.tokens and not (cut and i > last):  # a word of no token (rare) within the context
                return 0.0
            return None  # past the context length

        explanations.append(Explanation(caption, tuple(replace(w, attribution=attribution(i, w)) for i, w in enumerate(ws)), cosine))
    return explanations


def explain(
    image: PIL.Image.Image,
    caption: str,
    *,
    model,
    preprocess,
    tokenizer,
    device: torch.device | str = "cpu",
    attribution: Attribution = Attribution.ATTENTION,
) -> Explanation:
    """The words of `caption` and their attributions against `image`, and the cosine."""
    was_training = model.training
    model.eval()
    try:
        features = image_features(model, preprocess(image).unsqueeze(0).to(device))
    finally:
        model.train(was_training)
    return explain_captions(model, tokenizer, features, [caption], device=device, attribution=attribution)[0]


# ---------------------------------------------------------------------------------------------
# HTML


def _colour(attribution: float | None, scale: float) -> str:
    if attribution is None or scale <= 0:
        return "rgba(0, 0, 0, 0)"
    alpha = min(abs(attribution) / scale, 1.0)
    red, green, blue = (220, 38, 38) if attribution < 0 else (22, 163, 74)
    return f"rgba({red}, {green}, {blue}, {alpha:.3f})"


def caption_html(explanation: Explanation, marked: Iterable[tuple[int, int]] = ()) -> str:
    """The caption with each word on a background coloured by its attribution (red negative,
    green positive, the strongest of the caption fully opaque); words in `marked` spans underlined."""
    marked = list(marked)
    scale = max((abs(w.attribution) for w in explanation.words if w.attribution is not None), default=0.0)
    parts, at = [], 0
    for w in explanation.words:
        parts.append(html.escape(explanation.caption[at : w.start]))
        title = "past the context length" if w.attribution is None else f"{w.attribution:+.6f}"
        style = f"background-color: {_colour(w.attribution, scale)}" + ("; text-decoration: underline" if w.overlaps(marked) else "")
        parts.append(f'<span class="word" style="{style}" title="{title}">{html.escape(w.text)}</span>')
        at = w.end
    parts.append(html.escape(explanation.caption[at:]))
    return "".join(parts)


def render_html(
    explanations: Sequence[Explanation],
    *,
    title: str = "relaug explain",
    labels: Sequence[str] | None = None,
    marked: Sequence[Iterable[tuple[int, int]]] | None = None,
) -> str:
    """A self-contained HTML page: each caption's words coloured by attribution, with its cosine
    and F-CLIPScore; `labels` head each caption, `marked` spans (a negative's changed words) are underlined."""
    blocks = []
    for i, e in enumerate(explanations):
        label = f"<h2>{html.escape(labels[i])}</h2>\n" if labels else ""
        weakest = e.most_negative
        blocks.append(
            f'<section>\n{label}<p class="caption">{caption_html(e, marked[i] if marked else ())}</p>\n'
            f'<p class="scores">cosine {e.cosine:.4f} &middot; F-CLIPScore {e.f_clipscore:.4f}'
            + (f" &middot; most negative word: {html.escape(weakest.text)} ({weakest.attribution:+.6f})" if weakest else "")
            + "</p>\n</section>"
        )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        "<style>\nbody { font-family: sans-serif; max-width: 60em; margin: 2em auto; }\n"
        ".caption { font-size: 1.4em; line-height: 1.8; }\n.word { padding: 0.1em 0.15em; border-radius: 0.2em; }\n"
        ".scores, .legend { color: #555; }\nh2 { font-size: 1em; margin-bottom: 0; }\n</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        '<p class="legend">Each word on the colour of its signed attribution of the image-text '
        'cosine: <span style="background-color: rgba(220, 38, 38, 1.000)">red</span> '
        'the image contradicts it, <span style="background-color: rgba(22, 163, 74, 1.000)">green</span> the image '
        "supports it; the strongest word of each caption fully coloured. Hover a word for its value."
        + (" Underlined: the words the negative changed." if marked else "")
        + "</p>\n"
        + "\n".join(blocks)
        + "\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------------------------
# a split's negatives


@dataclass(frozen=True)
class SplitNegative:
    """A negative of a split: its image, kind and caption, the caption it was edited from, and
    where its changed words stand."""

    image_id: int
    kind: str
    caption: str
    positive: str
    changed: tuple[tuple[int, int], ...] | None  # None: the shards carry no spans


def split_negatives(split: ShardSplit, limit: int | None = None) -> list[SplitNegative]:
    """The split's negatives in shard order, the first `limit` of them."""
    negatives = []
    for t in split.triples.select_columns(["image_id", "caption", "negatives"]).to_list():
        for n in t["negatives"]:
            changed = n.get("changed")
            spans = None if changed is None else tuple((s["start"], s["end"]) for s in changed)
            negatives.append(SplitNegative(t["image_id"], n["kind"], n["caption"], t["caption"], spans))
    return negatives[:limit] if limit is not None else negatives


def explain_negatives(
    split: ShardSplit,
    negatives: Sequence[SplitNegative],
    *,
    model,
    preprocess,
    tokenizer,
    device: torch.device | str = "cpu",
    batch_size: int = 64,
    advance: Callable[[int], None] = lambda units: None,
    attribution: Attribution = Attribution.ATTENTION,
) -> list[Explanation]:
    """Each negative's caption explained against its image; `advance` is told of each batch done.
    `Attribution.SUBSTITUTION` takes its alternatives from the split's captions (`substitutes_of`)."""
    substitutes = (
        substitutes_of(dict.fromkeys(split.triples.data.column("caption").to_pylist()), tagger())
        if attribution == Attribution.SUBSTITUTION
        else None
    )
    was_training = model.training
    model.eval()
    try:
        ids = list(dict.fromkeys(n.image_id for n in negatives))
        features: dict[int, torch.Tensor] = {}
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            pixels = torch.stack([preprocess(split.image(i)) for i in batch]).to(device)
            features.update(zip(batch, image_features(model, pixels)))
        explanations = []
        for start in range(0, len(negatives), batch_size):
            batch = negatives[start : start + batch_size]
            rows = torch.stack([features[n.image_id] for n in batch])
            explanations += explain_captions(
                model, tokenizer, rows, [n.caption for n in batch], device=device, attribution=attribution, substitutes=substitutes
            )
            advance(len(batch))
    finally:
        model.train(was_training)
    return explanations


# ---------------------------------------------------------------------------------------------
# relaug explain


@dataclass(frozen=True)
class Explained:
    """One caption explained: against an image file, or a negative of a split against its image."""

    explanation: Explanation
    image: str  # the file, or "image {id}" of the split
    negative: SplitNegative | None = None


@dataclass
class ExplainReport:
    shards: bool  # the source was a shard directory: one item per negative
    explained: list[Explained]
    html: Path | None = None


def _open_image(path: Path) -> PIL.Image.Image:
    if not path.is_file():
        raise InputError(f"{path}: no such image file")
    try:
        with PIL.Image.open(path) as image:
            return image.convert("RGB")
    except _DECODE_ERRORS as e:
        raise InputError(f"{path}: cannot be read as an image ({e})") from None


def run_explain(options: ExplainOptions, progress: Progress = SILENT) -> ExplainReport:
    """`relaug explain`: IMAGE CAPTION, or a shard directory's negatives; the HTML written when asked."""
    check_model_choice(options)
    source = Path(options.source)
    shards = source.is_dir()
    if shards:
        if options.caption is not None:
            raise InputError(f"{source} is a shard directory: its negatives are explained, give no CAPTION")
        split = ShardSplit(source, options.split)
        negatives = split_negatives(split, options.limit)
        if not negatives:
            raise InputError(f"{source}: split '{options.split}' holds no negatives to explain")
    else:
        if options.caption is None:
            raise InputError(f"give the CAPTION to explain against {source}")
        if options.attribution == Attribution.SUBSTITUTION:
            raise InputError(
                "--attribution substitution takes each word's alternatives from a split's captions: explain a "
                "shard directory's negatives (SHARDS), or choose attention or gradient"
            )
        if not re.search(r"\w", options.caption):
            raise InputError("CAPTION holds no word")
        image = _open_image(source)
    if options.html is not None:
        check_writable(options.html, "--html")
    bundle, device = load_model(options, progress)
    check_tokenizer(bundle.tokenizer)
    if shards:
        advance = progress.start("Explaining negatives", len(negatives))
        explanations = explain_negatives(
            split, negatives, model=bundle.model, preprocess=bundle.preprocess_val, tokenizer=bundle.tokenizer,
            device=device, batch_size=options.batch_size, advance=advance, attribution=options.attribution,
        )
        explained = [Explained(e, f"image {n.image_id}", n) for e, n in zip(explanations, negatives)]
    else:
        explanation = explain(
            image, options.caption, model=bundle.model, preprocess=bundle.preprocess_val, tokenizer=bundle.tokenizer,
            device=device, attribution=options.attribution,
        )
        explained = [Explained(explanation, str(source))]
    report = ExplainReport(shards, explained, options.html)
    if options.html is not None:
        if shards:
            labels = [f"{x.image}, {x.negative.kind} of: {x.negative.positive}" for x in explained]
            page = render_html(
                [x.explanation for x in explained], title=f"relaug explain: {source} ({options.split})",
                labels=labels, marked=[x.negative.changed or () for x in explained],
            )
        else:
            page = render_html([explained[0].explanation], title=f"relaug explain: {source.name}", labels=[str(source)])
        try:
            options.html.write_text(page, encoding="utf-8")
        except OSError as e:
            raise unwritable_out(options.html, e, "--html") from e
    return report


# ---------------------------------------------------------------------------------------------
# relaug eval --benchmark relaug-dense


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The area under the ROC curve of `scores` for `labels`: the chance that a positive scores above
    a negative, ties counting half (the Mann-Whitney U over both counts); None without both."""
    positives = sum(bool(label) for label in labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # the mean rank of a run of ties, ranks counted from 1
        i = j + 1
    rank_sum = sum(r for r, label in zip(ranks, labels) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


@dataclass
class DenseScore:
    """relaug-dense over one group of negatives."""

    negatives: int = 0
    top1_correct: int = 0  # the most negative word is a changed one
    chance_sum: float = 0.0  # per negative, the share of its words that are changed: top-1 by a random pick
    words: list[float] = field(default_factory=list)  # -attribution of every scored word
    changed: list[bool] = field(default_factory=list)  # whether it is a changed word

    def add(self, explanation: Explanation, spans: Sequence[tuple[int, int]]) -> None:
        words = explanation.scored_words
        labels = [w.overlaps(spans) for w in words]
        self.negatives += 1
        self.top1_correct += explanation.most_negative.overlaps(spans)
        self.chance_sum += sum(labels) / len(labels)
        self.words += [-w.attribution for w in words]
        self.changed += labels

    @property
    def top1_precision(self) -> float | None:
        return self.top1_correct / self.negatives if self.negatives else None

    @property
    def top1_chance(self) -> float | None:
        return self.chance_sum / self.negatives if self.negatives else None

    @property
    def auroc(self) -> float | None:
        return auroc(self.words, self.changed)

    def to_dict(self) -> dict:
        return {
            "negatives": self.negatives,
            "top1_precision": self.top1_precision,
            "top1_correct": self.top1_correct,
            "top1_chance": self.top1_chance,
            "auroc": self.auroc,
            "words": len(self.words),
            "changed_words": sum(self.changed),
        }


@dataclass
class DenseReport:
    shards: Path
    split: str
    scores: dict[str, DenseScore]  # "all", "kind/verb_swap", ...
    items: int  # negatives read
    skipped: dict[str, int] = field(default_factory=dict)  # a reason -> negatives not scored

    @property
    def scored(self) -> int:
        return self.items - sum(self.skipped.values())

    def to_dict(self) -> dict:
        return {
            "benchmark": str(Benchmark.RELAUG_DENSE),
            "shards": str(self.shards),
            "split": self.split,
            "items": self.items,
            "scored": self.scored,
            "skipped": dict(self.skipped),
            "scores": {name: s.to_dict() for name, s in self.scores.items()},
        }


def dense_scores(negatives: Sequence[SplitNegative], explanations: Sequence[Explanation]) -> DenseReport:
    """Score each negative's explanation against its changed spans, per kind and overall. The
    report's shards and split are left empty for the caller."""
    scores: dict[str, DenseScore] = defaultdict(DenseScore)
    skipped: Counter[str] = Counter()
    for negative, explanation in zip(negatives, explanations, strict=True):
        if not negative.changed:
            skipped[NO_SPANS] += 1
            continue
        if not any(w.overlaps(negative.changed) for w in explanation.scored_words):
            skipped[PAST_CONTEXT] += 1
            continue
        for name in ("all", f"kind/{negative.kind}"):
            scores[name].add(explanation, negative.changed)
    ordered = dict(sorted(scores.items(), key=lambda item: (item[0] != "all", item[0])))
    return DenseReport(Path(), "", ordered, len(negatives), dict(skipped))


def run_dense(options: DenseOptions, progress: Progress = SILENT) -> tuple[DenseReport, Path]:
    """`relaug eval --benchmark relaug-dense SHARDS`: explain every negative of the split against
    its image, score the changed spans, write the JSON; the report and where it was written."""
    check_model_choice(options)
    split = ShardSplit(options.shards, options.split)
    negatives = split_negatives(split)
    if not negatives:
        raise InputError(f"{options.shards}: split '{options.split}' holds no negatives")
    if all(n.changed is None for n in negatives):
        raise InputError(
            f"{options.shards}: its negatives carry no changed spans (built before the field); rebuild with relaug build-coco"
        )
    out = report_path(options.out, options.checkpoint, str(Benchmark.RELAUG_DENSE))
    check_writable(out)
    bundle, device = load_model(options, progress)
    check_tokenizer(bundle.tokenizer)
    advance = progress.start("Explaining negatives", len(negatives))
    explanations = explain_negatives(
        split, negatives, model=bundle.model, preprocess=bundle.preprocess_val, tokenizer=bundle.tokenizer,
        device=device, batch_size=options.batch_size, advance=advance, attribution=options.attribution,
    )
    report = replace(dense_scores(negatives, explanations), shards=Path(options.shards), split=str(options.split))
    try:
        write_report(report, out)
    except OSError as e:
        raise unwritable_out(out, e) from e
    return report, out

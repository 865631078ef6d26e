"""The re-parse check: a negative is published only when the parser reads it as intended."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from spacy.language import Language

from relaug.negatives.edits import WORD_SPAN


def reparse_text(caption: str) -> str:
    """A negative as the parser is given it: a caption in capitals is read lower-cased."""
    return caption.lower() if caption.isupper() else caption


def tags_at(nlp: Language, texts: Sequence[str], offsets: Sequence[int]) -> list[str | None]:
    """The tag of the token starting at each offset of each text (None where none starts
    there), from the pipeline up to its tagger: half the cost of a parse.

    Where the tagger sees a fixed number of tokens on each side (`tagging_context`),
    only the words within that many of the token are tagged, which gives the tag the
    whole text gives in about three quarters of the time.
    """
    names = nlp.pipe_names
    context = tagging_context(nlp)
    windows = [words_around(t, at, context) for t, at in zip(texts, offsets)] if context else list(zip(texts, offsets))
    with nlp.select_pipes(enable=names[: names.index("tagger") + 1] if "tagger" in names else names):
        docs = nlp.pipe([text for text, _ in windows], batch_size=256)
        return [next((w.tag_ for w in doc if w.idx == at), None) for doc, (_, at) in zip(docs, windows)]


# Layers whose output for a token depends on that token alone (static vectors included).
_PER_TOKEN_EMBEDDINGS = ("spacy.MultiHashEmbed.v2", "spacy.CharacterEmbed.v2")


@lru_cache(maxsize=4)
def tagging_context(nlp: Language) -> int | None:
    """How many tokens on each side a token's tag depends on, where the pipeline says so
    for certain: a per-token softmax over a CNN of `depth` layers that each look
    `window_size` tokens to each side, padded at each text's ends (the core pipelines:
    4 for en_core_web_sm), with nothing but its tok2vec before the tagger and no
    tokenizer rule spanning whitespace. None for anything else, a transformer's tagger
    for one: it is given whole texts."""
    names = nlp.pipe_names
    if "tagger" not in names or any(any(c.isspace() for c in rule.strip()) for rule in nlp.tokenizer.rules or {}):
        return None
    try:
        components = nlp.config["components"]
        tagger = components["tagger"]["model"]
        tok2vec = tagger["tok2vec"]
        before_tagger = names[: names.index("tagger")]
        if tok2vec["@architectures"] == "spacy.Tok2VecListener.v1":
            if before_tagger != [tok2vec["upstream"]]:
                return None
            tok2vec = components[tok2vec["upstream"]]["model"]
        elif before_tagger:
            return None
        if tok2vec["@architectures"] == "spacy.HashEmbedCNN.v2":
            encoder = tok2vec  # hashed per-token embeddings, then a MaxoutWindowEncoder
        elif tok2vec["@architectures"] == "spacy.Tok2Vec.v2" and tok2vec["embed"]["@architectures"] in _PER_TOKEN_EMBEDDINGS:
            encoder = tok2vec["encode"]
            if encoder["@architectures"] != "spacy.MaxoutWindowEncoder.v2":  # the Mish one does not pad
                return None
        else:
            return None
        if tagger["@architectures"] != "spacy.Tagger.v2":
            return None
        depth, window = encoder["depth"], encoder["window_size"]
    except (KeyError, TypeError, ValueError):  # a config of another shape, or one spaCy cannot write out
        return None
    return depth * window if isinstance(depth, int) and isinstance(window, int) else None


def words_around(text: str, at: int, context: int) -> tuple[str, int]:
    """The part of `text` from `context` words before the word at `at` to `context` words
    after it (with the whitespace that follows), and `at` within it.

    spaCy's tokenizer splits at whitespace first and tokenizes each word on its own, so
    the words kept give the same tokens; each is one token or more, so `context` words
    hold at least `context` tokens; the whitespace kept after the last keeps its token's
    trailing-space feature."""
    words = list(WORD_SPAN.finditer(text))
    k = next((n for n, w in enumerate(words) if w.start() <= at < w.end()), None)
    if k is None:
        return text, at
    start = words[k - context].start() if k >= context else 0  # whitespace before the first word is a token too
    after = k + context + 1
    end = words[after].start() if after < len(words) else len(text)
    return text[start:end], at - start

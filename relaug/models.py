"""Build an open_clip model, its transforms and tokenizer from `--model` and `--pretrained`.

`--model` is an open_clip model name, the name of a config shipped in
`model_configs/` (`tiny-clip`, for tests and CPU experiments), or a path to an
open_clip model-config JSON. `--pretrained` is an open_clip tag (`openai`), a
local weights file, or `none`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import open_clip
import torch
from open_clip.pretrained import HF_WEIGHTS_NAME

from relaug.errors import InputError

MODEL_CONFIGS = Path(__file__).parent / "model_configs"
open_clip.add_model_config(MODEL_CONFIGS)


@dataclass
class ClipBundle:
    """What training and evaluation need from one model."""

    name: str  # the open_clip config name, as the checkpoint records it
    model: torch.nn.Module
    preprocess_train: object
    preprocess_val: object
    tokenizer: object


def resolve_model_name(model: str) -> str:
    """The open_clip config name for `model`; a JSON path is registered under its file stem."""
    path = Path(model)
    if path.suffix == ".json":
        if not path.is_file():
            raise InputError(f"--model {model}: no such model-config file")
        open_clip.add_model_config(path)
        return path.stem
    if model not in open_clip.list_models():
        raise InputError(f"--model {model}: not an open_clip model name nor a config JSON (see open_clip.list_models())")
    return model


def _weights_reachable(cfg: dict) -> bool:
    """True when a tag's weights are in the local cache or their host answers.

    Checked before open_clip tries the download, which retries for about a
    minute offline before it gives up.
    """
    if "file" in cfg:
        return Path(cfg["file"]).is_file()
    if cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache

        repo_id, filename = os.path.split(cfg["hf_hub"])
        candidates = [filename or HF_WEIGHTS_NAME, "open_clip_model.safetensors", "open_clip_pytorch_model.safetensors"]
        if any(isinstance(try_to_load_from_cache(repo_id, name), str) for name in candidates):
            return True
        host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname
    else:
        host = urlparse(cfg.get("url", "")).hostname
        cached = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(cfg.get("url", ""))
        if cached.is_file():
            return True
    if not host:
        return False
    try:
        socket.create_connection((host, 443), timeout=5).close()
    except OSError:
        return False
    return True


def resolve_pretrained(name: str, pretrained: str) -> str | None:
    """The `pretrained` argument for open_clip: None for random init, a file path, or a fetchable tag."""
    if pretrained.lower() == "none":
        return None
    if Path(pretrained).is_file():
        return pretrained
    cfg = open_clip.get_pretrained_cfg(name, pretrained)
    if not cfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
        raise InputError(f"--pretrained {pretrained}: not a file nor a tag of {name} (its tags: {tags})")
    if not _weights_reachable(cfg):
        raise InputError(
            f"--pretrained {pretrained}: the weights of {name} cannot be fetched (offline?); "
            f"pass a local weights file with --pretrained PATH, or train from random init with --pretrained none"
        )
    return pretrained


def create_clip(model: str, pretrained: str, *, device: torch.device | str = "cpu") -> ClipBundle:
    """The model (fp32 weights: autocast handles mixed precision), its transforms and tokenizer."""
    name = resolve_model_name(model)
    weights = resolve_pretrained(name, pretrained)
    clip, preprocess_train, preprocess_val = open_clip.create_model_and_transforms(name, pretrained=weights, device=device)
    return ClipBundle(name, clip, preprocess_train, preprocess_val, open_clip.get_tokenizer(name))

"""Relation-inference metrics of a CLIP model on one split of the shards (docs/training.md, "Evaluation").

- Text hard-negative accuracy (SugarCrepe's protocol): share of (image,
  positive, negative) with sim(image, positive) > sim(image, negative), by
  negative kind and by relation kind; ties count as wrong.
- Group accuracy (DRIVE's protocol): an anchor and its first partner on another
  image, image->text (the anchor image prefers the anchor text) and
  text->image (the anchor text prefers the anchor image); reported separately
  for `partners` and `swap_partners`.
- Zero-shot retrieval R@1/R@5 over every caption of the split's images.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from relaug.errors import InputError, unwritable_out
from relaug.models import ClipBundle, create_clip
from relaug.options import EvalOptions, ModelChoice
from relaug.progress import SILENT, Progress
from relaug.splits import ShardSplit, check_text_field


@dataclass
class Accuracy:
    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def add(self, wins: torch.Tensor) -> None:
        self.correct += int(wins.sum())
        self.total += wins.numel()


@dataclass
class GroupAccuracy:
    image_to_text: Accuracy = field(default_factory=Accuracy)
    text_to_image: Accuracy = field(default_factory=Accuracy)


@dataclass
class Retrieval:
    image_to_text: dict[str, float]  # "R@1", "R@5"
    text_to_image: dict[str, float]
    images: int
    captions: int


@dataclass
class EvalReport:
    split: str
    hard_negatives: dict[str, Accuracy]  # "all", "kind/prep_swap", "relation_kind/spatial", ...
    groups: dict[str, GroupAccuracy]  # "partners", "swap_partners"
    retrieval: Retrieval

    def to_dict(self) -> dict:
        def accuracy(a: Accuracy) -> dict:
            return {"accuracy": a.accuracy, "correct": a.correct, "total": a.total}

        return {
            "split": self.split,
            "hard_negatives": {name: accuracy(a) for name, a in self.hard_negatives.items()},
            "groups": {
                name: {"image_to_text": accuracy(g.image_to_text), "text_to_image": accuracy(g.text_to_image)}
                for name, g in self.groups.items()
            },
            "retrieval": asdict(self.retrieval),
        }


@torch.no_grad()
def encode_texts(model, tokenizer, texts: list[str], device, batch_size: int) -> torch.Tensor:
    """Unit text features, a row per text, in batches."""
    parts = [model.encode_text(tokenizer(texts[i : i + batch_size]).to(device), normalize=True).float() for i in range(0, len(texts), batch_size)]
    return torch.cat(parts) if parts else torch.empty(0)


@torch.no_grad()
def _encode_images(model, preprocess, split: ShardSplit, image_ids: list[int], device, batch_size: int) -> torch.Tensor:
    parts = []
    for i in range(0, len(image_ids), batch_size):
        pixels = torch.stack([preprocess(split.image(image_id)) for image_id in image_ids[i : i + batch_size]]).to(device)
        parts.append(model.encode_image(pixels, normalize=True).float())
    return torch.cat(parts)


def _recall(similarity: torch.Tensor, relevant: list[set[int]], ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """Share of queries (rows) with a relevant column among their k most similar."""
    top = similarity.topk(min(max(ks), similarity.shape[1]), dim=1).indices.tolist()
    return {f"R@{k}": sum(bool(set(row[:k]) & rel) for row, rel in zip(top, relevant)) / len(relevant) for k in ks}


def evaluate(
    shards: str | Path,
    split_name: str,
    *,
    model,
    preprocess,
    tokenizer,
    text_field: str = "caption",
    device: torch.device | str = "cpu",
    batch_size: int = 256,
) -> EvalReport:
    """Every metric of the module docstring, for `model` on `split_name` of `shards`."""
    check_text_field(text_field)
    was_training = model.training
    model.eval()
    split = ShardSplit(shards, split_name)
    triples = split.triples.select_columns(["image_id", "relation_kind", text_field, "negatives"]).to_list()

    # retrieval: every caption of every image of the split, from the default config
    captions = split.images_with_captions()
    image_ids = [image_id for image_id, _ in captions]
    image_features = _encode_images(model, preprocess, split, image_ids, device, batch_size)
    image_row = {image_id: row for row, image_id in enumerate(image_ids)}
    caption_texts = [text for _, texts in captions for text in texts]
    caption_image = [image_row[image_id] for image_id, texts in captions for _ in texts]
    caption_features = encode_texts(model, tokenizer, caption_texts, device, batch_size)
    similarity = image_features @ caption_features.T
    captions_of_image: list[set[int]] = [set() for _ in image_ids]
    for caption, image in enumerate(caption_image):
        captions_of_image[image].add(caption)
    retrieval = Retrieval(
        image_to_text=_recall(similarity, captions_of_image),
        text_to_image=_recall(similarity.T, [{image} for image in caption_image]),
        images=len(image_ids),
        captions=len(caption_texts),
    )

    # hard negatives: each triple's positive text against each of its negatives, seen from its image
    positive_features = encode_texts(model, tokenizer, [t[text_field] for t in triples], device, batch_size)
    pairs = [(row, negative) for row, t in enumerate(triples) for negative in t["negatives"]]
    negative_features = encode_texts(model, tokenizer, [n[text_field] for _, n in pairs], device, batch_size)
    hard_negatives: dict[str, Accuracy] = defaultdict(Accuracy)
    if pairs:
        rows = torch.tensor([row for row, _ in pairs])
        images = image_features[[image_row[triples[row]["image_id"]] for row, _ in pairs]]
        wins = (images * positive_features[rows]).sum(-1) > (images * negative_features).sum(-1)
        for (row, negative), win in zip(pairs, wins):
            for name in ("all", f"kind/{negative['kind']}", f"relation_kind/{triples[row]['relation_kind']}"):
                hard_negatives[name].add(win)

    # groups: the anchor against its first partner on another image
    triple_images = torch.tensor([image_row[t["image_id"]] for t in triples], dtype=torch.long)
    groups = {}
    for source, lists in (("partners", split.partners), ("swap_partners", split.swap_partners)):
        accuracy = GroupAccuracy()
        found = [(a, next((int(p) for p in ps if split.image_ids[p] != split.image_ids[a]), None)) for a, ps in enumerate(lists)]
        found = [(a, p) for a, p in found if p is not None]
        if found:
            anchors = torch.tensor([a for a, _ in found])
            partners = torch.tensor([p for _, p in found])
            anchor_image = image_features[triple_images[anchors]]
            partner_image = image_features[triple_images[partners]]
            anchor_text, partner_text = positive_features[anchors], positive_features[partners]
            accuracy.image_to_text.add((anchor_image * anchor_text).sum(-1) > (anchor_image * partner_text).sum(-1))
            accuracy.text_to_image.add((anchor_text * anchor_image).sum(-1) > (anchor_text * partner_image).sum(-1))
        groups[source] = accuracy

    model.train(was_training)
    return EvalReport(split_name, dict(sorted(hard_negatives.items())), groups, retrieval)


def write_report(report: EvalReport, path: Path) -> None:
    """Any report with a `to_dict` (this module's, a benchmark's) as JSON at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")


def check_writable(path: Path, option: str = "--out") -> None:
    """Make `path`'s folder, before any work, or say which option cannot be written there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise unwritable_out(path, e, option) from e


def run_model(checkpoint: Path, progress: Progress = SILENT) -> str:
    """The model a checkpoint was trained as: the open_clip name it records, or, for a run made
    with `--model path/to/config.json`, that config as the run's `config.json` names it (and
    `progress` is told so)."""
    import open_clip

    name = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)["name"]  # the weights stay on disk
    if name in open_clip.list_models():
        return name
    config = checkpoint.parent.parent / "config.json"
    model = json.loads(config.read_text()).get("model", "") if config.is_file() else ""
    if model.endswith(".json") and Path(model).is_file():
        progress.note(f"model: {model} (from {config})")
        return model
    raise InputError(
        f"--checkpoint {checkpoint}: its model {name!r} is no open_clip model and {config} names no config JSON "
        "that exists here; pass --model path/to/its-config.json"
    )


def check_model_choice(choice: ModelChoice) -> None:
    """A model is a checkpoint or an open_clip model with its weights: exactly one of the two."""
    if (choice.checkpoint is None) == (choice.pretrained is None):
        raise InputError("give either --checkpoint PATH, or --model M with --pretrained P")


def load_model(choice: ModelChoice, progress: Progress = SILENT) -> tuple[ClipBundle, torch.device]:
    """The model to score and the device it is on: a relaug checkpoint, as the model it was trained
    as unless `model` names another, or an open_clip `model` with its `pretrained` weights."""
    check_model_choice(choice)
    checkpoint, model, pretrained = choice.checkpoint, choice.model, choice.pretrained
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if checkpoint is None:
        return create_clip(model or "ViT-B-32", pretrained, device=device), device
    if not checkpoint.is_file():
        raise InputError(f"--checkpoint {checkpoint}: no such file")
    return create_clip(model or run_model(checkpoint, progress), str(checkpoint), device=device), device


def report_path(out: Path | None, checkpoint: Path | None, name: str) -> Path:
    """Where a report goes: `out`, else `eval_{name}.json` in the checkpoint's run, else here."""
    if out is not None:
        return out
    return (checkpoint.parent.parent if checkpoint is not None else Path()) / f"eval_{name}.json"


def run_eval(options: EvalOptions, progress: Progress = SILENT) -> tuple[EvalReport, Path]:
    """`relaug eval`: load the model, evaluate, write the JSON; the report and where it was written."""
    bundle, device = load_model(options, progress)
    out = report_path(options.out, options.checkpoint, options.split)
    report = evaluate(
        options.shards, options.split, model=bundle.model, preprocess=bundle.preprocess_val,
        tokenizer=bundle.tokenizer, text_field=options.text_field, device=device, batch_size=options.batch_size,
    )
    write_report(report, out)
    return report, out

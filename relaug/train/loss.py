"""Contrastive losses for relation-aware fine-tuning: `clip`, `negclip`, `drive`.

Every loss takes the same inputs, laid out as the trainer batches them: B groups
of `group_size` (image, text) pairs, group-major with the anchor first, so
features are shaped (B * group_size, D) and row `i * group_size` is anchor i.
Text hard negatives of each anchor come as `negative_features` (B, N, D) with a
boolean `negative_mask` (B, N) marking the real ones (anchors have different
numbers of negatives, the rest is padding).

A negative text is a column for its own anchor image only: a verb-swapped
caption of the anchor ("a man feeding a horse") may well be the true caption
of a partner image (partners share subject and object), so showing it to any
other image as a negative would teach a falsehood.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from relaug.choices import Loss

try:
    import torch.distributed.nn
    from torch import distributed as dist

    has_distributed = True
except ImportError:
    has_distributed = False

LOG_LOGIT_SCALE_MAX = math.log(10)  # docs/training.md: the log scale is clamped to [0, ln 10] after every step
_COSINE_EPS = 1e-8  # F.cosine_similarity's default
DELTA_I = 1.2233
DELTA_T = 0.615


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose backward hands on a contiguous gradient.

    all_gather's backward exchanges gradients with an all-to-all that gloo reads
    as raw memory; the gradient of an einsum can be an expanded view.
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()


def gather_features(*tensors: torch.Tensor, world_size: int) -> list[torch.Tensor]:
    """Concatenate each tensor over all ranks along dim 0 (every rank must pass the same shapes).

    Features go through `torch.distributed.nn.all_gather`, whose backward sums
    every rank's gradient into the local slice; with DDP's averaging the
    parameter gradient then equals the single-process gradient of the global
    batch exactly (open_clip's `gather_with_grad=True`). Tensors without
    gradient (masks) take the plain collective.
    """
    if not has_distributed:
        raise RuntimeError("torch.distributed is unavailable in this PyTorch build; run with one process")
    gathered = []
    for tensor in tensors:
        tensor = tensor.contiguous()
        if tensor.requires_grad:
            parts = [_ContiguousGrad.apply(part) for part in torch.distributed.nn.all_gather(tensor)]
        else:
            parts = [torch.empty_like(tensor) for _ in range(world_size)]
            dist.all_gather(parts, tensor)
        gathered.append(torch.cat(parts, dim=0))
    return gathered


def _masked_negative_logits(
    image_features: torch.Tensor,
    negative_features: torch.Tensor,
    negative_mask: torch.Tensor,
    logit_scale: torch.Tensor,
    group_size: int,
) -> torch.Tensor:
    """(B, group_size, N) logits of each group's images against its anchor's negatives.

    Only the anchor row (index 0) is filled; partner rows and padding are -inf, so
    they add nothing to a softmax.
    """
    images = image_features.view(-1, group_size, image_features.shape[-1])
    anchor_logits = logit_scale * torch.einsum("bd,bnd->bn", images[:, 0], negative_features)
    anchor_logits = anchor_logits.masked_fill(~negative_mask, float("-inf"))
    logits = anchor_logits.new_full((images.shape[0], group_size, negative_features.shape[1]), float("-inf"))
    logits[:, 0] = anchor_logits
    return logits


class ClipLoss(nn.Module):
    """Symmetric InfoNCE over every pair of the (global) batch; groups are ignored."""

    def __init__(self, *, world_size: int = 1):
        super().__init__()
        self.world_size = world_size
        self._labels: dict[tuple[torch.device, int], torch.Tensor] = {}

    def get_ground_truth(self, device: torch.device, num_logits: int) -> torch.Tensor:
        key = (device, num_logits)
        if key not in self._labels:
            self._labels[key] = torch.arange(num_logits, device=device, dtype=torch.long)
        return self._labels[key]

    def gather(self, *tensors: torch.Tensor) -> list[torch.Tensor]:
        return gather_features(*tensors, world_size=self.world_size) if self.world_size > 1 else list(tensors)

    def get_logits(self, image_features, text_features, logit_scale, *, group_size=1, negative_features=None, negative_mask=None):
        image_features, text_features = self.gather(image_features, text_features)
        logits_per_image = logit_scale * image_features @ text_features.T
        return logits_per_image, logits_per_image.T

    def forward(
        self,
        image_features: torch.Tensor,
        text_features: torch.Tensor,
        logit_scale: torch.Tensor,
        *,
        group_size: int = 1,
        negative_features: torch.Tensor | None = None,
        negative_mask: torch.Tensor | None = None,
        output_dict: bool = False,
    ):
        logits_per_image, logits_per_text = self.get_logits(
            image_features,
            text_features,
            logit_scale,
            group_size=group_size,
            negative_features=negative_features,
            negative_mask=negative_mask,
        )
        labels = self.get_ground_truth(image_features.device, logits_per_text.shape[0])
        image_loss = F.cross_entropy(logits_per_image, labels) / 2
        text_loss = F.cross_entropy(logits_per_text, labels) / 2
        if output_dict:
            return {"image_loss": image_loss, "text_loss": text_loss}
        return image_loss + text_loss


class NegClipLoss(ClipLoss):
    """`clip` with each anchor's text negatives as extra columns of the image->text logits."""

    def get_logits(self, image_features, text_features, logit_scale, *, group_size=1, negative_features=None, negative_mask=None):
        if negative_features is None:
            return super().get_logits(image_features, text_features, logit_scale)
        image_features, text_features, negative_features, negative_mask = self.gather(
            image_features, text_features, negative_features, negative_mask
        )
        logits_per_image = logit_scale * image_features @ text_features.T
        negative_logits = _masked_negative_logits(
            image_features, negative_features, negative_mask, logit_scale, group_size
        ).flatten(0, 1)
        return torch.cat([logits_per_image, negative_logits], dim=1), logits_per_image.T


def drive_terms(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    logit_scale: torch.Tensor,
    group_size: int,
    delta_i: float = DELTA_I,
    delta_t: float = DELTA_T,
    negative_features: torch.Tensor | None = None,
    negative_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-group R_img and R_txt of docs/training.md, each shaped (B,), for all groups at once."""
    if group_size < 2:
        raise ValueError(f"the drive loss needs an anchor and at least one partner per group, got group_size={group_size}")
    if image_features.shape[0] % group_size:
        raise ValueError(f"{image_features.shape[0]} feature rows do not split into groups of {group_size}")
    dim = image_features.shape[-1]
    # One batched product gives everything: each group's image-text logits, the anchor's
    # similarities to its partners and every squared norm (the diagonal). Small groups make
    # the loss a matter of per-call overhead, which separate products and cosine_similarity's
    # per-pair norms multiply (bench/loss_speed.py).
    features = torch.cat([image_features.view(-1, group_size, dim), text_features.view(-1, group_size, dim)], dim=1)
    gram = features @ features.transpose(1, 2)  # (B, 2G, 2G): images first, then texts
    num_groups = gram.shape[0]

    logits_per_image = logit_scale * gram[:, :group_size, group_size:]  # (B, G, G)
    logits_per_text = logits_per_image.transpose(1, 2)
    if negative_features is not None:
        negative_logits = _masked_negative_logits(image_features, negative_features, negative_mask, logit_scale, group_size)
        logits_per_image = torch.cat([logits_per_image, negative_logits], dim=2)
    labels = torch.arange(group_size, device=image_features.device).repeat(num_groups)
    image_ce = F.cross_entropy(logits_per_image.flatten(0, 1), labels, reduction="none").view(num_groups, group_size)
    text_ce = F.cross_entropy(logits_per_text.flatten(0, 1), labels, reduction="none").view(num_groups, group_size)
    clip_per_group = (image_ce.mean(1) + text_ce.mean(1)) / 2

    # BCEWithLogits(x, y=0) = softplus(x): how strongly the anchor still resembles its partners.
    # Cosines as F.cosine_similarity computes them: dot / sqrt(max(|a|^2 |b|^2, eps^2)).
    squared = gram.diagonal(dim1=1, dim2=2)

    def anchor_cosines(first: int) -> torch.Tensor:
        dots = gram[:, first, first + 1 : first + group_size]
        norms = squared[:, first : first + 1] * squared[:, first + 1 : first + group_size]
        return dots / norms.clamp_min(_COSINE_EPS**2).sqrt()

    s_img = F.softplus((anchor_cosines(0) + 1) / 2).mean(1)
    s_txt = F.softplus((anchor_cosines(group_size) + 1) / 2).mean(1)

    r_img = clip_per_group * (1 + delta_i * s_img) / 2
    r_txt = clip_per_group * (1 + delta_t * s_txt) / 2
    return r_img, r_txt


def drive_loss(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    logit_scale: torch.Tensor,
    group_size: int,
    delta_i: float = DELTA_I,
    delta_t: float = DELTA_T,
    negative_features: torch.Tensor | None = None,
    negative_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """The DRIVE loss (docs/training.md): (sum_i R_img_i + sum_i R_txt_i) / 2.

    Features are (B * group_size, D), group-major with the anchor first, as the
    reference lays them out; the result equals `drive_loss_reference`.
    """
    r_img, r_txt = drive_terms(
        image_features, text_features, logit_scale, group_size, delta_i, delta_t, negative_features, negative_mask
    )
    return (r_img.sum() + r_txt.sum()) / 2


def _bce_to_zero(bce: nn.Module, anchor: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    similarity = (F.cosine_similarity(anchor, partner, dim=0) + 1) / 2
    return bce(similarity, torch.zeros_like(similarity))


def drive_loss_reference(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    logit_scale: torch.Tensor,
    group_size: int,
    delta_i: float = DELTA_I,
    delta_t: float = DELTA_T,
) -> torch.Tensor:
    """The reference's group-by-group Python loop, kept to verify and benchmark `drive_loss`."""
    cross_entropy = nn.CrossEntropyLoss()
    bce = nn.BCEWithLogitsLoss()
    labels = torch.arange(group_size, device=image_features.device)
    total_img = total_txt = 0.0
    for start in range(0, image_features.shape[0], group_size):
        images = image_features[start : start + group_size]
        texts = text_features[start : start + group_size]
        logits = logit_scale * images @ texts.T
        clip = (cross_entropy(logits, labels) + cross_entropy(logits.T, labels)) / 2
        s_img = torch.stack([_bce_to_zero(bce, images[0], images[k]) for k in range(1, group_size)]).mean()
        s_txt = torch.stack([_bce_to_zero(bce, texts[0], texts[k]) for k in range(1, group_size)]).mean()
        total_img = total_img + clip * (1 + delta_i * s_img) / 2
        total_txt = total_txt + clip * (1 + delta_t * s_txt) / 2
    return (total_img + total_txt) / 2


class DriveLoss(nn.Module):
    """The DRIVE loss, group-local: nothing is gathered across ranks.

    Each rank sums its own groups; the sum is multiplied by the world size so
    that DDP's gradient averaging yields the gradient of the sum over the global
    batch, as one process would compute it.
    """

    def __init__(self, *, delta_i: float = DELTA_I, delta_t: float = DELTA_T, world_size: int = 1):
        super().__init__()
        self.delta_i = delta_i
        self.delta_t = delta_t
        self.world_size = world_size

    def forward(
        self,
        image_features: torch.Tensor,
        text_features: torch.Tensor,
        logit_scale: torch.Tensor,
        *,
        group_size: int,
        negative_features: torch.Tensor | None = None,
        negative_mask: torch.Tensor | None = None,
        output_dict: bool = False,
    ):
        r_img, r_txt = drive_terms(
            image_features,
            text_features,
            logit_scale,
            group_size,
            self.delta_i,
            self.delta_t,
            negative_features,
            negative_mask,
        )
        image_loss = r_img.sum() / 2 * self.world_size
        text_loss = r_txt.sum() / 2 * self.world_size
        if output_dict:
            return {"image_loss": image_loss, "text_loss": text_loss}
        return image_loss + text_loss


LOSSES = {Loss.CLIP: ClipLoss, Loss.NEGCLIP: NegClipLoss, Loss.DRIVE: DriveLoss}


def create_loss(name: str, *, world_size: int = 1) -> nn.Module:
    """The loss called `name` (clip, negclip, drive), set up for a world of `world_size` ranks."""
    try:
        loss_class = LOSSES[name]
    except KeyError as e:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from e
    return loss_class(world_size=world_size)

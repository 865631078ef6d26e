"""Shards -> groups: an anchor relation, K partner relations with real images, and the anchor's text negatives.

The split is read through `relaug.splits.ShardSplit`; an image is decoded only when a
DataLoader worker builds its group.

Partners follow the DRIVE reference's three kinds of batch, one step each:
`relation` groups take partners from `partners` (same
subject and object, another relation), `random` groups take random rows
(which keep ordinary image-text matching alive), `swap` groups take
`swap_partners`. Each list is drawn from its closest partners first, those that
differ least from the anchor ("a green diamond above a yellow square" meets "a
green diamond below a yellow square" before "a red diamond below a blue square",
which colour alone tells apart, and before "a green diamond behind a yellow
square", which the kind of layout tells apart). Where a row lacks the list its kind
asks for, the chain falls back: partners -> swap_partners -> a random row of the
same subject -> a random row. A partner never shares the anchor's image (two
identical images with different captions would ask the loss for the impossible).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from relaug.errors import InputError
from relaug.splits import ShardSplit, check_text_field

BATCH_KINDS = ("relation", "random", "swap")


@dataclass(frozen=True)
class Group:
    """Row numbers (into the split's `triples`) of one anchor and its partners."""

    anchor: int
    partners: tuple[int, ...]
    seed: int  # draws this group's crops and negatives, so that they never depend on who loads it


def _draw_distinct_images(
    candidates: np.ndarray, count: int, taken_images: set[int], image_ids: np.ndarray, rng: np.random.Generator
) -> list[int]:
    """Up to `count` rows of `candidates` whose images are not yet in the group, in random order."""
    picked = []
    # a random order of a large candidate list is drawn lazily: a few probes usually suffice
    order = rng.permutation(len(candidates)) if len(candidates) <= 4 * count + 16 else rng.integers(0, len(candidates), 4 * count + 16)
    for position in order:
        row = int(candidates[position])
        if int(image_ids[row]) not in taken_images:
            picked.append(row)
            taken_images.add(int(image_ids[row]))
            if len(picked) == count:
                break
    return picked


def choose_partners(split: ShardSplit, anchor: int, kind: str, count: int, rng: np.random.Generator) -> tuple[int, ...]:
    """`count` partner rows for `anchor`, following the fallback chain of the batch kind."""
    same_subject = split.same_subject[split.subjects[anchor]]
    partners, swap_partners = split.partners[anchor], split.swap_partners[anchor]
    closest, closest_swap = split.closest_partners[anchor], split.closest_swap_partners[anchor]
    chains = {
        "relation": (closest, partners, closest_swap, swap_partners, same_subject, split.all_rows),
        "swap": (closest_swap, swap_partners, closest, partners, same_subject, split.all_rows),
        "random": (split.all_rows,),
    }
    taken_images = {int(split.image_ids[anchor])}
    partners: list[int] = []
    for candidates in chains[kind]:
        partners += _draw_distinct_images(candidates, count - len(partners), taken_images, split.image_ids, rng)
        if len(partners) == count:
            return tuple(partners)
    raise InputError(
        f"cannot find {count} partner(s) on other images for relation row {anchor}: the split has too few images; use fewer --partners"
    )


class GroupBatchSampler(Sampler[list[Group]]):
    """Batches of groups for one rank and one epoch, the same whatever the number of ranks.

    The epoch's anchor order is one seeded permutation shared by all ranks;
    global batch j is its slice j, cut into `world_size` consecutive parts, and
    every partner draw is seeded by the anchor's position. So two ranks with
    batch B see exactly the groups that one process with batch 2B sees, and a
    resumed epoch draws exactly what the interrupted run drew.
    """

    def __init__(
        self,
        split: ShardSplit,
        *,
        batch_size: int,
        partners: int,
        seed: int,
        epoch: int,
        first_step: int,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.split = split
        self.batch_size = batch_size
        self.partners = partners
        self.seed = seed
        self.epoch = epoch
        self.first_step = first_step  # global step of this epoch's first batch: it sets the batch kinds
        self.rank = rank
        self.world_size = world_size

    @staticmethod
    def batches_per_epoch(rows: int, batch_size: int, world_size: int) -> int:
        return rows // (batch_size * world_size)

    def __len__(self) -> int:
        return self.batches_per_epoch(len(self.split), self.batch_size, self.world_size)

    def __iter__(self) -> Iterator[list[Group]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.split))
        global_batch = self.batch_size * self.world_size
        for batch in range(len(self)):
            kind = BATCH_KINDS[(self.first_step + batch) % len(BATCH_KINDS)]
            start = batch * global_batch + self.rank * self.batch_size
            groups = []
            for position in range(start, start + self.batch_size):
                rng = np.random.default_rng([self.seed, self.epoch, position])
                anchor = int(order[position])
                partners = choose_partners(self.split, anchor, kind, self.partners, rng) if self.partners else ()
                groups.append(Group(anchor, partners, int(rng.integers(2**31))))
            yield groups


@dataclass
class GroupBatch:
    """A collated batch: group-major images and texts, anchor first, and the anchors' negatives."""

    images: torch.Tensor  # (B * G, C, H, W)
    texts: torch.Tensor  # (B * G, context) token ids
    negatives: torch.Tensor  # (B, N, context) token ids, N = max negatives
    negative_mask: torch.Tensor  # (B, N) True where a negative is real
    group_size: int

    def pin_memory(self) -> GroupBatch:
        """Called by DataLoader(pin_memory=True), so that copies to the GPU can overlap compute."""
        return replace(
            self,
            images=self.images.pin_memory(),
            texts=self.texts.pin_memory(),
            negatives=self.negatives.pin_memory(),
            negative_mask=self.negative_mask.pin_memory(),
        )


class GroupDataset(Dataset):
    """Turns a Group into tensors: decoded, preprocessed images, tokenized texts and negatives."""

    def __init__(self, split: ShardSplit, *, preprocess, tokenizer, text_field: str = "caption", max_negatives: int = 0):
        self.split = split
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.text_field = check_text_field(text_field)
        self.max_negatives = max_negatives

    def __getitem__(self, group: Group) -> dict:
        rows = (group.anchor, *group.partners)
        records = [self.split.triples[row] for row in rows]
        # the group's own seed drives the random crops: the same group gets the same pixels on any
        # rank, in any worker, after any resume
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(group.seed)
            images = torch.stack([self.preprocess(self.split.image(record["image_id"])) for record in records])
        texts = self.tokenizer([record[self.text_field] for record in records])
        negatives = records[0]["negatives"]
        if len(negatives) > self.max_negatives:
            keep = np.random.default_rng(group.seed).choice(len(negatives), self.max_negatives, replace=False)
            negatives = [negatives[i] for i in sorted(keep)]
        negative_tokens = torch.zeros(self.max_negatives, texts.shape[1], dtype=texts.dtype)
        if negatives:
            negative_tokens[: len(negatives)] = self.tokenizer([n[self.text_field] for n in negatives])
        mask = torch.arange(self.max_negatives) < len(negatives)
        return {"images": images, "texts": texts, "negatives": negative_tokens, "negative_mask": mask}


def collate_groups(items: list[dict]) -> GroupBatch:
    return GroupBatch(
        images=torch.cat([item["images"] for item in items]),
        texts=torch.cat([item["texts"] for item in items]),
        negatives=torch.stack([item["negatives"] for item in items]),
        negative_mask=torch.stack([item["negative_mask"] for item in items]),
        group_size=items[0]["images"].shape[0],
    )

import re

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest

from relaug.build import BuildOptions, build_coco
from relaug.splits import ShardSplit
from relaug.synthetic import write_world
from relaug.train.data import BATCH_KINDS, GroupBatchSampler, choose_partners
from relaug.verbs import OPPOSITE_PREPOSITIONS


@pytest.fixture(scope="module")
def train(sample_shards):
    return ShardSplit(sample_shards, "train")


def rng(seed=0):
    return np.random.default_rng(seed)


def test_relation_groups_take_their_partners_first(train):
    anchors = [row for row in range(len(train)) if len(train.partners[row])]
    assert anchors, "the sample has relations with DRIVE partners"
    for anchor in anchors:
        (partner,) = choose_partners(train, anchor, "relation", 1, rng())
        assert partner in set(train.partners[anchor].tolist())


def test_without_partners_the_fallback_keeps_the_subject_and_leaves_the_image(train):
    for anchor in range(len(train)):
        if len(train.partners[anchor]) or len(train.swap_partners[anchor]):
            continue
        other_images_with_subject = {
            train.image_ids[r] for r in train.same_subject[train.subjects[anchor]].tolist()
        } - {train.image_ids[anchor]}
        for kind in BATCH_KINDS:
            partners = choose_partners(train, anchor, kind, 2, rng(anchor))
            images = [train.image_ids[p] for p in partners]
            assert train.image_ids[anchor] not in images and len(set(images)) == 2
            if kind != "random" and len(other_images_with_subject) >= 2:
                assert all(train.subjects[p] == train.subjects[anchor] for p in partners)


def test_two_ranks_together_draw_the_batches_of_one_process(train):
    def batches(rank, world_size, batch_size):
        return list(GroupBatchSampler(train, batch_size=batch_size, partners=1, seed=7, epoch=3, first_step=0, rank=rank, world_size=world_size))

    single = batches(0, 1, 16)
    ranks = [batches(r, 2, 8) for r in range(2)]
    assert len(single) == len(ranks[0]) == len(ranks[1]) == len(train) // 16
    for step, groups in enumerate(single):
        assert groups == ranks[0][step] + ranks[1][step]
    anchors = [g.anchor for groups in single for g in groups]
    assert len(set(anchors)) == len(anchors), "an epoch shows each anchor at most once"


def test_a_new_epoch_is_a_new_order(train):
    first, second = (
        [g.anchor for groups in GroupBatchSampler(train, batch_size=16, partners=1, seed=7, epoch=e, first_step=0) for g in groups]
        for e in (0, 1)
    )
    assert first != second and sorted(first) != first


@pytest.fixture(scope="module")
def hard_world(tmp_path_factory):
    """A small hard world, built: each pair of things drawn in both relations."""
    root = tmp_path_factory.mktemp("hard")
    write_world(root / "coco", train_images=120, val_images=40, image_size=32, hard=True)
    return build_coco(BuildOptions(out=root / "shards", coco_root=root / "coco", workers=1)).out


def test_relation_groups_meet_the_same_things_in_the_opposite_layout_first(hard_world):
    """"a green diamond above a yellow square" meets "a green diamond below a yellow square",
    not a diamond and a square of other colours, which colour alone tells apart, nor "a green
    diamond behind a yellow square", which the kind of layout tells apart."""
    split = ShardSplit(hard_world, "train")
    captions = split.triples["caption"]
    relations = split.triples["relation"]
    checked = 0
    for anchor in range(len(split)):
        opposite = OPPOSITE_PREPOSITIONS[relations[anchor]]
        wanted = captions[anchor].replace(f" {relations[anchor]} ", f" {opposite} ")
        if any(captions[r] == wanted for r in split.partners[anchor].tolist()):
            checked += 1
            for seed in range(3):
                (partner,) = choose_partners(split, anchor, "relation", 1, rng(seed))
                assert captions[partner] == wanted, (captions[anchor], captions[partner])
    assert checked > 50


def test_two_builds_in_folders_of_one_name_each_read_their_own_rows(tmp_path):
    """`datasets` keys a folder's cache on its name and its card's YAML: two builds whose YAML
    differs only in what they hold must not share a cache, nor must the trainer's reader."""
    rows = {}
    for seed in (1, 2):
        root = tmp_path / f"world{seed}"
        write_world(root / "coco", train_images=12, val_images=6, image_size=32, seed=seed, hard=True)
        out = build_coco(BuildOptions(out=root / "x", coco_root=root / "coco", workers=1)).out
        rows[seed] = (out, sorted(pq.read_table(sorted((out / "triples").glob("train-*.parquet"))[0])["caption"].to_pylist()))
    first, second = rows[1][0] / "README.md", rows[2][0] / "README.md"
    # the same sizes, as two builds may well have: only the fingerprint tells the cards apart
    sizes = re.findall(r"num_bytes: \d+", first.read_text())
    text = second.read_text()
    for size, own in zip(sizes, re.findall(r"num_bytes: \d+", text), strict=True):
        text = text.replace(own, size, 1)
    second.write_text(text)
    cache = tmp_path / "hf-cache"
    for out, captions in rows.values():
        loaded = datasets.load_dataset(str(out), "triples", split="train", cache_dir=str(cache))
        assert sorted(loaded["caption"]) == captions
        assert sorted(ShardSplit(out, "train").triples["caption"]) == captions

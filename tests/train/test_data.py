import numpy as np
import pytest

from relaug.train.data import BATCH_KINDS, GroupBatchSampler, ShardSplit, choose_partners


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

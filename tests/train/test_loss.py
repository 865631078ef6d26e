import math

import open_clip.loss
import pytest
import torch
import torch.nn.functional as F

from relaug.train.loss import ClipLoss, DriveLoss, NegClipLoss, create_loss, drive_loss, drive_loss_reference


def features(rows: int, dim: int = 32, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(rows, dim, generator=generator, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize("groups", [1, 5, 16])
@pytest.mark.parametrize("partners", [1, 2, 3])
def test_drive_loss_equals_the_per_group_loop_and_so_does_its_gradient(groups, partners):
    group_size = partners + 1
    images = features(groups * group_size, seed=1).requires_grad_()
    texts = features(groups * group_size, seed=2).requires_grad_()
    scale = torch.tensor(7.5, dtype=torch.float64, requires_grad=True)

    batched = drive_loss(images, texts, scale, group_size)
    grads = torch.autograd.grad(batched, (images, texts, scale))
    looped = drive_loss_reference(images, texts, scale, group_size)
    ref_grads = torch.autograd.grad(looped, (images, texts, scale))

    assert batched.item() == pytest.approx(looped.item(), abs=1e-5)
    for grad, ref in zip(grads, ref_grads):
        torch.testing.assert_close(grad, ref, atol=1e-5, rtol=1e-5)


def test_drive_loss_in_float32_matches_the_loop_to_1e5():
    images, texts = features(64 * 2, seed=3).float(), features(64 * 2, seed=4).float()
    scale = torch.tensor(10.0)
    assert drive_loss(images, texts, scale, 2).item() == pytest.approx(
        drive_loss_reference(images, texts, scale, 2).item(), rel=1e-5
    )


def test_drive_loss_rejects_groups_without_partner():
    images = features(4)
    with pytest.raises(ValueError, match="group_size=1"):
        drive_loss(images, images, torch.tensor(1.0), 1)


def test_drive_loss_grows_when_partners_look_alike():
    # The S terms push an anchor away from its partners: identical partner images cost more.
    texts = features(8, seed=5)
    distinct = features(8, seed=6)
    alike = distinct.clone()
    alike[1::2] = alike[0::2]
    scale = torch.tensor(5.0, dtype=torch.float64)
    terms_alike = DriveLoss()(alike, texts, scale, group_size=2, output_dict=True)
    terms_distinct = DriveLoss()(distinct, texts, scale, group_size=2, output_dict=True)
    # the clip part also changes, so compare the S factor through the image/text ratio
    assert terms_alike["image_loss"] / terms_alike["text_loss"] > terms_distinct["image_loss"] / terms_distinct["text_loss"]


def test_clip_loss_equals_open_clip_clip_loss():
    images, texts = features(12, seed=7), features(12, seed=8)
    scale = torch.tensor(20.0, dtype=torch.float64)
    ours = ClipLoss()(images, texts, scale, group_size=3)
    theirs = open_clip.loss.ClipLoss()(images, texts, scale)
    assert ours.item() == pytest.approx(theirs.item(), abs=1e-10)


def negatives(groups: int, count: int, seed: int) -> torch.Tensor:
    return features(groups * count, seed=seed).view(groups, count, -1)


@pytest.mark.parametrize("name", ["negclip", "drive"])
def test_padding_negatives_changes_nothing(name):
    images, texts = features(8, seed=9), features(8, seed=10)
    scale = torch.tensor(5.0, dtype=torch.float64)
    loss = create_loss(name)
    plain = loss(images, texts, scale, group_size=2)
    padded = loss(
        images, texts, scale, group_size=2,
        negative_features=negatives(4, 3, seed=11), negative_mask=torch.zeros(4, 3, dtype=torch.bool),
    )
    assert padded.item() == pytest.approx(plain.item(), abs=1e-12)


def confusing_negative_case():
    images, texts = features(8, seed=12), features(8, seed=13)
    mask = torch.zeros(4, 1, dtype=torch.bool)
    mask[0, 0] = True
    # anchor 0's negative points where its image points: a maximally confusing caption
    hard = images[0].view(1, 1, -1).expand(4, 1, -1).clone()
    return images, texts, torch.tensor(5.0, dtype=torch.float64), hard, mask


@pytest.mark.parametrize("name", ["negclip", "drive"])
def test_a_negative_close_to_the_anchor_image_raises_the_loss(name):
    images, texts, scale, hard, mask = confusing_negative_case()
    loss = create_loss(name)
    plain = loss(images, texts, scale, group_size=2)
    with_negative = loss(images, texts, scale, group_size=2, negative_features=hard, negative_mask=mask)
    assert with_negative > plain + 1e-3


def test_negclip_negatives_join_the_image_to_text_direction_only():
    images, texts, scale, hard, mask = confusing_negative_case()
    plain = NegClipLoss()(images, texts, scale, group_size=2, output_dict=True)
    with_negative = NegClipLoss()(images, texts, scale, group_size=2, negative_features=hard, negative_mask=mask, output_dict=True)
    assert with_negative["image_loss"] > plain["image_loss"] + 1e-3
    assert with_negative["text_loss"].item() == pytest.approx(plain["text_loss"].item(), abs=1e-12)


def test_negclip_negative_is_a_column_for_its_anchor_only():
    # A negative identical to the partner's text must not be scored against the partner image.
    images, texts = features(4, seed=14), features(4, seed=15)
    scale = torch.tensor(5.0, dtype=torch.float64)
    negative = texts[1].view(1, 1, -1).expand(2, 1, -1).clone()
    mask = torch.tensor([[True], [False]])
    logits_per_image, _ = NegClipLoss().get_logits(
        images, texts, scale, group_size=2, negative_features=negative, negative_mask=mask
    )
    assert logits_per_image.shape == (4, 5)
    assert logits_per_image[0, 4].item() == pytest.approx(scale.item() * (images[0] @ texts[1]).item())
    assert torch.isneginf(logits_per_image[1:, 4]).all()


def test_create_loss_names_the_unknown_loss():
    with pytest.raises(ValueError, match="'siglip'"):
        create_loss("siglip")
    assert isinstance(create_loss("drive", world_size=2), DriveLoss)
    assert math.isclose(create_loss("drive").delta_i, 1.2233)

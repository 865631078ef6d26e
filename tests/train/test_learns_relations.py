"""The whole chain offline on the synthetic world: synthetic-world -> build-coco -> finetune -> eval.

A tiny CLIP trained from scratch on CPU with `drive` or `negclip` must prefer the
true caption to its preposition swap and to its role swap more often than a
coin would with probability 1%, on the held-out test split. The negatives are the real ones of
`relaug.negatives`, as build-coco publishes them.
"""

import math

import pytest

from relaug.build import BuildOptions, build_coco
from relaug.evaluate import evaluate
from relaug.models import create_clip
from relaug.synthetic import write_world
from relaug.train.trainer import TrainOptions, finetune

pytestmark = pytest.mark.slow  # see pyproject.toml: not in the fast tier

# Same schedule for every loss: 2 epochs of 2,000 relations in batches of 32 groups = 124 steps.
SCHEDULE = dict(model="tiny-clip", pretrained="none", epochs=2, batch_size=32, lr=5e-4, warmup=10, workers=1, validate=False)


@pytest.fixture(scope="module")
def world_shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    write_world(root / "coco", train_images=1000, val_images=300, image_size=32, seed=0)  # tiny-clip's own size
    return build_coco(BuildOptions(out=root / "shards", coco_root=root / "coco", workers=1)).out


@pytest.mark.parametrize("loss", ["drive", "negclip"])
def test_a_tiny_clip_learns_spatial_relations(world_shards, tmp_path, loss):
    run = finetune(TrainOptions(shards=world_shards, out=tmp_path / loss, loss=loss, **SCHEDULE))
    trained = create_clip("tiny-clip", str(run / "checkpoints" / "latest.pt"))
    report = evaluate(world_shards, "test", model=trained.model, preprocess=trained.preprocess_val, tokenizer=trained.tokenizer)
    for kind in ("prep_swap", "role_swap"):
        accuracy = report.hard_negatives[f"kind/{kind}"]
        assert accuracy.total >= 200, f"too few {kind} negatives to measure: {accuracy.total}"
        # what a coin reaches with probability 1% on this many negatives (one-sided, normal approximation)
        chance_bound = 0.5 + 2.33 * 0.5 / math.sqrt(accuracy.total)
        assert accuracy.accuracy > chance_bound, f"{loss} on {kind}: {accuracy.accuracy:.3f} <= {chance_bound:.3f}"

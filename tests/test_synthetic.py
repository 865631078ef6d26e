import json
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from relaug.cli import app
from relaug.mining import load_pipeline, mine_captions
from relaug.records import Caption
from relaug.synthetic import BACKGROUND, CONVERSE, HARD_COLOURS, HARD_SHAPES, Thing, _draw, write_world


@pytest.fixture(scope="module", params=[False, True], ids=["default", "hard"])
def world(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    return root, write_world(root, train_images=60, val_images=20, seed=3, hard=request.param)


def colour_pixels(image: Image.Image, colour: str) -> np.ndarray:
    """(y, x) of the pixels painted in `colour` (outlines are black, the background grey)."""
    pixels = np.asarray(image).astype(int)
    return np.argwhere(np.abs(pixels - np.array(HARD_COLOURS[colour])).sum(-1) < 30)


def alone(thing: Thing) -> np.ndarray:
    """The pixels `thing` covers when drawn by itself."""
    image = Image.new("RGB", (64, 64), BACKGROUND)
    _draw(ImageDraw.Draw(image), thing)
    return (np.asarray(image) != np.array(BACKGROUND)).any(-1)


def test_the_world_is_a_coco_root(world):
    root, scenes = world
    for split, count in (("train2017", 60), ("val2017", 20)):
        captions = json.loads((root / "annotations" / f"captions_{split}.json").read_text())
        instances = json.loads((root / "annotations" / f"instances_{split}.json").read_text())
        assert len(captions["images"]) == count
        assert len(captions["annotations"]) == 2 * count
        assert len({c["id"] for c in captions["annotations"]}) == 2 * count
        assert {c["name"] for c in instances["categories"]} >= {"circle", "square", "triangle", "star"}
        assert {c["name"] for c in instances["categories"]} <= set(HARD_SHAPES)
        assert all((root / split / image["file_name"]).is_file() for image in captions["images"])
    train_ids = {s.image_id for s in scenes["train2017"]}
    assert not train_ids & {s.image_id for s in scenes["val2017"]}


def test_images_show_what_the_captions_say(world):
    root, scenes = world
    for scene in scenes["train2017"]:
        image = Image.open(root / "train2017" / f"{scene.image_id:012d}.png").convert("RGB")
        subject = colour_pixels(image, scene.subject.colour)
        object_ = colour_pixels(image, scene.object.colour)
        assert len(subject) > 20 and len(object_) > 20
        if scene.relation in ("above", "on"):
            assert subject[:, 0].max() <= object_[:, 0].min() + 1
        elif scene.relation in ("below", "under"):
            assert object_[:, 0].max() <= subject[:, 0].min() + 1
        else:
            # where the two shapes overlap, the one in front owns the pixels
            overlap = alone(scene.subject) & alone(scene.object)
            assert overlap.sum() >= 15
            front = scene.subject if scene.relation == "in front of" else scene.object
            back = scene.object if front is scene.subject else scene.subject
            painted = np.asarray(image).astype(int)[overlap]
            shows = lambda thing: (np.abs(painted - np.array(HARD_COLOURS[thing.colour])).sum(-1) < 30).sum()
            assert shows(front) > 10 * shows(back)


def test_the_real_miner_reads_each_caption_as_its_spatial_triple(world):
    _, scenes = world
    captions, expected = [], []
    for scene in scenes["train2017"][:30]:
        first, converse = scene.captions
        captions += [Caption(10 * scene.image_id, scene.image_id, first), Caption(10 * scene.image_id + 1, scene.image_id, converse)]
        expected += [
            (scene.subject.shape, scene.relation, scene.object.shape),
            (scene.object.shape, CONVERSE[scene.relation], scene.subject.shape),
        ]
    mined = list(mine_captions(captions, load_pipeline()))
    assert [(m.triples[0].subject, m.triples[0].relation, m.triples[0].object) for m in mined] == expected
    assert all(m.triples[0].relation_kind == "spatial" for m in mined)


def test_a_few_thousand_images_take_seconds(tmp_path):
    import time

    start = time.perf_counter()
    write_world(tmp_path, train_images=2000, val_images=400)
    assert time.perf_counter() - start < 20


def test_the_command_writes_the_hard_world_and_says_where(tmp_path):
    result = CliRunner().invoke(app, ["synthetic-world", str(tmp_path / "w"), "--hard", "--train-images", "8", "--val-images", "4"])
    assert result.exit_code == 0, result.output
    assert f"12 images to {tmp_path / 'w'}" in " ".join(result.output.split())
    captions = json.loads((tmp_path / "w" / "annotations" / "captions_train2017.json").read_text())["annotations"]
    # every pair twice, the roles exchanged: "a red ring on a pink triangle", "a pink triangle on a red ring"
    firsts = [c["caption"] for c in captions if c["id"] % 10 == 0]
    for one, other in zip(firsts[::2], firsts[1::2]):
        (a, relation, b) = re.fullmatch(r"(an? \w+ \w+) (.+) (an? \w+ \w+)", one).groups()
        assert other == f"{b} {relation} {a}"

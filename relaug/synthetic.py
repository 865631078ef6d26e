"""A synthetic relational world written as a COCO root, so the whole chain runs offline.

Every image holds two shapes of different kinds and colours in one spatial
relation, drawn to match its captions: "a red circle above a blue square" and
its converse "a blue square below a red circle". Relations come in opposite
pairs (above/below, on/under, in front of/behind), so a preposition swap or a
role swap of a caption is false of its image by construction, and a model has
to read word order and the picture's layout to tell them apart: the bag of
words of a caption and of its role swap are the same.

The default world draws random pairs of 16 things (4 shapes x 4 colours); every
loss learns it. The hard world (`hard=True`) has 48 things (8 shapes x 6
colours) and draws every pair of them in both relations, "a red circle above a
blue square" and "a blue square above a red circle": which thing stands where is
all that tells the two images apart, so only a model that reads the layout wins.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "star")
COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 220), "yellow": (235, 200, 30)}
HARD_SHAPES = (*SHAPES, "diamond", "hexagon", "ring", "heart")
HARD_COLOURS = {**COLOURS, "purple": (140, 50, 190), "pink": (240, 120, 180)}
CONVERSE = {"above": "below", "below": "above", "on": "under", "under": "on", "in front of": "behind", "behind": "in front of"}
RELATIONS = tuple(CONVERSE)
BACKGROUND = (245, 245, 245)


@dataclass(frozen=True)
class Thing:
    shape: str
    colour: str
    box: tuple[float, float, float, float]  # COCO xywh

    @property
    def phrase(self) -> str:
        return f"{'an' if self.colour[0] in 'aeiou' else 'a'} {self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    """One image: `subject` stands in `relation` to `object`."""

    image_id: int
    subject: Thing
    relation: str
    object: Thing
    subject_drawn_last: bool

    @property
    def captions(self) -> tuple[str, str]:
        converse = CONVERSE[self.relation]
        return (
            f"{self.subject.phrase} {self.relation} {self.object.phrase}",
            f"{self.object.phrase} {converse} {self.subject.phrase}",
        )


def _layout(relation: str, size: int, rng: random.Random) -> tuple[tuple[float, float], tuple[float, float], bool]:
    """Top-left corners of subject and object, each `size` wide, and whether the subject is drawn last."""
    canvas = 2.5 * size  # the image is canvas x canvas; the layout leaves room for jitter
    if relation in ("above", "below", "on", "under"):
        gap = rng.uniform(0.3, 0.5) * size if relation in ("above", "below") else 0.0  # "on" touches, "above" does not
        x_top = rng.uniform(0, canvas - size)
        x_bottom = min(max(x_top + rng.uniform(-0.25, 0.25) * size, 0), canvas - size)
        y_top = rng.uniform(0, canvas - 2 * size - gap)
        top, bottom = (x_top, y_top), (x_bottom, y_top + size + gap)
        subject_on_top = relation in ("above", "on")
        return (top, bottom, False) if subject_on_top else (bottom, top, False)
    # in front of / behind: the shapes overlap by more than half, so that even a star and a triangle
    # share pixels; the one in front is drawn last and hides the other there
    x0, y0 = rng.uniform(0, canvas - 1.5 * size), rng.uniform(0, canvas - 1.5 * size)
    dx, dy = rng.choice((-1, 1)) * rng.uniform(0.2, 0.35) * size, rng.choice((-1, 1)) * rng.uniform(0.2, 0.35) * size
    first = (x0 + 0.25 * size, y0 + 0.25 * size)
    second = (first[0] + dx, first[1] + dy)
    return first, second, relation == "in front of"


def _draw(draw: ImageDraw.ImageDraw, thing: Thing) -> None:
    x, y, w, h = thing.box
    colour = HARD_COLOURS[thing.colour]
    if thing.shape == "circle":
        draw.ellipse((x, y, x + w, y + h), fill=colour, outline=(0, 0, 0))
    elif thing.shape == "square":
        draw.rectangle((x, y, x + w, y + h), fill=colour, outline=(0, 0, 0))
    elif thing.shape == "triangle":
        draw.polygon([(x + w / 2, y), (x + w, y + h), (x, y + h)], fill=colour, outline=(0, 0, 0))
    elif thing.shape == "diamond":
        draw.polygon([(x + w / 2, y), (x + w, y + h / 2), (x + w / 2, y + h), (x, y + h / 2)], fill=colour, outline=(0, 0, 0))
    elif thing.shape == "hexagon":
        points = [(x + w / 2 + w / 2 * math.cos(math.pi * k / 3), y + h / 2 + h / 2 * math.sin(math.pi * k / 3)) for k in range(6)]
        draw.polygon(points, fill=colour, outline=(0, 0, 0))
    elif thing.shape == "ring":  # a thick circle, the background showing in the middle
        draw.ellipse((x, y, x + w, y + h), fill=colour, outline=(0, 0, 0))
        draw.ellipse((x + w / 3, y + h / 3, x + 2 * w / 3, y + 2 * h / 3), fill=BACKGROUND, outline=(0, 0, 0))
    elif thing.shape == "heart":  # two discs on top of a downward triangle
        draw.ellipse((x, y, x + w / 2, y + h / 2), fill=colour)
        draw.ellipse((x + w / 2, y, x + w, y + h / 2), fill=colour)
        draw.polygon([(x, y + h / 4), (x + w, y + h / 4), (x + w / 2, y + h)], fill=colour)
    else:  # a five-pointed star: ten corners alternating between the outer and the inner radius
        points = [
            (x + w / 2 + r * math.sin(math.pi * k / 5), y + h / 2 - r * math.cos(math.pi * k / 5))
            for k, r in zip(range(10), [w / 2, w / 5] * 5)
        ]
        draw.polygon(points, fill=colour, outline=(0, 0, 0))


def random_scene(image_id: int, rng: random.Random, size: int) -> Scene:
    subject_shape, object_shape = rng.sample(SHAPES, 2)
    subject_colour, object_colour = rng.sample(sorted(COLOURS), 2)
    return _scene(image_id, (subject_shape, subject_colour), rng.choice(RELATIONS), (object_shape, object_colour), rng, size)


def _scene(image_id: int, subject: tuple[str, str], relation: str, obj: tuple[str, str], rng: random.Random, size: int) -> Scene:
    subject_xy, object_xy, subject_last = _layout(relation, size, rng)
    return Scene(
        image_id=image_id,
        subject=Thing(*subject, (*subject_xy, float(size), float(size))),
        relation=relation,
        object=Thing(*obj, (*object_xy, float(size), float(size))),
        subject_drawn_last=subject_last,
    )


def paired_scenes(first_id: int, count: int, rng: random.Random, size: int) -> list[Scene]:
    """`count` scenes of the hard world: pairs of things (of other shapes and colours) in a
    seeded order, each drawn twice, in one relation and with the roles exchanged."""
    things = [(shape, colour) for shape in HARD_SHAPES for colour in HARD_COLOURS]
    pairs = [(a, b) for i, a in enumerate(things) for b in things[i + 1 :] if a[0] != b[0] and a[1] != b[1]]
    scenes: list[Scene] = []
    while len(scenes) < count:
        rng.shuffle(pairs)
        for a, b in pairs:
            relation = rng.choice(RELATIONS)
            for subject, obj in ((a, b), (b, a))[: count - len(scenes)]:
                scenes.append(_scene(first_id + len(scenes), subject, relation, obj, rng, size))
            if len(scenes) == count:
                break
    return scenes


def render(scene: Scene, image_size: int) -> Image.Image:
    image = Image.new("RGB", (image_size, image_size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    order = (scene.object, scene.subject) if scene.subject_drawn_last else (scene.subject, scene.object)
    for thing in order:
        _draw(draw, thing)
    return image


def write_world(
    root: str | Path, *, train_images: int = 2000, val_images: int = 400, image_size: int = 64, seed: int = 0,
    hard: bool = False,
) -> dict[str, list[Scene]]:
    """Write a COCO root (annotations/ captions and instances, train2017/, val2017/) at `root`;
    `hard`: the hard world of the module's docstring.

    Returns the scenes per COCO split. Image ids are unique across splits, as in COCO.
    """
    root = Path(root)
    rng = random.Random(seed)
    shape_size = round(image_size / 2.5)
    categories = [{"id": i + 1, "name": shape, "supercategory": "shape"} for i, shape in enumerate(HARD_SHAPES if hard else SHAPES)]
    category_id = {c["name"]: c["id"] for c in categories}
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    scenes_by_split: dict[str, list[Scene]] = {}
    next_image_id = 1
    for split, count in (("train2017", train_images), ("val2017", val_images)):
        (root / split).mkdir(exist_ok=True)
        if hard:
            scenes = paired_scenes(next_image_id, count, rng, shape_size)
        else:
            scenes = [random_scene(next_image_id + i, rng, shape_size) for i in range(count)]
        next_image_id += count
        images, captions, instances = [], [], []
        for scene in scenes:
            file_name = f"{scene.image_id:012d}.png"
            render(scene, image_size).save(root / split / file_name)
            images.append({"id": scene.image_id, "file_name": file_name, "width": image_size, "height": image_size, "license": 0})
            for k, text in enumerate(scene.captions):
                captions.append({"id": 10 * scene.image_id + k, "image_id": scene.image_id, "caption": text})
            for k, thing in enumerate((scene.subject, scene.object)):
                instances.append(
                    {
                        "id": 10 * scene.image_id + k,
                        "image_id": scene.image_id,
                        "category_id": category_id[thing.shape],
                        "bbox": list(thing.box),
                        "area": thing.box[2] * thing.box[3],
                        "iscrowd": 0,
                    }
                )
        info = {"description": "relaug synthetic relational world", "version": "1.0"}
        licenses = [{"id": 0, "name": "CC0 1.0 (generated by relaug.synthetic)", "url": "https://creativecommons.org/publicdomain/zero/1.0/"}]
        common = {"info": info, "licenses": licenses, "images": images}
        (root / "annotations" / f"captions_{split}.json").write_text(json.dumps({**common, "annotations": captions}))
        (root / "annotations" / f"instances_{split}.json").write_text(
            json.dumps({**common, "annotations": instances, "categories": categories})
        )
        scenes_by_split[split] = scenes
    return scenes_by_split

"""A built split read back: its triples index, its images by id, and each relation's partners, closest first.

What both the trainer and `relaug eval` read a build through. The `triples` config
is the index (small, one row per relation); images come from the `default` config
by image id, decoded only when asked for. Both are opened with `datasets` from
their Parquet files (`relaug.shards.read.load_split`), memory-mapped.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from relaug.choices import TextField, checked
from relaug.errors import InputError
from relaug.records import partner_closeness
from relaug.shards.read import load_split


def check_text_field(text_field: str) -> str:
    """The relation field texts are read from: the original `caption`, or the short rendered `text`."""
    return checked(TextField, text_field, "--text-field")


class ShardSplit:
    """One split of the shards: the triples index and the images, by image id."""

    def __init__(self, shards: str | Path, split: str):
        shards = Path(shards)
        if not (shards / "triples").is_dir():
            raise InputError(f"{shards}: not a relaug shard directory (no triples/); build one with `relaug build-coco`")
        try:
            self.triples = load_split(shards, "triples", split)
            images = load_split(shards, "default", split)
        except (ValueError, FileNotFoundError) as e:
            raise InputError(f"{shards}: cannot open split '{split}' ({e})") from e
        if images.num_rows and images.data.column("image").null_count == images.num_rows:
            raise InputError(
                f"{shards}: a text-only build (`relaug build --text-only`): its rows have no image to train or score on"
            )
        self._default = images
        self.images = images.select_columns(["image"])
        self._image_row = {image_id: row for row, image_id in enumerate(images.data.column("image_id").to_pylist())}
        self.image_ids = np.asarray(self.triples.data.column("image_id").to_pylist(), dtype=np.int64)
        self.subjects = self.triples.data.column("subject").to_pylist()
        row_of = {relation_id: row for row, relation_id in enumerate(self.triples.data.column("id").to_pylist())}

        def rows(column: str) -> list[np.ndarray]:
            # ids of relations outside this split are dropped, not trusted
            return [
                np.asarray([row_of[i] for i in ids if i in row_of], dtype=np.int64)
                for ids in self.triples.data.column(column).to_pylist()
            ]

        self.partners = rows("partners")
        self.swap_partners = rows("swap_partners")
        def words(column: str) -> list[list[str]]:
            # shards written before the modifier columns: every partner is then as close as another
            if column not in self.triples.column_names:
                return [[]] * len(self.triples)
            return self.triples.data.column(column).to_pylist()

        modifiers = [(tuple(s), tuple(o)) for s, o in zip(words("subject_modifiers"), words("object_modifiers"))]
        relations = self.triples.data.column("relation").to_pylist()
        self.closest_partners = [
            _closest(modifiers, relations, anchor, rows, swapped=False) for anchor, rows in enumerate(self.partners)
        ]
        self.closest_swap_partners = [
            _closest(modifiers, relations, anchor, rows, swapped=True) for anchor, rows in enumerate(self.swap_partners)
        ]
        by_subject: dict[str, list[int]] = defaultdict(list)
        for row, subject in enumerate(self.subjects):
            by_subject[subject].append(row)
        self.same_subject = {subject: np.asarray(rows, dtype=np.int64) for subject, rows in by_subject.items()}
        self.all_rows = np.arange(len(self.triples))

    def __len__(self) -> int:
        return len(self.triples)

    def images_with_captions(self) -> list[tuple[int, list[str]]]:
        """Every image of the split with all its captions, in shard order."""
        ids = self._default.data.column("image_id").to_pylist()
        captions = self._default.data.column("captions").to_pylist()
        return [(image_id, [c["caption"] for c in cs]) for image_id, cs in zip(ids, captions)]

    def image(self, image_id: int):
        """The decoded PIL image of `image_id`."""
        return self.images[self._image_row[image_id]]["image"].convert("RGB")


def _closest(
    modifiers: list[tuple], relations: list[str], anchor: int, rows: np.ndarray, swapped: bool
) -> np.ndarray:
    """The partner rows that differ least from the anchor (`partner_closeness`)."""
    if len(rows) < 2:
        return rows
    matches = [
        partner_closeness(
            modifiers[anchor], relations[anchor], modifiers[row][::-1] if swapped else modifiers[row], relations[row]
        )
        for row in rows.tolist()
    ]
    best = max(matches)
    return rows[[m == best for m in matches]]

"""Read COCO caption and instance files, resolve image paths safely, assign splits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caption:
    """One caption of one image, as the caption file gives it."""

    caption_id: int
    image_id: int
    caption: str

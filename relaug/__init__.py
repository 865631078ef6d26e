"""relaug: teach CLIP relations with mined triples and hard negatives."""

__version__ = "0.2.0"

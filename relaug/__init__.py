"""relaug: teach CLIP relations with mined triples and hard negatives."""

__version__ = "0.1.0"

"""Text hard negatives that are really negative, and DRIVE partners (`docs/training.md`).

Three kinds of negative, each an edit of the original caption placed by the
character spans the miner recorded (never by searching the caption for a
string) and the same edit of the short rendered text:

- `verb_swap`: the relation's verb (with its particle and preposition) replaced
  by another verb relation of the corpus, inflected to the original's Penn tag;
- `prep_swap`: a preposition replaced by its opposite (on <-> under, ...);
- `role_swap`: subject and object phrases exchanged, verb agreement fixed.

The stage, one module a job, data flowing down the list:

- `statistics`: what the corpus says, counted once per build;
- `edits`: where a negative's words go in the caption and how they are written;
- `candidates`: each kind's candidates for one relation, their checks, the choice;
- `verification`: the re-parse that every negative passes before it is kept;
- `partners`: DRIVE's partners from other images;
- `stage`: all of it over a corpus, spread over worker processes.

The choice among the valid candidates is seeded per relation id, so the same
corpus and options give the same negatives in any order and in any process.
"""

from relaug.negatives.candidates import NegativeResult
from relaug.negatives.partners import Partners, find_partners
from relaug.negatives.stage import add_negatives, build_negatives, default_similarity, relations_of
from relaug.options import NegativeOptions
from relaug.reasons import Rejection
from relaug.records import Negative
from relaug.verbs import OPPOSITE_PREPOSITIONS

__all__ = [
    "OPPOSITE_PREPOSITIONS",
    "Negative",
    "NegativeOptions",
    "NegativeResult",
    "Partners",
    "Rejection",
    "add_negatives",
    "build_negatives",
    "default_similarity",
    "find_partners",
    "relations_of",
]

"""Why something was left out, in one catalogue: the strings are the rows of the build
summary, the dataset card and the manifest, so a reader sees the same words everywhere."""

from __future__ import annotations

import PIL.Image

# COCO's longest caption has 247 characters; one of thousands is no caption but a
# paste of text, and parsing it costs more than a whole batch of real ones.
MAX_CAPTION_CHARS = 1000

# PIL's own limit (about 89 million pixels, 0.25 GB as RGB): a larger image is
# refused rather than decoded, since a few bytes of PNG can claim gigapixels.
MAX_IMAGE_PIXELS = PIL.Image.MAX_IMAGE_PIXELS


class Skip:
    """Why a record of an annotation file, or an image, was left out of a build."""

    CAPTION_IDS = "caption: id or image_id missing or not an integer"
    CAPTION_NOT_TEXT = "caption: not a string"
    CAPTION_EMPTY = "caption: empty or only whitespace"
    CAPTION_TOO_LONG = f"caption: longer than {MAX_CAPTION_CHARS:,} characters"
    CAPTION_UNLISTED = "caption: its image_id is not in 'images'"
    CAPTION_DUPLICATE = "caption: duplicate id (the first is kept)"
    IMAGE_MALFORMED = "image entry: id not an integer or file_name not a string"
    IMAGE_DUPLICATE = "image entry: duplicate id (the first is kept)"
    INSTANCE_MALFORMED = "instance: image_id, category_id or bbox missing or of the wrong type"
    INSTANCE_CATEGORY = "instance: category_id not in 'categories'"
    SPLIT_UNKNOWN = "caption: its split is not train, validation or test"
    OUTSIDE_ROOT = "file_name outside the COCO root"
    OUTSIDE_IMAGES_ROOT = "image path outside --images-root"
    NO_IMAGE = "image: none given (--text-only builds without images)"
    REMOTE_IMAGE = "image: a URL (fetch the images first, e.g. with img2dataset, and give their paths or bytes)"
    MISSING = "image file missing"
    UNREADABLE = "image file unreadable"
    EMPTY = "image file empty"
    NOT_AN_IMAGE = "not an image: no image format recognises the file"
    TRUNCATED = "image file truncated or corrupt"
    BOMB = f"decompression bomb: more than {MAX_IMAGE_PIXELS:,} pixels"
    TOO_LARGE = "image file over 2 GiB: more than an Arrow binary value holds"
    NO_RELATION = "no relation mined from its captions"
    EMPTY_BOX = "box of no area"  # a benchmark item's crop


class Rejection:
    """Why a candidate negative was rejected."""

    NO_ATTESTED_VERB = "verb swap: other images never state another relation of this subject and this object together"
    NOT_ATTESTED = "not attested: other images never state the new relation of this subject and this object together"
    ROLES_NOT_ATTESTED = "role swap: fewer than two captions of other images state the swapped triple, nor are both people"
    THING_ACTS_ON_BEING = "role swap: a thing would act on a person or an animal"
    SUPPORT_INVERTED = "role swap: the ground or a surface would stand on or act on something"
    SYNONYM_CORPUS = "near-synonym: where other images' captions say the old relation, they often say the new one"
    SYNONYM_EMBEDDING = "near-synonym: verb embeddings above the similarity band"
    VEHICLE_GOING = (
        "near-synonym: a vehicle going one way or another (driving, running, speeding down tracks), "
        "or arriving and going or standing (pulling into a station, sitting in it), looks the same"
    )
    UNRELATED_EMBEDDING = "unrelated: verb embeddings below the similarity band"
    TRUE_OF_IMAGE = "true of the image: a caption of the image states it"
    INFLECTION = "inflection failed"
    PASSIVE_FRAME = "passive: the candidate takes no direct object"
    INTRANSITIVE = "no object alone: the verb needs a preposition (sit on, put on)"
    TAG_CHANGED = "re-parsed, the new verb gets another tag"
    OBJECT_LEFT_OUT = "verb swap: captions write the new verb with its object before the preposition (carrying a board down)"
    CONTRADICTS_CAPTION = "verb swap: the caption gives its subject another posture, or has it going on foot, or riding, or doing anything asleep"
    INFINITIVE = "verb swap: the verb is an infinitive (about to serve, trying to reach), what the subject means to do, which no photo shows"
    EXPRESSION = "verb swap: the old verb is one of the face, the voice or the pose (smiling), which goes with any other"
    PATH_LEFT_BEHIND = "verb swap: captions never say the new verb with the path word after the object (holding a bike through)"
    GROUND_LEFT_BEHIND = (
        "verb swap: other images do the old verb on the caption's ground or surface, never the new one "
        "(carrying a surfboard on a wave)"
    )
    OWNED_LEFT_BEHIND = "verb swap: captions never say the new verb with the phrase after the object (kicking a ball with his bat)"
    PART_LEFT_BEHIND = "verb swap: captions never say the new verb of this part of its object (guiding the back of a horse)"
    BARE_OBJECT = "verb swap: captions never say the new verb with this object bare, without an article (chasing frisbee)"
    MISSPELLED = "verb swap: the caption's verb looks misspelled (one letter from a verb captions use far more often)"
    MISSPELLED_OBJECT = (
        "preposition swap: the object, with the old or the new preposition, looks like a typo of a noun captions put "
        "there far more often (on skies)"
    )
    SINGULAR_OBJECT = "verb swap: the new preposition needs more than one thing (between a car)"
    GOES_ALONG = "verb swap: captions often say both verbs of one subject at once, one without an object (standing while holding)"
    LEFTOVER_COMPLEMENT = "verb swap: what the old verb also governed is never said with the new one on other images"
    NOT_ROUND_TRIP = "re-parsed, the verb swap is not read as exactly the swapped triple (a complement left behind)"
    NOT_REPARSED = "re-parsed, the negative does not state the swapped triple"
    AGREEMENT = "role swap changes the subject's number and a later verb still agrees with the old one"
    SYMMETRIC = "symmetric relation"
    PASSIVE = "passive-stated triple"
    SAME_NOUN = "subject and object are the same noun"
    POSSESSIVE = "possessive in a noun phrase"
    LAYOUT = "caption layout: not a plain subject, relation, object sequence"
    EQUALS_POSITIVE = "equals the positive"

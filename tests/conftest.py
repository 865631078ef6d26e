"""Shared fixtures. The bundled sample is built once per session: parsing with spaCy is the slow part."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

import relaug.build
from relaug.build import SAMPLE_REFERENCE, BuildOptions, BuildReport, build_coco

# 1,524 val2017 captions (tests/data/README.md): the reference corpus of the sample builds that test
# anything but the negatives, which would otherwise mine all of val2017's captions each time.
SMALL_REFERENCE = Path(__file__).parent / "data" / "val2017_negatives_captions.jsonl"


@pytest.fixture(scope="session", autouse=True)
def small_sample_reference():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(relaug.build, "SAMPLE_REFERENCE", SMALL_REFERENCE)
        yield


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    """The bundled COCO sample as the README builds it (all of val2017's captions its reference),
    with a 1MB shard limit, so every split spans several files."""
    out = tmp_path_factory.mktemp("sample") / "shards"
    return build_coco(BuildOptions(out=out, max_shard_size="1MB", reference_captions=SAMPLE_REFERENCE))


@pytest.fixture(scope="session")
def sample_shards(sample_build: BuildReport) -> Path:
    return sample_build.out


@pytest.fixture(scope="session")
def sample_dataset(sample_shards: Path, tmp_path_factory: pytest.TempPathFactory) -> datasets.DatasetDict:
    """The default config as a user loads it; the cache is private so no stale copy is read."""
    return datasets.load_dataset(str(sample_shards), cache_dir=str(tmp_path_factory.mktemp("hf-cache")))


@pytest.fixture(scope="session")
def sample_triples(sample_shards: Path, tmp_path_factory: pytest.TempPathFactory) -> datasets.DatasetDict:
    return datasets.load_dataset(str(sample_shards), "triples", cache_dir=str(tmp_path_factory.mktemp("hf-cache")))


@pytest.fixture(scope="session")
def nlp():
    """The spaCy pipeline the miner uses, loaded once for every test module that parses."""
    from relaug.mining import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def verb_similarity():
    """all-MiniLM-L6-v2 verb similarity, loaded once per session (the build shares the same one)."""
    from relaug.negatives import default_similarity

    return default_similarity()

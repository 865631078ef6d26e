"""The Ray engine (`--engine ray`, a local Ray cluster started by `ray.init()`) writes what the
local engine writes: the same shard bytes for the bundled sample, the same triples and negatives
for thousands of real captions, whose negatives are then built on Ray Data actors too."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaug.build import BuildOptions, build_coco
from relaug.choices import Engine
from relaug.mine import MineOptions, mine_file

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

CAPTIONS = Path(__file__).resolve().parents[1] / "examples" / "val2017_captions.jsonl"


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    import ray

    yield
    ray.shutdown()


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_ray_build_of_the_sample_is_byte_identical_to_a_local_one(sample_build, tmp_path):
    reference = Path(sample_build.recorded["reference_captions"])  # all of val2017's: mined by the Ray actors too
    options = BuildOptions(out=tmp_path / "shards", max_shard_size="1MB", engine=Engine.RAY, workers=2, reference_captions=reference)
    report = build_coco(options)
    assert _files(report.out) == _files(sample_build.out)


def test_ray_mines_and_builds_negatives_of_thousands_of_captions_as_the_local_engine_does(tmp_path):
    captions = tmp_path / "captions.jsonl"
    captions.write_text("".join(CAPTIONS.read_text(encoding="utf-8").splitlines(keepends=True)[:5000]))
    outputs = {}
    for engine in Engine:
        out = tmp_path / f"{engine}.jsonl"
        report = mine_file(MineOptions(captions=captions, out=out, negatives=True, workers=2, engine=engine))
        outputs[engine] = out.read_bytes()
    assert report.triples > 5000  # more than two chunks of relations: negatives ran on the actors
    assert outputs[Engine.RAY] == outputs[Engine.LOCAL]

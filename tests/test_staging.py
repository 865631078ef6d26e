"""A build killed with SIGKILL resumes to exactly the bytes of an uninterrupted one, whatever --workers."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import disk_full_at
from typer.testing import CliRunner

import relaug.build
import relaug.images
import relaug.mine
from relaug.build import SAMPLE_ROOT, BuildOptions, BuildReport, build_coco
from relaug.cli import app
from relaug.errors import InputError, StoppedError
from relaug.staging import STAGING

# Small shards, so that the bundled sample (40 images) spans some 40 files.
SHARD_SIZE = "100KB"


def _shards(out: Path) -> dict[str, bytes]:
    """Every file of a finished build by relative path, with its bytes."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> BuildReport:
    """An uninterrupted build with one process."""
    out = tmp_path_factory.mktemp("reference") / "shards"
    return build_coco(BuildOptions(out=out, max_shard_size=SHARD_SIZE, workers=1))


def test_reference_build_spans_several_shards_per_split(reference):
    assert len([f for f in reference.files if f.config == "default"]) > 10


def test_two_mining_processes_write_the_same_bytes_as_one(reference, tmp_path, monkeypatch):
    used, parallel = [], relaug.mine.mine_captions_parallel

    def spy(captions, pool, *args):
        used.append(pool._max_workers)
        yield from parallel(captions, pool, *args)

    # Chunks of 64 captions, so the sample's 200 are shared between two processes as COCO's would be.
    monkeypatch.setattr(relaug.mine, "CHUNK_CAPTIONS", 64)
    monkeypatch.setattr(relaug.mine, "mine_captions_parallel", spy)
    out = tmp_path / "shards"
    build_coco(BuildOptions(out=out, max_shard_size=SHARD_SIZE, workers=2))
    assert used and set(used) == {2}  # the sample's captions, then its reference's
    assert _shards(out) == _shards(reference.out)


def test_a_worker_killed_by_the_system_stops_the_build_with_a_message(tmp_path, monkeypatch):
    """What the kernel's out-of-memory killer does to a mining process, done as mining starts."""
    parallel = relaug.mine.mine_captions_parallel

    def one_worker_killed(captions, pool, *args):
        os.kill(pool.submit(os.getpid).result(), signal.SIGKILL)
        yield from parallel(captions, pool, *args)

    monkeypatch.setattr(relaug.mine, "CHUNK_CAPTIONS", 64)
    monkeypatch.setattr(relaug.mine, "mine_captions_parallel", one_worker_killed)
    with pytest.raises(StoppedError, match=r"a worker process died .* fewer --workers"):
        build_coco(BuildOptions(out=tmp_path / "shards", workers=2))
    assert not (tmp_path / "shards" / "manifest.json").exists()


def _finished_before_kill(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every shard the killed build recorded and renamed: the finished ones."""
    progress = out / STAGING / "progress.jsonl"
    finished = {}
    for line in progress.read_text().splitlines():
        try:
            path = out / STAGING / json.loads(line)["path"]
        except ValueError:
            continue  # cut short by the kill
        if path.is_file():  # else killed between its record and its rename
            finished[path.relative_to(out / STAGING).as_posix()] = (path.stat().st_ino, path.stat().st_mtime_ns)
    return finished


def _build_until_its_first_shard(command: list[str], out: Path, **popen) -> subprocess.Popen:
    """The build `command` started, once it has finished a shard into `out`."""
    # Ctrl-C is honoured even where this test runs with SIGINT ignored, which a child would inherit.
    build = subprocess.Popen(command, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **popen)
    deadline = time.monotonic() + 300
    # Temporaries are named .NAME.parquet.tmp: a *.parquet is a finished, renamed shard.
    while not list((out / STAGING).glob("*/*.parquet")):
        assert build.poll() is None, "the build ended before its first shard was seen"
        assert time.monotonic() < deadline
        time.sleep(0.001)
    return build


@pytest.mark.slow
def test_killed_build_resumes_to_the_same_bytes_without_redoing_finished_shards(reference, tmp_path):
    out = tmp_path / "shards"
    command = [
        sys.executable, "-m", "relaug", "build-coco", "--out", str(out), "--max-shard-size", SHARD_SIZE,
        "--reference-captions", str(relaug.build.SAMPLE_REFERENCE),  # the tests' own default (conftest.py)
    ]  # fmt: skip
    build = _build_until_its_first_shard(
        [*command, "--workers", "1"], out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    build.kill()
    build.wait()
    assert not (out / "manifest.json").exists()
    finished = _finished_before_kill(out)
    # Every file under a final name was recorded before its rename.
    assert set(finished) == {p.relative_to(out / STAGING).as_posix() for p in (out / STAGING).glob("*/*.parquet")}
    assert finished
    assert len(finished) < len(reference.files), "the build finished before the kill"

    # Other options refuse to resume into the interrupted build, and leave it alone.
    result = CliRunner().invoke(app, [*command[3:], "--max-shard-size", "1MB", "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "max_shard_size: '100KB' -> '1MB'" in result.output and "--overwrite" in result.output
    assert _finished_before_kill(out) == finished

    report = build_coco(BuildOptions(out=out, max_shard_size=SHARD_SIZE, workers=1))
    assert report.shards_reused == len(finished)
    for path, identity in finished.items():
        stat = (out / path).stat()
        assert (stat.st_ino, stat.st_mtime_ns) == identity, f"{path} was written twice"
    assert _shards(out) == _shards(reference.out)
    assert not (out / STAGING).exists()


def test_other_options_replace_a_complete_build_only_with_overwrite(reference, tmp_path):
    out = tmp_path / "shards"
    shutil.copytree(reference.out, out)
    options = BuildOptions(out=out, max_shard_size="1MB", workers=1)
    with pytest.raises(InputError, match="max_shard_size: '100KB' -> '1MB'.*--overwrite"):
        build_coco(options)
    assert _shards(out) == _shards(reference.out)
    build_coco(BuildOptions(**{**options.__dict__, "overwrite": True}))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["max_shard_size"] == "1MB"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == sorted(
        f["path"] for f in manifest["files"]
    )


def test_an_image_that_breaks_while_its_shard_is_written_stops_the_build_and_it_resumes(reference, tmp_path, monkeypatch):
    """The error reaches the caller, the shards finished before it are kept, and the rerun
    finishes with the reference's bytes."""
    out = tmp_path / "shards"
    read, calls = relaug.images._read_stored, []

    def vanishing(path, check):
        calls.append(path)
        if len(calls) == 25:  # a few shards in: the sample's images are about 4 to a 100KB shard
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return read(path, check)

    monkeypatch.setattr(relaug.images, "_read_stored", vanishing)
    options = BuildOptions(out=out, max_shard_size=SHARD_SIZE, workers=1)
    with pytest.raises(InputError, match=r"\.jpg: changed while the build ran .*run the build again to resume"):
        build_coco(options)
    assert not (out / "manifest.json").exists()
    finished = list((out / STAGING).glob("data/*.parquet"))
    assert finished

    monkeypatch.setattr(relaug.images, "_read_stored", read)
    report = build_coco(options)
    assert report.shards_reused == len(finished)
    assert _shards(out) == _shards(reference.out)


def test_a_disk_that_fills_up_stops_the_build_with_one_line_and_it_resumes(reference, tmp_path, monkeypatch):
    """The fifth shard's write fails as a full disk makes it fail: exit code 1 and one line
    naming --out; the four shards before it are sealed, and the rerun reuses them."""
    out = tmp_path / "shards"
    write = relaug.build.write_shard
    filling_up, calls = disk_full_at(write, 5)
    monkeypatch.setattr(relaug.build, "write_shard", filling_up)
    command = ["build-coco", "--out", str(out), "--max-shard-size", SHARD_SIZE, "--workers", "1"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == (  # after the progress of the stages before
        f"relaug: error: --out {out}: writing stopped ([Errno 28] No space left on device); the shards "
        "finished so far are kept: make room or fix the cause, then run the same command again to resume"
    )
    assert not (out / "manifest.json").exists()
    assert sorted(p.relative_to(out / STAGING).as_posix() for p in (out / STAGING).glob("*/*.parquet")) == sorted(calls[:4])

    monkeypatch.setattr(relaug.build, "write_shard", write)
    monkeypatch.setattr(relaug.build, "_mine_and_check", _not_again)
    report = build_coco(BuildOptions(out=out, max_shard_size=SHARD_SIZE, workers=1))
    assert report.shards_reused == 4 and report.corpus_reused
    assert report.triples_mined == reference.triples_mined and report.skipped == reference.skipped
    assert _shards(out) == _shards(reference.out)


def _not_again(*args, **kwargs):
    raise AssertionError("mined, checked and built negatives again")


def test_a_resumed_build_mines_again_when_an_image_file_changed(reference, tmp_path, monkeypatch):
    """The kept corpus holds image checks: a file touched since makes the rerun redo them."""
    root = tmp_path / "coco"
    shutil.copytree(SAMPLE_ROOT, root)
    options = BuildOptions(
        out=tmp_path / "shards", coco_root=root, max_shard_size=SHARD_SIZE, workers=1,
        reference_captions=relaug.build.SAMPLE_REFERENCE,  # as the bundled sample's build has
    )  # fmt: skip
    write = relaug.build.write_shard

    def stopping(root, shard, rows, image_bytes):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(relaug.build, "write_shard", stopping)
    with pytest.raises(StoppedError):
        build_coco(options)
    monkeypatch.setattr(relaug.build, "write_shard", write)
    image = next(root.glob("val2017/*.jpg"))
    os.utime(image, ns=(image.stat().st_atime_ns, image.stat().st_mtime_ns + 1))
    assert not build_coco(options).corpus_reused
    shards = {name: data for name, data in _shards(options.out).items() if name.endswith(".parquet")}
    assert shards == {name: data for name, data in _shards(reference.out).items() if name.endswith(".parquet")}


@pytest.mark.slow
def test_ctrl_c_stops_the_build_with_one_line_and_it_resumes(reference, tmp_path):
    out = tmp_path / "shards"
    command = [
        sys.executable, "-m", "relaug", "build-coco", "--out", str(out), "--max-shard-size", SHARD_SIZE,
        "--reference-captions", str(relaug.build.SAMPLE_REFERENCE),  # the tests' own default (conftest.py)
    ]  # fmt: skip
    build = _build_until_its_first_shard(
        [*command, "--workers", "1"], out, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    build.send_signal(signal.SIGINT)
    _, stderr = build.communicate(timeout=60)
    assert build.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        "relaug: interrupted; the shards finished so far are kept: run the same command again to resume"
    )
    finished = _finished_before_kill(out)
    assert finished

    report = build_coco(BuildOptions(out=out, max_shard_size=SHARD_SIZE, workers=1))
    assert report.shards_reused == len(finished)
    assert _shards(out) == _shards(reference.out)

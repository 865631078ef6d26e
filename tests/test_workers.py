"""Worker processes start lean: a core English pipeline's workers never import torch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from relaug.workers import installed_english_pipeline, spacy_only, worker_pool


def _set_up() -> None:
    import spacy  # noqa: F401  # what a mining worker's set-up imports first


def _imported() -> tuple[bool, bool]:
    import thinc.compat

    return "torch" in sys.modules, thinc.compat.has_torch


def test_workers_of_a_spacy_only_pipeline_do_not_import_torch():
    with worker_pool(1, _set_up, (), spacy_only=True) as executor:
        assert executor.submit(_imported).result() == (False, False)
    with worker_pool(1, _set_up, (), spacy_only=False) as executor:
        assert executor.submit(_imported).result() == (True, True)


def test_only_pipelines_requiring_nothing_but_spacy_are_spacy_only(tmp_path):
    assert spacy_only(installed_english_pipeline())
    transformer = tmp_path / "en_core_web_trf"
    transformer.mkdir()
    (transformer / "meta.json").write_text(
        json.dumps({"lang": "en", "name": "core_web_trf", "requirements": ["spacy-transformers>=1.3.4,<1.4.0"]})
    )
    assert not spacy_only(str(transformer))
    assert not spacy_only("en_no_such_pipeline")


def test_ctrl_c_reaching_a_worker_leaves_it_to_the_parent():
    """Ctrl-C signals every process of the terminal's group: a worker carries on (no traceback
    of its own), and the parent, interrupted, shuts the pool down."""
    with worker_pool(1, _set_up, (), spacy_only=True) as executor:
        worker = executor.submit(os.getpid).result()
        os.kill(worker, signal.SIGINT)
        assert executor.submit(os.getpid).result() == worker


# A parent that starts one worker, says its pid, and waits to be killed.
PARENT = """
import os, time
from relaug.workers import installed_english_pipeline
from relaug.workers import spacy_only, worker_pool
pool = worker_pool(1, os.getpid, (), spacy_only=False)
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie left for a parent that does not reap."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_a_worker_ends_soon_after_its_parent_is_killed():
    """kill -9 or a scheduler's SIGTERM on a build must not leave its workers waiting forever."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    assert _running(worker)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _running(worker):
        assert time.monotonic() < deadline, f"worker {worker} outlived its parent by 10 s"
        time.sleep(0.1)


def test_relaug_mine_starts_without_torch(tmp_path):
    """Mining needs spaCy alone: torch (a second of start-up) is not imported for it."""
    captions = tmp_path / "two.jsonl"
    captions.write_text('{"caption_id": 1, "image_id": 1, "caption": "A dog chasing a cat."}\n')
    code = (
        "import sys; from relaug.cli import app; "
        f"app(['mine', '--out', {str(tmp_path / 'out.jsonl')!r}, {str(captions)!r}], standalone_mode=False); "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "out.jsonl").read_text().count("chase") == 1

"""notebooks/explore_shards.ipynb runs top to bottom on the bundled sample."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # see pyproject.toml: not in the fast tier

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_shards.ipynb"


def test_explore_shards_notebook_runs(sample_shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The session's sample build is reused; the kernel inherits the environment.
    monkeypatch.setenv("RELAUG_SHARDS", str(sample_shards))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the grid and the distributions
    assert any("negatives:" in o.get("text", "") for o in outputs)
    assert os.environ["RELAUG_SHARDS"] == str(sample_shards)

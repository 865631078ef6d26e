"""What several test modules check the same way (tests/ is on the path, as for conftest.py)."""

from __future__ import annotations


def one_line_error(result) -> str:
    """The one line a CLI run printed for bad input, having exited with code 2 and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]

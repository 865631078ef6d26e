"""What several test modules check the same way (tests/ is on the path, as for conftest.py)."""

from __future__ import annotations


def one_line_error(result) -> str:
    """The one line a CLI run printed for bad input, having exited with code 2 and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def disk_full_at(write, nth: int):
    """`write` (relaug.build's write_shard) failing at its `nth` call as a full disk makes it fail,
    and the list of the shard paths it was called with."""
    import errno

    calls: list[str] = []

    def filling_up(root, shard, rows, image_bytes):
        calls.append(shard.path)
        if len(calls) == nth:
            raise OSError(errno.ENOSPC, "No space left on device")
        write(root, shard, rows, image_bytes)

    return filling_up, calls

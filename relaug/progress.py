"""How a long job tells its caller how far it has got: the library reports, the CLI draws.

A job (`relaug.mine.mine_file`, `relaug.build.build_coco`, the trainer, `relaug eval`)
takes a `Progress` and prints nothing itself. From Python the default, `SILENT`,
reports to no one; `relaug.cli` passes one that draws bars and notes on stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    def start(self, description: str, total: int, done: int = 0) -> Callable[[int], None]:
        """A stage of `total` units begins (`done` of them already, on a resumed run); call
        what this returns with each number of units finished."""

    def note(self, message: str) -> None:
        """Something the user should know, such as a fallback taken ("training in fp32 on the CPU")."""


class _Silent:
    def start(self, description: str, total: int, done: int = 0) -> Callable[[int], None]:
        return _ignore

    def note(self, message: str) -> None:
        pass


def _ignore(units: int) -> None:
    pass


SILENT: Progress = _Silent()

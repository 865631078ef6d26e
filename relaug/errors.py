"""The two error types that are not bugs: the user's input is wrong, or the machine stopped the run.

The CLI turns each into a one-line message, with exit code 2 for bad input (a
usage error) and 1 for a run the machine stopped. Each message names the file
or option, what is wrong, and what to do.
"""

from __future__ import annotations


class InputError(ValueError):
    """A file, directory or option given to relaug cannot be used as it is."""


class StoppedError(RuntimeError):
    """The machine stopped the run part way: a full disk, an I/O error, a worker process
    killed (most often for lack of memory). What was finished is kept."""


def unwritable_out(out: object, error: OSError, option: str = "--out") -> InputError:
    """The error for an output (`option`, --out by default) that cannot be created or written."""
    return InputError(f"{option} {out}: cannot write there ({error.strerror or error})")

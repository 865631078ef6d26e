"""The two error types that are not bugs: the user's input is wrong, or the output could not be written.

The CLI turns each into a one-line message, with exit code 2 for bad input (a
usage error) and 1 for output that could not be written. Each message names the
file or option, what is wrong, and what to do.
"""

from __future__ import annotations


class InputError(ValueError):
    """A file, directory or option given to relaug cannot be used as it is."""


class OutputError(OSError):
    """Writing the output failed part way (a full disk, an I/O error); what was finished is kept."""

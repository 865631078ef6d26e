"""The one error type that means "the user's input is wrong", as opposed to a bug.

The CLI turns it into a one-line message and exit code 2; Python callers can
catch it as a `ValueError`. Its message names the file or option, what is wrong
with it, and the fix.
"""

from __future__ import annotations


class InputError(ValueError):
    """A file, directory or option given to relaug cannot be used as it is."""

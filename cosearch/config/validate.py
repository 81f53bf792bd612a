"""The one error type the command line turns into a one-line message and exit status 2."""
from __future__ import annotations


class UsageError(ValueError):
    """Bad input (a budget, a flag, a config, a storage URL): the message names the field and what it accepts."""

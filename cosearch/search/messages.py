"""What a run says while it works: plain progress lines, and `Notice`s, the lines a user must see even when
progress lines are off (`--quiet`): a wait for a lock, a repair of the storage, outputs removed."""
from __future__ import annotations


class Notice(str):
    """A message that matters whatever the verbosity: a command line prints it on stderr even with --quiet."""

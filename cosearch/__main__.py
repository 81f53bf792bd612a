"""`python -m cosearch`: the co-search's command line (`cosearch.command`). A Ctrl-C while the libraries load is one
line and status 130 (`cosearch._load_guard`, which also covers the package's own imports)."""
import sys

from ._load_guard import guarded_load

with guarded_load():
    from .command import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m cosearch"))

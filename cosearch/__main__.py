"""`python -m cosearch`: the co-search's command line (`cosearch.command`)."""
import sys

from .command import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m cosearch"))

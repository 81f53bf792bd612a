"""Check the cost model against a Timeloop reference corpus (the checker is `accel_models.timeloop.corpus_check`).

    python -m accel_models.check_timeloop [CASES.jsonl[.gz]] [--reference] [--verbose]
"""
import sys

from .timeloop.corpus_check import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m cosearch.search.worker_process JOB INDEX QUOTA TAG`: one worker process of `run_worker_processes`.

Not imported by the package (so that running it with -m imports it once); the job is the pickled
(settings, deadline, parent pid) the parent wrote.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .workers import worker_process_main

if __name__ == "__main__":
    job, index, quota, tag = sys.argv[1:5]
    sys.exit(worker_process_main(Path(job), int(index), int(quota), tag))

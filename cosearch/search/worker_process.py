"""`python -m cosearch.search.worker_process JOB INDEX TAG`: one worker process of `start_worker_processes`.

Not imported by the package (so that running it with -m imports it once); the job is the pickled
(settings, deadline, parent pid) the parent wrote.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .workers import worker_process_main

if __name__ == "__main__":
    job, index, tag = sys.argv[1:4]
    sys.exit(worker_process_main(Path(job), int(index), tag))

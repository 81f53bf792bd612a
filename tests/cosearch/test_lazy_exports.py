"""`cosearch` and `cosearch.search` load their public names on first use (`nets.lazy`): in a new process,
`import cosearch` leaves the search and the report unloaded, and each name, submodule or export, is there when used."""
import subprocess
import sys

import pytest

from _cosearch_cli import ROOT, cli_env

PROBE = """
import sys
import cosearch
assert "cosearch.report" not in sys.modules and "cosearch.pipeline" not in sys.modules
assert cosearch.search.driver.__name__ == "cosearch.search.driver"     # a submodule, through the package
assert callable(cosearch.run) and "cosearch.pipeline" in sys.modules  # an export
assert "run" in dir(cosearch) and "ProgressDisplay" in dir(cosearch)
try:
    cosearch.no_such_name
except AttributeError as exc:
    assert "no_such_name" in str(exc)
else:
    raise AssertionError("an unknown name was found")
print("ok")
"""


@pytest.mark.slow
def test_names_and_submodules_load_on_first_use():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=cli_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]

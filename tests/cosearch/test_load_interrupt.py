"""`python -m cosearch` and the `cosearch` console script: a Ctrl-C while the libraries load ends with one line and
status 130 (`cosearch._load_guard`), as run_cosearch.py's does. The interrupt is made to land in the load for sure: a
`numba` placed first on the path (the compiler the cost model needs, so the package cannot load without it) raises
KeyboardInterrupt when the package imports it."""
import os
import subprocess
import sys

import pytest

from _cosearch_cli import CLI, ROOT, cli_env, cli_module
from cosearch import _load_guard

CONSOLE_SCRIPT = "import re, sys\nfrom cosearch.command import console\nif __name__ == '__main__':\n    sys.exit(console())\n"
"""What pip writes as the `cosearch` console script (`[project.scripts]`), in a file named `cosearch`."""


def _run(tmp_path, argv, interrupt_module="numba", module_text="raise KeyboardInterrupt\n"):
    """`argv` run with `interrupt_module` replaced by one whose import runs `module_text` (a Ctrl-C by default)."""
    fake = tmp_path / "fake" / interrupt_module
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(module_text)
    env = cli_env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "fake"), str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("entry", ["python -m cosearch", "cosearch"])
def test_ctrl_c_while_loading_is_one_line_and_status_130(tmp_path, entry):
    if entry == "cosearch":
        (tmp_path / "cosearch").write_text(CONSOLE_SCRIPT)
        argv = [str(tmp_path / "cosearch"), "--version"]
    else:
        argv = ["-m", "cosearch", "--version"]
    done = _run(tmp_path, argv)
    assert done.returncode == 130, done.stderr[-3000:]
    assert done.stderr.splitlines() == [f"{entry}: error: interrupted; finished trials are kept: re-run the same "
                                        "command to resume"], done.stderr[-3000:]


def test_run_cosearch_reads_an_import_error_raised_while_handling_ctrl_c_as_the_interrupt(tmp_path):
    """run_cosearch.py loads the package itself: an interrupt that a C extension's set-up turns into an ImportError
    (as numba's does) ends it with its one line and status 130, as a plain Ctrl-C does."""
    done = _run(tmp_path, [str(CLI), "--version"],
                module_text="try:\n    raise KeyboardInterrupt\nexcept KeyboardInterrupt:\n"
                            "    raise ImportError('numba._devicearray failed to import')\n")
    assert done.returncode == 130, done.stderr[-3000:]
    assert done.stderr.splitlines() == ["run_cosearch.py: error: interrupted; finished trials are kept: re-run the "
                                        "same command to resume"], done.stderr[-3000:]


def test_a_program_that_imports_cosearch_keeps_its_keyboard_interrupt(tmp_path):
    done = _run(tmp_path, ["-c", "import cosearch"])
    assert done.returncode != 130 and "KeyboardInterrupt" in done.stderr, done.stderr[-3000:]


def _raised_while_handling(first: BaseException, then: BaseException) -> BaseException:
    try:
        try:
            raise first
        except BaseException:
            raise then
    except BaseException as exc:
        return exc


def _script_rule():
    """run_cosearch.py's reading of the rule (the script asks it before the package has loaded, or after its import
    failed)."""
    return cli_module("run_cosearch_interrupts").interrupted_import


@pytest.mark.parametrize("rule", [lambda: _load_guard.caused_by_interrupt, _script_rule],
                         ids=["cosearch._load_guard", "run_cosearch.py"])
def test_an_import_error_raised_while_handling_an_interrupt_is_the_interrupt(rule):
    """A Ctrl-C landing inside numba's C module set-up reaches the loader as an ImportError raised while handling the
    KeyboardInterrupt: it is the interrupt (one line, status 130); a real ImportError, or one caused by anything
    else, is not. The package's guard and run_cosearch.py's keep the same rule."""
    caused_by_interrupt = rule()
    assert caused_by_interrupt(KeyboardInterrupt())
    assert caused_by_interrupt(_raised_while_handling(KeyboardInterrupt(),
                                                      ImportError("numba._devicearray failed to import")))
    assert not caused_by_interrupt(ImportError("No module named 'torch'"))
    assert not caused_by_interrupt(_raised_while_handling(ValueError("bad"), ImportError("failed to import")))


def test_the_message_is_the_commands():
    from cosearch.command import INTERRUPTED
    assert _load_guard.MESSAGE == f"error: {INTERRUPTED}"

"""Helpers of the co-search tests: the command line as a subprocess or as a module, the trials of a storage."""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "run_cosearch.py"
TINY = ["--trials", "3", "--population", "2", "--generations", "1", "--mapper-evals", "32",
        "--final-mapper-evals", "64", "--polish-evals", "0"]
"""Loop sizes that make a trial take a fraction of a second; no polish (its own tests run it)."""


def cli_env() -> dict:
    env = dict(os.environ)
    env.pop("COSEARCH_OFA_PREDICTOR", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_cli(args: list[str], cwd: Path, timeout: float = 120.0, **kwargs) -> subprocess.CompletedProcess:
    """run_cosearch.py with `args` in `cwd`; stdout and stderr captured as text."""
    return subprocess.run([sys.executable, str(CLI), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=cli_env(), **kwargs)


def run_main(args: list[str], capsys, prog: str = "run_cosearch.py") -> tuple[int, str, str]:
    """`cosearch.command.main` on `args` in this process under the name `prog`: (exit status, stdout, stderr)."""
    from cosearch import command

    try:
        status = command.main(args, prog=prog)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def cli_module(name: str = "run_cosearch_under_test"):
    """run_cosearch.py loaded as a module named `name`. The script sets a SIGTERM handler as it loads (a program's,
    for the libraries' load): taken back here, so that the test process's handlers stay as they were."""
    spec = importlib.util.spec_from_file_location(name, CLI)
    module = importlib.util.module_from_spec(spec)
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        spec.loader.exec_module(module)
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    return module


def study_trials(db: Path, study_name: str | None = None):
    """The trials of the (only, or named) study in an SQLite storage."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{db}"
    if study_name is None:
        (summary,) = optuna.get_all_study_summaries(storage)
        study_name = summary.study_name
    return optuna.load_study(study_name=study_name, storage=storage).get_trials(deepcopy=False)

"""Malformed budgets, flags, configs and storage URLs: each a one-line error and exit status 2, no traceback."""
import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from _cosearch_cli import TINY, run_cli

_GOOD = {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "r": 128}


def _config(**changes) -> str:
    return json.dumps({**_GOOD, **changes})


_MISSING_DRIVER = next(
    (url for url, module in (("postgresql://u:p@localhost/db", "psycopg2"), ("mysql://u:p@localhost/db", "MySQLdb"),
                             ("mysql+pymysql://u:p@localhost/db", "pymysql"))
     if importlib.util.find_spec(module) is None), None)

CASES = {
    # budgets
    "no unit": ["--budget", "area=5"],
    "unknown area unit": ["--budget", "area=5km2"],
    "negative area": ["--budget", "area=-5mm2"],
    "zero area": ["--budget", "area=0mm2"],
    "no area term": ["--budget", "latency<=10ms"],
    "latency as floor": ["--budget", "area=5mm2,latency>=10ms"],
    "accuracy as bound": ["--budget", "area=5mm2,accuracy<=0.7"],
    "accuracy above 1": ["--budget", "area=5mm2,accuracy>=1.5"],
    "empty term": ["--budget", "area=5mm2,,latency<=1ms"],
    "unknown field": ["--budget", "size=5mm2"],
    "area twice": ["--budget", "area=5mm2", "--budget", "area=4mm2"],
    "energy in watts": ["--budget", "area=5mm2,energy<=2mW"],
    "power not a number": ["--budget", "area=5mm2,power<=fastW"],
    "area nan": ["--budget", "area=nanmm2"],
    "area below any design": ["--budget", "area=0.01um2"],
    # flags
    "zero trials": ["--trials", "0"],
    "trials not int": ["--trials", "abc"],
    "zero workers": ["--workers", "0"],
    "unknown sampler": ["--sampler", "foo"],
    "unknown space": ["--space", "ofa-foo"],
    "bad time limit": ["--time-limit", "soon"],
    "negative time limit": ["--time-limit", "-5"],
    "negative seed": ["--seed", "-1"],
    "unknown network": ["--network", "foonet"],
    "unknown flag": ["--frobnicate"],
    "accuracy above 1 flag": ["--accuracy", "1.5"],
    "accuracy with fixed network": ["--network", "resnet50", "--accuracy", "0.8"],
    "accuracy flags disagree": ["--accuracy", "0.7", "--budget", "area=5mm2,accuracy>=0.8"],
    "population 1": ["--population", "1"],
    "mapper evals 0": ["--mapper-evals", "0"],
    "missing predictor": ["--predictor", "/nonexistent/acc.pth"],
    "accuracy floor unreachable": ["--accuracy", "0.95", "--trials", "1"],
    "empty study name": ["--study-name", ""],
    # configs
    "config missing keys": ["--network", '{"ks": [3]}'],
    "config kernel 4": ["--network", _config(ks=[4] * 20)],
    "config resolution 100": ["--network", _config(r=100)],
    "config depth 5": ["--network", _config(d=[5] * 5)],
    "config unknown key": ["--network", _config(x=1)],
    "config wrong length": ["--network", _config(e=[3] * 19)],
    "config bad json": ["--network", '{"ks": [3,'],
    "config file missing": ["--network", "missing_config.json"],
    # storage URLs
    "unknown scheme": ["--storage", "foo://bar"],
    "sqlite two slashes": ["--storage", "sqlite://relative.db"],
    "sqlite no path": ["--storage", "sqlite:///"],
    "sqlite in memory": ["--storage", "sqlite:///:memory:"],
    "postgres no host": ["--storage", "postgresql://user@/db"],
    "postgres no database": ["--storage", "postgresql://user@host/"],
    "mysql unknown driver": ["--storage", "mysql+foo://u@h/db"],
    "journal no path": ["--storage", "journal:"],
    "storage unknown form": ["--storage", "mystudy.txt"],
    "sqlite unwritable dir": ["--storage", "sqlite:////proc/no/such/dir/x.db"],
    "storage not a database": ["--storage", "notes.db"],
    "out is a file": ["--out", "notes.db"],
}
if _MISSING_DRIVER:
    CASES["rdb driver missing"] = ["--storage", _MISSING_DRIVER]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli_errors")
    (cwd / "notes.db").write_text("not a database\n")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(run_cli, args + ["--out", "out"] if "--out" not in args else args, cwd, 120)
                   for name, args in CASES.items()}
        return {name: f.result() for name, f in futures.items()}


def test_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", list(CASES))
def test_one_line_exit_2(outcomes, name):
    proc = outcomes[name]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert len(lines) == 1 and lines[0].startswith("run_cosearch.py: error: "), proc.stderr


def test_resuming_with_other_settings_is_refused(finished_run):
    proc = run_cli(["--budget", "area=4mm2", "--out", str(finished_run), "--study-name",
                    json.loads((finished_run / "result.json").read_text())["study"]["name"], *TINY],
                   cwd=finished_run.parent)
    assert proc.returncode == 2 and "different search" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr

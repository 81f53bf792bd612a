"""Bad input, as a careful new user and a reliability engineer would try it: budgets, flags, configs,
storage URLs, network names, files, and misuse of the Python API of every package.

Each case must end in exit status 2 with ONE line `run_cosearch.py: error: ...` (or `python -m
accel_models.check_timeloop: error: ...`), or in the documented exception type (`ValueError`, of which
`cosearch.UsageError` is one), with a one-line message that names the field and what it accepts. The command
line runs in-process (a few cases also as real subprocesses, at the end); every call is cut off by an alarm, so
that a hang fails instead of stalling the suite. Cases that could start a search carry tiny loop sizes first, so
that one that wrongly passes fails fast on its exit status.
"""
from __future__ import annotations

import gzip
import importlib.util
import json
import math
import os
import pickle
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "run_cosearch.py"
_spec = importlib.util.spec_from_file_location("run_cosearch_under_test", CLI)
run_cosearch = importlib.util.module_from_spec(_spec)
_sigterm = signal.getsignal(signal.SIGTERM)
_spec.loader.exec_module(run_cosearch)
signal.signal(signal.SIGTERM, _sigterm)  # the script's own, set as it loads (for a program's imports): not this process's

CASE_SECONDS = 60
"""A case still running after this long has hung (the slowest legitimate ones load torch and OFA's predictor)."""
GUARD = ["--trials", "1", "--population", "2", "--generations", "0", "--mapper-evals", "16",
         "--final-mapper-evals", "16", "--time-limit", "20", "--quiet"]
"""Put before every case (argparse keeps an option's last value): a case that wrongly passes runs a tiny search."""
GOOD = {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "r": 128}


@contextmanager
def _deadline(seconds: float = CASE_SECONDS):
    def _hung(signum, frame):
        raise TimeoutError(f"hung: still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _config(**changes) -> str:
    return json.dumps({**GOOD, **changes})


class _Evil:
    """A pickle that would create a file if it were ever unpickled with arbitrary code allowed."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder of bad files: a text file posing as a database, empty files, folders with file names, junk."""
    import torch

    d = tmp_path_factory.mktemp("bad_files")
    (d / "notes.db").write_text("not a database\n")
    (d / "empty.db").write_bytes(b"")
    (d / "empty.log").write_bytes(b"")
    (d / "afile").write_text("a file, not a folder\n")
    for folder in ("dir.db", "dir.json", "dir.pth", "dir.yaml", "dir.log"):
        (d / folder).mkdir()
    (d / "junk.json").write_text('{"a": 1}\n')
    (d / "binary.json").write_bytes(bytes(range(256)) * 4)
    (d / "list.json").write_text("[1, 2, 3]\n")
    (d / "junk.pth").write_bytes(bytes(range(256)) * 12)
    torch.save(torch.zeros(3), d / "tensor.pth")
    torch.save({"x": torch.zeros(3)}, d / "wrong.pth")
    with (d / "evil.pth").open("wb") as f:
        pickle.dump(_Evil(str(d / "pwned")), f)
    (d / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (d / "empty.jsonl").write_text("")
    (d / "binary.jsonl").write_bytes(bytes(range(128, 256)) * 4)
    (d / "nofamily.jsonl").write_text('{"id": "x"}\n')
    (d / "plain.jsonl.gz").write_text('{"id": "x"}\n')            # named .gz, not gzip data
    (d / "cut.jsonl.gz").write_bytes(gzip.compress(b"\n".join(b"%d" % i for i in range(999)))[:-30])  # cut short
    (d / "garbage.log").write_bytes(b"garbage\nmore garbage\n")
    import sqlite3

    with sqlite3.connect(d / "foreign.db") as conn:
        conn.execute("CREATE TABLE studies (id INTEGER, name TEXT)")
    state = torch.load(ROOT / "nets" / "estimators" / "data" / "acc_predictor_mbv3_w1.2.pth", map_location="cpu",
                       weights_only=True)
    state["6.bias"][:] = float("nan")
    torch.save(state, d / "nan.pth")
    return d


# ---- the command line ----------------------------------------------------------------------------------------
CLI_CASES: dict[str, tuple[list[str], list[str]]] = {
    # budgets: (arguments, words the one-line message must hold: the field, then what it accepts)
    "budget no unit": (["--budget", "area=5"], ["budget area", "accepted units: mm2, um2"]),
    "budget unknown area unit": (["--budget", "area=5km2"], ["budget area", "unknown unit", "mm2, um2"]),
    "budget negative area": (["--budget", "area=-5mm2"], ["budget area", "must be > 0", "'-5mm2'"]),
    "budget zero area": (["--budget", "area=0mm2"], ["budget area", "must be > 0"]),
    "budget overflowing area": (["--budget", "area=1e400mm2"], ["budget area", "too large"]),
    "budget area nan": (["--budget", "area=nanmm2"], ["budget area", "not a number with a unit"]),
    "budget area inf": (["--budget", "area=infmm2"], ["budget area", "not a number with a unit"]),
    "budget area huge": (["--budget", "area=20000mm2"], ["budget area", "10000 mm2"]),
    "budget below any design": (["--budget", "area=0.01um2"], ["budget area", "smallest design", "accepted: an area >="]),
    "budget no area term": (["--budget", "latency<=10ms"], ["budget", "area term is required", "area=5mm2"]),
    "budget latency as floor": (["--budget", "area=5mm2,latency>=10ms"], ["budget latency", "upper bound"]),
    "budget negative latency": (["--budget", "area=5mm2,latency<=-1ms"], ["budget latency", "must be > 0"]),
    "budget zero latency": (["--budget", "area=5mm2,latency<=0ms"], ["budget latency", "must be > 0"]),
    "budget latency unit": (["--budget", "area=5mm2,latency<=5parsecs"], ["budget latency", "s, ms, us, m, min, h"]),
    "budget accuracy as bound": (["--budget", "area=5mm2,accuracy<=0.7"], ["budget accuracy", "floor"]),
    "budget accuracy above 1": (["--budget", "area=5mm2,accuracy>=1.5"], ["budget accuracy", "above 1", "(0, 1]"]),
    "budget accuracy percent": (["--budget", "area=5mm2,accuracy>=150%"], ["budget accuracy", "above 1"]),
    "budget accuracy unit": (["--budget", "area=5mm2,accuracy>=0.8x"], ["budget accuracy", "unknown unit"]),
    "budget accuracy negative": (["--budget", "area=5mm2,accuracy>=-0.5"], ["budget accuracy", "must be > 0"]),
    "budget empty term": (["--budget", "area=5mm2,,latency<=1ms"], ["budget", "empty term", "area=5mm2"]),
    "budget empty": (["--budget", ""], ["budget", "empty term"]),
    "budget unknown field": (["--budget", "size=5mm2"], ["budget", "unknown field", "area, latency, energy"]),
    "budget area twice": (["--budget", "area=5mm2", "--budget", "area=4mm2"], ["budget area", "more than once"]),
    "budget energy in watts": (["--budget", "area=5mm2,energy<=2mW"], ["budget energy", "J, mJ, uJ, nJ"]),
    "budget negative energy": (["--budget", "area=5mm2,energy<=-2mJ"], ["budget energy", "must be > 0"]),
    "budget power not a number": (["--budget", "area=5mm2,power<=fastW"], ["budget power", "W, mW, uW"]),
    "budget power overflow": (["--budget", "area=5mm2,power<=1e999W"], ["budget power", "too large"]),
    "budget no operator": (["--budget", "area"], ["budget", "cannot read", "FIELD<=VALUE"]),
    "budget semicolon": (["--budget", "area=5mm2;latency<=1ms"], ["budget area", "not a number with a unit"]),
    "budget double equals": (["--budget", "area==5mm2"], ["budget area", "not a number with a unit"]),
    "match resources below any design": (["--match-resources", "eyeriss", "--budget", "area=0.001mm2"],
                                         ["--budget", "--match-resources eyeriss", "give one bound"]),
    # flags
    "trials zero": (["--trials", "0"], ["--trials", "integer >= 1 and <= 1000000"]),
    "trials negative": (["--trials", "-1"], ["--trials", "integer >= 1"]),
    "trials text": (["--trials", "abc"], ["--trials", "integer >= 1", "'abc'"]),
    "trials fraction": (["--trials", "1.5"], ["--trials", "integer >= 1"]),
    "trials too many": (["--trials", "10000000"], ["--trials", "<= 1000000"]),
    "trials missing value": (["--trials"], ["--trials", "expected one argument"]),
    "workers zero": (["--workers", "0"], ["--workers", "integer >= 1 and <= 64"]),
    "workers too many": (["--workers", "65"], ["--workers", "<= 64"]),
    "workers text": (["--workers", "two"], ["--workers", "integer >= 1"]),
    "seed negative": (["--seed", "-1"], ["--seed", "integer >= 0 and <= 2147483647"]),
    "seed too big": (["--seed", str(2**31)], ["--seed", "<= 2147483647"]),
    "seed text": (["--seed", "lucky"], ["--seed", "integer >= 0"]),
    "sampler unknown": (["--sampler", "foo"], ["--sampler", "accepted: cmaes, tpe, random, nsga2"]),
    "sampler empty": (["--sampler", ""], ["--sampler", "accepted: cmaes"]),
    "space unknown": (["--space", "ofa-foo"], ["--space", "accepted: ofa-mbv3, ofa-proxyless, ofa-resnet50"]),
    "time limit word": (["--time-limit", "soon"], ["--time-limit", "accepted: a duration >= 0"]),
    "time limit negative": (["--time-limit", "-5"], ["--time-limit", "must be a duration >= 0", "'-5'"]),
    "time limit negative with unit": (["--time-limit", "-5s"], ["--time-limit", "must be a duration >= 0", "'-5s'"]),
    "time limit days": (["--time-limit", "5d"], ["--time-limit", "s, ms, us, m, min, h"]),
    "time limit nan": (["--time-limit", "nan"], ["--time-limit", "accepted: a duration >= 0"]),
    "time limit overflow": (["--time-limit", "1e400s"], ["--time-limit", "accepted: a duration >= 0"]),
    "population one": (["--population", "1"], ["--population", "integer >= 2 and <= 1000"]),
    "generations negative": (["--generations", "-1"], ["--generations", "integer >= 0 and <= 1000"]),
    "mapper evals zero": (["--mapper-evals", "0"], ["--mapper-evals", "integer >= 16"]),
    "mapper evals too few": (["--mapper-evals", "8"], ["--mapper-evals", "integer >= 16"]),
    "final mapper evals too few": (["--final-mapper-evals", "15"], ["--final-mapper-evals", "integer >= 16"]),
    "accuracy above 1": (["--accuracy", "1.5"], ["--accuracy", "fraction in (0, 1]"]),
    "accuracy zero": (["--accuracy", "0"], ["--accuracy", "fraction in (0, 1]"]),
    "accuracy negative": (["--accuracy", "-0.5"], ["--accuracy", "fraction in (0, 1]"]),
    "accuracy text": (["--accuracy", "high"], ["--accuracy", "fraction in (0, 1]", "'high'"]),
    "accuracy nan": (["--accuracy", "nan"], ["--accuracy", "fraction in (0, 1]"]),
    "accuracy with fixed network": (["--network", "resnet50", "--accuracy", "0.8"], ["--accuracy", "fixed --network"]),
    "accuracy flags disagree": (["--accuracy", "0.7", "--budget", "area=5mm2,accuracy>=0.8"],
                                ["--accuracy 0.7", "accuracy>=0.8", "give one of them"]),
    "accuracy floor unreachable": (["--accuracy", "0.95"], ["accuracy floor 0.95", "largest subnet"]),
    "study name empty": (["--study-name", ""], ["--study-name", "1-200 printable characters"]),
    "study name too long": (["--study-name", "x" * 201], ["--study-name", "1-200 printable characters"]),
    "study name control character": (["--study-name", "a\tb"], ["--study-name", "printable"]),
    "match resources unknown": (["--match-resources", "tpu9"], ["--match-resources", "accepted: eyeriss"]),
    "unknown flag": (["--frobnicate"], ["unrecognized arguments: --frobnicate", "--help"]),
    "stray positional": (["resnet50"], ["unrecognized arguments: resnet50", "--help"]),
    "switch with a value": (["--quiet=yes"], ["--quiet", "ignored explicit argument"]),
    # objectives
    "objective unknown": (["--objective", "speed"],
                          ["--objective", "accepted: edp, latency, energy, accuracy, mnasnet"]),
    "objective empty": (["--objective", ""], ["--objective", "accepted: edp"]),
    "mnasnet without target": (["--objective", "mnasnet"], ["--objective mnasnet", "--target-latency", "latency<="]),
    "target latency zero": (["--objective", "mnasnet", "--target-latency", "0"], ["--target-latency", "duration > 0"]),
    "target latency negative": (["--objective", "mnasnet", "--target-latency", "-2ms"],
                                ["--target-latency", "duration >= 0"]),
    "target latency word": (["--objective", "mnasnet", "--target-latency", "soon"],
                            ["--target-latency", "accepted: a duration"]),
    "target latency unit": (["--objective", "mnasnet", "--target-latency", "2parsecs"],
                            ["--target-latency", "s, ms, us"]),
    "target latency without mnasnet": (["--target-latency", "2ms"], ["--target-latency", "--objective mnasnet only"]),
    "exponents without mnasnet": (["--objective", "latency", "--mnasnet-exponents", "hard"],
                                  ["--mnasnet-exponents", "--objective mnasnet only"]),
    "exponents positive": (["--objective", "mnasnet", "--target-latency", "2ms", "--mnasnet-exponents", "0.5,-1"],
                           ["--mnasnet-exponents", "[-10, 0]", "soft"]),
    "exponents one number": (["--objective", "mnasnet", "--target-latency", "2ms", "--mnasnet-exponents", "-0.07"],
                             ["--mnasnet-exponents", "accepted: soft (-0.07,-0.07), hard (0,-1)"]),
    "exponents text": (["--objective", "mnasnet", "--target-latency", "2ms", "--mnasnet-exponents", "gentle"],
                       ["--mnasnet-exponents", "cannot read", "ALPHA,BETA"]),
    "exponents nan": (["--objective", "mnasnet", "--target-latency", "2ms", "--mnasnet-exponents", "nan,-1"],
                      ["--mnasnet-exponents", "[-10, 0]"]),
    "accuracy objective on a zoo network": (["--network", "resnet50", "--objective", "accuracy"],
                                            ["--objective accuracy", "--network resnet50", "subnet search"]),
    "mnasnet on several networks": (["--networks", "resnet50,vgg16", "--objective", "mnasnet", "--target-latency",
                                     "2ms"], ["--objective mnasnet", "--networks", "subnet search"]),
    "pareto one metric": (["--pareto", "accuracy"], ["--pareto", "two or three", "latency, energy, accuracy, area"]),
    "pareto four metrics": (["--pareto", "accuracy,latency,energy,area"], ["--pareto", "two or three"]),
    "pareto unknown metric": (["--pareto", "accuracy,speed"], ["--pareto", "unknown metric 'speed'",
                                                               "latency, energy, accuracy, area"]),
    "pareto repeated metric": (["--pareto", "latency,latency"], ["--pareto", "two or three different"]),
    "pareto empty": (["--pareto", ""], ["--pareto", "unknown metric ''"]),
    "pareto with cmaes": (["--pareto", "accuracy,latency", "--sampler", "cmaes"],
                          ["--sampler cmaes", "with --pareto accepted: nsga2, tpe, random"]),
    "pareto and objective": (["--pareto", "accuracy,latency", "--objective", "latency"],
                             ["--pareto and --objective latency", "give one of them"]),
    "pareto accuracy on a zoo network": (["--network", "vgg16", "--pareto", "accuracy,latency"],
                                         ["--pareto accuracy", "--network vgg16"]),
    "latency table is a folder": (["--export-latency-table", "{files}"], ["--export-latency-table", "is a folder"]),
    "latency table folder missing": (["--export-latency-table", "/nonexistent/dir/t.csv"],
                                     ["--export-latency-table", "does not exist"]),
    "latency table in a file": (["--export-latency-table", "{files}/afile/t.csv"],
                                ["--export-latency-table", "is a file, not a folder"]),
    "latency table empty": (["--export-latency-table", ""], ["--export-latency-table", "file path"]),
    "efficientnet phi too large": (["--space", "efficientnet", "--network", '{"phi": 7.5}'],
                                   ["--network", "'phi'", "0 to 7 in steps of 0.01"]),
    "efficientnet phi off the grid": (["--space", "efficientnet", "--network", '{"phi": 1.234}'],
                                      ["--network", "'phi'", "steps of 0.01"]),
    "efficientnet phi text": (["--space", "efficientnet", "--network", '{"phi": "big"}'], ["--network", "'phi'"]),
    # networks
    "network unknown": (["--network", "foonet"], ["--network", "unknown network", "accepted: alexnet, vgg16, resnet50"]),
    "network empty": (["--network", ""], ["--network", "empty", "accepted"]),
    "network and networks": (["--network", "resnet50", "--networks", "vgg16,alexnet"], ["--networks and --network"]),
    "networks empty name": (["--networks", "resnet50,,vgg16"], ["--networks", "empty name", "accepted"]),
    "networks twice": (["--networks", "resnet50,resnet50"], ["--networks", "given twice"]),
    "networks unknown": (["--networks", "resnet50,foonet"], ["--networks", "unknown network", "accepted"]),
    "networks config": (["--networks", _config()], ["--networks", "only zoo names"]),
    "config missing keys": (["--network", '{"ks": [3]}'], ["--network", "missing", "'e'"]),
    "config kernel 4": (["--network", _config(ks=[4] * 20)], ["--network", "ks", "accepted values", "3, 5, 7"]),
    "config resolution 100": (["--network", _config(r=100)], ["--network", "'r'", "accepted values"]),
    "config depth 5": (["--network", _config(d=[5] * 5)], ["--network", "'d'", "accepted values"]),
    "config expand 5": (["--network", _config(e=[5] * 20)], ["--network", "'e'", "accepted values"]),
    "config negative resolution": (["--network", _config(r=-128)], ["--network", "'r'", "accepted values"]),
    "config text values": (["--network", _config(ks="abc")], ["--network", "ks"]),
    "config unknown key": (["--network", _config(x=1)], ["--network", "unknown config key", "'x'"]),
    "config wrong length": (["--network", _config(e=[3] * 19)], ["--network", "'e'", "20"]),
    "config bad json": (["--network", '{"ks": [3,'], ["--network", "invalid JSON config"]),
    "config file missing": (["--network", "missing_config.json"], ["--network", "no config file at"]),
    "config file is a folder": (["--network", "{files}/dir.json"], ["--network", "no config file at"]),
    "config file binary": (["--network", "{files}/binary.json"], ["--network", "cannot read a JSON config"]),
    "config file a list": (["--network", "{files}/list.json"], ["--network", "a config must be a mapping"]),
    "config file other keys": (["--network", "{files}/junk.json"], ["--network", "unknown config key"]),
    # files given as the predictor
    "predictor missing": (["--predictor", "/nonexistent/acc.pth"], ["--predictor", "no file at"]),
    "predictor folder": (["--predictor", "{files}/dir.pth"], ["--predictor", "no file at"]),
    "predictor json": (["--predictor", "{files}/junk.json"], ["--predictor", "weights_only=True", "expected OFA"]),
    "predictor random bytes": (["--predictor", "{files}/junk.pth"], ["--predictor", "weights_only=True"]),
    "predictor a tensor": (["--predictor", "{files}/tensor.pth"], ["--predictor", "holds a Tensor", "state dict"]),
    "predictor other weights": (["--predictor", "{files}/wrong.pth"], ["--predictor", "should have shape (400, 128)"]),
    "predictor malicious pickle": (["--predictor", "{files}/evil.pth"], ["--predictor", "weights_only=True"]),
    # output folders
    "out empty": (["--out="], ["--out", "expected a folder path"]),
    "out blank": (["--out", "   "], ["--out", "expected a folder path"]),
    "out is a file": (["--out", "{files}/afile"], ["--out", "is a file, not a folder"]),
    "out below a file": (["--out", "{files}/afile/sub"], ["--out", "is a file, not a folder", "cannot be a folder"]),
    "out not writable": (["--out", "/proc/1"], ["--out", "cannot write in /proc/1", "accepted: a folder you can"]),
    "out below an unwritable folder": (["--out", "/proc/1/cosearch_out"], ["--out", "cannot write in /proc/1"]),
    "out holds an empty database": (["--out", "{files}/emptyout"], ["--storage", "empty (0 bytes)", "--start-over"]),
    # storages
    "storage unknown scheme": (["--storage", "foo://bar"], ["--storage", "unsupported storage scheme", "accepted"]),
    "storage sqlite two slashes": (["--storage", "sqlite://relative.db"], ["--storage", "three slashes"]),
    "storage sqlite no path": (["--storage", "sqlite:///"], ["--storage", "needs a file path", "accepted"]),
    "storage sqlite in memory": (["--storage", "sqlite:///:memory:"], ["--storage", "in-memory", "accepted"]),
    "storage postgres no host": (["--storage", "postgresql://user@/db"], ["--storage", "no host", "HOST"]),
    "storage postgres no database": (["--storage", "postgresql://user@host/"], ["--storage", "names no database"]),
    "storage postgres bad port": (["--storage", "postgresql://u@h:notaport/db"], ["--storage", "malformed"]),
    "storage mysql unknown driver": (["--storage", "mysql+foo://u@h/db"], ["--storage", "unknown mysql driver",
                                                                          "accepted: pymysql"]),
    "storage postgres unknown driver": (["--storage", "postgresql+odbc://u@h/db"], ["--storage", "accepted: psycopg2"]),
    "storage journal no path": (["--storage", "journal:"], ["--storage", "needs a file path"]),
    "storage journal folder": (["--storage", "journal:{files}/dir.log"], ["--storage", "is a directory"]),
    "storage unknown form": (["--storage", "mystudy.txt"], ["--storage", "cannot tell what storage", "accepted"]),
    "storage empty": (["--storage", ""], ["--storage", "empty", "accepted"]),
    "storage folder missing": (["--storage", "sqlite:////nonexistent_cosearch_dir/sub/x.db"],
                               ["--storage", "does not exist", "create it first"]),
    "storage journal folder missing": (["--storage", "journal:/nonexistent_cosearch_dir/j.log"],
                                       ["--storage", "does not exist"]),
    "storage not a database": (["--storage", "{files}/notes.db"], ["--storage", "not an SQLite database"]),
    "storage a folder": (["--storage", "{files}/dir.db"], ["--storage", "is a directory"]),
    "storage empty database": (["--storage", "{files}/empty.db"], ["--storage", "empty (0 bytes)", "--start-over"]),
    "storage empty journal": (["--storage", "{files}/empty.log"], ["--storage", "empty (0 bytes)", "--start-over"]),
    "storage unwritable folder": (["--storage", "/proc/1/x.db"], ["--storage", "cannot write in /proc/1"]),
    "storage journal of garbage": (["--storage", "journal:{files}/garbage.log"],
                                   ["garbage.log", "not an Optuna journal record", "nothing was written"]),
    "storage foreign sqlite tables": (["--storage", "{files}/foreign.db"],
                                      ["--storage", "foreign.db", "table 'studies' is another program's",
                                       "nothing was written"]),
    # options the run would ignore, or would read as something else
    "space with a zoo network": (["--network", "resnet50", "--space", "vit-elastic"], ["--space", "no effect"]),
    "time limit empty": (["--time-limit", ""], ["--time-limit", "empty", "accepted"]),
    "area budget under match resources": (["--match-resources", "eyeriss", "--budget", "area=5mm2"],
                                          ["--budget", "--match-resources", "give one bound"]),
    "latency table on fixed devices": (["--accelerator", "eyeriss", "--export-latency-table", "t.csv"],
                                       ["--accelerator", "--export-latency-table"]),
    "out name too long": (["--out", "o" * 300], ["--out", "300 bytes long", "at most"]),
    "network nested deep": (["--network", "[" * 50_000 + "]" * 50_000], ["--network"]),
    "network object nested deep": (["--network", '{"a":' * 50_000 + "1" + "}" * 50_000], ["--network", "nests JSON"]),
    "predictor nan weights": (["--predictor", "{files}/nan.pth"], ["--predictor", "NaN", "nan.pth"]),
    # a fused group no design of the space can hold: said once, before the search (not each design's rejection)
    "fusion group no design holds": (["--network", "unet", "--fusion", "depth-first", "--fusion-groups", "0-1",
                                      "--budget", "area=0.5mm2"],
                                     ["--fusion-groups", "no design of the space can hold group 0-1 of unet",
                                      "largest global buffer under area<=0.5mm2", "accepted: "]),
    "fusion group of names no design holds": (["--network", "unet", "--fusion", "depth-first", "--fusion-groups",
                                               "2,down1.conv1-down1.conv2", "--budget", "area=0.5mm2"],
                                              ["--fusion-groups", "no design of the space can hold group"]),
}
_MISSING_DRIVER = next((url for url, module in (("mysql://u:p@localhost/db", "MySQLdb"),
                                                 ("mysql+pymysql://u:p@localhost/db", "pymysql"),
                                                 ("postgresql://u:p@localhost/db", "psycopg2"))
                        if importlib.util.find_spec(module) is None), None)
if _MISSING_DRIVER:
    CLI_CASES["storage driver missing"] = (["--storage", _MISSING_DRIVER], ["--storage", "pip install"])


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    with _deadline():
        try:
            status = run_cosearch.main(argv)
        except SystemExit as exc:
            status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_error(status: int, out: str, err: str, prog: str = "run_cosearch.py") -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, (status, err[-2000:])
    assert out == "" and "Traceback" not in err, err[-2000:]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    return lines[0]


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_command_line(name, files, tmp_path, monkeypatch, capsys):
    args, words = CLI_CASES[name]
    (files / "emptyout").mkdir(exist_ok=True)
    (files / "emptyout" / "cosearch.db").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COSEARCH_OFA_PREDICTOR", raising=False)
    args = [a.replace("{files}", str(files)) for a in args]
    guard = GUARD + ([] if any(a.startswith("--out") for a in args) else ["--out", str(tmp_path / "out")])
    line = _one_line_error(*_main(guard + args, capsys))
    for word in words:
        assert word.replace("{files}", str(files)) in line, (word, line)
    assert not (files / "pwned").exists()  # the malicious pickle never ran


@pytest.mark.slow
def test_unreachable_database_is_one_line_exit_1(tmp_path, monkeypatch, capsys):
    """A well-formed PostgreSQL URL whose server is not there: not bad input (exit 1), still one line."""
    if importlib.util.find_spec("psycopg2") is None:
        pytest.fail("psycopg2 is missing: it is in the test extra (pip install -e '.[test]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the socket closes
    monkeypatch.chdir(tmp_path)
    status, out, err = _main(GUARD + ["--storage", f"postgresql://u:secret@127.0.0.1:{port}/db", "--out", "o"], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 1 and len(lines) == 1 and "cannot open storage" in lines[0] and "secret" not in err, err


# ---- the Python API ------------------------------------------------------------------------------------------
def _api_cases():
    """(name, call, exception type, words): each call must raise that type with a one-line message holding the
    words (the field, then what it accepts)."""
    from accel_models import (Accelerator, Dataflow, MappingArrays, StorageLevel, build_accelerator, evaluate,
                              get_preset)
    from accel_models.cost_model import evaluate_batch
    from accel_models.timeloop import accelerator_from_timeloop, layer_from_timeloop
    from cosearch import AcceleratorSpace, UsageError, make_settings, parse_budget, parse_duration, parse_network
    from mappings import (CMAESStrategy, EvolutionStrategy, LevelMapping, RandomStrategy, best_mapping,
                          random_valid_mappings)
    from nets import Layer, get_network, get_space, parse_config
    from nets.estimators import OFAAccuracyPredictor

    layer = Layer.conv(16, 16, 3, 8)
    acc = get_preset("nvdla_256")
    maps = random_valid_mappings(layer, acc, 4, rng=0)
    dram = StorageLevel("DRAM", kind="DRAM")
    rf = StorageLevel("RF", capacity_words=64, kind="regfile")

    def level(**kw):
        return lambda: StorageLevel(**{"name": "RF", "capacity_words": 64, "kind": "regfile", **kw})

    def accel(**kw):
        return lambda: Accelerator(**{"name": "a", "levels": (dram, rf), "mac_energy_pj": 1.0, **kw})

    def batch(**fields):
        arrays = maps._asdict()
        arrays.update(fields)
        return lambda: evaluate_batch(layer, acc, MappingArrays(**arrays))

    def with_value(name, index, value, dtype=None):
        a = getattr(maps, name).astype(dtype or np.int64)
        a[index] = value
        return a

    def bm(**kw):
        return lambda: best_mapping(layer, acc, budget_evals=64, **kw)

    nan, inf = math.nan, math.inf
    V, U = ValueError, UsageError
    space = AcceleratorSpace(5.0)
    return [
        # cosearch.make_settings and the parsers: UsageError (a ValueError) naming the option
        ("make_settings(5)", lambda: make_settings(5), U, ["budget", "'area=5mm2'"]),
        ("make_settings(0)", lambda: make_settings(0), U, ["budget", "'area=5mm2'"]),
        ("make_settings budget list with a number", lambda: make_settings(["area=5mm2", 5]), U, ["budget", "got 5"]),
        ("make_settings trials text", lambda: make_settings(trials="5"), U, ["--trials", "integer >= 1"]),
        ("make_settings trials bool", lambda: make_settings(trials=True), U, ["--trials", "integer >= 1"]),
        ("make_settings trials None", lambda: make_settings(trials=None), U, ["--trials", "integer >= 1"]),
        ("make_settings time limit negative", lambda: make_settings(time_limit=-1), U, ["--time-limit", ">= 0"]),
        ("make_settings time limit list", lambda: make_settings(time_limit=[5]), U, ["--time-limit", "duration"]),
        ("make_settings out number", lambda: make_settings(out=5), U, ["--out", "folder path"]),
        ("make_settings network number", lambda: make_settings(network=5), U, ["--network", "got int 5"]),
        ("make_settings storage number", lambda: make_settings(storage=5), U, ["--storage", "got int 5"]),
        ("make_settings predictor number", lambda: make_settings(predictor=5), U, ["--predictor", "got int 5"]),
        ("AcceleratorSpace area text", lambda: AcceleratorSpace(area_budget_mm2="5"), U,
         ["area_budget_mm2", "a number > 0", "'5'"]),
        ("AcceleratorSpace.decode nan gene", lambda: space.decode([nan] * len(space.genes)), V,
         ["decode", "gene 'pes'", "[0, 1]"]),
        ("AcceleratorSpace.decode gene 5", lambda: space.decode([5.0] * len(space.genes)), V,
         ["decode", "[0, 1]", "5.0"]),
        ("random_valid_mappings n -1", lambda: random_valid_mappings(layer, acc, -1), V, ["n", "integer in [1,"]),
        ("random_valid_mappings n 0", lambda: random_valid_mappings(layer, acc, 0), V, ["n", "integer in [1,"]),
        ("Accelerator fan-outs of 2**40", lambda: Accelerator("a", (StorageLevel("DRAM", kind="DRAM", fanout_x=2**20,
                                                                                fanout_y=2**20), rf), 1.0),
         V, ["fanout_x x fanout_y", "at most"]),
        ("make_settings accuracy text", lambda: make_settings(accuracy="0.8"), U, ["--accuracy", "(0, 1]"]),
        ("make_settings start over text", lambda: make_settings(start_over="yes"), U, ["--start-over", "True or False"]),
        ("make_settings seed float", lambda: make_settings(seed=1.0), U, ["--seed", "integer >= 0"]),
        ("make_settings unknown keyword", lambda: make_settings(mapper_eval=64), TypeError, ["mapper_eval", "accepted"]),
        ("parse_budget number", lambda: parse_budget(3), U, ["budget", "'area=5mm2'"]),
        ("parse_budget None", lambda: parse_budget(None), U, ["budget", "'area=5mm2'"]),
        ("parse_duration nan", lambda: parse_duration(nan), U, ["--time-limit", ">= 0"]),
        ("parse_duration list", lambda: parse_duration([1]), U, ["--time-limit", "90s"]),
        ("parse_network unknown", lambda: parse_network("foonet"), U, ["--network", "accepted: alexnet"]),
        ("AcceleratorSpace zero area", lambda: AcceleratorSpace(0.0), U, ["area_budget_mm2", "> 0"]),
        ("AcceleratorSpace nan area", lambda: AcceleratorSpace(nan), U, ["area_budget_mm2", "> 0"]),
        ("AcceleratorSpace decode missing gene", lambda: AcceleratorSpace(5.0).decode({"pes": 0.5}), V,
         ["decode", "missing gene"]),
        ("AcceleratorSpace decode wrong length", lambda: AcceleratorSpace(5.0).decode([0.5, 0.5]), V,
         ["decode", "values"]),
        # nets
        ("Layer zero", lambda: Layer(C=0), V, ["Layer.C", "integer in [1, 2147483647]"]),
        ("Layer fraction", lambda: Layer(C=2.5), V, ["Layer.C", "integer in [1, 2147483647]"]),
        ("Layer text", lambda: Layer(R="3"), V, ["Layer.R", "integer in [1, 2147483647]"]),
        ("Layer bool", lambda: Layer(G=True), V, ["Layer.G", "integer in [1, 2147483647]"]),
        ("Layer 10**30", lambda: Layer(C=10**30), V, ["Layer.C", "integer in [1, 2147483647]"]),
        ("Layer 2**31", lambda: Layer(N=2**31), V, ["Layer.N", "integer in [1, 2147483647]"]),
        ("Layer stride 0", lambda: Layer(stride_w=0), V, ["Layer.stride_w", "integer in [1,"]),
        ("Layer MACs overflow", lambda: Layer(C=2**31 - 1, K=2**31 - 1, P=4), V, ["Layer", "at most 2**62"]),
        ("Layer name number", lambda: Layer(name=5), V, ["Layer.name", "string"]),
        ("Layer.conv kernel 2.5", lambda: Layer.conv(16, 16, 2.5, 8), V, ["Layer.conv kernel", "integer in [1,"]),
        ("Layer.conv kernel triple", lambda: Layer.conv(16, 16, (3, 3, 3), 8), V, ["Layer.conv kernel", "pair"]),
        ("Layer.conv out_hw zero", lambda: Layer.conv(16, 16, 3, 0), V, ["Layer.conv out_hw", "integer in [1,"]),
        ("Layer.conv c_in float", lambda: Layer.conv(16.0, 16, 3, 8), V, ["Layer.conv c_in", "integer in [1,"]),
        ("Layer.conv groups 0", lambda: Layer.conv(16, 16, 3, 8, groups=0), V, ["Layer.conv groups", "integer"]),
        ("Layer.conv groups 3", lambda: Layer.conv(16, 16, 3, 8, groups=3), V, ["Layer.G", "must divide"]),
        ("Layer.fc zero", lambda: Layer.fc(0, 10), V, ["Layer.C", "integer in [1,"]),
        ("Layer.from_dims unknown", lambda: Layer.from_dims({"X": 2}), V, ["unknown dimension", "accepted: R"]),
        ("get_network unknown", lambda: get_network("foonet"), V, ["foonet", "resnet50"]),
        ("get_space unknown", lambda: get_space("ofa_foo"), V, ["ofa_foo", "accepted"]),
        ("parse_config list", lambda: parse_config([1, 2]), V, ["config must be a mapping", "ks"]),
        ("parse_config kernel 4", lambda: parse_config({**GOOD, "ks": [4] * 20}), V, ["ks", "accepted values"]),
        ("predictor random bytes", lambda: OFAAccuracyPredictor(_FILES / "junk.pth"), V, ["weights_only=True",
                                                                                          "expected OFA"]),
        ("predictor malicious pickle", lambda: OFAAccuracyPredictor(_FILES / "evil.pth"), V, ["weights_only=True"]),
        ("predictor missing", lambda: OFAAccuracyPredictor(_FILES / "nope.pth"), FileNotFoundError,
         ["path given", "no file at", "nope.pth"]),
        # accel_models: construction
        ("StorageLevel read energy nan", level(read_energy_pj=nan), V, ["read_energy_pj", "finite number >= 0"]),
        ("StorageLevel write energy inf", level(write_energy_pj=inf), V, ["write_energy_pj", "finite number >= 0"]),
        ("StorageLevel update energy negative", level(update_energy_pj=-1), V, ["update_energy_pj", ">= 0"]),
        ("StorageLevel capacity 0", level(capacity_words=0), V, ["capacity_words", "integer in [1, 2**62]"]),
        ("StorageLevel capacity 1.5", level(capacity_words=1.5), V, ["capacity_words", "integer in [1, 2**62]"]),
        ("StorageLevel capacity 2**70", level(capacity_words=2**70), V, ["capacity_words", "integer in [1, 2**62]"]),
        ("StorageLevel word bits 0", level(word_bits=0), V, ["word_bits", "integer in [1,"]),
        ("StorageLevel bandwidth inf", level(read_bandwidth=inf), V, ["read_bandwidth", "finite number > 0", "None"]),
        ("StorageLevel bandwidth nan", level(shared_bandwidth=nan), V, ["shared_bandwidth", "finite number > 0"]),
        ("StorageLevel bandwidth 0", level(write_bandwidth=0), V, ["write_bandwidth", "finite number > 0"]),
        ("StorageLevel fanout 0", level(fanout_x=0), V, ["fanout_x", "integer in [1,"]),
        ("StorageLevel kind", level(kind="HBM"), V, ["kind", "DRAM, SRAM, regfile"]),
        ("StorageLevel keeps unknown", level(keeps=("Weights", "Foo")), V, ["keeps", "accepted: Weights"]),
        ("StorageLevel keeps a string", level(keeps="Weights"), V, ["keeps", "tuple of tensor names"]),
        ("StorageLevel tensor capacities 2", level(tensor_capacity_words=(1, 2)), V, ["tensor_capacity_words", "3"]),
        ("StorageLevel tensor capacity 0", level(tensor_capacity_words=(1, 0, 1)), V, ["tensor_capacity_words[Inputs]",
                                                                                       "integer in [1,"]),
        ("StorageLevel empty name", level(name=""), V, ["StorageLevel.name", "non-empty string"]),
        ("Accelerator MAC energy nan", accel(mac_energy_pj=nan), V, ["mac_energy_pj", "finite number >= 0 pJ"]),
        ("Accelerator MAC energy negative", accel(mac_energy_pj=-1), V, ["mac_energy_pj", ">= 0 pJ"]),
        ("Accelerator clock inf", accel(clock_ghz=inf), V, ["clock_ghz", "finite number > 0"]),
        ("Accelerator clock 0", accel(clock_ghz=0), V, ["clock_ghz", "finite number > 0"]),
        ("Accelerator technology -1", accel(technology_nm=-1), V, ["technology_nm", "(0, 1000] nm"]),
        ("Accelerator technology nan", accel(technology_nm=nan), V, ["technology_nm", "(0, 1000] nm"]),
        ("Accelerator MAC bits 0", accel(mac_bits=0), V, ["mac_bits", "integer in [1, 64]"]),
        ("Accelerator MAC bits 2.5", accel(mac_bits=2.5), V, ["mac_bits", "integer in [1, 64]"]),
        ("Accelerator no levels", accel(levels=()), V, ["levels", "at least 1"]),
        ("Accelerator level not a level", accel(levels=(dram, "RF")), V, ["levels", "StorageLevel", "str"]),
        ("Accelerator same names", accel(levels=(dram, dram)), V, ["levels", "unique"]),
        ("Accelerator outer level keeps less", accel(levels=(StorageLevel("X", keeps=("Weights",)),)), V,
         ["outermost level", "Weights, Inputs and Outputs"]),
        ("Accelerator dataflow text", accel(dataflow="ws"), V, ["dataflow", "Dataflow or None"]),
        ("Accelerator empty name", accel(name=""), V, ["Accelerator.name", "non-empty string"]),
        ("Dataflow name number", lambda: Dataflow(5), V, ["Dataflow.name", "non-empty string"]),
        ("Dataflow unknown dim", lambda: Dataflow("d", spatial_x=("Z",)), V, ["spatial_x", "accepted: R"]),
        ("Dataflow stationary", lambda: Dataflow("d", stationary="Foo"), V, ["stationary", "one of"]),
        ("build_accelerator nothing", lambda: build_accelerator(), V, ["pe_array", "num_pes"]),
        ("build_accelerator 0 PEs", lambda: build_accelerator(num_pes=0), V, ["num_pes", "integer in [1, 1048576]"]),
        ("build_accelerator too many PEs", lambda: build_accelerator(num_pes=2**21), V, ["num_pes", "[1, 1048576]"]),
        ("build_accelerator array side 0", lambda: build_accelerator(pe_array=(0, 4)), V, ["pe_array[0]", "[1, 4096]"]),
        ("build_accelerator array triple", lambda: build_accelerator(pe_array=(2, 2, 2)), V, ["pe_array", "(x, y)"]),
        ("build_accelerator PEs disagree", lambda: build_accelerator(pe_array=(4, 4), num_pes=8), V,
         ["num_pes=8", "disagrees"]),
        ("build_accelerator word bits 1", lambda: build_accelerator(num_pes=4, word_bits=1), V,
         ["word_bits", "integer in [2, 64]"]),
        ("build_accelerator node -1", lambda: build_accelerator(num_pes=4, technology_nm=-1), V,
         ["technology_nm", "[22, 65] nm"]),
        ("build_accelerator node nan", lambda: build_accelerator(num_pes=4, technology_nm=nan), V,
         ["technology_nm", "[22, 65] nm"]),
        ("build_accelerator clock 0", lambda: build_accelerator(num_pes=4, clock_ghz=0), V,
         ["clock_ghz", "[0.001, 10.0] GHz"]),
        ("build_accelerator clock nan", lambda: build_accelerator(num_pes=4, clock_ghz=nan), V,
         ["clock_ghz", "[0.001, 10.0] GHz"]),
        ("build_accelerator DRAM bandwidth -1", lambda: build_accelerator(num_pes=4, dram_bandwidth_words_per_cycle=-1),
         V, ["dram_bandwidth_words_per_cycle", "(0, 1e6]"]),
        ("build_accelerator RF -1", lambda: build_accelerator(num_pes=4, rf_words=-1), V, ["rf_words", "[0, 65536]"]),
        ("build_accelerator RF pair", lambda: build_accelerator(num_pes=4, rf_words=(1, 2)), V, ["rf_words", "3 ints"]),
        ("build_accelerator GLB 0", lambda: build_accelerator(num_pes=4, glb_words=0), V, ["glb_words", "[1,"]),
        ("build_accelerator GLB keeps", lambda: build_accelerator(num_pes=4, glb_keeps=("Foo",)), V,
         ["glb_keeps", "accepted: Weights"]),
        ("build_accelerator RF order", lambda: build_accelerator(num_pes=4, rf_words=(1, 1, 1), rf_order=("Weights",)),
         V, ["rf_order", "permutation"]),
        ("get_preset unknown", lambda: get_preset("foo"), V, ["get_preset", "accepted: eyeriss"]),
        ("get_preset node 7", lambda: get_preset("eyeriss", technology_nm=7), V, ["technology_nm", "[22, 65] nm"]),
        # accel_models: the cost model's array boundary
        ("evaluate_batch plain array", lambda: evaluate_batch(layer, acc, maps.temporal), V,
         ["mappings", "MappingArrays", "ndarray"]),
        ("evaluate_batch list of arrays", lambda: evaluate_batch(layer, acc, [maps.temporal]), V,
         ["mappings", "MappingArrays"]),
        ("evaluate_batch empty list", lambda: evaluate_batch(layer, acc, []), V, ["mappings", "non-empty list"]),
        ("evaluate_batch text", lambda: evaluate_batch(layer, acc, "mapping"), V, ["mappings", "MappingArrays"]),
        ("evaluate_batch float factor 1.5", batch(temporal=with_value("temporal", (0, 0, 0), 1.5, float)), V,
         ["mappings.temporal", "integers", "1.5"]),
        ("evaluate_batch nan factor", batch(spatial_x=with_value("spatial_x", (1, 1, 1), nan, float)), V,
         ["mappings.spatial_x", "integers"]),
        ("evaluate_batch keep 2", batch(keep=with_value("keep", (0, 1, 0), 2)), V,
         ["mappings.keep", "0 (bypass) or 1 (keep)", "got 2"]),
        ("evaluate_batch keep -1", batch(keep=with_value("keep", (0, 1, 0), -1)), V, ["mappings.keep", "0 (bypass)"]),
        ("evaluate_batch huge factor", batch(temporal=with_value("temporal", (0, 0, 0), 2**40)), V,
         ["mappings.temporal", "up to 2147483647"]),
        ("LevelMapping factor 2**31", lambda: LevelMapping({"K": 2**31}), V,
         ["LevelMapping.temporal[K]", "integer in [1, 2147483647]", "2147483648"]),
        ("evaluate row past the batch", lambda: evaluate(layer, acc, maps, 4), V, ["evaluate", "b = 4", "[0, 3]"]),
        ("evaluate row negative", lambda: evaluate(layer, acc, maps, -1), V, ["evaluate", "b = -1", "[0, 3]"]),
        ("evaluate_batch order below int32", batch(order=with_value("order", (0, 1, 2), -2**40)), V,
         ["mappings.order", "-1099511627776", "from -2147483648"]),
        ("evaluate_batch text array", batch(order=maps.order.astype(str)), V, ["mappings.order", "integers"]),
        ("evaluate_batch shapes disagree", batch(keep=maps.keep[:2]), V, ["[B, levels, 8]", "[B, levels, 3]"]),
        ("evaluate_batch 2-D field", batch(temporal=maps.temporal[0]), V, ["[B, levels, 8]"]),
        ("evaluate_batch other accelerator", lambda: evaluate_batch(layer, get_preset("eyeriss"), maps), V,
         ["levels", "accelerator"]),
        ("evaluate_batch layer a dict", lambda: evaluate_batch({"C": 16}, acc, maps), V, ["layer", "nets.Layer"]),
        ("evaluate_batch accelerator None", lambda: evaluate_batch(layer, None, maps), V, ["accelerator",
                                                                                          "Accelerator"]),
        # mappings
        ("EvolutionStrategy popsize 1", lambda: EvolutionStrategy(popsize=1), V,
         ["EvolutionStrategy.popsize", "integer >= 2"]),
        ("EvolutionStrategy popsize 1.5", lambda: EvolutionStrategy(popsize=1.5), V,
         ["EvolutionStrategy.popsize", "integer >= 2"]),
        ("EvolutionStrategy islands 0", lambda: EvolutionStrategy(islands=0), V,
         ["EvolutionStrategy.islands", "integer >= 1"]),
        ("EvolutionStrategy sigma0 nan", lambda: EvolutionStrategy(sigma0=nan), V,
         ["EvolutionStrategy.sigma0", "[1e-12, 1e+06]"]),
        ("CMAESStrategy sigma0 inf", lambda: CMAESStrategy(sigma0=inf), V, ["CMAESStrategy.sigma0", "[1e-12, 1e+06]"]),
        ("EvolutionStrategy sigma0 0", lambda: EvolutionStrategy(sigma0=0), V,
         ["EvolutionStrategy.sigma0", "[1e-12, 1e+06]"]),
        ("EvolutionStrategy seed_sigma -0.1", lambda: EvolutionStrategy(seed_sigma=-0.1), V,
         ["EvolutionStrategy.seed_sigma", "[1e-12, 1e+06]"]),
        ("EvolutionStrategy cold islands -1", lambda: EvolutionStrategy(cold_islands=-1), V,
         ["EvolutionStrategy.cold_islands", "integer >= 0"]),
        ("EvolutionStrategy local restarts 2", lambda: EvolutionStrategy(local_restarts=2), V,
         ["EvolutionStrategy.local_restarts", "[0, 1]"]),
        ("best_mapping seed -1", bm(seed=-1), V, ["best_mapping.seed", "integer >= 0"]),
        ("CMAESStrategy patience 0", lambda: CMAESStrategy(patience=0), V, ["CMAESStrategy.patience", "integer >= 1"]),
        ("RandomStrategy batch 0", lambda: RandomStrategy(batch_size=0), V, ["RandomStrategy.batch_size", ">= 1"]),
        ("best_mapping budget 0", lambda: best_mapping(layer, acc, budget_evals=0), V,
         ["best_mapping.budget_evals", "positive integer"]),
        ("best_mapping time limit -1", bm(time_limit_s=-1), V, ["best_mapping.time_limit_s", "> 0"]),
        ("best_mapping objective", bm(objective="speed"), V, ["best_mapping.objective", "edp, energy, latency"]),
        ("best_mapping strategy", bm(strategy="ga"), V, ["best_mapping.strategy", "cmaes, random, exhaustive"]),
        ("best_mapping CMA variant", lambda: CMAESStrategy(variant="diag"), V, ["CMAESStrategy.variant",
                                                                                "'sep' or 'full'"]),
        # Timeloop files given by path
        ("Timeloop problem missing file", lambda: layer_from_timeloop("missing_problem.yaml"), V,
         ["problem", "no file at missing_problem.yaml"]),
        ("Timeloop problem folder", lambda: layer_from_timeloop(str(_FILES / "dir.yaml")), V,
         ["problem", "is a directory", "YAML file"]),
        ("Timeloop problem binary", lambda: layer_from_timeloop(str(_FILES / "binary.yaml")), V,
         ["problem", "not UTF-8 text"]),
        ("Timeloop problem Path missing", lambda: layer_from_timeloop(_FILES / "nope.yaml"), V, ["problem", "no file"]),
        ("Timeloop problem a word", lambda: layer_from_timeloop("arch"), V, ["problem", "YAML mapping",
                                                                             "names no file"]),
        ("Timeloop problem bad YAML", lambda: layer_from_timeloop("problem: [1"), V, ["problem", "not valid YAML"]),
        ("Timeloop architecture missing file", lambda: accelerator_from_timeloop("missing_arch.yaml", "ert.yaml"), V,
         ["no file at missing_arch.yaml"]),
    ]


_FILES: Path = Path("/nonexistent")
"""The `files` folder, set by the fixture below before any API case runs."""


@pytest.fixture(scope="module")
def api_cases(files):
    global _FILES
    _FILES = files
    return {name: rest for name, *rest in _api_cases()}


_API_NAMES = [name for name, *_ in _api_cases()]


@pytest.mark.parametrize("name", _API_NAMES)
def test_python_api(name, api_cases, files):
    call, kind, words = api_cases[name]
    with _deadline(), pytest.raises(kind) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and message.strip(), message
    for word in words:
        assert word in message, (word, message)
    assert not (files / "pwned").exists()


def test_usage_error_is_a_value_error():
    """Bad settings given from Python are caught as a ValueError: the command line's UsageError, one line naming
    the option and what it accepts."""
    from cosearch import UsageError, make_settings

    with pytest.raises(ValueError) as info:
        make_settings("area=-1mm2")
    assert type(info.value) is UsageError
    message = str(info.value)
    assert "\n" not in message and "budget area" in message and "-1mm2" in message and "mm2" in message


def test_integral_float_factors_are_accepted():
    """A float array whose values are whole numbers is read as integers, not refused: the check is on values."""
    from accel_models import MappingArrays, get_preset
    from accel_models.cost_model import evaluate_batch
    from mappings import random_valid_mappings
    from nets import Layer

    layer, acc = Layer.conv(16, 16, 3, 8), get_preset("nvdla_256")
    maps = random_valid_mappings(layer, acc, 8, rng=1)
    as_float = MappingArrays(*(a.astype(float) for a in maps))
    np.testing.assert_array_equal(evaluate_batch(layer, acc, as_float).energy_pj, evaluate_batch(layer, acc, maps).energy_pj)


# ---- the corpus check's command line -------------------------------------------------------------------------
CHECK_CASES = {
    "empty corpus": ("empty.jsonl", ["CASES", "holds no case", "accepted"]),
    "folder": ("dir.json", ["CASES", "is a directory", "accepted"]),
    "missing": ("missing.jsonl", ["CASES", "no such file"]),
    "binary": ("binary.jsonl", ["CASES", "not a corpus file"]),
    "case without family": ("nofamily.jsonl", ["CASES", "no field 'family'"]),
    "gz that is not gzip": ("plain.jsonl.gz", ["CASES", "not a corpus file", "gzip"]),
    "gz cut short": ("cut.jsonl.gz", ["CASES", "not a corpus file", "gzip"]),
}


@pytest.mark.parametrize("name", list(CHECK_CASES))
def test_check_timeloop(name, files, capsys):
    from accel_models.timeloop.corpus_check import main

    path, words = CHECK_CASES[name]
    with _deadline():
        try:
            status = main([str(files / path)])
        except SystemExit as exc:
            status = exc.code
    out, err = capsys.readouterr()
    line = _one_line_error(status, out, err, "python -m accel_models.check_timeloop")
    for word in words:
        assert word in line, (word, line)


# ---- a co-search's result.json as a device: its design checked field by field before any work -----------------
_GOOD_DESIGN = {"pe_array": [16, 16], "parallel_dims": ["K", "C"], "rf_words": {"weights": 16, "inputs": 16,
                "outputs": 16}, "glb_words": 32768, "dram_bytes_per_cycle": 8.0, "word_bits": 8, "technology_nm": 45,
                "clock_ghz": 1.0}
DESIGN_CASES = {
    "no PE along x": ({"pe_array": [0, 16]}, ["design", "pe_array", "[1, 4096]"]),
    "too many PEs": ({"pe_array": [16, 100_000]}, ["design", "pe_array", "[1, 4096]"]),
    "PEs not whole": ({"pe_array": [4.5, 4]}, ["design.pe_array", "2 integers"]),
    "PE array of three": ({"pe_array": [4, 4, 4]}, ["design.pe_array", "2 integers"]),
    "PE array text": ({"pe_array": "16x16"}, ["design.pe_array", "2 integers"]),
    "NaN bandwidth": ({"dram_bytes_per_cycle": float("nan")}, ["design.dram_bytes_per_cycle", "finite number > 0"]),
    "infinite bandwidth": ({"dram_bytes_per_cycle": float("inf")}, ["design.dram_bytes_per_cycle", "finite"]),
    "zero bandwidth": ({"dram_bytes_per_cycle": 0}, ["design.dram_bytes_per_cycle", "> 0"]),
    "negative register file": ({"rf_words": {"weights": -1, "inputs": 16, "outputs": 16}}, ["design", "rf_words"]),
    "register file missing a tensor": ({"rf_words": {"weights": 16}}, ["design.rf_words", "weights, inputs"]),
    "empty global buffer": ({"glb_words": 0}, ["design", "glb_words"]),
    "unknown parallel dim": ({"parallel_dims": ["Z", "C"]}, ["design.parallel_dims", "R, S, P, Q, C, K, N, G"]),
    "parallel dim twice": ({"parallel_dims": ["K", "K"]}, ["design.parallel_dims", "different"]),
    "zero clock": ({"clock_ghz": 0}, ["design.clock_ghz", "> 0"]),
    "untabulated node": ({"technology_nm": 3}, ["design", "technology_nm", "22, 32, 45, 65"]),
    "more axis dims than parallel dims": ({"axis_dims": [3, 1]}, ["design.axis_dims", "at most"]),
    "a field missing": ({"word_bits": None}, ["design", "word_bits"]),
}


@pytest.mark.parametrize("name", list(DESIGN_CASES))
def test_a_result_json_device_with_a_design_out_of_range(name, tmp_path, monkeypatch, capsys):
    """`--accelerator result.json`: each design field goes through the checks every built accelerator does, and
    is refused in one line naming the field, before the out folder is made (no work done)."""
    changes, words = DESIGN_CASES[name]
    design = {k: v for k, v in {**_GOOD_DESIGN, **changes}.items() if v is not None}
    (tmp_path / "result.json").write_text(json.dumps({"design": design}))
    monkeypatch.chdir(tmp_path)
    line = _one_line_error(*_main(["--accelerator", "result.json", "--nas-evals", "16", "--final-mapper-evals", "16",
                                   "--time-limit", "20", "--quiet", "--out", "out"], capsys))
    assert "--accelerator result.json" in line and all(w in line for w in words), (words, line)
    assert not (tmp_path / "out").exists()


def test_the_good_design_of_the_cases_above_is_accepted():
    """The cases above differ from an accepted design in the one field each changes."""
    from cosearch import Design

    design = Design.from_dict(_GOOD_DESIGN)
    assert design.pe_array == (16, 16) and design.accelerator.num_macs == 256


def test_at_least_198_cases():
    """The issue's 198 bad inputs, in breadth: this file holds at least as many."""
    assert len(CLI_CASES) + len(_API_NAMES) + len(CHECK_CASES) + len(DESIGN_CASES) >= 198


# ---- a representative few as real processes -----------------------------------------------------------------
SUBPROCESS_CASES = {
    "negative budget": ([sys.executable, str(CLI), "--budget", "area=-5mm2"], "run_cosearch.py", "budget area"),
    "negative time limit": ([sys.executable, str(CLI), "--time-limit", "-5s"], "run_cosearch.py", "--time-limit"),
    "out below a file": ([sys.executable, str(CLI), "--out", "afile/sub"], "run_cosearch.py", "--out"),
    "empty database": ([sys.executable, str(CLI), "--storage", "empty.db"], "run_cosearch.py", "--start-over"),
    "malicious predictor": ([sys.executable, str(CLI), "--predictor", "evil.pth", "--trials", "1"], "run_cosearch.py",
                            "weights_only=True"),
    "empty corpus": ([sys.executable, "-m", "accel_models.check_timeloop", "empty.jsonl"],
                     "python -m accel_models.check_timeloop", "holds no case"),
}


@pytest.mark.slow
def test_as_processes(files):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    with ThreadPoolExecutor(3) as pool:
        runs = dict(zip(SUBPROCESS_CASES, pool.map(
            lambda case: subprocess.run(case[0], cwd=files, capture_output=True, text=True, timeout=120, env=env),
            SUBPROCESS_CASES.values())))
    for name, proc in runs.items():
        _, prog, word = SUBPROCESS_CASES[name]
        line = _one_line_error(proc.returncode, proc.stdout, proc.stderr, prog)
        assert word in line, (name, line)

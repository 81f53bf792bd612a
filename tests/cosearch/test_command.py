"""The `cosearch` command: `cosearch.command.main` behind `cosearch`, `python -m cosearch` and run_cosearch.py, with
--version and the Timeloop commands as `cosearch timeloop ...`."""
import json
import subprocess
import sys
import textwrap

import pytest

import cosearch
from cosearch import command
from cosearch.command_warm_up import warm_up_plan
from _cosearch_cli import ROOT, cli_env
from _numba_compiles import LISTENER


def _main(argv, capsys):
    try:
        status = command.main(argv, prog="cosearch")
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_version_and_help(capsys):
    status, out, _ = _main(["--version"], capsys)
    assert status == 0 and out.strip() == f"cosearch {cosearch.__version__}"
    status, out, _ = _main(["--help"], capsys)
    assert status == 0 and out.startswith("usage: cosearch ") and "--budget" in out and "--network" in out
    assert "cosearch timeloop {model,mapper,check}" in out
    assert "cosearch warm-up" in out


def test_run_cosearch_and_the_module_share_one_parser():
    """The same options and the same one-line errors under each name (subprocesses: each is its own program)."""
    outs = {}
    for name, args in (("run_cosearch.py", [str(ROOT / "run_cosearch.py")]), ("python -m cosearch", ["-m", "cosearch"])):
        help_ = subprocess.run([sys.executable, *args, "--help"], capture_output=True, text=True, cwd=ROOT,
                               env=cli_env(), timeout=120)
        assert help_.returncode == 0, help_.stderr
        outs[name] = help_.stdout.split("options:", 1)[1]
        bad = subprocess.run([sys.executable, *args, "--trials", "0"], capture_output=True, text=True, cwd=ROOT,
                             env=cli_env(), timeout=120)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith(f"{name}: error: --trials")
    assert outs["run_cosearch.py"].replace("run_cosearch.py", "X") == outs["python -m cosearch"].replace(
        "python -m cosearch", "X")


def test_timeloop_subcommands_reach_the_timeloop_command_lines(capsys, tmp_path):
    status, out, _ = _main(["timeloop", "model", "--help"], capsys)
    assert status == 0 and "python -m accel_models.timeloop model" in out
    status, out, _ = _main(["timeloop", "mapper", "--help"], capsys)
    assert status == 0 and "--time-limit" in out  # the mapper's own arguments
    status, _, err = _main(["timeloop", "model", str(tmp_path / "missing.yaml")], capsys)
    assert status == 2 and err.count("\n") == 1 and "missing.yaml" in err


@pytest.mark.parametrize("argv, wanted", [(["timeloop"], "usage: cosearch timeloop"),
                                          (["timeloop", "simulate"], "unknown command 'simulate'")])
def test_timeloop_without_a_known_command_is_status_2(argv, wanted, capsys):
    status, _, err = _main(argv, capsys)
    assert status == 2 and wanted in err


def test_a_bad_zigzag_device_is_one_line_naming_file_and_field(tmp_path, capsys):
    bad = tmp_path / "accelerator.yaml"
    bad.write_text("name: x\nmemories: {}\n")
    status, _, err = _main(["--accelerator", f"zigzag:{bad}", "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert f"{bad}: operational_array: missing" in err


def test_a_zigzag_device_loads_with_its_mapping_file():
    from cosearch.config.devices import parse_device
    from cosearch.search.nas.device import load_device

    data = ROOT / "tests" / "accel_models" / "data" / "zigzag"
    spec = parse_device(f"zigzag:{data / 'tpu_like.yaml'}+{data / 'tpu_like_mapping.yaml'}")
    assert (spec.kind, spec.name) == ("zigzag", "zigzag-tpu_like")
    device = load_device(spec)
    assert device.accelerator.mesh == (32, 32) and device.accelerator.dataflow.spatial_x == ("K",)
    with pytest.raises(cosearch.UsageError, match="accepted: zigzag:ACCELERATOR.yaml"):
        parse_device(f"zigzag:{data / 'tpu_like.yaml'}+{data / 'tpu_like.yaml'}+{data / 'tpu_like.yaml'}")


@pytest.mark.parametrize("groups, wanted", [("5-6", "cosearch: error: --fusion-groups: layers 5-6 do not chain"),
                                            ("conv9", "cosearch: error: --fusion-groups: 'conv9' is not a layer of "
                                                      "googlenet")])
def test_bad_fusion_groups_are_one_line_and_status_2(groups, wanted, tmp_path, capsys):
    status, _, err = _main(["--network", "googlenet", "--fusion", "depth-first", "--fusion-groups", groups, "--out",
                            str(tmp_path / "out"), "--quiet"], capsys)
    assert status == 2 and err.count("\n") == 1 and err.startswith(wanted)
    status, out, _ = _main(["--help"], capsys)
    assert status == 0 and "--fusion-groups" in out


@pytest.mark.parametrize("argv, wanted", [(["warm-up", "--workers", "0"], "--workers: must be an integer >= 1"),
                                          (["warm-up", "--budget", "area"], "budget:")])
def test_warm_up_checks_its_options_before_compiling(argv, wanted, capsys):
    status, _, err = _main(argv, capsys)
    assert status == 2 and err.count("\n") == 1 and wanted in err


_FIRST_CALLS = LISTENER + textwrap.dedent("""
    import json
    import cosearch
    from accel_models import get_preset
    from mappings import MappingCache, best_mapping
    from nets import Layer, get_network
    best_mapping(Layer.conv(64, 64, 3, 56), get_preset("eyeriss"), budget_evals=64)
    from accel_models import evaluate_batch
    from mappings import random_valid_mappings
    layer, acc = Layer.conv(64, 128, 3, 28), get_preset("nvdla_256")      # the README's first Python example
    evaluate_batch(layer, acc, random_valid_mappings(layer, acc, 10_000, rng=0))
    settings = cosearch.make_settings("area=5mm2", trials=1, time_limit=None)
    MappingCache(settings.mapper).result(get_network("mobilenet_v2").layers[3], get_preset("nvdla_256"))
    print(json.dumps(compiled))
""")


@pytest.mark.slow
def test_warm_up_builds_the_cache_the_first_calls_load(tmp_path):
    """One cold compile of the mapper tree on two processes (~100 s of CPU): after it, a new process's first
    `best_mapping` and first co-search mapper search compile nothing of the project's (`_now`, an object-mode
    clock, is compiled at each call site whatever the cache)."""
    env = {**cli_env(), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    warm = subprocess.run([sys.executable, "-m", "cosearch", "warm-up", "--workers", "2"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=1800)
    assert warm.returncode == 0, warm.stderr[-2000:]
    steps = len(warm_up_plan(cosearch.make_settings("area=5mm2", trials=1, time_limit=None)))
    assert warm.stdout.startswith(f"warm-up: {steps} compile steps") and "on 2 worker(s)" in warm.stdout
    first = subprocess.run([sys.executable, "-c", _FIRST_CALLS], capture_output=True, text=True, cwd=ROOT, env=env,
                           timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    compiled = json.loads(first.stdout.strip().splitlines()[-1])
    assert [f for f in compiled if not f.startswith("numba.") and not f.startswith("mappings.evolution._now ")] == []

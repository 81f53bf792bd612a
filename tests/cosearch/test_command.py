"""The `cosearch` command: `cosearch.command.main` behind `cosearch`, `python -m cosearch` and run_cosearch.py, with
--version and the Timeloop commands as `cosearch timeloop ...`."""
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import cosearch
from cosearch import command
from _cosearch_cli import ROOT, cli_env, run_main


def _main(argv, capsys):
    return run_main(argv, capsys, prog="cosearch")


def test_version_and_help(capsys):
    status, out, _ = _main(["--version"], capsys)
    assert status == 0 and out.strip() == f"cosearch {cosearch.__version__}"
    status, out, _ = _main(["--help"], capsys)
    assert status == 0 and out.startswith("usage: cosearch ") and "--budget" in out and "--network" in out
    assert "cosearch timeloop {model,mapper,check}" in out
    assert "cosearch warm-up" in out


def test_main_called_from_python_leaves_the_signal_handlers_as_it_found_them(capsys, tmp_path):
    """Within a run `main` turns Ctrl-C and SIGTERM into its own handler; returning, or ending with a one-line
    error, it puts the caller's back (a process left with them would record a later Ctrl-C instead of stopping)."""
    def handlers():
        return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), sys.unraisablehook

    seen = []
    real = command._cosearch
    started_with = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)     # as a terminal starts a program
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        command._cosearch = lambda argv, prog: seen.append(handlers()) or real(argv, prog)
        before = handlers()
        assert _main(["--version"], capsys)[0] == 0 and handlers() == before
        status, _, err = _main(["--trials", "0", "--out", str(tmp_path / "out")], capsys)
        assert status == 2 and "--trials" in err and handlers() == before
    finally:
        command._cosearch = real
        for s, handler in started_with.items():
            signal.signal(s, handler)
    assert seen and all(h[0] is command.on_signal and h[1] is command.on_signal for h in seen)


@pytest.mark.slow
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


def test_device_files_in_folders_holding_plus_or_named_like_files(tmp_path, monkeypatch):
    """Files are joined by '+' and devices by ',', yet a folder may hold either in its name: each file (device) is
    the longest '+' (',')-joined run that exists. A folder named like a file (acc.yaml/, result.json/) is named as a folder."""
    from cosearch.config.devices import parse_device, parse_devices

    data = ROOT / "tests" / "accel_models" / "data" / "zigzag"
    for folder in ("z+z", "a+b+c", "c,d"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "acc.yaml").write_text((data / "tpu_like.yaml").read_text())
        (tmp_path / folder / "map.yaml").write_text((data / "tpu_like_mapping.yaml").read_text())
    (tmp_path / "acc.yaml").mkdir()
    (tmp_path / "result.json").mkdir()
    monkeypatch.chdir(tmp_path)
    spec = parse_device("zigzag:z+z/acc.yaml+a+b+c/map.yaml")
    assert spec.paths == (Path("z+z/acc.yaml"), Path("a+b+c/map.yaml"))
    assert parse_device("zigzag:a+b+c/acc.yaml").paths == (Path("a+b+c/acc.yaml"),)
    both = parse_devices("zigzag:c,d/acc.yaml+c,d/map.yaml,eyeriss,zigzag:z+z/acc.yaml")
    assert [s.paths for s in both] == [(Path("c,d/acc.yaml"), Path("c,d/map.yaml")), (), (Path("z+z/acc.yaml"),)]
    assert [s.name for s in both] == ["zigzag-acc-c-d", "eyeriss", "zigzag-acc-z+z"]   # two acc.yaml: two devices
    with pytest.raises(cosearch.UsageError, match="a device is given twice .*'zigzag:z\\+z/acc.yaml' and "
                                                  "'zigzag:./z\\+z/acc.yaml' are the same one"):
        parse_devices("zigzag:z+z/acc.yaml,zigzag:./z+z/acc.yaml")
    for text, wanted in (("zigzag:acc.yaml", "acc.yaml is a folder, not a file"),
                         ("zigzag:z+z/acc.yaml+acc.yaml", "acc.yaml is a folder, not a file"),
                         ("result.json", "result.json is a folder, not a file"),
                         ("zigzag:z+z/acc.yaml+z+z/none.yaml", "no file or folder at z nor at z+z/none.yaml"),
                         ("zigzag:z+z/acc.yaml+z+z/map.yaml+z+z/map.yaml", "names 3 files")):
        with pytest.raises(cosearch.UsageError, match="^--accelerator: ") as info:
            parse_device(text)
        assert wanted in str(info.value) and "\n" not in str(info.value), (text, str(info.value))


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

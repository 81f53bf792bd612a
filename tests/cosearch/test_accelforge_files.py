"""`--network accelforge:WORKLOAD.yaml[+NAME=VALUE...]` and `--accelerator accelforge:ARCH.yaml`: AccelForge's
files on the command line, checked when the options are read; a bad file is one line and exit 2."""
import json
import re
from pathlib import Path

import pytest

import cosearch
from cosearch import command
from cosearch.config import UsageError, parse_network
from cosearch.config.devices import parse_device
from cosearch.search.nas.device import load_device
from _cosearch_cli import TINY, run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "accelforge"
MATMULS = f"accelforge:{DATA / 'workloads' / 'matmuls.yaml'}"


def test_a_workload_with_its_template_variables_round_trips():
    spec = parse_network(f"{MATMULS}+N_EINSUMS=3+M=64")
    assert spec.kind == "accelforge" and spec.name == "matmuls" and dict(spec.variables) == {"N_EINSUMS": 3, "M": 64}
    net = spec.build()
    assert len(net.layers) == 3 and net.layers[0].N == 64 and net.layers[2].K == 128
    assert parse_network(spec.text).build() == net
    assert spec.to_dict()["variables"] == {"N_EINSUMS": 3, "M": 64}


def test_mobilenet_28_reads_as_six_layers():
    net = parse_network(f"accelforge:{DATA / 'workloads' / 'mobilenet_28.yaml'}").build()
    assert [l.name for l in net.layers][:2] == ["PiecewiseA0", "Depthwise0"] and net.macs == 4 * 28 * 28 * 24 * 192 \
        + 2 * 28 * 28 * 192 * 9


def test_an_architecture_is_a_device():
    device = load_device(parse_device(f"accelforge:{DATA / 'arches' / 'nvdla.yaml'}"))
    assert device.name == "accelforge-nvdla" and device.accelerator.num_macs == 6144
    assert "AccelForge architecture" in device.describe()


@pytest.mark.parametrize("text, match", [
    (MATMULS, r"'N_EINSUMS' is undefined"),
    (f"{MATMULS}+N_EINSUMS", r"'N_EINSUMS' is not NAME=VALUE"),
    ("accelforge:/no/such/workload.yaml", r"no AccelForge file at /no/such/workload.yaml"),
])
def test_a_bad_network_file_is_refused_before_the_search(text, match):
    with pytest.raises(UsageError, match=match):
        parse_network(text)


@pytest.mark.parametrize("body, match", [
    ("workload:\n  einsums:\n  - 'Y[a] = X[a]'\n  iteration_space_shape: ['0 <= a < 4']\n",
     r"einsums\[0\] \(Y\): 2 tensors"),
    ("workload: [\n", r"not valid YAML"),
])
def test_a_bad_workload_is_one_line_exit_2(tmp_path, capsys, body, match):
    path = tmp_path / "w.yaml"
    path.write_text(body)
    with pytest.raises(SystemExit) as info:
        command.main(["--network", f"accelforge:{path}"], prog="cosearch")
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and str(path) in err
    assert err.startswith("cosearch: error: --network: ")
    assert re.search(match, err)


def test_a_bad_architecture_is_one_line_naming_the_node(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("arch:\n  nodes:\n  - !Memory {name: M, size: inf, tensors: {keep: All}}\n  - !Toll {name: T}\n")
    with pytest.raises(UsageError, match=r"a.yaml: arch.nodes\[1\]: !Toll is not modelled by cosearch"):
        load_device(parse_device(f"accelforge:{path}"))


@pytest.mark.slow
def test_a_co_search_runs_on_two_matmuls(tmp_path):
    proc = run_cli(["--network", f"{MATMULS}+N_EINSUMS=2", "--out", str(tmp_path / "out"), "--quiet", "--workers",
                    "1", *TINY], cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["study"]["counts"]["complete"] == 3
    assert "network matmuls (4 M MACs)" in proc.stdout

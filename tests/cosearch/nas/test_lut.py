"""A measured latency table as the device (`--accelerator lut:FILE.yaml`), in the format ProxylessNAS and OFA publish:
a small table written here for ofa-proxyless at two resolutions (each operator's 'measured' mean a function of its
shapes) is read back, a subnet's latency is the sum of its operators' entries, and a run searches on it; a table
missing an entry is one line, exit status 2."""
from __future__ import annotations

import json
import math
import re

import pytest
import yaml

from _cosearch_cli import run_cli
from cosearch.search.nas import LatencyTable
from nets import get_space, sample_configs

SPACE = get_space("ofa-proxyless")


def _mean_ms(key: str) -> float:
    """A stand-in measurement: grows with the operator's output size and kernel."""
    out = key.split("-output:")[1].split("-")[0].split("x")
    kernel = int(key.split("-kernel:")[1].split("-")[0]) if "-kernel:" in key else 1
    return 1e-4 * math.prod(int(x) for x in out) * kernel ** 0.5


def _write(folder, resolutions=(128, 160), drop=None):
    table = LatencyTable({}, ())
    for r in resolutions:
        keys = {key for config in SPACE.covering_configs() if config.r == r for _, key in SPACE.latency_table_keys(config)}
        entries = {k: {"mean": _mean_ms(k), "std": 0.01, "count": 20} for k in sorted(keys) if k != drop}
        (folder / f"lat_{r}.yaml").write_text(yaml.safe_dump(entries))
    return [folder / f"lat_{r}.yaml" for r in resolutions]


def test_keys_are_ofas_and_a_subnet_costs_the_sum_of_its_operators(tmp_path):
    files = _write(tmp_path)
    lut = LatencyTable.load(files)
    assert lut.resolutions == (128, 160)
    text = files[0].read_text()
    assert "expanded_conv-input:" in text and "-expand:3-kernel:5-stride:2-idskip:0" in text
    assert "Conv-input:128x128x3-output:64x64x40" in text and "Logits-input:" in text
    config = sample_configs(SPACE, 1, rng=4)[0].replace(r=160)
    keys = [k for _, k in SPACE.latency_table_keys(config)]
    assert lut.network_latency_s(SPACE, config) == pytest.approx(sum(_mean_ms(k) for k in keys) * 1e-3)
    terms = SPACE.layer_terms()
    assert sum(lut.term_latency_s(SPACE, config, terms, i) for i in range(len(terms))) == pytest.approx(
        lut.network_latency_s(SPACE, config))
    assert math.isinf(lut.network_latency_s(SPACE, config.replace(r=224)))       # no table at 224


@pytest.mark.slow
def test_a_run_searches_on_the_table(tmp_path):
    files = _write(tmp_path)
    device = "lut:" + "+".join(str(f) for f in files)
    out = tmp_path / "out"
    proc = run_cli(["--accelerator", device, "--space", "ofa-proxyless", "--budget", "latency<=400ms",
                    "--nas-evals", "8", "--out", str(out), "--quiet"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (dev,) = json.loads((out / "result.json").read_text())["devices"]
    assert dev["feasible"] and dev["latency_s"] <= 0.4 and dev["subnet"]["r"] in (128, 160)
    assert dev["energy_j"] is None or math.isnan(dev["energy_j"])
    assert "measured latency table" in dev["description"]


@pytest.mark.slow
def test_a_table_missing_an_entry_is_one_line(tmp_path):
    dropped = next(k for _, k in SPACE.latency_table_keys(next(c for c in SPACE.covering_configs() if c.r == 128))
                   if k.startswith("expanded_conv"))
    files = _write(tmp_path, drop=dropped)
    proc = run_cli(["--accelerator", "lut:" + "+".join(map(str, files)), "--space", "ofa-proxyless", "--budget",
                    "latency<=400ms", "--out", str(tmp_path / "o"), "--quiet"], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "has no entry" in proc.stderr and dropped in proc.stderr
    other = run_cli(["--accelerator", "lut:" + "+".join(map(str, files)), "--space", "ofa-resnet50", "--budget",
                     "latency<=400ms", "--out", str(tmp_path / "o"), "--quiet"], cwd=tmp_path)
    assert other.returncode == 2 and "spaces whose operators such tables name (ofa-mbv3, ofa-proxyless)" in other.stderr
    energy = run_cli(["--accelerator", "lut:" + "+".join(map(str, files)), "--space", "ofa-proxyless", "--budget",
                      "latency<=400ms", "--objective", "energy", "--out", str(tmp_path / "o"), "--quiet"], cwd=tmp_path)
    assert energy.returncode == 2 and "no energy" in energy.stderr


@pytest.mark.parametrize("text, says", [
    ("[" * 5000 + "]" * 5000, "nested more than 100 levels deep"),
    ("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n" + "".join(
        f"{chr(100 + i)}: &{chr(100 + i)} [{('*' + chr(99 + i) + ', ') * 9}*{chr(99 + i)}]\n" for i in range(8)),
     "expands to more than"),
    ("key: [unclosed\n", "not valid YAML"),
    ("", "the document is empty"),
    ("- a list\n", "expected a YAML mapping at the top level"),
])
def test_a_damaged_table_file_is_one_error_naming_it(tmp_path, text, says):
    """The table files go through the project's guarded YAML reader: a deeply nested, alias-bomb, invalid, empty or
    non-mapping file is one ValueError naming the file, never libyaml's own message or a recursion error."""
    path = tmp_path / "lat_224.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        LatencyTable.load([path])
    message = str(info.value)
    assert message.startswith(str(path)) and says in message and "\n" not in message


def test_a_table_reads_yaml_1_2_floats(tmp_path):
    """`mean: 1e-3` is a number (YAML 1.2, as the published tables are written by json/yaml dumpers), not text."""
    path = tmp_path / "lat_224.yaml"
    path.write_text("Conv-input:224x224x3-output:112x112x16: {mean: 1e-3}\n")
    table = LatencyTable.load([path])
    assert table.resolutions == (224,) and table.by_resolution[224]["Conv-input:224x224x3-output:112x112x16"] \
        == pytest.approx(1e-3)


@pytest.mark.slow
def test_a_device_search_that_finds_no_subnet_says_why_with_status_2(tmp_path):
    """A search whose time limit ends before any subnet within the limits was evaluated leaves the device without a
    subnet: one line naming the device, what was spent and the smallest subnet's latency, exit 2 (it was a '-' row
    and exit status 0, silent also from Python, where the README's example printed `None None None`)."""
    files = _write(tmp_path)
    out = tmp_path / "out"
    proc = run_cli(["--accelerator", "lut:" + "+".join(map(str, files)), "--space", "ofa-proxyless", "--budget",
                    "latency<=400ms", "--time-limit", "1ms", "--out", str(out), "--quiet"], cwd=tmp_path, timeout=600)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr[-3000:]
    assert "no result: lut-lat_128: no subnet found within the budget (latency<=400ms)" in proc.stderr
    assert "the smallest subnet takes" in proc.stderr and "a longer --time-limit" in proc.stderr
    suggested = re.search(r"at about ([0-9.e-]+) s a subnet, --time-limit (\d+)s checks about 100 against the "
                          r"limits", proc.stderr)
    assert suggested and int(suggested[2]) >= 100 * float(suggested[1])     # what limit would check 100
    data = json.loads((out / "result.json").read_text())
    assert data["devices"][0]["subnet"] is None and data["notes"] and "Note: lut-lat_128" in (out / "report.md").read_text()

"""--match-resources (NAAS's resource bounds) and --networks (geometric-mean EDP over several networks)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from _cosearch_cli import TINY, run_cli, run_main
from accel_models.presets import PRESETS
from cosearch import UsageError, make_settings
from cosearch.config import ResourceBounds
from cosearch.search import AcceleratorSpace, Design


def test_resources_of_a_preset():
    r = ResourceBounds.from_preset("eyeriss")
    assert r.num_pes == 168
    # GLB 108 KiB + 168 PEs x (224 + 12 + 24) 16-bit words
    assert r.onchip_bytes == 108 * 1024 + 168 * 260 * 2
    assert r.dram_bytes_per_cycle == 8.0
    assert (r.word_bits, r.technology_nm, r.clock_ghz) == (16, 65, 0.2)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_decoded_designs_stay_within_the_resources(preset):
    r = ResourceBounds.from_preset(preset)
    space = AcceleratorSpace(math.inf, resources=r)
    rng = np.random.default_rng(0)
    for _ in range(200):
        d = space.decode(rng.random(len(space.genes)))
        check = space.check(d)
        assert d.num_pes <= r.num_pes and d.onchip_bytes <= r.onchip_bytes
        assert d.dram_bytes_per_cycle <= r.dram_bytes_per_cycle
        assert d.word_bits == r.word_bits and d.technology_nm == r.technology_nm
        assert check.fits, check.reason()
    # the preset's own design is in the space (its PE array, resources within bounds)
    d = space.decode(space.encode_preset(preset))
    assert d.pe_array == get_mesh(preset) and space.check(d).fits


def get_mesh(preset):
    from accel_models.presets import get_preset

    return get_preset(preset).mesh


def test_check_rejects_designs_over_the_resources():
    r = ResourceBounds.from_preset("nvdla_256")
    space = AcceleratorSpace(math.inf, resources=r)
    big = Design((32, 16), ("K", "C"), (1, 1, 1), 300 * 1024, 64.0, 8, r.technology_nm, r.clock_ghz)
    check = space.check(big)
    assert not check.fits
    text = check.reason()
    assert "512 PEs > nvdla_256's 256" in text and "on-chip" in text and "DRAM 64" in text


def test_area_budget_space_unchanged():
    space = AcceleratorSpace(5.0)
    assert "x_dims" not in space.genes and space.resources is None
    assert space.decode([0.5] * len(space.genes)).axis_dims == (1, 1)


def test_settings_with_resources_and_networks(tmp_path):
    s = make_settings(None, match_resources="eyeriss", networks="mobilenet_v2,squeezenet1_0", out=tmp_path / "o")
    assert s.resources.preset == "eyeriss" and math.isinf(s.budget.area_mm2)
    assert [n.name for n in s.networks] == ["mobilenet_v2", "squeezenet1_0"] and s.network.name == "mobilenet_v2"
    assert (s.technology_nm, s.clock_ghz) == (65, 0.2)
    assert "eyeriss" in s.study_name and s.budget.describe() == ""
    with pytest.raises(UsageError, match="--match-resources: unknown preset 'tpu9'"):
        make_settings(None, match_resources="tpu9", network="resnet50", out=tmp_path / "o")
    with pytest.raises(UsageError, match="--networks: unknown network 'resnet51'"):
        make_settings(None, networks="resnet50,resnet51", out=tmp_path / "o")
    with pytest.raises(UsageError, match="give one of them"):
        make_settings(None, networks="resnet50,vgg16", network="vgg16", out=tmp_path / "o")


@pytest.mark.slow
@pytest.mark.parametrize("args, needle", [
    (["--match-resources", "tpu9", "--network", "resnet50"], "--match-resources: unknown preset 'tpu9'; accepted: eyeriss"),
    (["--networks", "vgg16,nonet"], "--networks: unknown network 'nonet'; accepted:"),
    (["--networks", "vgg16,,unet"], "--networks: empty name"),
    (["--networks", "vgg16,vgg16"], "--networks: a network is given twice"),
])
def test_cli_errors(tmp_path, args, needle, capsys):
    """The command line's `main` in this process (a whole command's one line: the run test below, test_no_result)."""
    status, _, err = run_main([*args, "--out", str(tmp_path / "o"), "--quiet", *TINY], capsys)
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("run_cosearch.py: error: ") and needle in lines[0], err
    assert not (tmp_path / "o").exists()     # refused before anything started


@pytest.mark.slow
def test_cli_run_with_resources_and_networks(tmp_path):
    out = tmp_path / "o"
    proc = run_cli(["--match-resources", "shidiannao", "--networks", "squeezenet1_0,mobilenet_v2", "--out", str(out),
                    "--quiet", "--workers", "1", *TINY], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "result.json").read_text())
    assert doc["resources"]["preset"] == "shidiannao"
    assert [p["name"] for p in doc["presets"]] == ["shidiannao"]
    assert set(doc["per_network"]) == {"squeezenet1_0", "mobilenet_v2"}
    assert "--match-resources shidiannao" in doc["command"] and "--networks squeezenet1_0,mobilenet_v2" in doc["command"]
    assert doc["design"]["num_pes"] <= 64
    assert "geometric-mean EDP" in proc.stdout

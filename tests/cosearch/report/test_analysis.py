"""What dominates a network's cost: shares, top layers, kinds, energy by level and tensor, presets at another node;
and the report's sections that appear only with their content."""
import pytest

from accel_models import area_mm2, get_preset
from dataclasses import replace

from cosearch import CoSearchResult, evaluate_network, make_settings, preset_runs  # noqa: I001
from cosearch.config import SEARCH_MAPPER
from mappings import MappingCache
from cosearch.report.analysis import analyze, comparison_caveats, presets_at_node
from cosearch.report.writer import _energy_table, _fusion_section, _header_section, report_markdown
from cosearch.search import AcceleratorSpace
from cosearch.search.accuracy import AccuracySource
from nets import Layer, Network

NET = Network("tiny", (Layer.conv(16, 32, 3, 14, name="conv"), Layer.conv(32, 32, 3, 14, groups=32, name="dw"),
                       Layer.conv(32, 32, 3, 14, groups=32, name="dw"), Layer.fc(512, 100, name="fc")))
"""A network with a conv, a depthwise layer run twice, and an FC layer."""


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    settings = make_settings("area=5mm2", network="resnet50", out=tmp_path_factory.mktemp("a") / "out")
    space = AcceleratorSpace.for_settings(settings)
    design = space.decode({g: 0.0 if g == "word_bits" else 0.5 for g in space.genes})  # 8-bit words
    assert design.word_bits == 8
    cache = MappingCache(replace(SEARCH_MAPPER, budget_evals=256))
    best = evaluate_network(NET, design.accelerator, cache)
    presets = preset_runs(NET, 5.0, cache, names=["nvdla_256", "shidiannao", "eyeriss"])
    return CoSearchResult(settings, design, best, 0, {}, presets, None, [], {"complete": 1, "pruned": 0, "failed": 0},
                          [], {})


def test_shares_and_the_top_layers(result):
    a = analyze(result.best)
    assert [x.index for x in a.layers] == list(range(len(result.best.layers))) == [0, 1, 2]
    for share in ("mac_share", "latency_share", "energy_share"):
        assert sum(getattr(x, share) for x in a.layers) == pytest.approx(1)
    dw = next(x for x in a.layers if x.layer.name == "dw")
    assert dw.cost.count == 2
    assert dw.latency_share == pytest.approx(dw.cost.cycles * 2 / result.best.cycles)
    top = a.top("latency")
    assert [x.latency_share for x in top] == sorted((x.latency_share for x in a.layers), reverse=True)
    kinds = {k.kind: k for k in a.by_kind()}
    assert set(kinds) == {"conv", "depthwise", "fc"} and kinds["depthwise"].runs == 2
    assert sum(k.latency_share for k in kinds.values()) == pytest.approx(1)


def test_energy_by_level_and_tensor_adds_up(result):
    a = analyze(result.best)
    assert a.level_tensor_energy_pj.shape == (result.best.accelerator.num_levels, 3)
    assert a.level_tensor_energy_pj.sum() + a.mac_energy_pj == pytest.approx(result.best.energy_pj, rel=1e-9)
    assert all(x.dram_bytes > 0 for x in a.layers)  # every weight comes from DRAM at least once


def test_leakage_counts_in_the_energy_by_level(result):
    acc = result.best.accelerator
    leaky = acc.with_levels(**{acc.level_names[0]: {"leak_energy_pj": 0.01}, acc.level_names[1]: {"leak_energy_pj": 0.5}})
    cost = evaluate_network(NET, leaky, MappingCache(replace(SEARCH_MAPPER, budget_evals=256)))
    a = analyze(cost)
    assert a.level_leak_pj[0] > 0 and a.level_leak_pj[1] > 0 and not a.level_leak_pj[2:].any()
    assert a.level_tensor_energy_pj.sum() + a.level_leak_pj.sum() + a.mac_energy_pj == pytest.approx(cost.energy_pj,
                                                                                                       rel=1e-9)
    table = _energy_table(a)
    assert "leakage uJ" in table and "leakage uJ" not in _energy_table(analyze(result.best))
    assert a.to_dict()["leak_energy_pj_by_level"][acc.level_names[1]] == pytest.approx(a.level_leak_pj[1])


def test_the_clock_network_counts_in_the_energy_by_level(result):
    acc = result.best.accelerator
    clocked = replace(acc, clock_energy_pj=40.0)
    cost = evaluate_network(NET, clocked, MappingCache(replace(SEARCH_MAPPER, budget_evals=256)))
    a = analyze(cost)
    assert a.clock_energy_pj == pytest.approx(40.0 * cost.cycles, rel=1e-9)
    assert a.level_tensor_energy_pj.sum() + a.mac_energy_pj + a.clock_energy_pj == pytest.approx(cost.energy_pj,
                                                                                                  rel=1e-9)
    assert "clock network" in _energy_table(a) and "clock network" not in _energy_table(analyze(result.best))
    assert a.to_dict()["clock_energy_pj"] == pytest.approx(a.clock_energy_pj)


def test_bounds_follow_the_spatial_utilization(result):
    a = analyze(result.best)
    for x in a.layers:
        assert x.bound in ("compute", "memory", "utilization")
        if x.bound == "utilization":
            assert x.spatial_utilization < 1
            assert x.roofline.utilization_ceiling_macs_per_s < x.roofline.attainable_macs_per_s
        assert x.cost.result.utilization <= x.spatial_utilization + 1e-12  # stalls only lower the achieved one


def test_presets_at_the_design_node(result):
    runs = {p.name: p for p in result.presets}
    assert runs["shidiannao"].fits and runs["shidiannao"].technology_nm == 65 and not runs["eyeriss"].fits
    at = {p.name: p for p in presets_at_node(result)}
    assert set(at) == {"nvdla_256", "shidiannao"}
    sdn, own = at["shidiannao"], runs["shidiannao"].cost
    assert sdn.node_nm == 45 and sdn.latency_s == own.latency_s  # same sizes and clock: same cycles
    assert sdn.energy_j < own.energy_j and sdn.area_mm2 == pytest.approx(area_mm2(get_preset("shidiannao", 45)))
    assert at["nvdla_256"].energy_j == runs["nvdla_256"].cost.energy_j  # already at 45 nm: unchanged
    caveats = comparison_caveats(result)
    assert any(c.startswith("shidiannao runs at 65 nm and 16-bit words") for c in caveats), caveats
    eyeriss_45 = area_mm2(get_preset("eyeriss", 45))
    assert any(c.startswith("eyeriss is left out") for c in caveats) == (eyeriss_45 <= 5.0)


def test_headlines_name_the_dominant_layers(result):
    lines = analyze(result.best).headlines()
    top = analyze(result.best).top("latency", 3)
    assert any(f"#{top[0].index} {top[0].layer.name}" in line and "most latency" in line for line in lines)
    assert all("\n" not in line for line in lines)


def test_a_utilization_range_whose_ends_print_alike_is_one_figure():
    from cosearch.report.analysis import percent_range

    assert percent_range(0.0161, 0.0164) == "1.6%"          # printed '1.6%-1.6%' before
    assert percent_range(0.031, 0.178) == "3.1%-17.8%"
    assert percent_range(0.5, 0.5) == "50.0%"


def test_a_kind_bound_by_dram_bandwidth_says_so_with_its_roof():
    """A batch-1 FC layer uses each weight once: on NVDLA-1024 (1,024 MACs a cycle, a few DRAM bytes) it runs at
    the memory roof, and the headline says so (the cycles against those its DRAM bytes take, and that they are
    weights)."""
    net = Network("conv-fc", (Layer.conv(64, 64, 3, 28, name="conv"), Layer.fc(2048, 1024, name="fc")))
    a = analyze(evaluate_network(net, get_preset("nvdla_1024"), MappingCache(replace(SEARCH_MAPPER, budget_evals=256))))
    fc = next(x for x in a.layers if x.layer.name == "fc")
    assert fc.bound == "memory"
    line = next(h for h in a.headlines() if h.startswith("FC layers"))
    bytes_per_cycle = fc.roofline.dram_bytes_per_s / (fc.roofline.clock_ghz * 1e9)
    ratio = fc.cost.cycles / (fc.dram_bytes / bytes_per_cycle)
    assert 1 <= ratio < 1.01          # no mapping beats the roof, and this one reads each weight once
    assert line.endswith(f": bound by DRAM bandwidth, {ratio:.2f}x the cycles their {fc.dram_bytes / 1e6:.3g} MB of "
                         f"DRAM traffic take at {bytes_per_cycle:.3g} B/cycle (100% of it weights, each read once)"), line


def test_the_reports_optional_sections_follow_the_result(result):
    """report.md's sections that appear only with their content: what stays on chip (a fused plan's groups, one row
    each), the accuracy source's path and notice, and, with no design within the budget, one line in place of every
    design section."""
    assert _fusion_section(result) == []
    fused = evaluate_network(NET, result.design.accelerator, MappingCache(replace(SEARCH_MAPPER, budget_evals=64)),
                             fusion="resident")
    section = _fusion_section(replace(result, best=fused))
    assert section[:2] == ["## What stays on chip", ""] and section[2].startswith("Runs with --fusion resident: ")
    assert len(section[-2].splitlines()) == 2 + len(fused.meta["fusion"]["groups"])     # header, rule, a row each
    source = AccuracySource("proxy", "a proxy", None, "NOTICE: uncalibrated")
    header = _header_section(replace(result, accuracy_source=source))
    assert header[-4:] == ["Accuracy source: a proxy", "", "> **NOTICE: uncalibrated**", ""]
    assert "Accuracy source: a proxy (`p.json`)" in _header_section(
        replace(result, accuracy_source=replace(source, path="p.json", notice=None)))
    md = report_markdown(replace(result, best=None, notes=["a note"]), {"command": "cosearch --trials 1"})
    assert "No trial produced a design within the budget." in md and "## Summary" not in md
    assert "## Best design" not in md and "Note: a note" in md
    assert md.endswith("Timings: \n") and "```bash\ncosearch --trials 1\n```" in md

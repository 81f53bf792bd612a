"""Timeloop architectures: the reader agrees with the corpus's JSON, the writer gives the corpus's files back
and round-trips the presets."""
import warnings
from dataclasses import replace

import pytest
import yaml

from accel_models import TENSORS, presets
from accel_models.timeloop import (accelerator_from_timeloop, arch_to_timeloop_yaml, constraints_to_timeloop_yaml,
                                   ert_to_timeloop_yaml)


def _all_tensors(acc):
    """The accelerator with every level keeping every tensor (the JSON loader takes keeps from the mapping)."""
    return replace(acc, levels=tuple(replace(lv, keeps=TENSORS) for lv in acc.levels))


@pytest.mark.slow
def test_accelerators_match_json_loader(cases, loaded):
    bad = []
    for c in cases:
        acc = replace(loaded[c.id][1], name=c.accelerator.name)
        if _all_tensors(acc) != _all_tensors(c.accelerator):  # every field the cost model reads, but keeps
            bad.append(c.id)
    assert not bad
    fields = ("capacity_words", "block_size_words", "word_bits", "read_bandwidth", "write_bandwidth",
              "shared_bandwidth", "read_energy_pj", "write_energy_pj", "update_energy_pj", "fanout_x", "fanout_y")
    c = next(c for c in cases if c.family == "C" and c.accelerator.fanout_levels)
    for got, want in zip(loaded[c.id][1].levels, c.accelerator.levels):
        assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields]
    assert loaded[c.id][1].mac_energy_pj == c.accelerator.mac_energy_pj


def test_arch_writer_gives_the_corpus_text(cases, loaded):
    bad = [c.id for c in cases if arch_to_timeloop_yaml(loaded[c.id][1]) != c.raw["timeloop_yaml"]["arch"]]
    assert not bad


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_arch_writer_round_trips_presets(name):
    acc = presets.get_preset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-tensor capacities are not expressible in Timeloop v0.4
        arch = arch_to_timeloop_yaml(acc)
    back = accelerator_from_timeloop(arch, ert_to_timeloop_yaml(acc), name=acc.name,
                                     constraints_yaml=constraints_to_timeloop_yaml(acc))
    assert back == replace(acc, dataflow=None, levels=tuple(replace(lv, tensor_capacity_words=None)
                                                            for lv in acc.levels))


def test_per_tensor_capacity_warns():
    acc = presets.get_preset("shidiannao")
    with pytest.warns(UserWarning, match="per-tensor capacities"):
        arch_to_timeloop_yaml(acc)


def test_unmodelled_attributes_come_back_as_read(fanned_case):
    """Attributes the cost model ignores ride along and are written back as YAML values, quoted where needed."""
    y = fanned_case.raw["timeloop_yaml"]
    arch = yaml.safe_load(y["arch"])
    extra = {"n_banks": 2, "note": "yes", "ports": [1, 2], "label": "a: b # c", "cluster": {"size": 1}}
    arch["architecture"]["subtree"][0]["local"][1]["attributes"].update(extra)
    acc = accelerator_from_timeloop(arch, y["ert"])
    text = arch_to_timeloop_yaml(acc)
    assert "ports: [1, 2]" in text and "cluster: {size: 1}" in text
    again = yaml.safe_load(text)["architecture"]["subtree"][0]["local"][1]["attributes"]
    assert {k: again[k] for k in extra} == extra
    assert accelerator_from_timeloop(text, y["ert"]) == acc


def test_malformed_arch_raises(fanned_case):
    y = fanned_case.raw["timeloop_yaml"]
    arch = yaml.safe_load(y["arch"])
    arch["architecture"]["subtree"][0]["local"][-2]["attributes"]["meshX"] = 3
    with pytest.raises(ValueError, match=r"meshX x meshY"):
        accelerator_from_timeloop(arch, y["ert"])
    with pytest.raises(ValueError, match=r"arch.architecture: expected nodes: .* or subtree:"):
        accelerator_from_timeloop("architecture: {version: 0.4}", y["ert"])
    with pytest.raises(ValueError, match="not valid YAML"):
        accelerator_from_timeloop("architecture: [", y["ert"])
    with pytest.raises(ValueError, match="expected a YAML mapping at the top level"):
        accelerator_from_timeloop("- a\n- b\n", y["ert"])
    arch = yaml.safe_load(y["arch"])
    arch["architecture"]["subtree"][0]["local"][1]["attributes"]["width"] = 60
    with pytest.raises(ValueError, match=r"width \(60\) must be a multiple of datawidth"):
        accelerator_from_timeloop(arch, y["ert"])
    arch = yaml.safe_load(y["arch"])
    for tech, nm in (("45 furlongs", 45), (-1, 45), ("28nm", 28), (32, 32)):   # Timeloop does not read it
        arch["architecture"]["subtree"][0]["attributes"]["technology"] = tech
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert accelerator_from_timeloop(arch, y["ert"]).technology_nm == nm
        assert [str(w.message) for w in caught if "names no node" in str(w.message)] == (
            [f"arch.system.attributes.technology {tech!r} names no node (such as '45nm'); cosearch's area model "
             "takes 45 nm"] if tech in ("45 furlongs", -1) else [])


def test_nested_subtree_instances():
    """A v0.4 nested subtree (PE[0..167] holding per-PE levels) multiplies instances as Timeloop does."""
    arch = {"architecture": {"version": 0.4, "subtree": [{"name": "system", "local": [
        {"name": "DRAM", "class": "DRAM", "attributes": {"width": 64, "datawidth": 16}}], "subtree": [
        {"name": "chip", "local": [{"name": "glb", "class": "SRAM",
                                    "attributes": {"depth": 1024, "width": 64, "datawidth": 16}}],
         "subtree": [{"name": "PE[0..167]", "local": [
             {"name": "spad", "class": "regfile", "attributes": {"depth": 16, "width": 16, "datawidth": 16,
                                                                 "meshX": 14}},
             {"name": "mac", "class": "intmac", "attributes": {"datawidth": 16, "meshX": 14}}]}]}]}]}}
    ert = {"ERT": {"version": 0.4, "tables": [
        {"name": n, "actions": [{"name": a, "energy": 1.0} for a in ("read", "write", "update")]}
        for n in ("system.DRAM", "system.chip.glb", "system.chip.PE[0..167].spad")] + [
        {"name": "system.chip.PE[0..167].mac", "actions": [{"name": "compute", "energy": 0.5}]}]}}
    acc = accelerator_from_timeloop(arch, ert)
    assert acc.level_names == ("DRAM", "glb", "spad")
    assert [(lv.fanout_x, lv.fanout_y) for lv in acc.levels] == [(1, 1), (14, 12), (1, 1)]
    assert acc.levels[1].capacity_words == 4096 and acc.levels[0].capacity_words is None
    assert acc.mac_energy_pj == 0.5 and acc.mac_bits == 16

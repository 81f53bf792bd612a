"""Timeloop energy reference tables: the writer gives the corpus's ERT back; energies survive a round trip."""
import pytest
import yaml

from accel_models.timeloop import accelerator_from_timeloop, arch_to_timeloop_yaml, ert_to_timeloop_yaml


def test_ert_writer_gives_the_corpus_text(cases, loaded):
    bad = [c.id for c in cases if ert_to_timeloop_yaml(loaded[c.id][1]) != c.raw["timeloop_yaml"]["ert"]]
    assert not bad


def test_tiny_and_huge_energies_round_trip(fanned_case, loaded):
    """Energies in exponent form (1e-5 pJ, 2.5e+20 pJ) are written as numbers and read back exactly."""
    acc = loaded[fanned_case.id][1]
    acc = acc.with_levels(**{acc.level_names[-1]: {"read_energy_pj": 1e-5, "write_energy_pj": 2.5e20}})
    back = accelerator_from_timeloop(arch_to_timeloop_yaml(acc), ert_to_timeloop_yaml(acc), name=acc.name)
    assert back == acc
    text = ert_to_timeloop_yaml(acc)
    assert "energy: 1e-5\n" in text and "energy: 2.5e+20\n" in text  # plain YAML 1.2 floats, as Timeloop writes


def test_ert_actions_take_the_largest_entry_and_default_update_to_write(fanned_case):
    y = fanned_case.raw["timeloop_yaml"]
    ert = yaml.safe_load(y["ert"])
    last = ert["ERT"]["tables"][-2]  # the innermost storage level
    last["actions"] = [a for a in last["actions"] if a["name"] != "update"]
    last["actions"].append({"name": "read", "energy": 1000.0, "arguments": {"address_delta": 1}})
    lv = accelerator_from_timeloop(y["arch"], ert).levels[-1]
    assert lv.read_energy_pj == 1000.0 and lv.update_energy_pj == lv.write_energy_pj


def test_malformed_ert_raises(fanned_case):
    y = fanned_case.raw["timeloop_yaml"]
    ert = yaml.safe_load(y["ert"])
    ert["ERT"]["tables"].pop(1)
    with pytest.raises(ValueError, match=r"ert: no table for"):
        accelerator_from_timeloop(y["arch"], ert)
    ert = yaml.safe_load(y["ert"])
    ert["ERT"]["tables"][0]["actions"][0]["energy"] = -1
    with pytest.raises(ValueError, match=r"ert.tables\[0\].actions\[0\].energy must be >= 0 pJ"):
        accelerator_from_timeloop(y["arch"], ert)
    with pytest.raises(ValueError, match=r"ert.ERT.tables: missing"):
        accelerator_from_timeloop(y["arch"], "ERT: {version: 0.4}")

"""Timeloop mapspace constraints: bypass targets give the levels' keeps, and the writer gives the mapper
benchmark's constraints back."""
import pytest
import yaml

from accel_models.timeloop import accelerator_from_timeloop, constraints_to_timeloop_yaml


def test_mapper_bench_constraints_give_keeps(mapper_bench_pairs):
    for raw in mapper_bench_pairs:
        y = raw["timeloop_yaml"]
        acc = accelerator_from_timeloop(y["arch"], y["ert"], constraints_yaml=y["mapspace_constraints"])
        assert [lv.keeps for lv in acc.levels] == [tuple(lv["tensors_kept"]) for lv in raw["arch"]["storage_levels"]]
        # a single document with the constraints merged in (Timeloop accepts concatenated inputs) does the same
        merged = {**yaml.safe_load(y["arch"]), **yaml.safe_load(y["mapspace_constraints"])}
        assert accelerator_from_timeloop(merged, y["ert"]).levels == acc.levels
        assert constraints_to_timeloop_yaml(acc) == y["mapspace_constraints"]


def test_constraints_naming_no_level_or_tensor_raise(mapper_bench_pairs):
    y = mapper_bench_pairs[0]["timeloop_yaml"]
    doc = yaml.safe_load(y["mapspace_constraints"])
    doc["mapspace_constraints"]["targets"][1]["target"] = "NoSuchBuffer"
    with pytest.raises(ValueError, match=r"constraints.targets\[1\].target: 'NoSuchBuffer' names no storage level"):
        accelerator_from_timeloop(y["arch"], y["ert"], constraints_yaml=doc)
    doc = yaml.safe_load(y["mapspace_constraints"])
    doc["mapspace_constraints"]["targets"][1]["bypass"] = ["Psums"]
    with pytest.raises(ValueError, match=r"constraints.targets\[1\].bypass: unknown data space 'Psums'"):
        accelerator_from_timeloop(y["arch"], y["ert"], constraints_yaml=doc)

"""The ZigZag half of bench_peers.py, run by a Python that has `zigzag-dse` (the [peers] extra, or a venv of its
own): maps an ONNX network on one of ZigZag's accelerators and prints JSON: times, cost-model evaluations, and per
layer its loop bounds, ZigZag's energy / latency and its chosen spatial and temporal mapping.

    python benchmarks/_zigzag_side.py NETWORK.onnx ACCELERATOR.yaml MAPPING.yaml [--lpf-limit N]

Imports nothing of cosearch (that Python need not have it)."""
import argparse
import json
import logging
import os
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("network")
    parser.add_argument("accelerator")
    parser.add_argument("mapping")
    parser.add_argument("--lpf-limit", type=int, default=6)
    parser.add_argument("--opt", default="EDP")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    from zigzag import api
    from zigzag.cost_model import cost_model

    evaluations = [0]
    original = cost_model.CostModelEvaluation.__init__

    def counted(self, *a, **k):
        evaluations[0] += 1
        original(self, *a, **k)

    cost_model.CostModelEvaluation.__init__ = counted
    with tempfile.TemporaryDirectory() as out:
        wall, cpu = time.perf_counter(), time.process_time()
        result = api.get_hardware_performance_zigzag(
            args.network, args.accelerator, args.mapping, opt=args.opt, dump_folder=out,
            pickle_filename=os.path.join(out, "cmes.pickle"), lpf_limit=args.lpf_limit,
            loma_show_progress_bar=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    energy, latency, cmes = result[0], result[1], result[-1]
    layers = []
    for cme, _ in cmes[0][1]:
        layer = cme.layer
        spatial = {str(oa): [[str(d), float(f)] for d, f in single.items()]
                   for oa, single in layer.spatial_mapping.items()}
        temporal = {str(op): [[[str(d), float(f)] for d, f in level] for level in levels]
                    for op, levels in cme.temporal_mapping.mapping_dic_origin.items()}
        memories = {str(op): [lv.name for lv in cme.accelerator.memory_hierarchy.get_memory_levels(
            cme.memory_operand_links.layer_to_mem_op(op))] for op in layer.layer_operands}
        layers.append({"name": layer.name, "type": layer.type, "id": layer.id,
                       "dims": {str(d): int(s) for d, s in layer.layer_dim_sizes.items()},
                       "energy_pj": float(cme.energy_total), "latency_cycles": float(cme.latency_total2),
                       "spatial": spatial, "temporal": temporal, "memories": memories})
    json.dump({"wall_s": wall, "cpu_s": cpu, "evaluations": evaluations[0], "energy_pj": float(energy),
               "latency_cycles": float(latency), "layers": layers}, sys.stdout)


if __name__ == "__main__":
    main()

"""The Stream half of bench_stream.py, run by a Python that has `stream-dse` (a venv of its own): schedules a chain
of convolutions on a single-core accelerator with Stream's layer-fused scheduler and prints JSON: per schedule the
bits of activations (layer operands I and O) and of weights (W) that cross the off-chip link, latency and energy.

    python benchmarks/_stream_side.py SPEC.json

SPEC.json: {"layers": [{"name", "K", "C", "OY", "OX", "FY", "FX", "stride", "pad"}, ...] (a chain, each reading the
previous one's output), "word_bits", "array": [D1, D2], "act_sram_bits", "schedules": {"NAME": [[DIM, SPLIT], ...]}}.
A schedule is Stream's computation-node (CN) granularity: the outer loops a layer is cut at (cn_define_mode 1);
[] is one CN per layer (layer by layer), [["OY", "all"]] one CN per output row of every layer (fine-grained layer
fusion, as in Stream's paper).

Built for stream-dse 0.0.8 (the last release on PyPI), which needs zigzag-dse 2.4 (`zigzag.classes`, and
`MemoryHierarchy.mem_level_list`, which 2.3 lacks) and, undeclared, plotly and pandas:
    python -m venv /work/venvs/stream
    /work/venvs/stream/bin/pip install stream-dse "zigzag-dse==2.4.6" plotly pandas

Off-chip traffic is counted where Stream moves it: every tensor transfer between the core and the off-chip "core"
(fetches, evictions, the sink layer's output written back; `CommunicationManager.update_links`), plus, for an
operand too large for the core's top memory (Stream then maps the CN with DRAM as that operand's top level), the
DRAM level's accesses in ZigZag's evaluation of the CN (DRAM costs 1 pJ per bit here, so its energy is its bits).
Imports nothing of cosearch (that Python need not have it)."""
import argparse
import json
import logging
import os
import sys
import tempfile
import time


def _core(core_id, array, act_sram_bits, word_bits):
    """One core: a D1 x D2 array unrolling K x C, per-PE registers (12 input, 224 weight, 24 output words, as
    cosearch's eyeriss preset), an activation SRAM shared by inputs and outputs (its capacity is the comparison's
    knob) and weights fed from DRAM to the registers (Eyeriss-like: they do not pass through the shared buffer).
    Energies and bandwidths are placeholders: only bits are compared."""
    from zigzag.classes.hardware.architecture.core import Core
    from zigzag.classes.hardware.architecture.memory_hierarchy import MemoryHierarchy
    from zigzag.classes.hardware.architecture.memory_instance import MemoryInstance
    from zigzag.classes.hardware.architecture.operational_array import MultiplierArray
    from zigzag.classes.hardware.architecture.operational_unit import Multiplier

    w = word_bits
    array_ = MultiplierArray(Multiplier([w, w], 1.0, 0), {"D1": array[0], "D2": array[1]})
    hierarchy = MemoryHierarchy(operational_array=array_)
    rf_i = MemoryInstance(name="rf_i", size=12 * w, r_bw=w, w_bw=w, r_cost=0.1, w_cost=0.1, area=0, r_port=1,
                          w_port=1, rw_port=0, latency=1)
    rf_w = MemoryInstance(name="rf_w", size=224 * w, r_bw=w, w_bw=w, r_cost=0.1, w_cost=0.1, area=0, r_port=1,
                          w_port=1, rw_port=0, latency=1)
    rf_o = MemoryInstance(name="rf_o", size=24 * 2 * w, r_bw=2 * w, w_bw=2 * w, r_cost=0.1, w_cost=0.1, area=0,
                          r_port=2, w_port=2, rw_port=0, latency=1)
    sram = MemoryInstance(name="act_sram", size=act_sram_bits, r_bw=64 * w, w_bw=64 * w, r_cost=10, w_cost=10,
                          area=0, r_port=1, w_port=1, rw_port=0, latency=1, min_r_granularity=w,
                          min_w_granularity=w)
    hierarchy.add_memory(memory_instance=rf_i, operands=("I1",),
                         port_alloc=({"fh": "w_port_1", "tl": "r_port_1", "fl": None, "th": None},),
                         served_dimensions=set())
    hierarchy.add_memory(memory_instance=rf_w, operands=("I2",),
                         port_alloc=({"fh": "w_port_1", "tl": "r_port_1", "fl": None, "th": None},),
                         served_dimensions=set())
    hierarchy.add_memory(memory_instance=rf_o, operands=("O",),
                         port_alloc=({"fh": "w_port_1", "tl": "r_port_1", "fl": "w_port_2", "th": "r_port_2"},),
                         served_dimensions=set())
    hierarchy.add_memory(memory_instance=sram, operands=("I1", "O"),
                         port_alloc=({"fh": "w_port_1", "tl": "r_port_1", "fl": None, "th": None},
                                     {"fh": "w_port_1", "tl": "r_port_1", "fl": "w_port_1", "th": "r_port_1"}),
                         served_dimensions="all")
    return Core(core_id, array_, hierarchy, [{"D1": ("K", array[0]), "D2": ("C", array[1])}])


def _offchip(core_id, word_bits):
    """The off-chip "core" (only its memory matters): DRAM at 1 pJ per bit, so energies read as bits."""
    from zigzag.classes.hardware.architecture.core import Core
    from zigzag.classes.hardware.architecture.memory_hierarchy import MemoryHierarchy
    from zigzag.classes.hardware.architecture.memory_instance import MemoryInstance
    from zigzag.classes.hardware.architecture.operational_array import MultiplierArray
    from zigzag.classes.hardware.architecture.operational_unit import Multiplier

    bw = 4 * word_bits
    dram = MemoryInstance(name="dram", size=10**10, r_bw=bw, w_bw=bw, r_cost=bw, w_cost=bw, area=0, r_port=1,
                          w_port=1, rw_port=0, latency=1)
    array_ = MultiplierArray(Multiplier([word_bits, word_bits], float("inf"), 0), {"D1": 1, "D2": 1})
    hierarchy = MemoryHierarchy(operational_array=array_)
    hierarchy.add_memory(memory_instance=dram, operands=("I1", "I2", "O"),
                         port_alloc=({"fh": "w_port_1", "tl": "r_port_1", "fl": None, "th": None},
                                     {"fh": "w_port_1", "tl": "r_port_1", "fl": None, "th": None},
                                     {"fh": "w_port_1", "tl": "r_port_1", "fl": "w_port_1", "th": "r_port_1"}),
                         served_dimensions="all")
    return Core(core_id, array_, hierarchy)


def _workload(layers, word_bits):
    """Stream's user-defined workload dict for a chain of convolutions."""
    w = word_bits
    workload = {}
    for i, layer in enumerate(layers):
        s, pad = layer["stride"], layer["pad"]
        workload[i] = {
            "operator_type": "conv",
            "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
            "dimension_relations": [f"ix={s}*ox+1*fx", f"iy={s}*oy+1*fy"],
            "loop_dim_size": {"B": 1, "K": layer["K"], "C": layer["C"], "OY": layer["OY"], "OX": layer["OX"],
                              "FY": layer["FY"], "FX": layer["FX"]},
            "operand_precision": {"O": 2 * w, "O_final": w, "W": w, "I": w},
            "operand_source": {"W": [], "I": [] if i == 0 else [i - 1]},
            "constant_operands": ["W", "I"] if i == 0 else ["W"],
            "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"},
            "padding": {"IY": (pad, pad), "IX": (pad, pad)},
        }
        if i:
            workload[i]["operand_source_dimension_mapping"] = {"I": {"IX": "OX", "IY": "OY", "C": "K"}}
    return workload


def _schedule(spec, hint_loops, folder):
    from stream.classes.cost_model import communication_manager as cm
    from stream.classes.hardware.architecture.accelerator import Accelerator
    from stream.classes.stages import (GenerateCNWorkloadHybridStage, InterCoreMappingStage,
                                       IntraCoreMappingStage, UserDefinedModelParserStage)
    from stream.inputs.examples.hardware.nocs.mesh_2d import get_2d_mesh
    from zigzag.classes.stages import MainStage

    word_bits = spec["word_bits"]
    core = _core(0, spec["array"], spec["act_sram_bits"], word_bits)
    offchip = _offchip(1, word_bits)
    accelerator = Accelerator("single-core", get_2d_mesh([core], 1, 1, 64 * word_bits, 0, offchip_core=offchip),
                              offchip_core_id=1)
    tag = f"m{abs(hash(json.dumps(hint_loops)))}"
    with open(os.path.join(folder, f"wl_{tag}.py"), "w") as f:
        f.write(f"workload = {_workload(spec['layers'], word_bits)!r}\n")
    with open(os.path.join(folder, f"map_{tag}.py"), "w") as f:
        f.write("mapping = {'default': {'core_allocation': [0]}, 'conv': {'core_allocation': [0]}}\n")

    moved = {"I": 0, "O": 0, "W": 0}
    original = cm.CommunicationManager.update_links

    def counted(self, tensor, sender, receiver, receiver_memory_operand, start, duration):
        ids = {getattr(sender, "id", sender), getattr(receiver, "id", receiver)}
        if 1 in ids and 0 in ids:
            moved[tensor.layer_operand] += tensor.size
        return original(self, tensor, sender, receiver, receiver_memory_operand, start, duration)

    cm.CommunicationManager.update_links = counted
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        answers = MainStage(
            [UserDefinedModelParserStage, GenerateCNWorkloadHybridStage, IntraCoreMappingStage,
             InterCoreMappingStage],
            accelerator=accelerator, workload_path=f"wl_{tag}", mapping_path=f"map_{tag}", loma_lpf_limit=6,
            nb_ga_individuals=4, nb_ga_generations=1,
            node_hw_performances_path=os.path.join(folder, f"hw_{tag}.pickle"), plot_hof=False,
            plot_file_name=False, plot_full_schedule=False, plot_data_transfer=False, cn_define_mode=1,
            hint_loops=[tuple(h) for h in hint_loops], scheduler_candidate_selection="memory",
            operands_to_prefetch=[]).run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        cm.CommunicationManager.update_links = original
    scme = answers[0][0]
    streamed = {"I": 0.0, "O": 0.0, "W": 0.0}  # bits of too-large operands streamed from DRAM inside CNs
    cns = list(scme.workload.nodes())
    for node in cns:
        for operand in getattr(node, "too_large_operands", None) or []:
            layer_op = next(op for op, mem in node.memory_operand_links.items() if mem == operand)
            cme = _cme_of(node)
            streamed[layer_op] += float(cme.energy_breakdown[layer_op][-1])
    return {"hint_loops": hint_loops, "cns": len(cns), "wall_s": wall, "cpu_s": cpu,
            "latency_cycles": float(scme.latency), "energy_pj": float(scme.energy),
            "transferred_bits": moved, "streamed_bits": streamed,
            "activation_bits": moved["I"] + moved["O"] + streamed["I"] + streamed["O"],
            "weight_bits": moved["W"] + streamed["W"]}


_CMES = []


def _cme_of(node):
    """ZigZag's evaluation of the CN `node` on its core (kept per unique CN, which CNs of its shape equal)."""
    return next(cme for unique, cme in reversed(_CMES) if unique == node)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    with open(args.spec) as f:
        spec = json.load(f)
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        sys.path.insert(0, folder)
        _capture_cmes()
        for name, hint_loops in spec["schedules"].items():
            out[name] = _schedule(spec, hint_loops, folder)
    json.dump(out, sys.stdout)


def _capture_cmes() -> None:
    """Remember each CN's ZigZag evaluation as the InterCoreMappingStage hands it to the CN."""
    from stream.classes.stages.InterCoreMappingStage import InterCoreMappingStage as stage

    original = stage.__init__

    def init(self, *a, **k):
        original(self, *a, **k)
        for node, per_core in k.get("node_hw_performances", {}).items():
            for cme in per_core.values():
                _CMES.append((node, cme))

    stage.__init__ = init


if __name__ == "__main__":
    main()

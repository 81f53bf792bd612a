"""A fused group (a chain of Einsums computed tile by tile over rows, the intermediate tiles kept on chip) written as
one AccelForge LoopTree mapping, so that AccelForge's model can count what the group moves through main memory.

The tree (outermost first): main memory holds the group's input, its output and every weight; the home level (the
on-chip buffer the group's tiles live in) holds the weights above the row loop when they stay on chip for the whole
group (loaded once), else each Einsum's weight below it; one temporal loop steps the rows in tiles of `tile_rows`,
shared by every Einsum (it names the same rank variable in each); under it the home level holds each intermediate
tensor's tile, and a `!Sequential` node runs the Einsums one after the other, each with its own loops (every
remaining rank variable stepped to a tile of 1) down to its `!Compute`. So the group's input is read once, its output
written once, each intermediate tensor never leaves the home level, and the weights are read once when they stay on
chip (once per row tile otherwise): the main-memory words of cosearch's depth-first plan of the group. The
Einsums' loops below the row loop are a plain order, not cosearch's mapping of each tile, so AccelForge's counts
inside the chip differ from cosearch's.

Refused in one line: Einsums that do not form a chain (each reads the previous one's output), a rank variable for the
rows that is not the same in every Einsum (a windowed layer's rows: its halo has no form in this tree), and an
architecture whose levels below the home level must keep a tensor (their storage nodes are not written).
"""
from __future__ import annotations

from nets.einsum_import import einsum_in_workload

from ..accelerator import Accelerator
from ..timeloop._yaml import Tagged, dump


def _chain(workload: dict, einsums: list[str]) -> list[tuple]:
    """Per Einsum: (layer, {var: dim}, {role: tensor name}); checks that each reads the previous one's output."""
    out = []
    for name in einsums:
        layer, var_dim, roles = einsum_in_workload(workload, name)
        out.append((layer, var_dim, {role: tensor for tensor, role in roles.items()}))
    for (_, _, a), (_, _, b), name in zip(out, out[1:], einsums[1:]):
        if b["input"] != a["output"]:
            raise ValueError(f"fused group: {name} reads {b['input']}, not {a['output']} (the previous Einsum's "
                             "output); a group is a chain")
    return out


def fused_group_document(workload: dict, einsums: list[str], accelerator: Accelerator, rows: str, tile_rows: int,
                         weights_on_chip: bool, home: int = 1) -> dict:
    """The `mapping:` of the fused group `einsums` (names, in order) of an AccelForge `workload:` section (see the
    module docstring). `rows`: the cosearch dim the group is tiled over (Q, or N for rows of tokens); `tile_rows`:
    rows per tile; `weights_on_chip`: whether the weights stay in the home level for the whole group; `home`: the
    index of that level in `accelerator`. A ValueError for a group this tree cannot state."""
    if not einsums:
        raise ValueError("fused group: no Einsums")
    if not 0 < home < accelerator.num_levels:
        raise ValueError(f"fused group: home {home} is not an on-chip level (1..{accelerator.num_levels - 1})")
    inner = [lv.name for lv in accelerator.levels[home + 1:]
             if accelerator.meta.get("accelforge", {}).get("must_keep", {}).get(lv.name)]
    if inner:
        raise ValueError(f"fused group: {', '.join(inner)} below the home level must keep tensors; the fused tree is "
                         "written for levels below the home that may be bypassed")
    chain = _chain(workload, einsums)
    row_vars = {tuple(v for v, d in var_dim.items() if d == rows) for _, var_dim, _ in chain}
    if len(row_vars) != 1 or len(next(iter(row_vars))) != 1:
        raise ValueError(f"fused group: the Einsums' rows ({rows}) are the rank variables "
                         f"{sorted(v for vs in row_vars for v in vs)}; a shared row loop needs one rank variable, the "
                         "same in all of them")
    row_var = row_vars.pop()[0]
    size = getattr(chain[-1][0], rows)
    if isinstance(tile_rows, bool) or not isinstance(tile_rows, int) or tile_rows < 1 or size % tile_rows:
        raise ValueError(f"fused group: tile_rows must divide the rows ({size}), got {tile_rows!r}")
    main, buffer = accelerator.levels[0].name, accelerator.levels[home].name
    group_in, group_out = chain[0][2]["input"], chain[-1][2]["output"]
    weights = [names["weight"] for _, _, names in chain]
    nodes = [Tagged("!Storage", {"tensors": [group_in, group_out, *weights], "component": main})]
    if weights_on_chip:
        nodes.append(Tagged("!Storage", {"tensors": weights, "component": buffer}))
    if tile_rows < size:
        nodes.append(Tagged("!Temporal", {"rank_variable": row_var, "tile_shape": tile_rows}))
    intermediates = [names["output"] for _, _, names in chain[:-1]]
    if intermediates:
        nodes.append(Tagged("!Storage", {"tensors": intermediates, "component": buffer}))
    branches = []
    for (layer, var_dim, names), einsum in zip(chain, einsums):
        own = [t for t in (names["input"], names["output"]) if t in (group_in, group_out)]
        own += [] if weights_on_chip else [names["weight"]]
        branch = [Tagged("!Storage", {"tensors": own, "component": buffer})] if own else []
        for var in [row_var, *(v for v in var_dim if v != row_var)]:      # a row tile's rows, then the rest
            extent = tile_rows if var == row_var else getattr(layer, var_dim[var])
            if extent > 1:
                branch.append(Tagged("!Temporal", {"rank_variable": var, "tile_shape": 1}))
        branch.append(Tagged("!Compute", {"einsum": einsum, "component": accelerator.meta.get("accelforge", {})
                                          .get("compute", "MAC")}))
        branches.append(Tagged("!Nested", {"nodes": branch}))
    nodes.append(Tagged("!Sequential", {"nodes": branches}) if len(branches) > 1 else branches[0])
    return {"mapping": {"nodes": nodes}}


def group_workload_document(workload: dict, einsums: list[str]) -> dict:
    """The group's Einsums as an AccelForge `workload:`: the workload's own entries for them, each naming its input,
    weight and output in `renames` (as the group alone has them), and the workload's other fields (rank sizes,
    bits)."""
    roles = {name: names for name, (_, _, names) in zip(einsums, _chain(workload, einsums))}
    kept = {k: v for k, v in workload.items() if k != "einsums"}
    kept["einsums"] = [{**e, "renames": roles[e["name"]]} for e in workload["einsums"]
                       if isinstance(e, dict) and e.get("name") in roles]
    if len(kept["einsums"]) < len(einsums):
        written = sorted(set(einsums) - {e["name"] for e in kept["einsums"]})
        raise ValueError(f"fused group: {', '.join(written)} written as an expression; give its tensor_accesses")
    return {"workload": kept}


def fused_group_to_accelforge_yaml(workload: dict, einsums: list[str], accelerator: Accelerator, rows: str,
                                   tile_rows: int, weights_on_chip: bool, home: int = 1,
                                   renames: dict | None = None) -> str:
    """`group_workload_document` with `fused_group_document`'s mapping, and the file's top-level `renames:` if
    given, as one YAML document: give it to AccelForge with the architecture file the accelerator was read from."""
    mapping = fused_group_document(workload, einsums, accelerator, rows, tile_rows, weights_on_chip, home)
    return dump({**group_workload_document(workload, einsums), **mapping, **({"renames": renames} if renames else {})})


__all__ = ["fused_group_document", "fused_group_to_accelforge_yaml", "group_workload_document"]

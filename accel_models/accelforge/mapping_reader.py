"""An AccelForge LoopTree mapping of one Einsum read as a cosearch mapping (`MappingArrays`, a batch of one).

A LoopTree mapping is a list of nodes, outermost first: `!Storage` nodes (a memory holding some tensors), `!Temporal`
and `!Spatial` loops (a rank variable stepped in tiles of `tile_shape`) and, last, the `!Compute` node naming the
Einsum. cosearch's mapping (Timeloop's semantics) gives each storage level a run of loops instead: all the tensors a
level keeps share one tile, the one under the level's loops, and a tile is kept across the innermost loops above it
that do not index its tensor. So each level's loops begin at or below each of its storage nodes (and the level
above's start, and the spatial loops of the levels above; at its own first spatial loop if it has one). A storage
node higher than where its level's loops begin reads the same as one there when every loop between the two is
temporal and does not index its tensor (its tile and its refills are the same under both readings); otherwise the
loop tree says what a cosearch mapping cannot (one level keeping tiles of different extents of one loop) and is
refused, naming the node and the loop. A loop between two levels' nodes that indexes nothing the lower level keeps
reads as either level's (the same counts): it goes to the lower one unless that leaves a level two temporal loops
over one dim. Adjacent loops over one rank variable are one loop. Spatial loops belong to the level whose fan-out
their `component` is, and must lie within its loops.

Refused, each in one line naming the node: a tree of several Einsums (`!Sequential`, `!Pipeline`; cosearch
plans a fused group with its own planner), `!Reservation` and `!Toll` nodes, a tile shape that does not divide its
rank variable's tile above (an imperfect factor), an `initial_tile_shape`, loops that leave a rank variable's tile
above 1 (every point of the iteration space needs its loop), two separated loops over one dim in one level's run,
a loop over a rank variable that shares its cosearch dim with another, and an outermost memory that does not hold
every tensor.
"""
from __future__ import annotations

from dataclasses import dataclass

from nets import DIMS, Layer
from nets.einsum_import import einsum_in_workload

from ..accelerator import TENSORS, Accelerator
from ..mapping_arrays import MappingArrays
from .architecture import INDEXED_BY

_ROLE_TENSOR = {"input": "Inputs", "weight": "Weights", "output": "Outputs"}
_SPLITS = ("!Sequential", "!Pipeline", "!Split", "!Parallel")


@dataclass
class _Loop:
    kind: str                 # "temporal" | "spatial"
    dim: str                  # cosearch dim
    factor: int
    where: str
    var: str                  # the rank variable
    level: int = -1           # a spatial loop's level (its fan-out's)
    axis: int = 0             # a spatial loop's axis (0: X, 1: Y)


def _flat(nodes, where: str) -> list[tuple[dict, str]]:
    """The nodes with `!Nested` groups inlined; a split between Einsums is refused."""
    if not isinstance(nodes, list):
        raise ValueError(f"{where}: expected a list of LoopTree nodes")
    out = []
    for i, node in enumerate(nodes):
        at = f"{where}[{i}]"
        tag = getattr(node, "tag", None)
        if tag == "!Nested":
            out += _flat(node.get("nodes"), f"{at}.nodes")
        elif tag in _SPLITS:
            raise ValueError(f"{at}: {tag} maps several Einsums in one tree; cosearch reads the mapping of one "
                             "Einsum (and plans a fused group with its fusion planner)")
        elif tag in ("!Storage", "!Temporal", "!Spatial", "!Compute"):
            out.append((node, at))
        else:
            raise ValueError(f"{at}: a {tag or type(node).__name__} node; cosearch reads !Storage, !Temporal, "
                             "!Spatial, !Nested and one !Compute")
    return out


def _compute(nodes: list[tuple[dict, str]], where: str) -> tuple[str, str]:
    computes = [(n, at) for n, at in nodes if n.tag == "!Compute"]
    if len(computes) != 1 or nodes[-1][0].tag != "!Compute":
        raise ValueError(f"{where}: expected one !Compute node, the last (found {len(computes)})")
    node, at = computes[0]
    if not isinstance(node.get("einsum"), str):
        raise ValueError(f"{at}.einsum: expected the name of an Einsum, got {node.get('einsum')!r}")
    return node["einsum"], at


def _spatial_level(node: dict, accelerator: Accelerator, at: str) -> tuple[int, int]:
    """(level, axis) of a spatial loop: the level whose fan-out its component states, the axis its name is."""
    for level, entries in accelerator.meta.get("accelforge", {}).get("spatial", {}).items():
        for component, names in entries:
            if component == node.get("component"):
                name = node.get("name")
                axis = name if isinstance(name, int) and 0 <= name < len(names) else \
                    names.index(str(name)) if str(name) in names else None
                if axis is None:
                    raise ValueError(f"{at}.name: {name!r} is no spatial dimension of {component} "
                                     f"({', '.join(names)})")
                return accelerator.level_index(level), axis
    raise ValueError(f"{at}.component: {node.get('component')!r} states no fan-out in the architecture")


def _loops(nodes, layer: Layer, var_dim: dict[str, str], accelerator: Accelerator
           ) -> tuple[list[_Loop], list[tuple[int, int, str, str]]]:
    """(the loops of factor > 1, outermost first; the storage nodes as (position: loops above, level, tensor,
    where)). Factors are the number of tiles a loop steps through."""
    tile = {v: getattr(layer, d) for v, d in var_dim.items()}
    shared = {d for d in DIMS if sum(x == d for x in var_dim.values()) > 1}
    loops: list[_Loop] = []
    storage = []
    for node, at in nodes:
        if node.tag == "!Storage":
            if node.get("binding"):
                raise ValueError(f"{at}.binding: a tensor's binding to spatial loops is not read by cosearch")
            storage.append((node, at, len(loops)))
            continue
        if node.tag == "!Compute":
            continue
        var = node.get("rank_variable")
        if not isinstance(var, str) or var not in var_dim:
            raise ValueError(f"{at}.rank_variable: {var!r} is no rank variable of the Einsum ({', '.join(var_dim)})")
        if var_dim[var] in shared:
            raise ValueError(f"{at}.rank_variable: {var} shares cosearch's dim {var_dim[var]} with "
                             f"{', '.join(v for v, d in var_dim.items() if d == var_dim[var] and v != var)}; "
                             "a loop over one of them is not one of cosearch's loops")
        shape = node.get("tile_shape")
        if node.get("initial_tile_shape") not in (None, shape):
            raise ValueError(f"{at}.initial_tile_shape: a first tile of another shape is an imperfect factor, "
                             "which cosearch does not read from a loop tree")
        if isinstance(shape, bool) or not isinstance(shape, int) or shape < 1 or tile[var] % shape:
            raise ValueError(f"{at}.tile_shape: expected an integer dividing {var}'s tile above ({tile[var]}), "
                             f"got {shape!r}")
        factor, tile[var] = tile[var] // shape, shape
        if factor == 1:
            continue
        loop = _Loop("temporal" if node.tag == "!Temporal" else "spatial", var_dim[var], factor, at, var)
        if loop.kind == "spatial":
            loop.level, loop.axis = _spatial_level(node, accelerator, at)
        loops.append(loop)
    left = {v: t for v, t in tile.items() if t > 1}
    unloopable = [v for v in left if var_dim[v] in shared]
    if unloopable:
        raise ValueError(f"mapping: rank variable {unloopable[0]} shares cosearch's dim {var_dim[unloopable[0]]} "
                         "with another, so its loops are not cosearch's loops")
    if left:
        raise ValueError("mapping: the loops leave tiles of " + ", ".join(f"{v} = {t}" for v, t in left.items())
                         + " (every point of the iteration space needs its loop: the innermost tile of each "
                           "rank variable is 1)")
    return loops, storage


def _holdings(storage, accelerator: Accelerator, roles: dict[str, str]) -> dict[int, dict[str, tuple[int, str]]]:
    """{level: {tensor: (position, where)}} of the storage nodes, each tensor's nodes outermost level first."""
    held: dict[int, dict[str, tuple[int, str]]] = {l: {} for l in range(accelerator.num_levels)}
    last: dict[str, tuple[int, str]] = {}
    for node, at, position in storage:
        component = node.get("component")
        if component not in accelerator.level_names:
            raise ValueError(f"{at}.component: {component!r} is no memory of the architecture "
                             f"({', '.join(accelerator.level_names)})")
        level = accelerator.level_index(component)
        names = node.get("tensors")
        if not isinstance(names, list):
            raise ValueError(f"{at}.tensors: expected a list of tensor names, got {names!r}")
        for name in names:
            if name not in roles:
                raise ValueError(f"{at}.tensors: {name!r} is no tensor of the Einsum ({', '.join(roles)})")
            tensor = _ROLE_TENSOR[roles[name]]
            if tensor in held[level]:
                raise ValueError(f"{at}: a second storage node of {name} in {component}")
            if tensor not in accelerator.levels[level].keeps:
                raise ValueError(f"{at}: the architecture does not let {component} keep {name}")
            if tensor in last and last[tensor][0] > level:
                raise ValueError(f"{at}: {name} in {component} is above its node in "
                                 f"{accelerator.levels[last[tensor][0]].name} ({last[tensor][1]}), an inner memory")
            last[tensor] = (level, at)
            held[level][tensor] = (position, at)
    missing = [n for n, r in roles.items() if _ROLE_TENSOR[r] not in held[0]]
    if missing:
        raise ValueError(f"mapping: the outermost memory {accelerator.levels[0].name} holds no node of "
                         f"{', '.join(missing)}; cosearch's outermost level keeps every tensor")
    return held


def _range(l: int, previous: int, loops: list[_Loop], held, accelerator: Accelerator, names: dict[str, str]
           ) -> tuple[int, int]:
    """(lowest, highest) position where level l's loops may begin, given where the level above's begin: at or below
    each of its storage nodes, the level above's start and the spatial loops of the levels above, at its own first
    spatial loop if it has one; and with only temporal loops that do not index its tensor between each node and
    that position. A ValueError names a node that has no such position."""
    below_spatial = [i + 1 for i, lp in enumerate(loops) if lp.kind == "spatial" and lp.level < l]
    own_spatial = [i for i, lp in enumerate(loops) if lp.kind == "spatial" and lp.level == l][:1]
    lowest = max([previous, *[p for p, _ in held[l].values()], *below_spatial, *own_spatial])
    highest = min([len(loops), *own_spatial])
    for tensor, (position, at) in held[l].items():
        block = next((i for i in range(position, len(loops))
                      if loops[i].kind == "spatial" or loops[i].dim in INDEXED_BY[tensor]), len(loops))
        if block < lowest:
            lp = loops[block]
            what = "a spatial loop" if lp.kind == "spatial" else f"a loop over {lp.var}, which indexes it,"
            raise ValueError(f"{at}: {names[tensor]} is stored in {accelerator.levels[l].name} above {what} "
                             f"({lp.where}) while the level's tile starts below it; a level's tensors share one "
                             "tile in cosearch")
        highest = min(highest, block)
    return lowest, max(lowest, highest)


def _distinct(run: list[_Loop]) -> bool:
    dims = [lp.dim for lp in run if lp.kind == "temporal"]
    return len(set(dims)) == len(dims)


def _boundaries(loops: list[_Loop], held, accelerator: Accelerator, names: dict[str, str]) -> list[int]:
    """Per level, the position (loops above) where its loops begin. Where a loop lies between the storage nodes of
    two levels and indexes no tensor of the lower one, it reads as either level's (the same counts); the first
    choice, outermost level first, that leaves no level two temporal loops over one dim is taken, else each level's
    highest start."""
    levels = accelerator.num_levels

    def search(starts: list[int]) -> list[int] | None:
        l = len(starts)
        if l == levels:
            return starts if _distinct(loops[starts[-1]:]) else None
        try:
            lowest, highest = _range(l, starts[-1] if starts else 0, loops, held, accelerator, names)
        except ValueError:
            return None
        for b in range(lowest, highest + 1):
            if l == 0 or _distinct(loops[0 if l == 1 else starts[-1]:b]):
                found = search(starts + [b])
                if found:
                    return found
        return None

    found = search([])
    if found is not None:
        return found
    starts: list[int] = []
    for l in range(levels):
        starts.append(_range(l, starts[-1] if starts else 0, loops, held, accelerator, names)[0])
    return starts


def _merged(run: list[_Loop], loops: list[_Loop]) -> list[_Loop]:
    """A level's temporal loops with each run of adjacent loops over one dim (a tile tiled again, nothing between)
    as one loop of their product (the same iterations in the same order)."""
    out: list[_Loop] = []
    for lp in run:
        if lp.kind != "temporal":
            continue
        if out and out[-1].dim == lp.dim and loops.index(lp) == loops.index(out[-1]) + 1:
            out[-1] = _Loop("temporal", lp.dim, out[-1].factor * lp.factor, out[-1].where, lp.var)
            loops[loops.index(lp)] = out[-1]
        else:
            out.append(lp)
    return out


def mapping_from_accelforge(mapping: dict, workload: dict, accelerator: Accelerator, where: str = "mapping"
                            ) -> tuple[Layer, MappingArrays]:
    """(the Einsum's layer, its mapping as `MappingArrays`, a batch of one) of an AccelForge `mapping:` section of
    one Einsum, with the `workload:` section it maps and the accelerator read from the architecture it targets (see
    the module docstring); a ValueError of one line names the node that does not translate and why."""
    if not isinstance(mapping, dict):
        raise ValueError(f"{where}: expected a mapping with nodes:, got {type(mapping).__name__}")
    nodes = _flat(mapping.get("nodes"), f"{where}.nodes")
    einsum, at = _compute(nodes, f"{where}.nodes")
    layer, var_dim, roles = einsum_in_workload(workload, einsum)
    compute = accelerator.meta.get("accelforge", {}).get("compute")
    if compute is not None and nodes[-1][0].get("component") != compute:
        raise ValueError(f"{at}.component: {nodes[-1][0].get('component')!r} is not the architecture's compute "
                         f"node {compute!r}")
    loops, storage = _loops(nodes, layer, var_dim, accelerator)
    held = _holdings(storage, accelerator, roles)
    names = {_ROLE_TENSOR[r]: n for n, r in roles.items()}
    starts = _boundaries(loops, held, accelerator, names)
    arrays = MappingArrays.empty(1, accelerator.num_levels)
    ends = starts[1:] + [len(loops)]
    for l in range(accelerator.num_levels):
        arrays.keep[0, l] = [int(t in held[l]) for t in TENSORS]
        run = loops[0 if l == 0 else starts[l]:ends[l]]
        temporal = _merged(run, loops)
        spatial = [lp for lp in loops if lp.kind == "spatial" and lp.level == l]
        for lp in spatial:
            if not starts[l] <= loops.index(lp) < ends[l]:
                raise ValueError(f"{lp.where}: a spatial loop of {accelerator.levels[l].name}'s fan-out outside "
                                 "that level's loops (below a storage node of a memory under the fan-out)")
        for group, what in ((temporal, "temporal"), ([lp for lp in spatial if lp.axis == 0], "spatial X"),
                            ([lp for lp in spatial if lp.axis == 1], "spatial Y")):
            dims = [lp.dim for lp in group]
            if len(set(dims)) < len(dims):
                twice = next(lp for i, lp in enumerate(group) if lp.dim in dims[:i])
                raise ValueError(f"{twice.where}: a second {what} loop over {twice.var} (cosearch's {twice.dim}) in "
                                 f"{accelerator.levels[l].name}'s loops; cosearch has one per dim and level")
        for lp in temporal:
            arrays.temporal[0, l, DIMS.index(lp.dim)] = lp.factor
        for lp in spatial:
            (arrays.spatial_x if lp.axis == 0 else arrays.spatial_y)[0, l, DIMS.index(lp.dim)] = lp.factor
        arrays.order[0, l] = _order([lp.dim for lp in temporal])
        arrays.spatial_order[0, l] = _order(*([lp.dim for lp in spatial if lp.axis == axis] for axis in (1, 0)))
    return layer, arrays


def _order(*sequences: list[str]) -> list[int]:
    """cosearch's order (indices into DIMS, outermost first) in which each of `sequences` (looped dims, outermost
    first: a level's temporal loops, or its spatial Y and X loops, which share one order) keeps its order; the dims
    without a loop go outermost (their factor of 1 changes nothing), in DIMS order."""
    looped: list[str] = []
    pending = [list(seq) for seq in sequences]
    while any(pending):
        heads = [seq[0] for seq in pending if seq]
        free = [d for d in heads if not any(d in seq[1:] for seq in pending)]
        if not free:
            raise ValueError(f"mapping: spatial loops over {', '.join(heads)} in orders no single order of the "
                             "level's spatial loops gives")
        looped.append(free[0])
        pending = [[d for d in seq if d != free[0]] for seq in pending]
    return [DIMS.index(d) for d in [d for d in DIMS if d not in looped] + looped]


__all__ = ["mapping_from_accelforge"]

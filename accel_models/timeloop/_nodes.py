"""Flatten Timeloop v0.4 architectures into their leaf elements, outermost first: the `nodes:` form
(timeloopfe's `!Container` / `!Component` / `!Parallel` tags) and the `subtree` / `local` form (Timeloop's
own, and its dumps).

Each element is a dict: name, class, kind ("storage", "placeholder", "compute"), attributes (as written),
scope (names its expressions may use), mesh (meshX, meshY: instances above it), where (for errors) and
constraints (mapspace-constraint targets written inside it). As timeloopfe does for Timeloop, a spatial
fan-out on a container (or component) becomes a placeholder storage level `inter_<name>_spatial` that
keeps nothing and has the fan-out below it; containers pass their attributes down; `!Parallel` siblings
are chained one below the other (each keeps what its constraints say).
"""
from __future__ import annotations

import warnings
from typing import Any

from ._expressions import Scope, resolve_plain
from ._fields import number, show, split_range
from ._yaml import Tagged

STORAGE_CLASSES = ("DRAM", "SRAM", "regfile", "smartbuffer", "storage")
COMPUTE_CLASSES = ("mac", "intmac", "fpmac", "compute")
NETWORK_CLASSES = ("XY_NoC", "Legacy", "ReductionTree", "SimpleMulticast")
"""timeloopfe's element classes, matched as substrings of `class` in this order (storage first)."""
PLACEHOLDER_CLASS = "dummy_storage"

_CONTAINER_KEYS = ("name", "attributes", "spatial", "constraints", "networks", "sparse_optimizations", "enabled")
_COMPONENT_KEYS = ("name", "class", "subclass", "attributes", "spatial", "constraints", "sparse_optimizations",
                   "required_actions", "area_scale", "energy_scale", "enabled", "actions")
_BRANCH_KEYS = ("nodes",)
_CONSTRAINT_KINDS = ("dataspace", "bypass", "temporal", "spatial", "max_overbooked_proportion", "utilization")


def _class_kind(cls: str) -> str | None:
    """'storage', 'placeholder', 'compute', 'network', 'nothing' or None (unknown) from an element's class."""
    cls = str(cls)
    if cls == PLACEHOLDER_CLASS:
        return "placeholder"
    for kind, names in (("storage", STORAGE_CLASSES), ("compute", COMPUTE_CLASSES), ("network", NETWORK_CLASSES),
                        ("nothing", ("nothing",))):
        if any(n in cls for n in names):
            return kind
    return None


def element_kind(cls: str, where: str) -> str:
    """'storage', 'placeholder', 'compute', 'network' or 'nothing' from an element's class, as timeloopfe sorts them
    (which refuses any other class)."""
    kind = _class_kind(cls)
    if kind is None:
        raise ValueError(f"{where}: unknown class {str(cls)!r}; a storage class contains one of "
                         f"{', '.join(STORAGE_CLASSES)}, a compute class one of {', '.join(COMPUTE_CLASSES)}")
    return kind


def _check_keys(node: dict, allowed: tuple[str, ...], where: str) -> None:
    """timeloopfe refuses keys it does not know."""
    unknown = [k for k in node if k not in allowed]
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; accepted: {', '.join(allowed)}")


def ignored_keys(node: dict, allowed: tuple[str, ...], where: str) -> None:
    """Timeloop's own reader (the `subtree` form) ignores keys it does not know: so does cosearch, with a warning."""
    unknown = [str(k) for k in node if k not in allowed]
    if unknown:
        warnings.warn(f"{where}: key(s) {unknown} ignored (Timeloop reads {', '.join(allowed)})", stacklevel=3)


def _attributes(node: dict, where: str) -> dict:
    attrs = node.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise ValueError(f"{where}.attributes: expected a mapping, got {show(attrs)}")
    return dict(attrs)


def _fanout(node: dict, scope: Scope, where: str) -> tuple[int, int]:
    spatial = node.get("spatial") or {}
    if not isinstance(spatial, dict):
        raise ValueError(f"{where}.spatial: expected {{meshX, meshY}}, got {show(spatial)}")
    _check_keys(spatial, ("meshX", "meshY"), f"{where}.spatial")
    fx, fy = (number(spatial.get(k, 1), f"{where}.spatial.{k}", integer=True, scope=scope) for k in ("meshX", "meshY"))
    return int(fx), int(fy)


def _evaluated(value: Any, scope: Scope) -> Any:
    """A constraint's value with its expressions evaluated over `scope` (timeloopfe evaluates them as it does
    attributes); texts that are not expressions ('C=4', 'Weights') stay as written."""
    if isinstance(value, list):
        return [_evaluated(v, scope) for v in value]
    return resolve_plain(value, scope)


def _constraint_targets(node: dict, target: str, where: str, scope: Scope, only: tuple[str, ...] | None = None
                        ) -> list[dict]:
    """A node's `constraints: {dataspace: ..., temporal: ..., spatial: ...}` as mapspace-constraint targets, their
    expressions evaluated over `scope` (the node's attributes, the variables and `spec`)."""
    raw = node.get("constraints") or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}.constraints: expected a mapping of constraint kinds, got {show(raw)}")
    _check_keys(raw, _CONSTRAINT_KINDS, f"{where}.constraints")
    out = []
    for kind, body in raw.items():
        if only is not None and kind not in only:
            continue
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ValueError(f"{where}.constraints.{kind}: expected a mapping, got {show(body)}")
        body = {k: _evaluated(v, scope) for k, v in body.items()}
        if isinstance(body.get("split"), str):     # an expression with no value: say why, over this node's names
            number(body["split"], f"{where}.constraints.{kind}.split", integer=True, positive=False, scope=scope)
        out.append({**body, "type": "bypass" if kind == "dataspace" else kind, "target": target,
                    "_where": f"{where}.constraints.{kind}"})
    return out


def flatten_nodes(arch: dict, variables: Scope) -> tuple[list[dict], dict, dict[str, str]]:
    """The leaf elements of a `nodes:` architecture; returns (elements, system attributes, {container: placeholder})."""
    if not isinstance(arch.get("nodes"), list):
        raise ValueError("arch.architecture.nodes: expected a list of !Container / !Component nodes")
    flat = _Flattener(variables)
    flat.walk(arch["nodes"], "arch.nodes", False)
    return flat.elements, flat.system, flat.aliases


class _Flattener:
    """The walk of `flatten_nodes`, outermost node first: the elements found so far, the system attributes and
    container placeholders, the fan-out of the levels above (`mesh`, X and Y) and the attributes the containers
    above pass down (`inherited`)."""

    def __init__(self, variables: Scope) -> None:
        self.elements: list[dict] = []
        self.aliases: dict[str, str] = {}
        self.system: dict[str, Any] = {}
        self.mesh = [1, 1]
        self.inherited = Scope({}, variables)

    def place(self, name: str, cls: str, kind: str, attrs: dict, scope: Scope, where: str,
              constraints: list[dict]) -> None:
        self.elements.append({"name": name, "class": cls, "kind": kind, "attributes": attrs, "scope": scope,
                              "mesh": (self.mesh[0], self.mesh[1]), "where": where, "constraints": constraints})

    def fan_out(self, node: dict, name: str, where: str, scope: Scope, constraints: list[dict]) -> None:
        """A node with a spatial fan-out: a placeholder level holding its spatial constraints, and the mesh below
        it multiplied."""
        fx, fy = _fanout(node, scope, where)
        if fx * fy > 1:
            dummy = f"inter_{name}_spatial"
            spatial = [{**c, "target": dummy} for c in constraints if c["type"] == "spatial"]
            self.place(dummy, PLACEHOLDER_CLASS, "placeholder", {}, scope, f"{where} (its spatial fan-out)", spatial)
            self.aliases[name] = dummy
            self.mesh[0] *= fx
            self.mesh[1] *= fy

    def walk(self, nodes: list, where: str, in_parallel: bool) -> None:
        """The nodes of one list, in order: branches walked into, containers and components taken."""
        for i, node in enumerate(nodes):
            at = f"{where}[{i}]"
            if not isinstance(node, dict):
                raise ValueError(f"{at}: expected a !Container, !Component or !Parallel node, got {show(node)}")
            tag = node.tag if isinstance(node, Tagged) else ("!Hierarchical" if "nodes" in node else
                                                            "!Component" if "class" in node else "!Container")
            if tag in ("!Parallel", "!Hierarchical", "!Pipelined"):
                _check_keys(node, _BRANCH_KEYS, at)
                sub = node.get("nodes") or []
                if not isinstance(sub, list):
                    raise ValueError(f"{at}.nodes: expected a list, got {show(sub)}")
                if tag == "!Parallel":
                    _check_branches(sub, f"{at}.nodes")
                self.walk(sub, f"{at}.nodes", in_parallel or tag == "!Parallel")
                continue
            if tag == "!Nothing" or node.get("enabled", True) is False:
                continue
            name = node.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError(f"{at}: a {tag} needs a name, got {show(name)}")
            at = f"{at} ({name})"
            if tag == "!Container":
                self.container(node, name, at, in_parallel)
            else:
                self.component(node, name, at, in_parallel)

    def container(self, node: dict, name: str, at: str, in_parallel: bool) -> None:
        """A !Container: its attributes pass to the nodes below it (and into the system's), its fan-out and its
        spatial constraints to a placeholder level."""
        _check_keys(node, _CONTAINER_KEYS, at)
        if in_parallel:
            raise ValueError(f"{at}: a !Container under a !Parallel is not supported (nor by timeloopfe)")
        attrs = _attributes(node, at)
        self.inherited = Scope(attrs, self.inherited)
        for k in attrs:
            self.system.setdefault(k, self.inherited.lookup(k))
        constraints = _constraint_targets(node, name, at, self.inherited, only=("spatial",))
        rest = [k for k in (node.get("constraints") or {}) if k != "spatial"]
        if rest:
            raise ValueError(f"{at}.constraints: a container holds only spatial constraints (of its fan-out), "
                             f"got {rest}")
        if constraints and _fanout(node, self.inherited, at) == (1, 1):
            warnings.warn(f"{at}.constraints.spatial: the container has no spatial fan-out; its spatial "
                          "constraints are ignored (as timeloopfe does)", stacklevel=4)
        self.fan_out(node, name, at, self.inherited, constraints)

    def component(self, node: dict, name: str, at: str, in_parallel: bool) -> None:
        """A !Component: an element (with the attributes inherited from the containers above it), after the
        placeholder of its own fan-out if it has one; nothing for a "nothing" class, a warning for a network."""
        _check_keys(node, _COMPONENT_KEYS, at)
        if "class" not in node:
            raise ValueError(f"{at}: a !Component needs a class")
        kind = element_kind(node["class"], at)
        if kind == "nothing":
            return
        if kind == "network":
            warnings.warn(f"{at}: network components are not modelled by cosearch (their energy is not counted)",
                          stacklevel=4)
            return
        scope = Scope(_attributes(node, at), self.inherited)
        constraints = _constraint_targets(node, name, at, scope)
        if in_parallel:   # a !Parallel branch bypasses every data space it does not keep (timeloopfe)
            constraints = [{**c, "_bypass_all_but": True} if c["type"] == "bypass" else c for c in constraints]
        if _fanout(node, scope, at) != (1, 1):
            if in_parallel:
                raise ValueError(f"{at}: a component with a spatial fan-out under a !Parallel is not supported")
            self.fan_out(node, name, at, scope, constraints)
            constraints = [c for c in constraints if c["type"] != "spatial"]
        attrs = {**{k: self.inherited.lookup(k) for k in _all_names(self.inherited)}, **_attributes(node, at)}
        self.place(name, str(node["class"]), kind, attrs, scope, at, constraints)


def _kept_in(node) -> set[str]:
    """The data spaces a (sub)tree's dataspace constraints keep."""
    if not isinstance(node, dict):
        return set()
    keep = ((node.get("constraints") or {}).get("dataspace") or {}).get("keep") if isinstance(
        node.get("constraints"), dict) else None
    out = {str(k) for k in ([keep] if isinstance(keep, str) else keep or [])}
    for sub in node.get("nodes") or []:
        out |= _kept_in(sub)
    return out


def _check_branches(nodes: list, where: str) -> None:
    """timeloopfe's rule: two branches of a !Parallel may not keep the same data space."""
    kept = [_kept_in(n) for n in nodes]
    for i in range(len(kept)):
        for j in range(i + 1, len(kept)):
            shared = sorted(kept[i] & kept[j])
            if shared:
                raise ValueError(f"{where}[{i}] and [{j}]: both keep {shared}; a data space is kept in one branch of "
                                 "a !Parallel")


def _all_names(scope: Scope | None) -> list[str]:
    """Every name a scope's containers define (not the global variables, which are not attributes)."""
    names: list[str] = []
    while scope is not None and scope.parent is not None:
        names += [k for k in scope.raw if k not in names]
        scope = scope.parent
    return names


def flatten_subtree(arch: dict, variables: Scope) -> tuple[list[dict], dict, dict[str, str]]:
    """The leaf elements of a `subtree` / `local` architecture (instances multiplied down the tree, meshes from
    meshX / meshY or the instances); returns (elements, system attributes, {}) like `flatten_nodes`.

    As in Timeloop's reader, storage elements nest in the order listed (down the subtrees), the compute
    element is innermost wherever its `local` lists it, and an element of a class Timeloop does not know is
    skipped (with a warning)."""
    if not isinstance(arch.get("subtree"), list):
        raise ValueError("arch.architecture.subtree: missing (expected a Timeloop v0.4 architecture)")
    elements: list[dict] = []
    system: dict = {}

    def walk(node: dict, where: str, instances: int, scope: Scope) -> None:
        if not isinstance(node, dict) or "name" not in node:
            raise ValueError(f"{where}: expected a node with a name, got {show(node)}")
        ignored_keys(node, ("name", "attributes", "local", "subtree"), where)
        _, count = split_range(node["name"])
        instances *= count
        attrs = _attributes(node, where)
        scope = Scope(attrs, scope)
        for k in attrs:
            system.setdefault(k, scope.lookup(k))
        for j, el in enumerate(node.get("local") or []):
            if not isinstance(el, dict) or "name" not in el or "class" not in el:
                raise ValueError(f"{where}.local[{j}]: an element needs a name and a class, got {show(el)}")
            ignored_keys(el, _COMPONENT_KEYS, f"{where}.local[{j}]")
            base, n = split_range(el["name"])
            at = f"{where}.local[{j}] ({base})"
            kind = _class_kind(el["class"])
            if kind is None:
                warnings.warn(f"{at}: class {str(el['class'])!r} is no storage ({', '.join(STORAGE_CLASSES)}), compute "
                              f"({', '.join(COMPUTE_CLASSES)}) or network class; skipped, as Timeloop does",
                              stacklevel=3)
            if kind in (None, "network", "nothing"):
                continue
            own = Scope(_attributes(el, at), scope)
            attrs = {**{k: scope.lookup(k) for k in _all_names(scope)}, **own.raw}
            elements.append({"name": base, "class": str(el["class"]), "kind": kind, "attributes": attrs,
                             "scope": own, "mesh": _mesh(own, instances * n, at), "where": at,
                             "constraints": _constraint_targets(el, base, at, own)})
        for j, sub in enumerate(node.get("subtree") or []):
            walk(sub, f"{where}.subtree[{j}]", instances, scope)

    for i, node in enumerate(arch["subtree"]):
        walk(node, f"arch.subtree[{i}]", 1, variables)
    computes = [el for el in elements if el["kind"] == "compute"]
    return [el for el in elements if el["kind"] != "compute"] + computes, system, {}


def _mesh(scope: Scope, instances: int, where: str) -> tuple[int, int]:
    """(meshX, meshY) of a subtree element; a missing side is instances / the other (Timeloop's default)."""
    get = {k: number(scope.raw[k], f"{where}.{k}", integer=True, scope=scope) if scope.raw.get(k) is not None
           else None for k in ("meshX", "meshY")}
    mx, my = get["meshX"], get["meshY"]
    if mx is None:
        mx = instances // my if my else instances
    if my is None:
        my = instances // mx
    if mx * my != instances:
        raise ValueError(f"{where}.meshX x meshY = {mx} x {my} does not match its {instances} instances")
    return mx, my

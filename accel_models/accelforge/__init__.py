"""AccelForge's files in: its architectures as an `Accelerator`, its Einsum workloads as a `nets.Network`, a
LoopTree mapping of one Einsum as cosearch's mapping of the Einsum's layer; and a cosearch mapping out, as an
AccelForge LoopTree mapping with its layer's workload (`mapping_to_accelforge_yaml`), and a fused group of
Einsums as one loop tree (`fused_group_to_accelforge_yaml`).

Each file is a Jinja2 template (rendered with the variables given, as AccelForge renders it) of YAML with
AccelForge's node tags; `read_accelforge_arch` reads the `arch:` section, `read_accelforge_workload` the `workload:`
section (a file may hold both). A file cosearch cannot read fails with one line naming the file and the field. What
maps and what does not: docs/accelforge.md.
"""
from __future__ import annotations

from pathlib import Path

from nets import Layer, Network
from nets.einsum_import import network_from_einsums

from ..accelerator import Accelerator
from ..mapping_arrays import MappingArrays
from ..timeloop._yaml import ACCELFORGE_TAGS, load
from .architecture import DEFAULT_BITS_PER_VALUE, accelerator_from_accelforge
from .fused import fused_group_to_accelforge_yaml
from .mapping import mapping_to_accelforge_yaml
from .mapping_reader import mapping_from_accelforge


def _document(path: str | Path, section: str, variables: dict | None) -> tuple[dict, str]:
    path = Path(path)
    doc = load(path, "accelforge", variables or {}, tags=ACCELFORGE_TAGS)
    where = str(path)
    if section not in doc:
        raise ValueError(f"{where}: no {section}: section (found: {', '.join(map(str, doc)) or 'nothing'})")
    return doc, where


def _bits(workload: dict | None, where: str) -> int:
    """The workload's `bits_per_value` (its `All` entry, or a single number), else AccelForge examples' 8."""
    bits = (workload or {}).get("bits_per_value", DEFAULT_BITS_PER_VALUE)
    if isinstance(bits, dict):
        bits = bits.get("All", max(bits.values(), default=DEFAULT_BITS_PER_VALUE))
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 64:
        raise ValueError(f"{where}: workload.bits_per_value: expected an integer in [1, 64], got {bits!r}")
    return bits


def _accelerator(doc: dict, where: str, name: str, bits_per_value: int | None) -> Accelerator:
    bits = bits_per_value if bits_per_value is not None else _bits(doc.get("workload"), where)
    try:
        return accelerator_from_accelforge(doc["arch"], name, bits, doc.get("variables") or {})
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def read_accelforge_arch(path: str | Path, variables: dict | None = None, name: str | None = None,
                         bits_per_value: int | None = None) -> Accelerator:
    """The `arch:` of an AccelForge file as an `Accelerator` (named `name`, else the file's stem). `variables`: the
    Jinja2 variables of the template; `bits_per_value`: the width of a value (default: the file's workload's, else
    8). A ValueError of one line names the file and the field it cannot read."""
    doc, where = _document(path, "arch", variables)
    return _accelerator(doc, where, name or Path(path).stem, bits_per_value)


def read_accelforge_workload(path: str | Path, variables: dict | None = None, name: str | None = None) -> Network:
    """The `workload:` of an AccelForge file as a `Network`, one layer per Einsum (named `name`, else the file's
    stem); an Einsum cosearch does not model is refused in one line naming the file and the Einsum."""
    doc, where = _document(path, "workload", variables)
    try:
        return network_from_einsums(doc["workload"], name or Path(path).stem)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def read_accelforge_mapping(paths: str | Path | list, variables: dict | None = None,
                            accelerator: Accelerator | None = None) -> tuple[Accelerator, Layer, MappingArrays]:
    """(accelerator, layer, mapping as `MappingArrays`) of AccelForge files that together hold an `arch:` (unless
    `accelerator` is given), a `workload:` and a `mapping:` of one of its Einsums, as AccelForge reads a spec from
    several files; each file a template rendered with `variables`. The mapping is read as
    `mapping_from_accelforge` says; a ValueError of one line names the file and the node or field it cannot read."""
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    sections: dict[str, tuple[dict, str]] = {}
    for path in paths:
        doc = load(path, "accelforge", variables or {}, tags=ACCELFORGE_TAGS)
        for key in ("arch", "workload", "mapping"):
            if key in doc:
                if key in sections:
                    raise ValueError(f"{path}: a second {key}: section (the first is in {sections[key][1]})")
                sections[key] = (doc, str(path))
    needed = ("workload", "mapping") + (() if accelerator is not None else ("arch",))
    missing = [key for key in needed if key not in sections]
    if missing:
        raise ValueError(f"{', '.join(map(str, paths))}: no {' or '.join(k + ':' for k in missing)} section")
    if accelerator is None:
        doc, where = sections["arch"]
        workload_doc = sections["workload"][0]
        accelerator = _accelerator({**doc, "workload": workload_doc["workload"]}, where, Path(where).stem, None)
    (workload_doc, workload_at), (mapping_doc, mapping_at) = sections["workload"], sections["mapping"]
    try:
        layer, arrays = mapping_from_accelforge(mapping_doc["mapping"], workload_doc["workload"], accelerator)
    except ValueError as exc:
        raise ValueError(f"{mapping_at}: {exc}") from None
    return accelerator, layer, arrays


__all__ = ["read_accelforge_arch", "read_accelforge_workload", "read_accelforge_mapping", "accelerator_from_accelforge",
           "mapping_from_accelforge", "mapping_to_accelforge_yaml", "fused_group_to_accelforge_yaml"]

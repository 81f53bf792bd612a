"""AccelForge's files in: its architectures as an `Accelerator`, its Einsum workloads as a `nets.Network`; and a
cosearch mapping out, as an AccelForge LoopTree mapping with its layer's workload (`mapping_to_accelforge_yaml`).

Each file is a Jinja2 template (rendered with the variables given, as AccelForge renders it) of YAML with
AccelForge's node tags; `read_accelforge_arch` reads the `arch:` section, `read_accelforge_workload` the `workload:`
section (a file may hold both). A file cosearch cannot read fails with one line naming the file and the field. What
maps and what does not: docs/accelforge.md.
"""
from __future__ import annotations

from pathlib import Path

from nets import Network
from nets.einsum_import import network_from_einsums

from ..accelerator import Accelerator
from ..timeloop._yaml import ACCELFORGE_TAGS, load
from .architecture import DEFAULT_BITS_PER_VALUE, accelerator_from_accelforge
from .mapping import mapping_to_accelforge_yaml


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


def read_accelforge_arch(path: str | Path, variables: dict | None = None, name: str | None = None,
                         bits_per_value: int | None = None) -> Accelerator:
    """The `arch:` of an AccelForge file as an `Accelerator` (named `name`, else the file's stem). `variables`: the
    Jinja2 variables of the template; `bits_per_value`: the width of a value (default: the file's workload's, else
    8). A ValueError of one line names the file and the field it cannot read."""
    doc, where = _document(path, "arch", variables)
    bits = bits_per_value if bits_per_value is not None else _bits(doc.get("workload"), where)
    try:
        return accelerator_from_accelforge(doc["arch"], name or Path(path).stem, bits, doc.get("variables") or {})
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def read_accelforge_workload(path: str | Path, variables: dict | None = None, name: str | None = None) -> Network:
    """The `workload:` of an AccelForge file as a `Network`, one layer per Einsum (named `name`, else the file's
    stem); an Einsum cosearch does not model is refused in one line naming the file and the Einsum."""
    doc, where = _document(path, "workload", variables)
    try:
        return network_from_einsums(doc["workload"], name or Path(path).stem)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


__all__ = ["read_accelforge_arch", "read_accelforge_workload", "accelerator_from_accelforge",
           "mapping_to_accelforge_yaml"]

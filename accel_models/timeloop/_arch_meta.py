"""What the cost model ignores but the writers need to give a read architecture back: element classes,
unmodelled attributes, and the compute element's name, class and attributes (kept in `Accelerator.meta`)."""
from __future__ import annotations

from typing import Any

from ..accelerator import Accelerator, StorageLevel
from ._fields import storage_kind

MODELLED_ATTRS = ("depth", "memory_depth", "data_storage_depth", "entries", "sizeKB", "width", "memory_width",
                  "data_storage_width", "datawidth", "word-bits", "word_bits", "word_width", "block-size", "block_size",
                  "n_words", "cluster-size", "cluster_size", "read_bandwidth", "write_bandwidth", "shared_bandwidth",
                  "bandwidth", "meshX", "meshY")
"""Storage attributes the architecture reader turns into `StorageLevel` fields; the rest ride along in meta."""
_MAC_ATTRS = ("multiplier_width", "adder_width", "width", "meshX", "meshY")
"""The order in which the compute element's known attributes are written."""


def arch_meta(storage: list[dict], mac: dict) -> dict:
    """`Accelerator.meta["timeloop"]` of the flattened elements read from an architecture (each element's own
    attributes, expressions evaluated; those it inherits from its containers are not repeated)."""
    own = {el["name"]: el["scope"].resolved() for el in [*storage, mac]}
    return {
        "classes": {el["name"]: el["class"] for el in storage},
        "extra_attributes": {el["name"]: {k: v for k, v in own[el["name"]].items() if k not in MODELLED_ATTRS}
                             for el in storage},
        "mac": {"name": mac["name"], "class": mac["class"],
                "attributes": {k: v for k, v in own[mac["name"]].items() if k not in ("meshX", "meshY")}},
    }


def _meta(acc: Accelerator) -> dict:
    return acc.meta.get("timeloop", {})


def extra_attributes(acc: Accelerator, level_name: str) -> dict:
    """The unmodelled attributes the level was read with (none for an accelerator not read from Timeloop)."""
    return _meta(acc).get("extra_attributes", {}).get(level_name, {})


def level_class(acc: Accelerator, lv: StorageLevel) -> str:
    """The level's Accelergy class as read, unless its kind has changed since; else its kind (a placeholder
    level of a spatial fan-out is Timeloop's `dummy_storage`)."""
    if lv.name in _meta(acc).get("placeholders", ()):
        return "dummy_storage"
    cls = _meta(acc).get("classes", {}).get(lv.name)
    return cls if cls is not None and storage_kind(cls) == lv.kind else lv.kind


def mac_element(acc: Accelerator) -> tuple[str, str, dict[str, Any]]:
    """(name, class, attributes in writing order) of the compute element, meshX/meshY from the PE array."""
    mac = _meta(acc).get("mac", {})
    attrs = dict(mac.get("attributes") or {"multiplier_width": acc.mac_bits, "adder_width": 2 * acc.mac_bits,
                                            "width": acc.mac_bits})
    attrs["multiplier_width"] = acc.mac_bits
    ordered = {k: attrs[k] for k in _MAC_ATTRS if k in attrs} | {k: v for k, v in attrs.items() if k not in _MAC_ATTRS}
    mx, my = acc.mesh
    return mac.get("name", "MAC"), mac.get("class", "intmac"), ordered | {"meshX": mx, "meshY": my}

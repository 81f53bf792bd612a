"""Timeloop v0.4 energy reference tables (ERT, pJ per vector access): read into per-element tables, write
from an `Accelerator`'s energies."""
from __future__ import annotations

from ..accelerator import Accelerator
from ._arch_meta import mac_element
from ._fields import leaf_name, number, range_name
from ._yaml import dump

EnergyTables = dict[str, dict[str, float]]
"""{element base name: {action: energy pJ}}."""


def ert_tables(ert: dict) -> EnergyTables:
    """A parsed ERT -> {element base name: {action: energy pJ}}."""
    root = ert.get("ERT", ert)
    tables = root.get("tables") if isinstance(root, dict) else None
    if not isinstance(tables, list):
        raise ValueError("ert.ERT.tables: missing (expected a Timeloop v0.4 ERT)")
    out: EnergyTables = {}
    for i, table in enumerate(tables):
        actions: dict[str, float] = {}
        for j, act in enumerate(table.get("actions") or []):
            e = number(act.get("energy"), f"ert.tables[{i}].actions[{j}].energy", positive=False)
            if e < 0:
                raise ValueError(f"ert.tables[{i}].actions[{j}].energy must be >= 0 pJ, got {e!r}")
            # Several entries of one action differ by Accelergy arguments; cosearch has one energy: the largest.
            actions[act["name"]] = max(e, actions.get(act["name"], e))
        out[leaf_name(table.get("name", ""))] = actions
    return out


def action_energy(tables: EnergyTables, element: str, action: str, default: float | None = None) -> float:
    """Energy (pJ) of `action` on `element`; `default` if the table lacks the action, an error without one."""
    table = tables.get(element)
    if table is None:
        raise ValueError(f"ert: no table for {element!r}; tables: {sorted(tables)}")
    if action in table:
        return table[action]
    if default is not None:
        return default
    raise ValueError(f"ert.{element}: no {action!r} action; actions: {sorted(table)}")


def ert_to_timeloop_yaml(accelerator: Accelerator) -> str:
    """`Accelerator` energies -> a Timeloop v0.4 ERT (pJ per vector access; leak 0)."""
    acc = accelerator

    def table(name: str, instances: int, actions: list[tuple[str, float]]) -> dict:
        return {"name": f"system.{range_name(name, instances)}",
                "actions": [{"name": action, "energy": float(energy)} for action, energy in actions + [("leak", 0.0)]]}

    tables = [table(lv.name, acc.instances(l), [("read", lv.read_energy_pj), ("write", lv.write_energy_pj),
                                                ("update", lv.update_energy_pj)])
              for l, lv in enumerate(acc.levels)]
    tables.append(table(mac_element(acc)[0], acc.num_macs, [("compute", acc.mac_energy_pj)]))
    return dump({"ERT": {"version": 0.4, "tables": tables}})

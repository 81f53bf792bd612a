"""What the presets hold, as text: their buffers in a line, and the table `python -m accel_models.presets` prints."""
from __future__ import annotations

from ..accelerator import TENSORS, Accelerator
from ..area import area_mm2
from ..roofline import dram_bytes_per_s, peak_macs_per_s
from ..units import format_bytes
from .designs import PRESETS, get_preset


def buffers_summary(acc: Accelerator, compact: bool = False) -> str:
    """On-chip buffers per instance: 'GLB 108 KiB; PE: I 24 B, W 448 B, O 48 B', or for narrow tables
    (compact, bytes) 'GLB W10K I16K O19.3K; PE I23 W25 O5'."""

    def size(n_bytes: float) -> str:
        return format_bytes(n_bytes, 1, "KiB", compact=True) if compact else format_bytes(n_bytes)

    glb, pe = [], []
    for i, lv in enumerate(acc.levels):
        if lv.kind == "DRAM":
            continue
        bpw = lv.word_bits / 8
        caps = lv.tensor_capacity_words
        kept = [(j, t) for j, t in enumerate(TENSORS) if t in lv.keeps]
        if caps is not None and all(caps[j] is not None for j, _ in kept):
            parts = [f"{t[0]}{'' if compact else ' '}{size(caps[j] * bpw)}" for j, t in kept]
            text = (" " if compact else "+").join(parts)
        else:
            tag = "" if len(kept) == 3 else "".join(t[0] for _, t in kept)
            gap = "" if not tag or (compact and len(kept) == 1) else " "
            text = f"{tag}{gap}{size(lv.capacity_words * bpw)}"
        (pe if acc.instances(i) > 1 else glb).append(text if acc.instances(i) > 1 else f"{lv.name} {text}")
    if compact:
        return "; ".join(glb + (["PE " + " ".join(pe)] if pe else []))
    return "; ".join(glb) + ("; PE: " + ", ".join(pe) if pe else "")


def table(names: list[str] | None = None) -> str:
    """The presets table: PEs, buffers, node, modelled and published area, peak MAC/s, DRAM bandwidth."""
    head = (f"{'preset':<14s} {'PEs':>15s} {'node':>5s} {'area':>8s} {'published':>9s} {'peak':>10s} "
            f"{'DRAM':>8s}  buffers")
    unit = (f"{'':<14s} {'(x*y)':>15s} {'nm':>5s} {'mm2':>8s} {'mm2':>9s} {'GMAC/s':>10s} {'GB/s':>8s}")
    lines = [head, unit, "-" * 110]
    for name in names or list(PRESETS):
        acc = get_preset(name)
        x, y = acc.mesh
        pub = acc.meta.get("published_area_mm2")
        bw = dram_bytes_per_s(acc)
        lines.append(f"{name:<14s} {f'{acc.num_macs} ({x}x{y})':>15s} {acc.technology_nm:>5g} {area_mm2(acc):8.2f} "
                     f"{(f'{pub:.2f}' if pub else '-'):>9s} {peak_macs_per_s(acc) / 1e9:10.1f} "
                     f"{('inf' if bw is None else f'{bw / 1e9:.1f}'):>8s}  {buffers_summary(acc)}")
    return "\n".join(lines)


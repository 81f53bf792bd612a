"""The keys of the latency look-up tables ProxylessNAS and OFA publish for phones, for the operators of an OFA
MobileNetV3 / ProxylessNAS subnet (as mit-han-lab/once-for-all, ofa/nas/efficiency_predictor/
latency_lookup_table.py, builds them).

`Conv-input:HxWxC-output:HxWxC` (the first conv), `expanded_conv-input:...-output:...-expand:E-kernel:K-stride:S-
idskip:I` (an MBConv block; E its expand ratio in ProxylessNAS's tables, its expanded width in MobileNetV3's, which
add `-se:0|1-hs:0|1`), and the head: `Conv_1` (ProxylessNAS's feature-mix conv, MobileNetV3's final expand conv),
MobileNetV3's `AvgPool2D` and `Conv_2` (its feature-mix conv after the pool), and `Logits` (the classifier; in
ProxylessNAS's tables everything after `Conv_1`, its input the pre-pool map).
"""
from __future__ import annotations

from .plan import ConvUnit, GlobalPoolUnit, LinearUnit, MBBlockUnit, Plan

FIRST_CONV = "Conv"
"""The key kind of the first conv, whose input size names a table file's resolution."""


def _shape(*dims: int) -> str:
    return "x".join(str(d) for d in dims)


def phone_table_keys(plan: Plan, mobilenet_v3: bool) -> list[tuple[str, str]]:
    """(unit name, table key) of every operator of `plan`, in order; `mobilenet_v3`: MobileNetV3's tables' format
    (expanded widths, SE and h-swish flags, a pooling entry), else ProxylessNAS's."""
    hw, pooled, out = plan.resolution, False, []
    for unit in plan.units:
        if isinstance(unit, ConvUnit):
            o = (hw - 1) // unit.stride + 1
            kind = FIRST_CONV if unit.name == "first_conv" else ("Conv_2" if pooled else "Conv_1")
            out.append((unit.name, f"{kind}-input:{_shape(hw, hw, unit.c_in)}-output:{_shape(o, o, unit.c_out)}"))
            hw = o
        elif isinstance(unit, MBBlockUnit):
            c_in = unit.expand.c_in if unit.expand is not None else unit.depthwise.c_in
            mid, s = unit.depthwise.c_in, unit.depthwise.stride
            o = (hw - 1) // s + 1
            expand = mid if mobilenet_v3 else (1 if unit.expand is None else round(mid / c_in))
            key = (f"expanded_conv-input:{_shape(hw, hw, c_in)}-output:{_shape(o, o, unit.project.c_out)}"
                   f"-expand:{expand}-kernel:{unit.depthwise.kernel}-stride:{s}-idskip:{int(unit.residual)}")
            if mobilenet_v3:
                key += f"-se:{int(unit.se is not None)}-hs:{int(unit.depthwise.act == 'h_swish')}"
            out.append((unit.name, key))
            hw = o
        elif isinstance(unit, GlobalPoolUnit):
            if mobilenet_v3:
                c = out[-1][1].split("-output:")[1].split("x")[-1]
                out.append(("pool", f"AvgPool2D-input:{_shape(hw, hw, c)}-output:{_shape(1, 1, c)}"))
                hw = 1
            pooled = True
        elif isinstance(unit, LinearUnit):
            out.append((unit.name, f"Logits-input:{_shape(hw, hw, unit.c_in)}-output:{unit.c_out}"))
    return out


__all__ = ["FIRST_CONV", "phone_table_keys"]

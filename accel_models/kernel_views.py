"""Views that numba does not reference-count, for the hot loops of compiled kernels (the cost model's,
the mappers' decoder).

Numba takes a reference (an atomic increment, and a decrement later) on an array each time a function
binds it: as an argument, a named-tuple field or a view. Measured on the kernel (perf sampling, a
family-A architecture of the corpus): 78% of the time went to NRT_incref / NRT_decref. A borrowed view
carries no memory-info pointer, so those calls return at once. The owner must outlive the view: the
batch drivers borrow their inputs and workspace for the duration of one call, while the owners are
alive in that call's frame. Written here because no library offers it; measured, it is what makes the
split kernel as fast as a single hand-unpacked function.
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _check(ty) -> bool:
    if isinstance(ty, types.Array) or isinstance(ty, (types.Number, types.Boolean)):
        return True
    return isinstance(ty, types.BaseTuple) and all(_check(t) for t in ty.types)


def _borrow_value(context, builder, ty, value):
    if isinstance(ty, types.Array):
        src = context.make_array(ty)(context, builder, value=value)
        out = context.make_array(ty)(context, builder)
        for name in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(out, name, getattr(src, name))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()
    if isinstance(ty, types.BaseTuple):
        items = [_borrow_value(context, builder, t, builder.extract_value(value, i)) for i, t in enumerate(ty.types)]
        return context.make_tuple(builder, ty, items)
    return value


@intrinsic
def borrow(typingctx, value):
    """`value` (an array, or a possibly nested (named) tuple of arrays and numbers) with every array
    replaced by a view that holds no reference on its memory: its owner must outlive it."""
    if not _check(value):
        return None

    def codegen(context, builder, sig, args):
        return _borrow_value(context, builder, sig.args[0], args[0])

    return value(value), codegen

"""Copies of int64 words that LLVM does not merge into vector loads, for the kernel's scratch areas.

The phases' composition (`phases`) writes a state's words one at a time and copies some of them a few instructions
later: the state at the start of an iteration, the sums, the last move's translation, a frame's reach. LLVM's SLP
vectorizer turns such a copy's loads into one 128- to 512-bit load. A load that spans several stores still in the
store queue cannot take its data from them (store-to-load forwarding needs one store that covers the whole load),
so it waits until they are written to the cache, and the copy's consumers with it. `copy_words` reads each word
with a relaxed (monotonic) atomic load instead: on x86-64 a plain 8-byte `mov`, which the vectorizer leaves alone
(it merges only simple loads), and which takes its word from the store that wrote it.

Written here because numba has no scalar-only copy and llvmlite's builder no volatile load; an intrinsic, so that
numba's front end does not re-run at each inlined site (compile time).
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def copy_words(typingctx, dst, d0, src, s0, n):
    """dst[d0:d0 + n] <- src[s0:s0 + n] for one-dimensional int64 arrays, each word by its own load, in order (so
    a copy to a lower offset within one array is exact). Indices as the kernels' own: no negative wrap, numba's
    bounds check where it is on (`python -m pytest -m boundscheck`)."""
    arrays = (dst, src)
    if not all(isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.int64 for a in arrays):
        return None
    if not all(isinstance(i, types.Integer) for i in (d0, s0, n)):
        return None

    def codegen(context, builder, sig, args):
        dst_ty, d0_ty, src_ty, s0_ty, n_ty = sig.args
        dst_ary = context.make_array(dst_ty)(context, builder, args[0])
        src_ary = context.make_array(src_ty)(context, builder, args[2])
        d0_v = context.cast(builder, args[1], d0_ty, types.intp)
        s0_v = context.cast(builder, args[3], s0_ty, types.intp)
        count = context.cast(builder, args[4], n_ty, types.intp)
        check = context.enable_boundscheck
        with cgutils.for_range(builder, count) as loop:
            src_ptr = cgutils.get_item_pointer(context, builder, src_ty, src_ary, [builder.add(s0_v, loop.index)],
                                               boundscheck=check)
            dst_ptr = cgutils.get_item_pointer(context, builder, dst_ty, dst_ary, [builder.add(d0_v, loop.index)],
                                               boundscheck=check)
            builder.store(builder.load_atomic(src_ptr, "monotonic", 8), dst_ptr)
        return context.get_dummy_value()

    return types.none(dst, d0, src, s0, n), codegen

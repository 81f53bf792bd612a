"""R2, the fill rule, for a stream (one level, one tensor) whose instances under the fan-out above it do the same
work: `stream_fills` picks the code that counts it, by the mapping's shape, as the table "Which code counts a
stream" of docs/cost_model.md lists; every path gives the walk's count bit for bit.

- a perfect mapping's stream, or a residual mapping's whose tensor no residual touches (`residual.closed_stream`,
  with each loop's passes in temporal[:].outer: `residual.pass_counts`): the closed form per loop
  (`counts.closed_form_fills`), less what links save under a fan-out (`links.links`, R3);
- any other stream of a residual mapping: the sweep over its steps (`sweep.uniform_stream`: the phases' closed
  form where it applies, else the frame walk).

The counterpart per instance class, where the instances do unequal work, is `sweep.sweep` (one class of children)
and `sweep.joint_sweep` (several), which `instances.class_accesses` calls.

Two entries compile from one source: `stream_fills`, and `stream_fills_perfect` for the perfect-factor driver, with
the sweep's stub in its place (`accel_models.jit.variant`), so that a first search on perfect factors compiles no
sweep. Each compiles once, apart, with `links.links` inlined into it by numba (numba copies an inlined body once per
block of the function it goes into: `links` inside an entry that is itself inlined would be copied twice, at their
joint size), and LLVM inlines it into its scaffold (`forceinline`: no call, no arguments passed at run time).
"""
from __future__ import annotations

from numba import njit

from ..jit._variants import variant
from .counts import closed_form_fills
from .links import links
from .residual import closed_stream
from .sweep import no_uniform_stream, uniform_stream


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=True)
def stream_fills(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin,
                 residual, walks):
    """(fills of one instance, reads of its parent, link transfers) of tensor t's stream at a level (`child`: its
    record) below M temporal loops, its parent serving `groups` multicast groups of `n_children` children (fan-out
    fan_x x fan_y); `residual`: the mapping has a residual loop (then temporal[:].outer holds `residual.pass_counts`);
    `walks`: the walk and the phases by address (`paths.Walks`), which only a residual mapping's streams reach."""
    if residual and not closed_stream(t, temporal, M, layer.bounds, child.extents, layer.ax, is_mac, n_children):
        return uniform_stream(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y,
                              ws, origin, walks)
    # every loop that moves t runs its whole bound in every pass, no tile of t is cut and, under a fan-out, the
    # innermost loop above runs its whole bound in every pass (`closed_stream`; or the MAC without a fan-out, whose
    # fills are its steps that run): a perfect stream but for how often each loop starts (`outer`: the passes that
    # run, `residual.pass_counts`), its fills and the multicast groups' reads of them less what links save (R3,
    # analysed as if the level kept t, R5: where it does not, the bypass fold's ratio is these reads over the
    # multicast-weighted ones of the children not served by a link, as Timeloop's MaskTiles scales those stats). A
    # link needs the loop right above the level to move t (else consecutive deltas are empty), or the MAC, whose
    # delta is its whole operand every step. `links` is inlined here, not inside `closed_form_fills` (see above).
    F, tile, delta = closed_form_fills(t, temporal, M, child, is_mac, layer, ws)
    reads = groups * F
    transfers = 0.0
    if n_children > 1 and M > 0 and (is_mac or layer.ax[t, temporal[M - 1].dim] >= 0):
        saved, transfers = links(t, temporal, M, ws.scratch[0].box, tile, delta, is_mac, spatial, n_sp, fan_x, fan_y,
                                 layer, groups, ws)
        reads -= saved
    return F, reads, transfers


@variant(stream_fills, uniform_stream=no_uniform_stream)
def stream_fills_perfect():
    """`stream_fills` for the perfect-factor driver (`driver.evaluate_range_perfect`): the same closed forms, the
    sweep's stub in its place (never called: that driver raises on a residual mapping before counting it)."""

"""Random mappings cut to a layer's bounds: the residual-factor cases several kernel tests draw."""
from accel_models import MappingArrays
from accel_models.mapping_arrays import canonical_residuals, dim_loops
from nets import DIMS


def cut_to_bounds(arrays: MappingArrays, bounds) -> MappingArrays:
    """Each row's loop ends made to cover `bounds` (at most the mapping's own) in canonical form (rule F3 of
    docs/imperfect.md): residual loops wherever an end overshoots."""
    out = MappingArrays(*(a.copy() for a in arrays))
    for b in range(out.batch_size):
        for d in range(len(DIMS)):
            loops = dim_loops(out, b, d)
            ends, res = canonical_residuals([e for _, _, e, _ in loops], bounds[d])
            for (level, kind, _, _), end, residual in zip(loops, ends, res):
                field = ("temporal", "spatial_y", "spatial_x")[kind]
                getattr(out, field)[b, level, d] = end
                getattr(out, field + "_residual")[b, level, d] = residual
    return out

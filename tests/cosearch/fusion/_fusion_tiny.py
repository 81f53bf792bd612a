"""The small accelerator the fusion tests plan on: a 4 x 4 array, 8-word register files, a GLB of the given words."""
from dataclasses import replace

from accel_models import build_accelerator
from cosearch.config import SEARCH_MAPPER
from mappings import MappingCache


def tiny_accelerator(glb_words: int):
    return build_accelerator(pe_array=(4, 4), rf_words=8, glb_words=glb_words, dram_bandwidth_words_per_cycle=2.0,
                             word_bits=8, technology_nm=45, name=f"tiny_{glb_words}")


def tiny_cache() -> MappingCache:
    """A mapper cache with a budget of 300 evaluations per layer."""
    return MappingCache(replace(SEARCH_MAPPER, budget_evals=300))


class _NoCache:
    """The cache a test passes where its own `layer_runs` stands in for the mapper's: a depth-first group reads its
    tiles' layer-wise mappings through the cache's `screened_shapes`, which this has (itself) and nothing else."""

    @property
    def screened_shapes(self) -> "_NoCache":
        return self


NO_CACHE = _NoCache()

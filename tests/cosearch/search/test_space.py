import numpy as np
import pytest

from accel_models import area_mm2
from cosearch.config import UsageError
from cosearch.search import AcceleratorSpace, Design
from nets import DIMS


@pytest.fixture(scope="module")
def space():
    return AcceleratorSpace(5.0)


def test_bounds_follow_the_budget(space):
    small = AcceleratorSpace(1.0)
    assert small.pe_range[1] < space.pe_range[1]
    assert small.glb_bytes_range[1] < space.glb_bytes_range[1]
    assert space.pe_range[0] <= space.pe_range[1]


def test_random_genes_decode_to_buildable_designs(space):
    rng = np.random.default_rng(0)
    for _ in range(200):
        d = space.decode(rng.random(len(space.genes)))
        acc = d.accelerator
        assert acc.num_macs == d.num_pes >= 1
        assert d.num_pes <= space.pe_range[1]
        assert len(d.parallel_dims) == d.dimensionality and set(d.parallel_dims) <= set(DIMS)
        assert all(space.rf_words_range[0] <= w <= space.rf_words_range[1] for w in d.rf_words)
        assert d.word_bits in space.word_bits_choices
        assert d.area_mm2 == pytest.approx(area_mm2(acc))
        df = acc.dataflow
        assert df.spatial_x == d.parallel_dims[:1]


def test_extremes_and_dict_genes(space):
    lo = space.decode(np.zeros(len(space.genes)))
    hi = space.decode(np.ones(len(space.genes)))
    assert lo.num_pes < hi.num_pes
    as_dict = dict(zip(space.genes, np.full(len(space.genes), 0.3)))
    assert space.decode(as_dict) == space.decode(np.full(len(space.genes), 0.3))
    with pytest.raises(ValueError, match="genes|values"):
        space.decode(np.zeros(3))


def test_importance_orders_parallel_dims(space):
    x = dict.fromkeys(space.genes, 0.5)
    x.update({"array_2d": 0.9, "pes": 0.6, "dim_K": 0.99, "dim_G": 0.95})
    d = space.decode(x)
    assert d.dimensionality == 2 and d.parallel_dims == ("K", "G")
    x["array_2d"] = 0.1
    assert space.decode(x).parallel_dims == ("K",) and space.decode(x).pe_array[1] == 1


def test_over_budget_designs_are_rejected_before_any_mapping(space, monkeypatch):
    """The check is the area model alone: no cost-model evaluation and no mapper search runs in it (what it costs
    per design: benchmarks/bench_design_build.py)."""
    import accel_models.cost_model
    import mappings.evolution
    import mappings.mapper

    def mapped(*args, **kwargs):
        raise AssertionError("the design check mapped a layer")

    rng = np.random.default_rng(1)
    designs = [space.decode(space.sample(rng)) for _ in range(300)]
    monkeypatch.setattr(accel_models.cost_model, "evaluate_batch", mapped)
    monkeypatch.setattr(mappings.mapper, "best_mapping", mapped)
    monkeypatch.setattr(mappings.evolution.Search, "__call__", mapped)
    checks = [space.check(d) for d in designs]
    assert any(not c.fits for c in checks) and any(c.fits for c in checks)
    for c in checks:
        assert c.fits == (c.area_mm2 <= 5.0) and (c.overshoot > 0) == (not c.fits)


def test_design_round_trip(space):
    d = space.decode(space.sample(7))
    assert Design.from_dict(d.to_dict()) == d


def test_budget_below_the_smallest_design():
    with pytest.raises(UsageError, match="smallest design"):
        AcceleratorSpace(1e-6)


@pytest.mark.parametrize("options", [{"budget": "area=5mm2"}, {"match_resources": "eyeriss"}])
def test_every_decoded_design_reads_back_from_its_dict(options):
    """`Design.from_dict` checks a result.json's design field by field: every design the space decodes (1-D and
    2-D arrays, several dims per axis under a preset's resources) passes those checks and reads back equal."""
    import cosearch

    space = AcceleratorSpace.for_settings(cosearch.make_settings(**options))
    rng = np.random.default_rng(7)
    for _ in range(100):
        design = space.decode(rng.random(len(space.genes)))
        again = Design.from_dict(design.to_dict())
        assert again == design and again.accelerator == design.accelerator


def test_the_buffer_takes_a_share_of_what_the_area_leaves(space):
    """The GLB gene places the buffer between the smallest and the largest that fits beside the rest of the design
    (PEs against SRAM inside the budget): at 1 the design fills the budget to within one buffer step (or reaches
    the space's largest buffer), the buffer grows with the gene, and a design over the budget is one whose PEs do
    not fit even with the smallest register files and buffer."""
    rng = np.random.default_rng(3)
    lo, hi = space.glb_bytes_range
    over = 0
    for _ in range(40):
        genes = dict(zip(space.genes, rng.random(len(space.genes))))
        sizes = [space.decode({**genes, "glb_size": g}).glb_bytes for g in (0.0, 0.3, 0.7, 1.0)]
        assert sizes == sorted(sizes)
        full = space.decode({**genes, "glb_size": 1.0})
        if not space.check(full).fits:
            over += 1
            assert full.glb_bytes <= lo and set(full.rf_words) == {space.rf_words_range[0]}
            continue
        bigger = Design(full.pe_array, full.parallel_dims, full.rf_words,
                        full.glb_words + 64 if isinstance(full.glb_words, int) else
                        tuple(w + 64 for w in full.glb_words), full.dram_bytes_per_cycle, full.word_bits)
        assert full.glb_bytes >= hi - 16 or bigger.area_mm2 > space.area_budget_mm2
    assert over < 10        # half of uniform genes were over 5 mm2 when the buffer's range ignored the PEs

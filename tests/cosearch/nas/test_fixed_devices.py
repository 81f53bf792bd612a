"""Networks for a given device (`--accelerator`): the layer table (exact, saved and read back), a run on a preset, on
several devices with the specialisation table, on a Timeloop architecture and on an earlier co-search's design, and
the bad inputs of the mode, each one line with exit status 2."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import cosearch
from _cosearch_cli import run_cli, run_main
from accel_models import get_preset
from accel_models.timeloop import default_corpus_path
from accel_models.timeloop.corpus import read_raw_cases
from cosearch.config import FINAL_MAPPER, UsageError
from cosearch.search.nas import Device, DeviceCosts, LayerTable
from dataclasses import replace
from nets import get_space, sample_configs, space_layers

NAS_EVALS = 100
FAST = ["--final-mapper-evals", "32", "--nas-evals", str(NAS_EVALS), "--workers", "1", "--quiet", "--fusion", "none"]
"""Small runs of the layer-table search (its figures the tables' sums; the default `--fusion` on a device is
`resident`, tested below)."""
DESIGNS = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs"


def test_a_subnets_cost_from_the_terms_is_its_layers_sum_from_the_table(tmp_path):
    """The layer table built for the space answers every subnet exactly: by the layer terms as by its layers."""
    space = get_space("vit-elastic")
    acc = get_preset("nvdla_256")
    mapper = replace(FINAL_MAPPER, budget_evals=32)
    table = LayerTable(acc, mapper, "latency", tmp_path)
    from nets import space_layers

    table.ensure(space_layers(space))
    assert table.mapped == len(space_layers(space)) and table.path.is_file()
    costs = DeviceCosts(Device("nvdla_256", "preset", acc), space, table)
    for config in sample_configs(space, 4, rng=1):
        by_terms = costs.network(config)
        by_layers = table.cost(space.network(config).layers)
        assert by_terms.latency_s == pytest.approx(by_layers.latency_s, rel=1e-12)
        assert by_terms.energy_j == pytest.approx(by_layers.energy_j, rel=1e-12)
    again = LayerTable(acc, mapper, "latency", tmp_path)        # read back: nothing to map
    again.ensure(space_layers(space))
    assert again.loaded == table.mapped and again.mapped == 0
    config = sample_configs(space, 1, rng=9)[0]
    assert again.cost(space.network(config).layers) == table.cost(space.network(config).layers)


@pytest.mark.slow
def test_a_device_is_scored_as_it_runs_by_default_and_as_the_fusion_plan_says():
    """With --accelerator the default --fusion is resident (none for the gradient strategy, which needs per-choice
    costs; naming both is refused); a subnet's cost on the device is its resident plan's, through the run tables,
    with its views searched by the searches' one rule: the co-search's score (`network_run`) gives the same figure."""
    from cosearch.fusion import view_search_settings
    from cosearch.search.evaluate import network_run

    assert cosearch.make_settings(None, accelerator="nvdla_256").fusion == "resident"
    assert cosearch.make_settings("latency<=9ms", accelerator="nvdla_256", nas_strategy="gradient").fusion == "none"
    assert cosearch.make_settings().fusion == "resident"                   # the co-search plans whole networks too
    with pytest.raises(UsageError, match="--nas-strategy gradient and --fusion resident: .* accepted: --fusion none"):
        cosearch.make_settings(None, accelerator="nvdla_256", nas_strategy="gradient", fusion="resident")
    space, acc = get_space("ofa-mbv3"), get_preset("nvdla_256")
    table = LayerTable(acc, replace(FINAL_MAPPER, budget_evals=16), "latency", Path("unused"))
    fused = DeviceCosts(Device("nvdla_256", "preset", acc), space, table, "resident",
                        view_search_settings(table.cache.settings, "latency"))
    layer_wise = DeviceCosts(Device("nvdla_256", "preset", acc), space, table)
    for config in sample_configs(space, 3, rng=4):
        run = network_run(space.network(config), acc, table.cache, "latency", "resident")
        cost = fused.network(config)
        assert cost.latency_s == pytest.approx(run.latency_s, rel=1e-12)
        assert cost.energy_j == pytest.approx(run.energy_j, rel=1e-12)
        assert cost.latency_s <= layer_wise.network(config).latency_s


@pytest.mark.slow
def test_a_device_scores_subnets_with_the_timing_model_of_the_run():
    """`--timing hardware` on a device: a subnet's latency is its layers' table mappings re-timed (layer-wise, and
    through the layer terms alike) or its resident plan's runs re-timed, as `network_run(timing="hardware")` gives
    them; the table's mappings are chosen under that timing, saved apart from Timeloop's."""
    from cosearch.fusion import view_search_settings
    from cosearch.search.evaluate import network_run

    settings = cosearch.make_settings(None, accelerator="nvdla_256", timing="hardware")
    assert settings.timing == settings.mapper.timing.name == settings.final_mapper.timing.name == "hardware"
    space, acc = get_space("ofa-mbv3"), get_preset("nvdla_256")
    mapper = replace(FINAL_MAPPER, budget_evals=16)
    device = Device("nvdla_256", "preset", acc)
    timed = LayerTable(acc, mapper, "latency", Path("unused"), timing="hardware")
    plain = LayerTable(acc, mapper, "latency", Path("unused"))
    assert timed.cache.settings.timing.name == "hardware" and plain.cache.settings.timing.name == "timeloop"
    assert timed.path != plain.path
    fused = DeviceCosts(device, space, timed, "resident", view_search_settings(timed.cache.settings, "latency"))
    for config in sample_configs(space, 2, rng=5):
        network = space.network(config)
        by_terms = DeviceCosts(device, space, timed).network(config)
        run = network_run(network, acc, timed.cache, "latency", timing="hardware")
        assert by_terms.latency_s == pytest.approx(run.latency_s, rel=1e-12)
        assert by_terms.energy_j == pytest.approx(run.energy_j, rel=1e-12)
        assert by_terms.latency_s != pytest.approx(plain.cost(network.layers).latency_s, rel=1e-6)
        resident = network_run(network, acc, timed.cache, "latency", "resident", timing="hardware")
        assert fused.network(config).latency_s == pytest.approx(resident.latency_s, rel=1e-12)


@pytest.mark.slow
def test_a_devices_latency_floor_is_below_its_plans_latency_and_only_where_the_screen_applies():
    """`DeviceCosts.latency_floor_s` (the compiled screen's latency over `SCREEN_MARGIN`) is below the latency the
    resident plan with searched views gives, and within the margin of it (the screen never beats the plan); it is 0
    layer by layer and under the hardware timing, whose cycles the screen does not give."""
    from cosearch.fusion import view_search_settings
    from cosearch.search.nas.device import SCREEN_MARGIN

    space, acc = get_space("ofa-mbv3"), get_preset("edge_tpu_like")
    mapper = replace(FINAL_MAPPER, budget_evals=16)
    device = Device("edge_tpu_like", "preset", acc)
    table = LayerTable(acc, mapper, "latency", Path("unused"))
    fused = DeviceCosts(device, space, table, "resident", view_search_settings(table.cache.settings, "latency"))
    timed = DeviceCosts(device, space, LayerTable(acc, mapper, "latency", Path("unused"), timing="hardware"),
                        "resident", view_search_settings(table.cache.settings, "latency"))
    for config in sample_configs(space, 3, rng=8):
        floor, latency = fused.latency_floor_s(config), fused.network(config).latency_s
        assert latency / SCREEN_MARGIN <= floor * (1 + 1e-12) and 0 < floor < latency
        assert DeviceCosts(device, space, table).latency_floor_s(config) == 0.0
        assert timed.latency_floor_s(config) == 0.0


@pytest.mark.slow
def test_a_depth_first_device_ranks_subnets_by_resident_plans_and_plans_the_one_found_depth_first():
    """Under `--fusion depth-first` a device scores the search's subnets by their resident plans (the depth-first
    planner's DP costs seconds a subnet; its plan is never slower than the resident one under the latency objective)
    and its screen applies; the subnet found (`final`, `plan`) is planned depth-first, one DP for both."""
    from cosearch.fusion import get_fusion_mode, view_search_settings

    space, acc = get_space("ofa-mbv3"), get_preset("eyeriss")
    mapper = replace(FINAL_MAPPER, budget_evals=16)
    device = Device("eyeriss", "preset", acc)
    table = LayerTable(acc, mapper, "latency", Path("unused"))
    views = view_search_settings(table.cache.settings, "latency")
    deep = DeviceCosts(device, space, table, "depth-first", views)
    resident = DeviceCosts(device, space, table, "resident", views)
    assert deep.ranks_otherwise and not resident.ranks_otherwise
    assert not DeviceCosts(device, space, table).ranks_otherwise
    gained = False
    for config in sample_configs(space, 2, rng=3):
        ranked, own = deep.network(config), deep.final(config)
        assert ranked == resident.network(config) == resident.final(config)
        assert deep.latency_floor_s(config) == resident.latency_floor_s(config) > 0
        plan = get_fusion_mode("depth-first").plan(space.network(config), acc, table.cache, "latency", views)
        assert own.latency_s == pytest.approx(plan.cycles / (acc.clock_ghz * 1e9), rel=1e-12)
        assert own.energy_j == pytest.approx(plan.energy_pj * 1e-12, rel=1e-12)
        assert own.latency_s <= ranked.latency_s * (1 + 1e-12)
        gained |= own.latency_s < ranked.latency_s * (1 - 1e-6)
        assert deep.plan(config) is deep.plan(config)               # kept: the report's plan is final's
    assert gained                                                   # eyeriss's 108 KB buffer: groups pay off


@pytest.mark.slow
def test_views_are_searched_as_evaluate_network_searches_them_and_beat_the_priced_layer_wise_mapping():
    """With a view mapper the device's resident plans search each (layer shape, view) once, starting from the table's
    mapping moved onto the view: a subnet's figures equal `evaluate_network(..., search_views=True)`'s on the same
    table with the same mapper settings (separate searches: the settings are equal, not the same object), and on
    edge_tpu_like, whose 8 MB keep whole subnets on chip, they are below the priced-only figures (x1.05-x1.08 at this
    budget), never above them layer by layer."""
    from cosearch.search import evaluate_network

    space, acc = get_space("ofa-mbv3"), get_preset("edge_tpu_like")
    mapper = replace(FINAL_MAPPER, budget_evals=64)
    table = LayerTable(acc, mapper, "latency", Path("unused"))
    device = Device("edge_tpu_like", "preset", acc)
    searched = DeviceCosts(device, space, table, "resident", view_mapper=replace(mapper))
    priced = DeviceCosts(device, space, table, "resident")
    gaps = []
    for config in sample_configs(space, 2, rng=3):
        plan = searched.plan(config)
        cost = evaluate_network(space.network(config), acc, table.cache, "latency", fusion="resident",
                                search_views=True)
        assert (plan.cycles, plan.energy_pj) == (cost.cycles, pytest.approx(cost.energy_pj, rel=1e-12))
        assert searched.network(config).latency_s == pytest.approx(cost.latency_s, rel=1e-12)
        base = priced.plan(config)
        assert sum(r.residency is not None for r in plan.runs) > len(plan.runs) // 2
        for mine, theirs in zip(plan.runs, base.runs):
            if mine.residency == theirs.residency:
                assert mine.result.cycles <= theirs.result.cycles
        gaps.append(base.cycles / plan.cycles)
    assert min(gaps) > 1.02, gaps


@pytest.mark.slow
def test_view_searches_are_saved_beside_the_layer_table_and_read_back_instead_of_searched(tmp_path, monkeypatch):
    """A device's view searches (`keep_views`) are written beside its layer table; a later run on the device (nothing
    remembered in the process) reads them and plans the same subnets to the last bit without one mapper search."""
    from cosearch.fusion import view_search, view_search_settings
    from cosearch.fusion.modes import resident
    from mappings import MapperSettings

    space, acc = get_space("ofa-mbv3"), get_preset("edge_tpu_like")
    table = LayerTable(acc, replace(FINAL_MAPPER, budget_evals=32), "latency", tmp_path)
    device = Device("edge_tpu_like", "preset", acc)
    views = view_search_settings(table.mapper, "latency")
    first = DeviceCosts(device, space, table, "resident", views, keep_views=True)
    configs = sample_configs(space, 2, rng=6)
    plans = [first.plan(c) for c in configs]
    first.save_views()
    path = table.views_path(views)
    assert path.parent == tmp_path and path.name.startswith(table.path.stem)
    saved = path.read_text().splitlines()
    assert len(saved) == len(first.views.rows) > 10 and first.views.loaded == 0
    view_search._SEARCHED.clear()
    resident._TABLES.clear()
    searches = []
    search = MapperSettings.search
    monkeypatch.setattr(MapperSettings, "search", lambda self, *a, **k: searches.append(1) or search(self, *a, **k))
    again = DeviceCosts(device, space, table, "resident", views, keep_views=True)
    assert again.views.loaded == len(saved)
    for config, plan in zip(configs, plans):
        replan = again.plan(config)
        assert (replan.cycles, replan.energy_pj) == (plan.cycles, plan.energy_pj)
    assert searches == []
    again.save_views()
    assert path.read_text().splitlines() == saved


@pytest.mark.slow
def test_a_limit_no_subnet_meets_is_one_line_naming_the_fastest(mbv3_tables, tmp_path):
    out = mbv3_tables.into(tmp_path / "out")
    proc = run_cli(["--accelerator", "nvdla_256", "--budget", "latency<=0.001ms", "--out", str(out), *FAST],
                   cwd=tmp_path, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "no subnet" in proc.stderr and f"{mbv3_tables.fastest_ms('nvdla_256'):.3g} ms" in proc.stderr


@pytest.mark.slow
def test_a_run_on_a_preset_meets_its_limit_and_a_second_target_reuses_the_table(mbv3_tables, tmp_path):
    out = mbv3_tables.into(tmp_path / "out")
    limit = 2.5 * mbv3_tables.fastest_ms("nvdla_256")    # ~94% of random subnets over it, ~2/3 of the draws at 1.3x
    proc = run_cli(["--accelerator", "nvdla_256", "--budget", f"latency<={limit:.4f}ms", "--out", str(out), *FAST],
                   cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "result.json").read_text())
    (dev,) = doc["devices"]
    assert dev["feasible"] and dev["latency_s"] * 1e3 <= limit and dev["accuracy"] > 0.7
    assert dev["strategy"] == "evolution" and 0 < dev["evaluations"] <= NAS_EVALS
    shapes = len(space_layers(mbv3_tables.space))   # every layer shape of the space, each in the table
    assert dev["table"]["shapes_loaded"] == shapes and dev["table"]["shapes_mapped"] == 0   # the table in --out
    assert "OFA accuracy predictor" in doc["accuracy_source"]["label"] and "evolution" in proc.stdout
    assert "OFA accuracy predictor" in (out / "report.md").read_text() and (out / "nas_fronts.png").is_file()
    # the same command again: the device's trial is kept, nothing searched
    again = run_cli(["--accelerator", "nvdla_256", "--budget", f"latency<={limit:.4f}ms", "--out", str(out), *FAST],
                    cwd=tmp_path, timeout=300)
    assert again.returncode == 0 and json.loads((out / "result.json").read_text())["devices"][0]["subnet"] == \
        dev["subnet"]


@pytest.mark.slow
def test_each_device_gets_its_own_subnet_and_the_cross_table(mbv3_tables, tmp_path):
    out = mbv3_tables.into(tmp_path / "out")
    limit = 2.0 * max(mbv3_tables.fastest_ms(d) for d in ("nvdla_256", "shidiannao"))   # ~89% over it on shidiannao
    proc = run_cli(["--accelerator", "nvdla_256,shidiannao", "--budget", f"latency<={limit:.4f}ms", "--out", str(out),
                    *FAST], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "result.json").read_text())
    cross = doc["specialization"]["cross"]
    assert doc["specialization"]["devices"] == ["nvdla_256", "shidiannao"] and len(cross) == 2
    for i, d in enumerate(doc["devices"]):
        assert cross[i][i]["latency_s"] == pytest.approx(d["latency_s"])     # its own figure on its own device
        assert d["table"]["shapes_mapped"] == 0
    assert "specialisation" in proc.stdout and "## Specialisation" in (out / "report.md").read_text()


@pytest.mark.slow
def test_a_front_of_accuracy_and_latency(mbv3_tables, tmp_path):
    """--pareto accuracy,latency: the strategy at several latency targets; the front is non-dominated, fastest first,
    and its figures are the layer table's."""
    out = mbv3_tables.into(tmp_path / "out")
    proc = run_cli(["--accelerator", "nvdla_256", "--pareto", "accuracy,latency", "--out", str(out), *FAST],
                   cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (dev,) = json.loads((out / "result.json").read_text())["devices"]
    points = dev["front_subnets"]
    latency, accuracy = [p["latency_s"] for p in points], [p["accuracy"] for p in points]
    assert len(points) >= 3 and latency == sorted(latency)
    assert all(a < b for a, b in zip(accuracy, accuracy[1:]))     # a slower point is more accurate, or not there
    assert dev["accuracy"] == max(accuracy) and 0 < dev["evaluations"] <= NAS_EVALS
    costs = mbv3_tables.costs["nvdla_256"]
    for p in (points[0], points[-1]):
        assert costs.network(mbv3_tables.space.parse(p["subnet"])).latency_s == pytest.approx(p["latency_s"],
                                                                                               rel=1e-12)
    assert "Front of accuracy and latency" in (out / "report.md").read_text()


@pytest.mark.slow
def test_a_timeloop_architecture_with_its_energy_table_is_a_device(tmp_path):
    raw = next(r for r in read_raw_cases(default_corpus_path()) if r["id"] == "C-0004")
    ert = tmp_path / "ert.yaml"
    ert.write_text(raw["timeloop_yaml"]["ert"])
    arch = DESIGNS / "c-eyeriss-conv" / "arch.yaml"
    settings = cosearch.make_settings(accelerator=f"{arch}+{ert}", budget="latency<=1000ms", out=tmp_path / "o",
                                      final_mapper_evals=32, nas_evals=100, workers=1, space="vit-elastic")
    result = cosearch.run(settings)
    (dev,) = result.devices
    assert dev.device == "arch" and "Timeloop architecture" in dev.description and dev.feasible
    assert math.isfinite(dev.energy_j) and dev.subnet is not None
    no_ert = run_cli(["--accelerator", str(arch), "--budget", "latency<=10ms", "--out", str(tmp_path / "x"), *FAST],
                     cwd=tmp_path)
    assert no_ert.returncode == 2 and no_ert.stderr.count("\n") == 1 and "energy table" in no_ert.stderr


@pytest.mark.slow
def test_an_earlier_co_searchs_design_is_a_device(finished_run, tmp_path):
    design = json.loads((finished_run / "result.json").read_text())["design"]
    settings = cosearch.make_settings(accelerator=str(finished_run / "result.json"), budget="latency<=1000ms",
                                      out=tmp_path / "o", final_mapper_evals=32, nas_evals=50, workers=1,
                                      space="vit-elastic")
    result = cosearch.run(settings)
    (dev,) = result.devices
    assert f"{design['num_pes']} MACs" in dev.description and "design of" in dev.description and dev.feasible


@pytest.mark.parametrize("args, words", [
    (["--accelerator", "nvdla_9000"], ["--accelerator", "unknown device", "nvdla_256"]),
    (["--accelerator", "nvdla_256", "--budget", "area=5mm2"], ["--accelerator", "area", "latency<="]),
    (["--accelerator", "nvdla_256", "--match-resources", "eyeriss"], ["--accelerator", "--match-resources"]),
    (["--accelerator", "nvdla_256", "--network", "resnet50"], ["--accelerator", "--network"]),
    (["--accelerator", "missing.yaml"], ["--accelerator", "no file"]),
    (["--accelerator", "nvdla_256", "--nas-strategy", "annealing"], ["--nas-strategy", "evolution, random, rl"]),
    (["--accelerator", "nvdla_256", "--pareto", "accuracy,energy"], ["--pareto", "accuracy,latency"]),
])
def test_bad_input_of_the_mode_is_one_line(args, words, tmp_path, monkeypatch, capsys):
    """The command line's `main` in this process (the separate command's one line is checked above: a limit no
    subnet meets, a Timeloop architecture without its energy table)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COSEARCH_OFA_PREDICTOR", raising=False)    # as `run_cli` starts the command
    status, _, err = run_main([*args, "--out", str(tmp_path / "o"), "--quiet"], capsys)
    assert status == 2 and err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)
    assert not (tmp_path / "o").exists()     # refused before anything started


@pytest.mark.slow
def test_the_gradient_strategy_refuses_a_space_without_a_differentiable_accuracy(tmp_path):
    settings = cosearch.make_settings(accelerator="nvdla_256", budget="latency<=1000ms", out=tmp_path / "o",
                                      final_mapper_evals=32, nas_evals=50, workers=1, space="vit-elastic",
                                      nas_strategy="gradient")
    with pytest.raises(UsageError, match="no differentiable form"):
        cosearch.run(settings)

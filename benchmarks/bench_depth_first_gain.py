"""How much a depth-first plan gains over the resident plan on the designs a co-search trial meets.

    python benchmarks/bench_depth_first_gain.py DIR [--trials N]

Reads the complete trials of the co-search study in DIR (a `run_cosearch.py --out DIR` folder; one made with
`--fusion depth-first` meets the designs that mode's search draws) and plans each trial's design and subnet as a
trial scores it (`cosearch.search.trial`: the search's mapper, a fresh mapping cache per design, the kept views
searched: `fusion.ChosenViews`) once resident and once depth-first. Prints per trial both EDPs and their ratio (the
depth-first planner keeps the resident plan where no depth-first plan scores less: ratio 1), and the CPU of each
plan. What `cosearch.search.trial.PLANNED_WITHIN` rests on: the smallest ratio is the most a depth-first plan has
gained, so a design whose resident result is further off the best than its inverse could not have become the best.
Last line: `depth-first / resident EDP over N trial designs: min A, median B, below 1 on C; CPU per plan resident
R s, depth-first D s`.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cosearch.config.builder import make_settings  # noqa: E402
from cosearch.fusion import ChosenViews, view_search_settings  # noqa: E402
from cosearch.search import evaluate_network  # noqa: E402
from cosearch.search.space import Design  # noqa: E402
from cosearch.search.trial import search_cache  # noqa: E402
from nets import parse_config  # noqa: E402
from nets.spaces import to_network  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a co-search's --out folder (its cosearch.db)")
    ap.add_argument("--trials", type=int, default=None, help="the first N complete trials only (default: all)")
    args = ap.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db = args.folder / "cosearch.db"
    if not db.is_file():
        raise SystemExit(f"folder: {args.folder} holds no cosearch.db; accepted: a run_cosearch.py --out folder")
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    study = optuna.load_study(study_name=storage.get_all_studies()[0].study_name, storage=storage)
    trials = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
              if t.user_attrs.get("subnet") and t.user_attrs.get("design")][:args.trials]
    settings = make_settings()
    goal = settings.mapper_objective
    ratios, cpu = [], {"resident": 0.0, "depth-first": 0.0}
    for t in trials:
        design = Design.from_dict(t.user_attrs["design"], name=f"trial{t.number}")
        network = to_network(parse_config(t.user_attrs["subnet"], settings.space))
        cache = search_cache(settings)
        views = ChosenViews(view_search_settings(cache.settings, goal))
        edp = {}
        for mode in ("resident", "depth-first"):      # resident first, as a trial ranks its subnets
            c0 = time.process_time()
            edp[mode] = evaluate_network(network, design.accelerator, cache, goal, fusion=mode,
                                         search_views=views).edp_j_s
            cpu[mode] += time.process_time() - c0
        ratios.append(edp["depth-first"] / edp["resident"])
        print(f"trial {t.number}: resident {edp['resident']:.4e} J*s, depth-first {edp['depth-first']:.4e} J*s, "
              f"x{ratios[-1]:.4f}")
    if not ratios:
        raise SystemExit(f"folder: {args.folder} holds no complete trial with a subnet")
    r = np.array(ratios)
    print(f"depth-first / resident EDP over {len(r)} trial designs: min {r.min():.3f}, median {np.median(r):.3f}, "
          f"below 1 on {(r < 1 - 1e-9).sum()}; CPU per plan resident {cpu['resident'] / len(r):.2f} s, "
          f"depth-first {cpu['depth-first'] / len(r):.2f} s")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Co-search an accelerator, the mapping of every layer and an OFA subnet under a budget.

    python run_cosearch.py                                  # --budget area=5mm2, OFA MBv3 w1.2, 64 trials
    python run_cosearch.py --budget area=5mm2,latency<=10ms --space ofa-proxyless --trials 100
    python run_cosearch.py --budget area=5mm2 --network resnet50 --workers 2

Bad input ends with a one-line error and exit status 2; re-running the same command resumes the study.
"""
from __future__ import annotations

import argparse
import sys

import cosearch
from cosearch.config.settings import DEFAULT_TIME_LIMIT_S, DEFAULT_TRIALS, SAMPLERS


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        _fail(message)


def _fail(message: str, status: int = 2) -> None:
    print(f"run_cosearch.py: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(status)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run_cosearch.py", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", action="append", metavar="TERMS",
                   help="area=5mm2 (or um2), latency<=10ms, energy<=2mJ, power<=500mW, accuracy>=0.76; comma-joined "
                        "or repeated (default area=5mm2)")
    p.add_argument("--trials", type=int, default=DEFAULT_TRIALS,
                   help=f"complete trials (accelerators) the study should reach (default {DEFAULT_TRIALS})")
    p.add_argument("--time-limit", default=f"{DEFAULT_TIME_LIMIT_S:g}s", metavar="DURATION",
                   help=f"stop starting trials after this long: 90, 90s, 5m, 1h or none (default {DEFAULT_TIME_LIMIT_S:g}s)")
    p.add_argument("--space", default="ofa-mbv3", metavar="SPACE",
                   help="OFA space of the subnet search: ofa-mbv3 (default), ofa-proxyless, ofa-resnet50")
    p.add_argument("--network", metavar="NET",
                   help="a fixed network instead of a subnet search: resnet50, mobilenetv2, vgg16, alexnet, mnasnet1_0, "
                        "squeezenet1_0, unet, a JSON subnet config of --space, or a .json file holding one")
    p.add_argument("--networks", metavar="A,B,C",
                   help="several fixed networks (comma-joined names as for --network); the objective is the "
                        "geometric mean of their EDPs")
    p.add_argument("--match-resources", metavar="PRESET",
                   help="bound the accelerator space by a preset's #PEs, on-chip bytes and DRAM bandwidth (NAAS), "
                        "with its word width, node and clock, instead of an area budget: eyeriss, nvdla_256, "
                        "nvdla_1024, shidiannao, edge_tpu_like, tpu_v1_like")
    p.add_argument("--accuracy", type=float, metavar="FLOOR",
                   help="accuracy floor of the subnet search, a fraction (default 0.80; same as accuracy>= in --budget)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--out", default="cosearch_out", help="output folder: storage, report, plots (default cosearch_out)")
    p.add_argument("--quiet", action="store_true", help="no progress display, only the result")
    p.add_argument("--sampler", default="cmaes", metavar="NAME",
                   help=f"outer-loop Optuna sampler: {', '.join(SAMPLERS)} (default cmaes)")
    p.add_argument("--storage", metavar="URL",
                   help="Optuna storage: sqlite:///PATH.db (default OUT/cosearch.db), postgresql://..., "
                        "mysql+pymysql://..., journal:PATH.log")
    p.add_argument("--study-name", metavar="NAME", help="study in the storage (default: from space, budget and seed)")
    p.add_argument("--workers", type=int, default=1, help="worker processes on the storage (default 1)")
    p.add_argument("--population", type=int, metavar="N", help="subnet evolution: population (default 8)")
    p.add_argument("--generations", type=int, metavar="N", help="subnet evolution: generations (default 2)")
    p.add_argument("--mapper-evals", type=int, metavar="N",
                   help="mapper evaluations per layer during the search (default 256)")
    p.add_argument("--final-mapper-evals", type=int, metavar="N",
                   help="mapper evaluations per layer for the best design and the presets (default 4096)")
    p.add_argument("--predictor", metavar="PATH", help="OFA accuracy predictor file (acc_predictor_mbv3_w1.2.pth)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = cosearch.make_settings(
            args.budget, space=args.space, network=args.network, accuracy=args.accuracy, trials=args.trials,
            time_limit=args.time_limit, seed=args.seed, out=args.out, sampler=args.sampler, storage=args.storage,
            study_name=args.study_name, workers=args.workers, population=args.population,
            generations=args.generations, mapper_evals=args.mapper_evals,
            final_mapper_evals=args.final_mapper_evals, predictor=args.predictor,
            match_resources=args.match_resources, networks=args.networks)
    except cosearch.UsageError as exc:
        _fail(str(exc))

    from rich.console import Console

    from cosearch.search.storage import StorageUnavailable

    out = Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    message = (lambda text: None) if args.quiet else (lambda text: err.print(text, highlight=False, soft_wrap=True))
    try:
        if args.quiet:
            result = cosearch.run(settings, on_message=message)
        else:
            with cosearch.ProgressDisplay(err) as display:
                result = cosearch.run(settings, on_progress=display.update, on_message=message)
    except cosearch.UsageError as exc:
        _fail(str(exc))
    except StorageUnavailable as exc:
        _fail(str(exc), status=1)
    except KeyboardInterrupt:
        _fail("interrupted; finished trials are kept: re-run the same command to resume", status=130)
    cosearch.print_summary(result, out)
    return 0 if result.best is not None else 1


if __name__ == "__main__":
    sys.exit(main())

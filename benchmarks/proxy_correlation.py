"""How well do the zero-cost proxies rank OFA MobileNetV3 w1.2 subnets, taking OFA's accuracy
predictor as the reference, and what does each cost on the CPU?

Samples N random subnets (seeded), scores each with the predictor and every proxy, and prints the
Spearman rank correlation of each proxy with the predictor (on the sampled configs, and on the same
architectures all at 224 px, since the proxies run at a fixed small size and never see the resolution
gene) and CPU seconds per subnet (process time, all threads; one torch thread by default).

    python benchmarks/proxy_correlation.py [--n 100] [--seed 0] [--resolution 64] [--threads 1]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nets.estimators import PROXIES, OFAAccuracyPredictor  # noqa: E402
from nets import count_macs, sample_configs  # noqa: E402


def _timed_scores(estimator, configs) -> tuple[np.ndarray, float]:
    """Scores and CPU seconds per config."""
    start = time.process_time()
    scores = np.array([estimator.score(c) for c in configs])
    return scores, (time.process_time() - start) / len(configs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="random subnets (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subnet sample and of the proxies")
    parser.add_argument("--resolution", type=int, default=64, help="proxy input size in pixels (default 64)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--predictor", type=Path, default=None,
                        help="predictor file (default: $COSEARCH_OFA_PREDICTOR, else the packaged copy)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    predictor = OFAAccuracyPredictor(args.predictor)   # None: nets.estimators.find_predictor's order

    configs = sample_configs("ofa_mbv3_w1.2", args.n, args.seed)
    reference, ref_cpu = _timed_scores(predictor, configs)
    # the proxies never see config.r (they run at a fixed small size): compare also with the
    # predictor's ranking of the same architectures all at 224 px
    reference_224 = predictor.score_batch([c.replace(r=224) for c in configs])
    macs = np.array([count_macs(c) for c in configs], dtype=float)
    macs_224 = np.array([count_macs(c.replace(r=224)) for c in configs], dtype=float)

    def rhos(scores: np.ndarray, scores_224: np.ndarray | None = None) -> tuple[float, float]:
        scores_224 = scores if scores_224 is None else scores_224
        return spearmanr(scores, reference).statistic, spearmanr(scores_224, reference_224).statistic

    rows = [("MACs", *rhos(macs, macs_224), float("nan"))]
    for name, cls in PROXIES.items():
        proxy = cls(resolution=args.resolution, seed=args.seed)
        scores, cpu = _timed_scores(proxy, configs)
        rows.append((f"{name} ({proxy!r})", *rhos(scores), cpu))
    rows.append(("ofa_predictor (reference)", 1.0, 1.0, ref_cpu))

    print(f"{args.n} random ofa_mbv3_w1.2 subnets, seed {args.seed}, proxies at {args.resolution} px, "
          f"{args.threads} torch thread(s); predicted top-1 {reference.min():.4f}..{reference.max():.4f}")
    width = max(len(r[0]) for r in rows)
    print(f"| {'estimator':<{width}} | rho vs predictor | rho, all at r=224 | CPU s / subnet |")
    print(f"|{'-' * (width + 2)}|------------------|-------------------|----------------|")
    for label, rho, rho_224, cpu in rows:
        cpu_text = "-" if np.isnan(cpu) else f"{cpu:.4f}"
        print(f"| {label:<{width}} | {rho:>16.3f} | {rho_224:>17.3f} | {cpu_text:>14} |")


if __name__ == "__main__":
    main()

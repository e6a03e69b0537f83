#!/usr/bin/env python3
"""The converse init experiment's table (issue 11; scripts/sasrec-parity-init.sh): Swift's SASRec started from
PyTorch's initial weights of the same seed against Swift from its own, paired by seed, and PyTorch's own runs beside
them when the folder holds them (torch-<seed>.json, Bench/pytorch/sasrec.py).

Reads swift-torchinit-<seed>.json and swift-<seed>.json (`adar train --model sasrec --json`) from the folder. Per
metric: the mean paired difference (torch's init minus Swift's), the paired t-test (scipy), and how many seeds went up,
down or stayed.
"""
import json
import statistics
import sys
from pathlib import Path

from scipy.stats import ttest_rel

from sasrec_parity_table import finished, swift, torch

METRICS = (("validation", "best val NDCG@10"), ("bestEpoch", "best epoch"), ("test", "test NDCG@10"), ("testHR", "test HR@10"))


def main():
    folder, dataset = Path(sys.argv[1]), sys.argv[2]
    seeds = sorted(finished(folder, "swift-torchinit-*.json") & finished(folder, "swift-[0-9]*.json"))
    if len(seeds) < 2:
        sys.exit(f"{folder}: fewer than 2 seeds with both swift-<seed>.json and swift-torchinit-<seed>.json")
    init = {s: swift(folder / f"swift-torchinit-{s}.json") for s in seeds}
    own = {s: swift(folder / f"swift-{s}.json") for s in seeds}
    peer = {s: torch(folder / f"torch-{s}.json") for s in seeds if s in finished(folder, "torch-[0-9]*.json")}
    print(f"SASRec on {dataset}, Swift from PyTorch's initial weights (`sasrec.py --save-initial-weights`, same seed) "
          f"against Swift from its own, order, negatives, dropout masks and Adam Swift's in both; {len(seeds)} seeds.\n")
    print("| seed | " + " | ".join(f"{label}: torch init, Swift init" + (", PyTorch" if peer else "") for _, label in METRICS) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for s in seeds:
        cells = []
        for key, _ in METRICS:
            values = [init[s][key], own[s][key]] + ([peer[s][key]] if s in peer else [])
            cells.append(", ".join(str(v) if key == "bestEpoch" else f"{v:.4f}" for v in values))
        print(f"| {s} | " + " | ".join(cells) + " |")
    print()
    for key, label in METRICS:
        f = ".1f" if key == "bestEpoch" else ".4f"
        x = [init[s][key] for s in seeds]
        y = [own[s][key] for s in seeds]
        differences = [a - b for a, b in zip(x, y)]
        test = ttest_rel(x, y)
        up, down = sum(d > 0 for d in differences), sum(d < 0 for d in differences)
        line = (f"{label}: torch init {statistics.mean(x):{f}} ± {statistics.stdev(x):{f}}, Swift init "
                f"{statistics.mean(y):{f}} ± {statistics.stdev(y):{f}}; paired Δ (torch init − Swift init) "
                f"{statistics.mean(differences):+{f}} ± {statistics.stdev(differences):{f}}, t = {test.statistic:.2f}, "
                f"p = {test.pvalue:.3f}; higher in {up} of {len(seeds)}, lower in {down}")
        if len(peer) == len(seeds):
            z = [peer[s][key] for s in seeds]
            gap = ttest_rel(x, z)
            line += (f"; PyTorch {statistics.mean(z):{f}} ± {statistics.stdev(z):{f}}, paired Δ (torch init − PyTorch) "
                     f"{statistics.mean(a - b for a, b in zip(x, z)):+{f}}, p = {gap.pvalue:.3f}")
        print(line)


if __name__ == "__main__":
    main()

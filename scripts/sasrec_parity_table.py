#!/usr/bin/env python3
"""The SASRec parity table (issue 11): Swift against PyTorch, per seed and mean ± sd.

Reads swift-<seed>.json (`adar train --model sasrec --json`) and torch-<seed>.json
(Bench/pytorch/sasrec.py) from a folder written by scripts/sasrec-parity.sh. The two agree
when each metric's difference of means is within the larger of the two seed spreads (sd); Welch's t-test
(scipy) gives the p-value of the difference of means.
"""
import json
import statistics
import sys
from pathlib import Path

from scipy.stats import ttest_ind


def swift(path):
    r = json.loads(path.read_text())
    stop = r["earlyStopping"]
    return {"validation": stop["bestValidationNDCG@10"], "test": stop["test"]["historyExcluded"]["ndcg@10"],
            "testHR": stop["test"]["historyExcluded"]["hr@10"], "bestEpoch": stop["bestEpoch"],
            "secondsPerEpoch": r["run"]["timing"]["trainingSeconds"] / stop["stoppedAfterEpoch"]}


def torch(path):
    r = json.loads(path.read_text())
    return {"validation": r["bestValidationNDCG@10"], "test": r["test"]["historyExcluded"]["ndcg@10"],
            "testHR": r["test"]["historyExcluded"]["hr@10"], "bestEpoch": r["bestEpoch"],
            "secondsPerEpoch": statistics.mean(e["epochSeconds"] for e in r["evaluations"])}


def finished(folder, pattern):
    """The seeds of the runs matching `pattern` (e.g. "swift-[0-9]*.json") that finished: a run still going has an
    empty file."""
    return {int(p.stem.rsplit("-", 1)[1]) for p in folder.glob(pattern) if p.stat().st_size > 0}


def main():
    folder, dataset = Path(sys.argv[1]), sys.argv[2]
    seeds = sorted(finished(folder, "swift-[0-9]*.json") & finished(folder, "torch-[0-9]*.json"))
    rows = {s: (swift(folder / f"swift-{s}.json"), torch(folder / f"torch-{s}.json")) for s in seeds}
    print(f"SASRec parity on {dataset}: Swift (adar train --model sasrec) vs PyTorch (Bench/pytorch/sasrec.py), "
          f"uniform negatives, d = 50, 2 blocks, dropout 0.2, lr 1e-3, batch 128, early stopping on validation "
          f"NDCG@10 (every 5 epochs, patience 5, at most 200); test of the best validation epoch, history excluded.\n")
    print(f"{len(seeds)} seeds.\n")
    print("| seed | Swift val NDCG@10 | PyTorch val NDCG@10 | Swift test NDCG@10 | PyTorch test NDCG@10 | Swift test HR@10 | PyTorch test HR@10 | best epoch (Swift, PyTorch) |")
    print("|---|---|---|---|---|---|---|---|")
    for s, (a, b) in rows.items():
        print(f"| {s} | {a['validation']:.4f} | {b['validation']:.4f} | {a['test']:.4f} | {b['test']:.4f} | "
              f"{a['testHR']:.4f} | {b['testHR']:.4f} | {a['bestEpoch']}, {b['bestEpoch']} |")
    print()
    for metric in ("validation", "test", "testHR"):
        x = [a[metric] for a, _ in rows.values()]
        y = [b[metric] for _, b in rows.values()]
        mx, my = statistics.mean(x), statistics.mean(y)
        sx, sy = statistics.stdev(x), statistics.stdev(y)
        agree = abs(mx - my) <= max(sx, sy)
        welch = ttest_ind(x, y, equal_var=False)
        print(f"{metric}: Swift {mx:.4f} ± {sx:.4f}, PyTorch {my:.4f} ± {sy:.4f}; |Δ| = {abs(mx - my):.4f} "
              f"{'≤' if agree else '>'} max sd {max(sx, sy):.4f}: {'agree' if agree else 'DO NOT agree'} within the seeds' spread; "
              f"Welch t = {welch.statistic:.2f}, p = {welch.pvalue:.3f}")
    a = statistics.mean(a["secondsPerEpoch"] for a, _ in rows.values())
    b = statistics.mean(b["secondsPerEpoch"] for _, b in rows.values())
    print(f"training seconds per epoch (mean over the seeds; PyTorch: the epochs it timed): Swift {a:.3f}, PyTorch {b:.3f} "
          f"({b / a:.2f}× in Swift's favour; timed inside these training runs, not by adar-bench)")


if __name__ == "__main__":
    main()

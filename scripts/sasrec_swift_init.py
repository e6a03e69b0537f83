#!/usr/bin/env python3
"""Swift's own initial SASRec weights for a seed, in the format `adar train --model sasrec --initial-weights` and
`Bench/pytorch/sasrec.py --initial-weights` read ({"parameters": [...]}, SASRecLayout's order = torch's
model.parameters()); asked of `adar sasrec-gradient`, which draws them as `adar train` does. For the follow-up of the
converse init experiment (results/sasrec-parity.txt): a second Swift init draw for a seed's streams.

    scripts/sasrec_swift_init.py --adar .build/release/adar --seed 101 --items 1682 --output swift-init-101.json

--items is required (1682 for ML-100K); --dim, --length, --blocks and --heads default to the ML-100K run's 50, 50, 2, 1.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Bench" / "pytorch"))
from sasrec_same_weights import swift  # noqa: E402  (asks `adar sasrec-gradient`, exits with its message on failure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adar", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--heads", type=int, default=1)
    args = parser.parse_args()
    # One sequence whose last slot is an item: the request needs a batch, the answer's "parameters" are the init.
    padding = [0] * (args.length - 1)
    request = {"items": args.items, "dimension": args.dim, "length": args.length, "blocks": args.blocks, "heads": args.heads,
               "seed": args.seed, "ids": [padding + [1]], "positives": [padding + [2]], "negatives": [padding + [3]]}
    parameters = swift(args.adar, request)["parameters"]
    with open(args.output, "w") as handle:
        json.dump({"init": "swift", "seed": args.seed, "parameters": parameters}, handle, allow_nan=False)
        handle.write("\n")


if __name__ == "__main__":
    main()

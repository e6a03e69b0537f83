#!/usr/bin/env python3
"""Initial-weight files for the follow-ups of the converse init experiment (results/sasrec-parity.txt; issue 11), in the
format `adar train --model sasrec --initial-weights` and `Bench/pytorch/sasrec.py --initial-weights` read
({"parameters": [...]}, SASRecLayout's order = torch's model.parameters()).

    scripts/sasrec_init_mix.py swift --adar .build/release/adar --seed 11 --items 1682 --output swift-init-11.json
        Swift's own initial weights for a seed (asked of `adar sasrec-gradient`, which draws them as `adar train` does).
    scripts/sasrec_init_mix.py mix --base swift-init-1.json --donor torch-init-1.json --take 'items.weight' --items 1682 --output mixed.json
        The base file with the named tensors (torch's parameter names, shell patterns, e.g. 'blocks.*.first.*') copied
        from the donor.
Shape options (--items, --dim, --length, --blocks, --heads) default to ML-100K's run: d = 50, L = 50, 2 blocks, 1 head.
"""
import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Bench", "pytorch"))
from sasrec import SASRec  # noqa: E402  (the peer's model gives the tensors' names, sizes and order)


def tensors(args):
    """(name, offset, size) of every parameter tensor in model.parameters() order."""
    model = SASRec(args.items, args.dim, args.length, args.blocks, args.heads, 0.0)
    offset, out = 0, []
    for name, parameter in model.named_parameters():
        out.append((name, offset, parameter.numel()))
        offset += parameter.numel()
    return out, offset


def read(path, count):
    with open(path) as handle:
        values = json.load(handle)["parameters"]
    if len(values) != count:
        sys.exit(f"{path}: {len(values)} parameters, the shape has {count}")
    return values


def write(path, values, **provenance):
    with open(path, "w") as handle:
        json.dump({**provenance, "parameters": values}, handle, allow_nan=False)
        handle.write("\n")


def swift_init(args):
    _, count = tensors(args)
    length = args.length
    request = {"items": args.items, "dimension": args.dim, "length": length, "blocks": args.blocks, "heads": args.heads,
               "seed": args.seed, "ids": [[0] * (length - 1) + [1]], "positives": [[0] * (length - 1) + [2]],
               "negatives": [[0] * (length - 1) + [3]]}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(request, handle)
        handle.flush()
        answer = json.loads(subprocess.run([args.adar, "sasrec-gradient", "--input", handle.name], check=True,
                                           capture_output=True, text=True).stdout)
    if len(answer["parameters"]) != count:
        sys.exit(f"adar sasrec-gradient answered {len(answer['parameters'])} parameters, the shape has {count}")
    write(args.output, answer["parameters"], init="swift", seed=args.seed)


def mix(args):
    layout, count = tensors(args)
    base, donor = read(args.base, count), read(args.donor, count)
    taken = [(name, offset, size) for name, offset, size in layout if any(fnmatch.fnmatch(name, p) for p in args.take)]
    unmatched = [p for p in args.take if not any(fnmatch.fnmatch(name, p) for name, _, _ in layout)]
    if unmatched:
        sys.exit(f"--take {', '.join(unmatched)}: no such tensor; the tensors are {', '.join(n for n, _, _ in layout)}")
    for _, offset, size in taken:
        base[offset:offset + size] = donor[offset:offset + size]
    write(args.output, base, init="mixed", base=args.base, donor=args.donor, taken=[name for name, _, _ in taken])
    print(f"{args.output}: {args.base} with {', '.join(n for n, _, _ in taken)} from {args.donor}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    swift = commands.add_parser("swift", help="Swift's own initial weights for --seed")
    swift.add_argument("--adar", required=True)
    swift.add_argument("--seed", type=int, required=True)
    combined = commands.add_parser("mix", help="--base with the --take tensors from --donor")
    combined.add_argument("--base", required=True)
    combined.add_argument("--donor", required=True)
    combined.add_argument("--take", action="append", required=True, help="a torch parameter name or shell pattern; repeatable")
    for command in (swift, combined):
        command.add_argument("--output", required=True)
        command.add_argument("--items", type=int, required=True)
        command.add_argument("--dim", type=int, default=50)
        command.add_argument("--length", type=int, default=50)
        command.add_argument("--blocks", type=int, default=2)
        command.add_argument("--heads", type=int, default=1)
    args = parser.parse_args()
    swift_init(args) if args.command == "swift" else mix(args)


if __name__ == "__main__":
    main()

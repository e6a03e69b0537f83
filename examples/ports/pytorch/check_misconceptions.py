#!/usr/bin/env python3
"""Checks that `adar conform` rejects the PyTorch port with each deliberate
misconception of adar_conform.py (--bug NAME) and names it in its hint.

    python3 examples/ports/pytorch/check_misconceptions.py [ADAR] [--precision binary64|binary32]

ADAR is the adar executable (default .build/debug/adar). For each bug: the run
must exit 1 with failing cases, and where the runner's catalogue has the
misconception (docs/PORTING.md §6), at least one failure must be diagnosed as
it. Prints one line per bug; exits 1 when any expectation is not met.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from adar_conform import BUGS  # noqa: E402  (name → (switch, expected misconception or None))


def run(adar, bug, precision):
    command = [adar, "conform", "--json", "--", sys.executable, os.path.join(HERE, "adar_conform.py"),
               "--precision", precision, "--bug", bug]
    done = subprocess.run(command, capture_output=True, text=True)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, None, done.stderr.strip().splitlines()[-3:]
    return done.returncode, report, None


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adar", nargs="?", default=".build/debug/adar")
    parser.add_argument("--precision", choices=("binary64", "binary32"), default="binary64")
    options = parser.parse_args(argv)
    problems = 0
    for bug, (_, expected) in BUGS.items():
        status, report, stderr = run(options.adar, bug, options.precision)
        if report is None:
            print(f"FAIL {bug}: no JSON report (exit {status}); stderr ends: {stderr}")
            problems += 1
            continue
        failures = [f for file in report["files"] for f in file["failures"]]
        seen = collections.Counter(d["misconception"] for f in failures for d in f["diagnoses"])
        named = sum(1 for f in failures if any(d["misconception"] == expected for d in f["diagnoses"]))
        hints = ", ".join(f"{name} ×{count}" for name, count in seen.most_common()) or "none"
        if status != 1 or not failures:
            verdict = f"FAIL {bug}: expected exit 1 with failing cases, got exit {status} and {len(failures)} failures"
        elif expected is not None and named == 0:
            verdict = f"FAIL {bug}: no failure diagnosed as {expected}"
        elif expected is None:
            verdict = f"ok   {bug}: rejected, {len(failures)} failing cases (no misconception in the catalogue to expect)"
        else:
            verdict = f"ok   {bug}: rejected, {named} of {len(failures)} failing cases diagnosed as {expected}"
        problems += verdict.startswith("FAIL")
        print(f"{verdict}; hints given: {hints}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

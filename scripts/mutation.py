#!/usr/bin/env python3
"""`make mutation`: the test gate's own mutation score (issue 13 §2, docs/Mutation.md).

Mutates Sources/ADARReference and Sources/ADAR (scripts/mutation_operators.py), builds every
selected mutant into ONE scratch build as a schema (`adarMutantADAR(id) ? mutated : original`),
then runs the tests once per mutant with ADAR_MUTANT=id: first the suites that exercise the
mutated module (a kill there is a kill by the whole suite), then — unless --subset-only — the
whole suite for the mutants the subset left alive. A test run stops at its first failure.

Never touches the checkout's sources: everything happens in a temporary copy, removed on exit,
on Ctrl-C and on SIGTERM. Writes the report (Markdown) and a journal (JSON lines, one result per
mutant, keyed by content) that --resume continues from.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import datetime
import fnmatch
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutation_operators as ops  # noqa: E402

MODULES = ("ADARReference", "ADAR")
# Test-only hooks (white-box views, the conformance misconceptions' switches) are not the implementation;
# Prefetch.swift only hints the cache (no result depends on it) and its intrinsic wants constant arguments.
EXCLUDED = ("*+WhiteBox.swift", "*+Mutation.swift", "Prefetch.swift")
# The suites that exercise each module (`swift test --filter` matches test IDs such as
# `ADARTests.LossTests/gradient()`): the first stage. A kill here is a kill by the whole suite.
SUBSET_SUITES = {
    "ADARReference": ["FixturesTests", "TauFixturesTests", "TauStepFixturesTests", "ForwardProcessTests",
                      "DiscretisationTests", "TransitionTests", "RetentionTests", "LossTests", "TauReferenceTests",
                      "TauAdamStepTests", "TauClaimTests", "ErrorTests", "EquivalenceTests", "VariantRowsTests",
                      "MutationKillTests"],
    "ADAR": ["EquivalenceTests", "Binary32NoiseTests", "LossTests", "TauOptimisedTests", "TauEquivalenceTests",
             "TauAdamStepTests", "TauTrainingTests", "WhiteBoxTests", "VariantRowsTests", "MutationKillTests"],
}
SUBSET = {module: rf"^ADARTests\.({'|'.join(suites)})/" for module, suites in SUBSET_SUITES.items()}
EQUIVALENTS = "scripts/mutation-equivalents.txt"
FAILURE_LINE = re.compile(r"✘|recorded an issue|Fatal error|Test run with .* failed")


def main() -> int:
    args = parse_arguments()
    root = os.path.abspath(args.root)
    mutants = generate(root, args)
    if args.list:
        for m in mutants:
            print(f"{m.id}\t{m.label()}")
        return 0
    if args.render:
        with open(os.path.join(root, args.fixture), encoding="utf-8") as f:
            print(ops.render_schemata(f.read(), mutants, "adarMutantFixture")[0], end="")
        return 0
    equivalents = load_equivalents(os.path.join(root, args.equivalents))
    if args.check_equivalents:
        return check_equivalents(args.equivalents, equivalents, mutants)
    journal = load_journal(args.journal) if args.resume or args.report_only or args.survivors else {}
    results: dict[str, dict] = {}
    by_label = {entry.get("label"): entry for entry in journal.values()}
    labels = {m.label() for m in mutants}
    moved = {key: entry for key, entry in journal.items() if entry.get("label") not in labels}
    for m in mutants:
        # A journal entry with the same label (file, line, column, change) is this mutant; else
        # one with the same content key whose own label is gone (the code moved).
        entry = by_label.get(m.label()) or moved.get(m.key())
        if m.key() in equivalents:
            results[m.key()] = {"status": "equivalent", "reason": equivalents[m.key()]}
        elif entry and (args.report_only or entry["status"] != "survived"):
            results[m.key()] = entry
    if args.report_only:
        write_outputs(args, mutants, results, root)
        return 0
    if args.survivors:
        survived = {entry.get("label") for entry in journal.values() if entry["status"] == "survived"}
        args.survivors = {m.key() for m in mutants if m.label() in survived}
    selected = select(mutants, results, args)
    print(f"mutation: {len(mutants)} mutants; {len(selected)} to run "
          f"({sum(1 for r in results.values() if r['status'] == 'equivalent')} recorded equivalent)", flush=True)

    scratch = Scratch(root)
    scratch.create()
    baseline: dict[str, dict] = {}
    try:
        compiled = scratch.build_schemata(selected, results, lambda m, r: append_journal(args.journal, m, r))
        write_outputs(args, mutants, results, root)
        baseline.update({stage: scratch.run_tests(0, stage_filter, timeout=None) for stage, stage_filter in stages(args, None)})
        for stage, outcome in baseline.items():
            if outcome["status"] != "survived" or not outcome.get("tests"):
                print(f"mutation: the unmutated tests ({stage}) do not pass: {outcome}; fix them first", file=sys.stderr)
                return 1
        timings = ", ".join(f"{stage} {outcome['seconds']:.0f} s" for stage, outcome in baseline.items())
        print(f"mutation: unmutated tests pass ({timings})", flush=True)
        for count, m in enumerate(compiled, start=1):
            outcome = {"status": "survived"}
            for stage, stage_filter in stages(args, m):
                limit = args.timeout or max(3 * baseline[stage]["seconds"], baseline[stage]["seconds"] + 60)
                outcome = scratch.run_tests(m.id, stage_filter, timeout=limit)
                outcome["stage"] = stage
                if outcome["status"] != "survived":
                    break
            results[m.key()] = outcome | {"label": m.label()}
            print(f"[{count}/{len(compiled)}] {outcome['status']:<9} {outcome.get('how', ''):<8} "
                  f"{outcome['seconds']:6.1f} s  {m.label()}", flush=True)
            append_journal(args.journal, m, results[m.key()])
            write_outputs(args, mutants, results, root, baseline)
    finally:
        scratch.remove()
    write_outputs(args, mutants, results, root, baseline)
    return 0


def parse_arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=".", help="the repository (default: the current directory)")
    p.add_argument("--files", nargs="*", default=[], metavar="GLOB",
                   help="only these files (globs over paths like Sources/ADAR/Tau/*.swift)")
    p.add_argument("--sample", type=int, metavar="SEED", help="run the mutants in a random order drawn from SEED")
    p.add_argument("--limit", type=int, help="run at most this many mutants")
    p.add_argument("--timeout", type=float, help="seconds per test stage (default: 3 × the unmutated stage, ≥ +60 s)")
    p.add_argument("--subset-only", action="store_true",
                   help="run only the module's suites, not the whole suite for their survivors")
    p.add_argument("--resume", action="store_true", help="skip mutants the journal already has a verdict for")
    p.add_argument("--journal", default="results/mutation-results.jsonl")
    p.add_argument("--survivors", action="store_true",
                   help="run again only the mutants the journal records as survived (after adding tests)")
    p.add_argument("--note", default="", help="a paragraph for the report: how this run was made")
    p.add_argument("--report-only", action="store_true", help="write the report from the journal; run nothing")
    p.add_argument("--report", default="results/mutation-report.md")
    p.add_argument("--equivalents", default=EQUIVALENTS, metavar="FILE",
                   help=f"the mutants judged equivalent, with reasons (default: {EQUIVALENTS})")
    p.add_argument("--check-equivalents", action="store_true",
                   help="fail when an entry of the equivalents file matches no mutant of today's sources")
    p.add_argument("--list", action="store_true", help="print the mutants and exit (builds nothing)")
    p.add_argument("--fixture", metavar="FILE", help="mutate this one file instead of the modules (with --list or --render)")
    p.add_argument("--render", action="store_true",
                   help="with --fixture: print the file with every mutant behind `adarMutantFixture(id)`")
    return p.parse_args()


def generate(root: str, args: argparse.Namespace) -> list[ops.Mutant]:
    if args.fixture:
        paths = [args.fixture]
    else:
        paths = sorted(
            os.path.relpath(os.path.join(d, f), root)
            for module in MODULES for d, _, files in os.walk(os.path.join(root, "Sources", module))
            for f in files if f.endswith(".swift") and not any(fnmatch.fnmatch(f, g) for g in EXCLUDED))
    mutants: list[ops.Mutant] = []
    for path in paths:
        with open(os.path.join(root, path), encoding="utf-8") as f:
            mutants += ops.mutants_of(path, f.read())
    for i, m in enumerate(mutants, start=1):
        m.id = i
    return mutants


def select(mutants: list[ops.Mutant], results: dict, args: argparse.Namespace) -> list[ops.Mutant]:
    chosen = [m for m in mutants if m.key() not in results
              and (not args.files or any(fnmatch.fnmatch(m.file, g) for g in args.files))
              and (not args.survivors or m.key() in args.survivors)]
    if args.sample is not None:
        random.Random(args.sample).shuffle(chosen)
    return chosen[:args.limit] if args.limit is not None else chosen


def stages(args: argparse.Namespace, m: ops.Mutant | None) -> list[tuple[str, str | None]]:
    module = m.file.split("/")[1] if m else None
    subset = SUBSET[module] if module else rf"^ADARTests\.({'|'.join(sorted(set(sum(SUBSET_SUITES.values(), []))))})/"
    return [("subset", subset)] + ([] if args.subset_only else [("full", None)])


def load_equivalents(path: str) -> dict[str, str]:
    """`file | operator | original → replacement | source line | reason`, one per line; # comments."""
    found: dict[str, str] = {}
    if not os.path.exists(path):
        return found
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = [x.strip() for x in line.rstrip("\n").split(" | ")]
            if len(fields) != 5 or not fields[4]:
                sys.exit(f"{path}:{number}: want `file | operator | original → replacement | source line | reason`")
            found[" | ".join(fields[:4])] = fields[4]
    return found


def check_equivalents(path: str, equivalents: dict[str, str], mutants: list[ops.Mutant]) -> int:
    current = {m.key() for m in mutants}
    stale = [key for key in equivalents if key not in current]
    for key in stale:
        print(f"{path}: no mutant of today's sources matches `{key}`: the code changed; "
              f"judge the mutant again and update or remove the entry", file=sys.stderr)
    if not stale:
        print(f"{path}: {len(equivalents)} entries, each matching a mutant")
    return 1 if stale else 0


def load_journal(path: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                entry = json.loads(line)
                found[entry["key"]] = entry
    return found


def append_journal(path: str, m: ops.Mutant, result: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"key": m.key()} | result, ensure_ascii=False) + "\n")


class Scratch:
    """A temporary copy of the checkout (tracked files plus .build) that holds the schemata."""

    def __init__(self, root: str):
        self.root = root
        self.path = ""
        self.child: subprocess.Popen | None = None

    def create(self) -> None:
        self.path = tempfile.mkdtemp(prefix="adar-mutation-")
        atexit.register(self.remove)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._interrupted)
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                               cwd=self.root, check=True, capture_output=True).stdout.decode().split("\0")
        for f in filter(None, files + ["Package.resolved"]):  # the pins are ignored by git here
            src = os.path.join(self.root, f)
            if os.path.isfile(src):
                os.makedirs(os.path.dirname(os.path.join(self.path, f)), exist_ok=True)
                shutil.copy2(src, os.path.join(self.path, f))
        build = os.path.join(self.root, ".build")
        if os.path.isdir(build):
            # The checkout's products make the copy's build mostly incremental; Clang's module
            # cache records its absolute path and refuses to move, so it is rebuilt.
            shutil.copytree(build, os.path.join(self.path, ".build"), symlinks=True,
                            ignore=lambda d, names: [n for n in names if n == "ModuleCache"])
        print(f"mutation: scratch copy in {self.path}", flush=True)

    def _interrupted(self, signum, frame) -> None:
        self.remove()
        sys.exit(128 + signum)

    def remove(self) -> None:
        if self.child and self.child.poll() is None:
            os.killpg(self.child.pid, signal.SIGKILL)
        if self.path and os.path.isdir(self.path):
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = ""

    def build_schemata(self, selected: list[ops.Mutant], results: dict, record) -> list[ops.Mutant]:
        """Writes every selected mutant into the copy and builds it; a mutant the compiler rejects
        is recorded and left out of the next attempt. Returns the compiled ones."""
        alive = list(selected)
        for attempt in range(1, 16):
            print(f"mutation: building {len(alive)} mutants (attempt {attempt})", flush=True)
            ok, output, spans = self._build(alive)
            if ok:
                return alive
            blamed = self._blame(output, spans)
            if not blamed:
                crashed = self._crashed_files(output)
                if not crashed:
                    log = tempfile.NamedTemporaryFile("w", prefix="adar-mutation-build-", suffix=".log", delete=False)
                    log.write(output)
                    sys.exit(f"mutation: the schemata build failed with errors no mutant explains (log: {log.name}):\n"
                             + output[-3000:])
                blamed = {self._bisect_crash(alive, crashed): "schema rejected"}
            for m in alive:
                if m.id in blamed:
                    results[m.key()] = {"status": blamed[m.id], "label": m.label()}
                    record(m, results[m.key()])
            alive = [m for m in alive if m.id not in blamed]
        sys.exit("mutation: the schemata still do not compile after 15 attempts")

    def _build(self, alive: list[ops.Mutant]) -> tuple[bool, str, dict]:
        spans = self._write(alive)
        started = time.monotonic()
        build = subprocess.run(["nice", "-n", "10", "swift", "build", "--build-tests"], cwd=self.path,
                               capture_output=True, text=True)
        print(f"mutation: build took {time.monotonic() - started:.0f} s", flush=True)
        return build.returncode == 0, build.stdout + build.stderr, spans

    def _crashed_files(self, output: str) -> set[str]:
        """The mutated files a compiler crash names as its primary files (a crash has no location)."""
        if "Stack dump" not in output and "Program crashed" not in output:
            return set()
        files = set()
        for path in re.findall(r"-primary-file (\S+\.swift)", output):
            rel = os.path.relpath(path, self.path)
            parts = rel.split(os.sep)
            if len(parts) > 2 and parts[0] == "Sources" and parts[1] in MODULES:
                files.add(rel)
        return files

    def _bisect_crash(self, alive: list[ops.Mutant], files: set[str]) -> int:
        """One mutant whose schema crashes the compiler, found by halving the suspects (those in
        the crashing files): the build leaves out one half; if it still crashes there, the
        culprit is in the other half."""
        suspects = [m for m in alive if m.file in files]
        print(f"mutation: the compiler crashed on {sorted(files)}; bisecting {len(suspects)} mutants", flush=True)
        while len(suspects) > 1:
            half = suspects[:len(suspects) // 2]
            left_out = {m.id for m in half}
            ok, output, _ = self._build([m for m in alive if m.id not in left_out])
            still = not ok and self._crashed_files(output) & files
            suspects = suspects[len(suspects) // 2:] if still else half
        print(f"mutation: the compiler crashes on {suspects[0].label()}", flush=True)
        return suspects[0].id

    def _write(self, alive: list[ops.Mutant]) -> dict[str, tuple[str, dict, dict]]:
        by_file = collections.defaultdict(list)
        for m in alive:
            by_file[m.file].append(m)
        spans = {}
        for module in MODULES:
            switch_file = os.path.join(self.path, "Sources", module, "MutationSwitch.swift")
            with open(switch_file, "w", encoding="utf-8") as f:
                # A plain function, not `==`: one overload keeps the type checker fast on long expressions.
                f.write("import Foundation\n\n/// The mutant this process runs (scripts/mutation.py); 0: none.\n"
                        f"public let adarActiveMutant{module}: Int = "
                        "Int(ProcessInfo.processInfo.environment[\"ADAR_MUTANT\"] ?? \"\") ?? 0\n\n"
                        f"public func adarMutant{module}(_ id: Int) -> Bool {{ id == adarActiveMutant{module} }}\n")
        for d, _, files in os.walk(os.path.join(self.root, "Sources")):
            for name in files:
                rel = os.path.relpath(os.path.join(d, name), self.root)
                if rel.split(os.sep)[1] not in MODULES or not name.endswith(".swift"):
                    continue
                with open(os.path.join(self.root, rel), encoding="utf-8") as f:
                    text = f.read()
                rendered, schema, variant = ops.render_schemata(text, by_file.get(rel, []),
                                                                f"adarMutant{rel.split(os.sep)[1]}")
                target = os.path.join(self.path, rel)
                with open(target, encoding="utf-8") as f:
                    unchanged = f.read() == rendered
                if not unchanged:  # an unchanged file keeps its timestamp: the build stays incremental
                    with open(target, "w", encoding="utf-8") as f:
                        f.write(rendered)
                spans[rel] = (rendered, schema, variant)
        return spans

    def _blame(self, output: str, spans: dict) -> dict[int, str]:
        """Mutant id → why the build rejected it: its own text does not compile ("did not compile"),
        or only its schema does (too complex for the type checker, or a context the ternary breaks:
        "schema rejected", reported as not run rather than as a mutant the compiler catches)."""
        blamed: dict[int, str] = {}
        for match in re.finditer(r"^(\S+?\.swift):(\d+):(\d+): error: (.*)$", output, re.M):
            rel = os.path.relpath(match.group(1), self.path)
            if rel not in spans:
                continue
            rendered, schema, variant = spans[rel]
            line, column = int(match.group(2)), int(match.group(3))
            line_start = sum(len(x) + 1 for x in rendered.split("\n")[:line - 1])
            offset = line_start + column - 1
            if "reasonable time" in match.group(4):
                # The whole expression is too much for the type checker: every schema on its line goes.
                line_end = rendered.find("\n", line_start)
                blamed.update({i: "schema rejected" for i, (a, b) in schema.items() if a < line_end and b > line_start})
                continue
            # The innermost mutated text holding the error, else the innermost schema, else every
            # schema on the error's line (the compiler may point just past an expression).
            line_end = rendered.find("\n", line_start)
            for table, why, hit in ((variant, "did not compile", lambda a, b: a <= offset < b),
                                    (schema, "schema rejected", lambda a, b: a <= offset < b),
                                    (schema, "schema rejected", lambda a, b: a < line_end and b > line_start)):
                inside = [(b - a, i) for i, (a, b) in table.items() if hit(a, b)]
                if inside:
                    blamed.setdefault(min(inside)[1], why)
                    break
        return blamed

    def run_tests(self, mutant: int, test_filter: str | None, timeout: float | None) -> dict:
        """One test run with ADAR_MUTANT=mutant, stopped at its first failure or its timeout."""
        command = ["nice", "-n", "10", "swift", "test", "--skip-build", "--disable-xctest"]
        if test_filter:
            command += ["--filter", test_filter]
        started = time.monotonic()
        self.child = subprocess.Popen(command, cwd=self.path, env=os.environ | {"ADAR_MUTANT": str(mutant)},
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      errors="replace", start_new_session=True)
        outcome: dict = {"status": "survived"}
        deadline = None if timeout is None else started + timeout
        killer = None
        if deadline is not None:
            killer = threading.Timer(timeout, self._stop_child)
            killer.daemon = True  # an interrupted run must not wait for it
            killer.start()
        for line in self.child.stdout:
            if counted := re.search(r"Test run with (\d+) tests?", line):
                outcome["tests"] = int(counted.group(1))
            if FAILURE_LINE.search(line):
                how = "crash" if "Fatal error" in line else "test"
                outcome = {"status": "killed", "how": how, "by": line.strip()[:300]}
                self._stop_child()
                break
        self.child.wait()
        if killer:
            killer.cancel()
        elapsed = time.monotonic() - started
        if outcome["status"] == "survived" and deadline is not None and time.monotonic() >= deadline:
            outcome = {"status": "killed", "how": "timeout", "by": f"no result within {timeout:.0f} s"}
        elif outcome["status"] == "survived" and self.child.returncode != 0:
            how = "crash" if self.child.returncode < 0 or self.child.returncode > 128 else "test"
            outcome = {"status": "killed", "how": how, "by": f"exit status {self.child.returncode}"}
        outcome["seconds"] = elapsed
        return outcome

    def _stop_child(self) -> None:
        if self.child and self.child.poll() is None:
            try:
                os.killpg(self.child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def mean_seconds(results: dict) -> str:
    times = [r["seconds"] for r in results.values() if "seconds" in r]
    return f"{sum(times) / len(times):.0f} s over {len(times)} mutants" if times else "–"


def kill_rate_lower_bound(killed: int, judged: int, alpha: float = 0.05) -> float:
    """One-sided Clopper–Pearson lower bound on the population's kill rate from
    `killed` of `judged` mutants drawn at random: the p with P(X ≥ killed | judged, p) = α."""
    if judged == 0 or killed == 0:
        return 0.0
    if killed == judged:
        return alpha ** (1 / judged)

    def tail(p: float) -> float:   # P(X ≥ killed), increasing in p
        return sum(math.comb(judged, i) * p ** i * (1 - p) ** (judged - i) for i in range(killed, judged + 1))

    low, high = 0.0, 1.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if tail(middle) < alpha else (low, middle)
    return low


def write_outputs(args: argparse.Namespace, mutants: list[ops.Mutant], results: dict, root: str,
                  baseline: dict | None = None) -> None:
    rows = collections.OrderedDict()
    for m in mutants:
        r = results.get(m.key(), {"status": "not run"})
        row = rows.setdefault(m.file, collections.Counter())
        row["generated"] += 1
        row[r["status"]] += 1
        if r["status"] == "killed":
            row[f"killed by {r.get('how', 'test')}"] += 1

    def score(c: collections.Counter) -> str:
        judged = c["killed"] + c["survived"]
        return f"{100 * c['killed'] / judged:.1f} %" if judged else "–"

    def bound(c: collections.Counter) -> str:
        judged = c["killed"] + c["survived"]
        return f"{100 * kill_rate_lower_bound(c['killed'], judged):.1f} %" if judged else "–"

    def line(name: str, c: collections.Counter) -> str:
        run = c["killed"] + c["survived"]
        extra = ", ".join(f"{c[f'killed by {h}']} {h}" for h in ("timeout", "crash") if c[f"killed by {h}"])
        return (f"| {name} | {c['generated']} | {run} | {c['killed']}{f' ({extra})' if extra else ''} | "
                f"{c['survived']} | {c['equivalent']} | {c['did not compile']} | {c['not run'] + c['schema rejected']} | {score(c)} | {bound(c)} |")

    header = ("| | mutants | run | killed | survived | equivalent | did not compile | not run | score | 95 % lower bound |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    modules = collections.OrderedDict((mod, collections.Counter()) for mod in MODULES)
    for f, c in rows.items():
        modules[f.split("/")[1]].update(c)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    survivors = [(m, results[m.key()]) for m in mutants if results.get(m.key(), {}).get("status") == "survived"]
    judged = [results[m.key()] for m in mutants if results.get(m.key(), {}).get("status") in ("killed", "survived")]
    after_subset = [r for r in judged if r.get("stage") == "full" or r["status"] == "survived"]
    in_full = sum(1 for r in after_subset if r.get("stage") == "full")
    stage_note = (f"the module's suites for every mutant; the whole suite for {in_full} of the "
                  f"{len(after_subset)} mutants those suites left alive"
                  + (" (the others survived only the module's suites)" if in_full < len(after_subset) else ""))
    coverage = (f"**Coverage: {len(judged)} of {len(mutants)} mutants judged "
                f"({100 * len(judged) / max(len(mutants), 1):.1f} %)**; the others are counted under \"not run\".")
    stage_times = ", ".join(f"{stage} {outcome['seconds']:.0f} s" for stage, outcome in (baseline or {}).items())
    text = [
        "# Mutation report",
        "",
        f"`make mutation` (scripts/mutation.py, docs/Mutation.md) at commit {commit}, "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        coverage,
        *([args.note, ""] if args.note else []),
        f"Tests per mutant: {stage_note}. Score = killed / (killed + survived); equivalent mutants "
        "(scripts/mutation-equivalents.txt) and mutants that do not compile are not counted; \"not run\" "
        "includes mutants whose schema the compiler rejected (docs/Mutation.md). \"95 % lower bound\": the "
        "one-sided Clopper–Pearson bound on the kill rate of *all* the row's mutants, valid when the judged ones "
        "were drawn at random (`--sample`) and equal to nothing more than the score's floor otherwise.",
        "",
        "## Cost",
        "",
        f"Unmutated test stages: {stage_times or 'not measured in this run'}; "
        f"mean per mutant run here: {mean_seconds(results)}. Machine: 2 cores shared with other builds and a training sweep.",
        "",
        "## By module",
        "",
        header,
        *(line(mod, c) for mod, c in modules.items()),
        "",
        "## By file",
        "",
        header,
        *(line(f"`{f}`", c) for f, c in rows.items()),
        "",
        "## Surviving mutants",
        "",
        *([f"- {m.label()}" for m, _ in survivors] or ["None."]),
        "",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
    with open(args.report, "w", encoding="utf-8") as f:
        f.write("\n".join(text))


if __name__ == "__main__":
    sys.exit(main())

# The README's commands. Each installs GSL, SQLite's headers and pkg-config first when missing.
.PHONY: deps demo verify test conform bench bench-epoch bench-quick
.PHONY: deps-torch conform-pytorch mutation

deps:
	@bash scripts/ensure-deps.sh

# The main job (README): fetch ML-100K, run the REDUCED evaluation protocol on
# ML-100K × MF for uniform, DNS, AHNS, ADAR and MixGCF, print the table, write
# the report to results/demo/ (the runs go to results/demo.sqlite).
demo: deps
	swift build -c release --product adar
	.build/release/adar demo

# Check every claim of Proofs/ numerically against GSL.
verify: deps
	swift build --product adar
	.build/debug/adar verify

# Every test suite.
test: deps
	swift test

# docs/PORTING.md: lint the fixtures, then run them against the example numpy
# port and the optimised Swift implementation behind `adar port-server`.
conform: deps
	swift build --product adar
	.build/debug/adar fixtures lint
	.build/debug/adar conform -- python3 examples/ports/python-numpy/adar_port.py
	.build/debug/adar conform -- .build/debug/adar port-server

# docs/PORTING.md "PyTorch": install torch (the CPU-only wheel when there is
# one, else PyPI's default; says which, fails when neither installs).
deps-torch:
	@bash scripts/ensure-torch.sh

# The PyTorch port under conform in binary64 and binary32 (as a subprocess and
# through a results file), then each of its deliberate misconceptions must fail;
# selftest.py checks what one-row fixtures cannot (batching, S7 gradients numerically).
# Last, the SASRec same-weights check (issue 11 §3): Swift's loss and every gradient
# against the PyTorch peer on the same weights, batch and dropout masks (seconds).
conform-pytorch: deps deps-torch
	swift build --product adar
	python3 examples/ports/pytorch/selftest.py
	.build/debug/adar conform -- python3 examples/ports/pytorch/adar_conform.py --precision binary64
	.build/debug/adar conform -- python3 examples/ports/pytorch/adar_conform.py --precision binary32
	python3 examples/ports/pytorch/adar_conform.py --precision binary32 --fixtures fixtures --write-results .build/pytorch-binary32.jsonl
	.build/debug/adar conform --results .build/pytorch-binary32.jsonl
	python3 examples/ports/pytorch/check_misconceptions.py .build/debug/adar
	python3 Bench/pytorch/sasrec_same_weights.py .build/debug/adar

# Throughput (README "Throughput"): release build, median of 7 runs per variant,
# with the PyTorch peer (Bench/pytorch; skipped with one line when torch is missing).
bench: deps deps-torch
	swift build -c release --product adar-bench
	.build/release/adar-bench --runs 7 > results/bench.txt
	cat results/bench.txt

# Training speed (README "Throughput"): one ADAR-augmented MF epoch on ML-100K in
# Swift, numpy and PyTorch in one invocation, on the split Swift trains on.
bench-epoch: deps deps-torch
	swift build --product adar
	.build/debug/adar data fetch ml-100k --cache data
	swift build -c release --product adar-bench
	.build/release/adar-bench --epoch --runs 7 --cache data > results/bench-epoch.txt
	cat results/bench-epoch.txt

# A smoke run of the bench for CI: small sizes, not a measurement.
bench-quick: deps
	swift build -c release --product adar-bench
	.build/release/adar-bench --quick

# The test gate's own mutation score (docs/Mutation.md): every mutant of Sources/ADARReference and
# Sources/ADAR against the tests, in a temporary copy of the tree; writes results/mutation-report.md.
# Slow (hours on two cores), not in CI. A part: make mutation MUTATION_OPTIONS="--sample 1 --limit 50".
mutation: deps
	python3 scripts/mutation.py $(MUTATION_OPTIONS)

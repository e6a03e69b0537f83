# The README's commands. Each installs GSL and pkg-config first when missing.
.PHONY: deps verify test

deps:
	@bash scripts/ensure-deps.sh

# The main job: check every claim of Proofs/ numerically against GSL.
verify: deps
	swift build --product adar
	.build/debug/adar verify

# Every test suite.
test: deps
	swift test

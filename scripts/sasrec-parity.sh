#!/usr/bin/env bash
# Issue 11's correctness anchor: SASRec in Swift (`adar train --model sasrec`) and in PyTorch
# (Bench/pytorch/sasrec.py) on the same data, split, rows, model and hyper-parameters, over
# several seeds (SEEDS, default "1 2 3"); prints validation and test NDCG@10 side by side
# (results/sasrec-parity.txt). Usage: [SEEDS="1 2 3"] scripts/sasrec-parity.sh [ml-100k|ml-1m] [cache folder] [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:-ml-100k}
cache=${2:-data}
out=${3:-.build/sasrec-parity}
mkdir -p "$out"
# PyTorch's OpenMP threads otherwise spin while they wait: on a loaded machine a 2-thread epoch
# then took 13–15 s instead of about 0.3 s (as adar-bench's peers, Bench/adar-bench/Peer.swift).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
swift build -c release --product adar >&2
for seed in ${SEEDS:-1 2 3}; do
  echo "seed $seed: Swift…" >&2
  .build/release/adar train --model sasrec --dataset "$dataset" --cache "$cache" --sampler uniform \
    --epochs 200 --eval-every 5 --patience 5 --seed "$seed" --threads 2 --json --output "$out/swift-$seed.json" \
    > "$out/swift-$seed.stdout" 2> "$out/swift-$seed.err"
  echo "seed $seed: PyTorch…" >&2
  python3 Bench/pytorch/sasrec.py --dataset "$dataset" --cache "$cache" --epochs 200 --eval-every 5 \
    --patience 5 --seed "$seed" --threads 2 > "$out/torch-$seed.json" 2> "$out/torch-$seed.err"
done
python3 scripts/sasrec_parity_table.py "$out" "$dataset"

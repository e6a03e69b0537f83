#!/usr/bin/env bash
# The converse init experiment of results/sasrec-parity.txt (issue 11): Swift's SASRec (`adar train --model sasrec`)
# started from PyTorch's initial weights of the same seed (`Bench/pytorch/sasrec.py --save-initial-weights`), the order,
# negatives, dropout masks and Adam Swift's own, beside Swift from its own init; the settings of scripts/sasrec-parity.sh.
# A run whose JSON is already in the output folder is not repeated (Swift is deterministic); put PyTorch's own runs
# there as torch-<seed>.json (scripts/sasrec-parity.sh writes them) to add its columns.
# Usage: [SEEDS="1 … 9"] scripts/sasrec-parity-init.sh [ml-100k|ml-1m] [cache folder] [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:-ml-100k}
cache=${2:-data}
out=${3:-.build/sasrec-parity-init}
mkdir -p "$out"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
swift build -c release --product adar >&2
train() {  # seed, output name, extra options
  local seed=$1 name=$2; shift 2
  [ -s "$out/$name.json" ] && return
  .build/release/adar train --model sasrec --dataset "$dataset" --cache "$cache" --sampler uniform \
    --epochs 200 --eval-every 5 --patience 5 --seed "$seed" --threads 2 "$@" --json --output "$out/$name.json" \
    > /dev/null 2> "$out/$name.err"
}
for seed in ${SEEDS:-1 2 3 4 5 6 7 8 9}; do
  echo "seed $seed: PyTorch's initial weights…" >&2
  python3 Bench/pytorch/sasrec.py --dataset "$dataset" --cache "$cache" --seed "$seed" \
    --save-initial-weights "$out/torch-init-$seed.json" 2> "$out/torch-init-$seed.err"
  echo "seed $seed: Swift from PyTorch's initial weights…" >&2
  train "$seed" "swift-torchinit-$seed" --initial-weights "$out/torch-init-$seed.json"
  echo "seed $seed: Swift from its own…" >&2
  train "$seed" "swift-$seed"
done
python3 scripts/sasrec_parity_init_table.py "$out" "$dataset"

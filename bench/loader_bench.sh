#!/usr/bin/env bash
# Issue 4's loader benchmark: vigil's DataLoader delivering augmented Fashion-MNIST batches (batch 128, random
# crop with padding 2, horizontal flip, Gaussian noise, standardisation; 0 and 2 worker threads) against the rate
# at which the CNN of ../shared/bench/torch_reference.py trains on batches of 128 (its "train samples/s"), on the
# same machine. The loader should be at least 10x faster, so that it never holds a CNN back.
#   bench/loader_bench.sh [BUILD_DIR] [--quick]
# By default PyTorch is measured at its best (torch_reference.py --best: three settings, each a fresh process and
# one epoch, about a minute each); --quick runs one epoch as installed (OPENBLAS_NUM_THREADS=1, 2 torch threads).
# The loader runs alone: the ratio compares a producer's rate with a consumer's, each measured unhindered.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
quick=0
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    *) build=$arg ;;
  esac
done
reference=${VIGIL_TORCH_REFERENCE:-$root/../shared/bench/torch_reference.py}
[[ -x $build/bench/loader_bench ]] || { echo "build $build/bench/loader_bench first" >&2; exit 1; }
[[ -f $reference ]] || { echo "PyTorch reference not found: $reference (set VIGIL_TORCH_REFERENCE)" >&2; exit 1; }

loader=$("$build/bench/loader_bench" --workers 0 --workers 2)
echo "$loader"
rate() { sed -n "s/^loader workers $1: \([0-9.]*\) samples\/s.*/\1/p" <<<"$loader"; }
rate0=$(rate 0)
rate2=$(rate 2)

if ((quick)); then
  torch_line=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$reference" --model cnn --threads 2 --epochs 1 | grep '^cnn epoch 1')
  echo "PyTorch CNN as installed: $torch_line"
else
  best=$(/usr/bin/python3 "$reference" --best --model cnn --epochs 1)
  echo "$best"
  torch_line=$(grep '^best cnn' <<<"$best")
fi
torch=$(sed -n 's/.*train *\([0-9.]*\) samples\/s.*/\1/p' <<<"$torch_line")
awk -v a="$rate0" -v b="$rate2" -v t="$torch" 'BEGIN {
  printf "loader samples/s: %.0f (0 workers), %.0f (2 workers); PyTorch CNN trains on %.0f samples/s\n", a, b, t
  printf "ratio loader/CNN: %.1fx (0 workers), %.1fx (2 workers); target >= 10x: %s\n", a / t, b / t,
         (a / t >= 10 && b / t >= 10) ? "met" : "NOT met" }'

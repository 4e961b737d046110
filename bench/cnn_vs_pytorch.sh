#!/usr/bin/env bash
# Trains issue 5's reference CNN (conv32-BN-ReLU-pool, conv64-BN-ReLU-pool, FC128-ReLU-dropout, FC10; Adam 1e-3,
# batch 128, one epoch) with vigil and with PyTorch in one run, and prints the training and inference rates, their
# ratios against PyTorch as installed (OpenBLAS with 1 thread, torch with 2, the environment as inherited) and
# against PyTorch at its best on this machine (../shared/bench/torch_reference.py --best), and the peak resident
# set size of vigil and of PyTorch as installed (GNU time's "Maximum resident set size", the same getrusage
# ru_maxrss that fashion_cnn prints for itself). Run it on a quiet machine: see bench/mlp_vs_pytorch.sh.
#
# The three contenders run in ROUNDS rounds (default 3), one after another in each round, and each keeps its best
# round: on a machine shared with other tenants one run of either side can lose 20% to a neighbour (measured here:
# vigil 5,481 and 6,619 samples/s in two runs a minute apart), and interleaving gives both sides the same weather.
#   [ROUNDS=3] bench/cnn_vs_pytorch.sh [BUILD_DIR]   (needs scripts/install-deps.sh bench and a Release build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
reference=${VIGIL_TORCH_REFERENCE:-$root/../shared/bench/torch_reference.py}
[[ -x $build/examples/fashion_cnn ]] || { echo "build $build/examples/fashion_cnn first" >&2; exit 1; }
[[ -f $reference ]] || { echo "PyTorch reference not found: $reference (set VIGIL_TORCH_REFERENCE)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "GNU time (/usr/bin/time, Debian package time) is needed for PyTorch's RSS" >&2; exit 1; }

rate() { sed -n "s/.*$1 *\([0-9.]*\) samples\/s.*/\1/p" | tail -1; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
rss_mib() { sed -n 's/.*Maximum resident set size (kbytes): *\([0-9]*\).*/\1/p' | awk '{ printf "%.1f", $1 / 1024 }'; }

timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
vigil_train=0 vigil_infer=0 vigil_rss=0
installed_train=0 installed_infer=0 torch_rss=0 best_train=0 best_infer=0
for round in $(seq "${ROUNDS:-3}"); do
  for threads in 1 2; do
    out=$(OMP_NUM_THREADS=$threads "$build/examples/fashion_cnn" --epochs 1)
    line=$(grep '^cnn epoch' <<<"$out")
    echo "round $round, vigil, $threads thread(s): $line"
    vigil_train=$(max "$vigil_train" "$(rate train <<<"$line")")
    vigil_infer=$(max "$vigil_infer" "$(rate infer <<<"$line")")
    vigil_rss=$(max "$vigil_rss" "$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' <<<"$out")")
  done
  installed=$(OPENBLAS_NUM_THREADS=1 /usr/bin/time -v -o "$timing" /usr/bin/python3 "$reference" --model cnn --threads 2 --epochs 1)
  echo "round $round, PyTorch as installed: $installed"
  installed_train=$(max "$installed_train" "$(rate train <<<"$installed")")
  installed_infer=$(max "$installed_infer" "$(rate infer <<<"$installed")")
  torch_rss=$(max "$torch_rss" "$(rss_mib <"$timing")")
  best_line=$(/usr/bin/python3 "$reference" --best --model cnn --epochs 1 | grep '^best cnn')
  echo "round $round, PyTorch at its best:  $best_line"
  best_train=$(max "$best_train" "$(rate train <<<"$best_line")")
  best_infer=$(max "$best_infer" "$(rate infer <<<"$best_line")")
done
echo "best of each over the rounds:"
awk -v vt="$vigil_train" -v vi="$vigil_infer" -v it="$installed_train" -v ii="$installed_infer" \
    -v bt="$best_train" -v bi="$best_infer" -v vr="$vigil_rss" -v tr="$torch_rss" 'BEGIN {
  printf "training samples/s:  vigil %.0f, PyTorch as installed %.0f (ratio %.2fx), PyTorch best %.0f (ratio %.2fx)\n",
         vt, it, vt / it, bt, vt / bt
  printf "inference samples/s: vigil %.0f, PyTorch as installed %.0f (ratio %.2fx), PyTorch best %.0f (ratio %.2fx)\n",
         vi, ii, vi / ii, bi, vi / bi
  printf "peak RSS: vigil %.1f MiB, PyTorch as installed %.1f MiB\n", vr, tr }'

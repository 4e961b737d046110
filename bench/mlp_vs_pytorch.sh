#!/usr/bin/env bash
# Trains issue 3's Fashion-MNIST MLP (784-512-256-10, ReLU, Adam 1e-3, batch 128, one epoch) with vigil and with
# PyTorch in one run, and prints both training rates and their ratios: against PyTorch as installed (OpenBLAS
# with 1 thread, torch with 2, the environment as inherited) and against PyTorch at its best on this machine
# (../shared/bench/torch_reference.py --best). Run it on a quiet machine: OpenMP threads that wait for a busy core
# spin, and the figures then measure the load, not the code. (fashion_mlp shortens libgomp's spin to 1000 unless
# OMP_WAIT_POLICY or GOMP_SPINCOUNT is set, which keeps its 2-thread figure near its 1-thread one under load;
# PyTorch keeps libgomp's default, and its 2-thread "as installed" figure collapses when a core is busy.)
#   bench/mlp_vs_pytorch.sh [BUILD_DIR]        (needs scripts/install-deps.sh bench and a Release build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
reference=${VIGIL_TORCH_REFERENCE:-$root/../shared/bench/torch_reference.py}
[[ -x $build/examples/fashion_mlp ]] || { echo "build $build/examples/fashion_mlp first" >&2; exit 1; }
[[ -f $reference ]] || { echo "PyTorch reference not found: $reference (set VIGIL_TORCH_REFERENCE)" >&2; exit 1; }

train_rate() { sed -n 's/.*train *\([0-9.]*\) samples\/s.*/\1/p' | tail -1; }

best_vigil=0
for threads in 1 2; do
  line=$(OMP_NUM_THREADS=$threads "$build/examples/fashion_mlp" --epochs 1)
  echo "vigil, $threads thread(s): $line"
  rate=$(train_rate <<<"$line")
  best_vigil=$(awk -v a="$best_vigil" -v b="$rate" 'BEGIN { print (b > a ? b : a) }')
done

installed=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$reference" --model mlp --threads 2 --epochs 1)
echo "PyTorch as installed: $installed"
best_line=$(/usr/bin/python3 "$reference" --best --model mlp --epochs 1 | grep '^best mlp')
echo "PyTorch at its best:  $best_line"
torch_installed=$(train_rate <<<"$installed")
torch_best=$(sed -n 's/.*train *\([0-9.]*\) samples\/s.*/\1/p' <<<"$best_line")
awk -v v="$best_vigil" -v i="$torch_installed" -v b="$torch_best" 'BEGIN {
  printf "training samples/s: vigil %.0f, PyTorch as installed %.0f (ratio %.2fx), PyTorch best %.0f (ratio %.2fx)\n",
         v, i, v / i, b, v / b }'

#!/usr/bin/env bash
# Issue 8: the `vigil` command may add at most 2% to training time over calling the library directly. Trains the
# same config (default: configs/fashion_mlp.toml for 2 epochs on the whole Fashion-MNIST) through `vigil train`
# and through bench/cli_overhead.cpp (the library's fit() and evaluate(), nothing else), alternating, and compares
# the medians of the programs' wall times. Both sides run with the doctor off; a third side, `vigil train` with
# the doctor on (pre-flight, monitor, analysis), shows the doctor's own cost separately. Both programs get the
# same GOMP_SPINCOUNT (vigil would otherwise set it for itself) and the same thread count.
#   bench/cli_overhead.sh VIGIL CLI_OVERHEAD [REPEATS] [CONFIG] [key=value ...]
# e.g. bench/cli_overhead.sh build/cli/vigil build/bench/cli_overhead 3
set -euo pipefail
vigil=$1
library=$2
repeats=${3:-3}
config=${4:-configs/fashion_mlp.toml}
shift $(($# < 4 ? $# : 4))
overrides=(run.epochs=2 run.threads=2 "$@")
cd "$(dirname "$0")/.."
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sets=()
for o in "${overrides[@]}"; do sets+=(--set "$o"); done
seconds() {  # wall time of a command, in seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
lib=() cli=() doc=()
for i in $(seq 1 "$repeats"); do
  lib+=("$(seconds "$library" "$config" "${overrides[@]}" doctor.enabled=false)")
  cli+=("$(seconds "$vigil" train "$config" "${sets[@]}" --set doctor.enabled=false --runs-dir "$work" --quiet)")
  doc+=("$(seconds "$vigil" train "$config" "${sets[@]}" --set doctor.enabled=true --runs-dir "$work" --quiet)")
  echo "repeat $i: library ${lib[-1]} s, vigil train ${cli[-1]} s, vigil train + doctor ${doc[-1]} s" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
l=$(median "${lib[@]}") c=$(median "${cli[@]}") d=$(median "${doc[@]}")
printf 'config %s (%s), medians of %d runs\n' "$config" "${overrides[*]}" "$repeats"
printf 'library only      %8.2f s\n' "$l"
printf 'vigil train       %8.2f s  ratio %.4f (CLI overhead %+.2f%%)\n' "$c" "$(echo "$c / $l" | bc -l)" \
  "$(echo "($c / $l - 1) * 100" | bc -l)"
printf 'vigil + doctor    %8.2f s  ratio %.4f (doctor %+.2f%% over vigil train)\n' "$d" "$(echo "$d / $l" | bc -l)" \
  "$(echo "($d / $c - 1) * 100" | bc -l)"

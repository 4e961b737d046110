#!/usr/bin/env bash
# vigil's main job: builds the `vigil` command (Release) and trains the Fashion-MNIST reference CNN
# (configs/reference_cnn.toml: Conv-BN-ReLU-Pool x2, Linear 128, dropout; Adam 1e-3) for 3 epochs with the training
# doctor watching, then prints the test accuracy, the doctor's verdict and the path of the run's report.html.
# About 2-3 minutes on 2 cores. `./run.sh CONFIG.toml [vigil train options]` trains another config instead, e.g.
#   ./run.sh configs/fashion_mlp.toml --set run.epochs=2
# Installs the build dependencies first (scripts/install-deps.sh build: the compilers' packages, the data set and
# uPlot from npm). Shares the `build` folder with ./test.sh: an existing configuration is kept, a fresh one leaves
# out the tests and benchmarks (they need more packages).
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh build
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIGIL_WERROR=ON -DVIGIL_BUILD_TESTS=OFF \
    -DVIGIL_BUILD_BENCH=OFF >/dev/null
fi
echo "run.sh: building vigil (log: build/run-build.log)" >&2
# The build log is shown only when the build fails, so that the run's own output stands alone.
if ! cmake --build build --parallel "$(nproc)" --target vigil >build/run-build.log 2>&1; then
  cat build/run-build.log >&2
  exit 1
fi

if [[ $# -eq 0 ]]; then
  # The embedded default: 3 epochs keep the whole run (pre-flight, training, test set, report) under 5 minutes.
  set -- configs/reference_cnn.toml --set run.epochs=3
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
build/cli/vigil train "$@" | tee "$log" || status=$?
[[ $status -eq 0 ]] || exit "$status"
echo
echo "run.sh: final $(grep -E '^vigil: (test|validation) set' "$log" | tail -n 1 | sed 's/^vigil: //; s/  */ /g' ||
  echo 'model: no test or validation set')"
echo "run.sh: $(grep '^vigil: doctor: ' "$log" | tail -n 1 | sed 's/^vigil: //')"
echo "run.sh: report: $(grep -o 'report: [^)]*' "$log" | tail -n 1 | sed 's/^report: //')"

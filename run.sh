#!/usr/bin/env bash
# Builds vigil (Release) and runs the demo program, passing on every argument: ./run.sh [args]
# Installs the build dependencies first (see scripts/install-deps.sh). Shares the `build` folder with ./test.sh:
# an existing configuration is kept, a fresh one leaves out the tests and benchmarks (they need more packages).
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh build
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIGIL_WERROR=ON -DVIGIL_BUILD_TESTS=OFF \
    -DVIGIL_BUILD_BENCH=OFF >/dev/null
fi
echo "run.sh: building vigil_demo (log: build/run-build.log)" >&2
# The build log is shown only when the build fails, so that the demo's own output stands alone.
if ! cmake --build build --parallel "$(nproc)" --target vigil_demo >build/run-build.log 2>&1; then
  cat build/run-build.log >&2
  exit 1
fi
exec build/examples/vigil_demo "$@"

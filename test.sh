#!/usr/bin/env bash
# Builds vigil with warnings as errors and runs every test suite: ./test.sh
# Installs the build and test dependencies first (see scripts/install-deps.sh), then uses the `build` folder
# (Release; the benchmarks are left out because they need extra packages and take long to build).
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIGIL_WERROR=ON -DVIGIL_BUILD_TESTS=ON \
  -DVIGIL_BUILD_BENCH=OFF >/dev/null
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure -j2

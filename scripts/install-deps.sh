#!/usr/bin/env bash
# Installs the Debian 12 packages vigil needs, by purpose:
#   build  compile the library, the CLI and the examples, and run ./run.sh (its Fashion-MNIST data set)
#   test   build + GoogleTest and nlohmann-json for the test suites
#   bench  test + Google Benchmark, PyTorch (the peer the benchmarks compare with) and the Fashion-MNIST data set
#   all    everything (the default)
# Every purpose also gets uPlot, the charting library that report.html inlines (src/report; the build reads it at
# configure time): pinned in third_party/npm/package-lock.json and installed with `npm ci` into
# third_party/npm/node_modules when missing. Debian's npm package is added to the list when npm is not on PATH.
# Idempotent and quiet: it asks dpkg what is already installed and calls apt-get (after one `apt-get update`) only
# for what is missing. Runs as root, or through sudo; without either it prints the command to run and exits 1.
set -euo pipefail

usage() {
  echo "usage: $0 [build|test|bench|all]" >&2
  exit 2
}

build_packages=(cmake ninja-build g++ libdnnl-dev libfmt-dev libcli11-dev libtomlplusplus-dev zlib1g-dev
                libjpeg62-turbo-dev libpng-dev nlohmann-json3-dev dataset-fashion-mnist)
# chromium: the report test opens report.html in a headless browser.
test_packages=("${build_packages[@]}" libgtest-dev libgmock-dev chromium)
bench_packages=("${test_packages[@]}" libbenchmark-dev python3-torch libopenblas0-pthread)

case "${1:-all}" in
  build) wanted=("${build_packages[@]}") ;;
  test) wanted=("${test_packages[@]}") ;;
  bench | all) wanted=("${bench_packages[@]}") ;;
  *) usage ;;
esac
[[ $# -le 1 ]] || usage
command -v npm >/dev/null 2>&1 || wanted+=(npm)

# A package counts as present only when dpkg reports it fully installed ("install ok installed").
missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "vigil needs these Debian packages, and installing them needs root (no sudo found):" >&2
    echo "  apt-get install ${missing[*]}" >&2
    exit 1
  fi

  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -qq -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# uPlot from npm, exactly as package-lock.json pins it (npm ci never updates the lock).
npm_dir=$(cd "$(dirname "$0")/.." && pwd)/third_party/npm
if [[ ! -d $npm_dir/node_modules/uplot ]]; then
  echo "install-deps: npm ci --prefix third_party/npm (uPlot for report.html)" >&2
  npm ci --prefix "$npm_dir" --no-audit --no-fund --loglevel=error
fi

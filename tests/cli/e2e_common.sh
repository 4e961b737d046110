# Sourced by the CLI end-to-end scripts, which all take VIGIL_BINARY SOURCE_DIR WORK_DIR:
#   source "$(dirname "$0")/e2e_common.sh"
# sets vigil, source_dir and work from them, and defines the helpers below.
vigil=$1
source_dir=$2
work=$3

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Exits 77 (CTest's skip) without Debian's dataset-fashion-mnist (scripts/install-deps.sh test installs it).
need_fashion_mnist() {
  if [[ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
    echo "SKIP: no Fashion-MNIST in /usr/share/datasets/fashion-mnist"
    exit 77
  fi
}

# Empties WORK_DIR (work becomes its absolute path) and moves to SOURCE_DIR: the configs name their data relative
# to the repository root.
enter_fresh_work_dir() {
  rm -rf "$work"
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
  cd "$source_dir"
}

#!/usr/bin/env bash
# CTest io_tfevents_node: writes the fixture events with vigil and reads them back with node and the tfrecord
# npm package (pinned in package-lock.json). Installs the package into WORK_DIR on first use; exits 77 (CTest's
# skip) when node or npm is missing or the registry cannot be reached.
#   run.sh WRITE_EVENTS_BINARY WORK_DIR
set -euo pipefail
writer=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node and npm are needed to read the event file with the tfrecord package"
  exit 77
fi
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/read_events.mjs" "$work/"
if [[ ! -f $work/node_modules/tfrecord/package.json ]]; then
  # --ignore-scripts: no native build; fast-crc32c falls back to its JavaScript CRC32C.
  if ! (cd "$work" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    echo "SKIP: could not install the tfrecord npm package into $work"
    exit 77
  fi
fi
rm -rf "$work/events"
event_file=$("$writer" "$work/events")
node "$work/read_events.mjs" "$event_file"

#!/usr/bin/env bash
# Regenerates every golden file in tests/golden/ from PyTorch (Debian's /usr/bin/python3 with python3-torch).
set -euo pipefail
cd "$(dirname "$0")"
for script in [a-z]*.py; do
  [[ $script == common.py ]] && continue
  /usr/bin/python3 "$script"
done

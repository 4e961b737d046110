#!/usr/bin/env bash
# The report of a real CLI run in a real browser: `vigil train` with the doctor watching on a Fashion-MNIST subset,
# then its report.html (curves, layer statistics from layers.jsonl, confusion matrix, findings) and an lr-find
# run's lr_find.html opened in headless Chromium; each page's <body data-status> must read "ok" (every chart
# drawn, no script error). Leaves WORK_DIR/report.png and WORK_DIR/lr_find.png (screenshots) as artefacts. Exits 77
# (CTest's skip) without Chromium or the data set.
#   report_in_browser.sh VIGIL_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/e2e_common.sh"

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
  echo "SKIP: no Chromium (Debian's chromium package; scripts/install-deps.sh test installs it)"
  exit 77
fi
need_fashion_mnist
enter_fresh_work_dir

subset=(--set data.limit=4000 --set data.test_limit=1000 --runs-dir "$work/runs")
"$vigil" train configs/fashion_mlp.toml "${subset[@]}" --set run.epochs=3 --set doctor.every=5 --name cli --quiet
"$vigil" lr-find configs/fashion_mlp.toml "${subset[@]}" --set doctor.lr_steps=60 --name cli >/dev/null
run=$(ls -d "$work"/runs/cli-2*)
lr_run=$(ls -d "$work"/runs/cli-lr-find-*)

chrome() {
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
    --virtual-time-budget=10000 "$@" 2>>"$work/chromium.log"
}
status_of() {
  chrome --dump-dom "file://$1" | grep -o 'data-status="[^"]*"' | head -n 1 | sed 's/^data-status="//; s/"$//'
}

for page in "$run/report.html" "$lr_run/lr_find.html"; do
  status=$(status_of "$page")
  echo "$(basename "$page"): data-status=\"$status\""
  if [[ $status != ok ]]; then
    echo "FAIL: $page did not draw every chart (chromium log: $work/chromium.log)"
    exit 1
  fi
done
# The layer charts come from the doctor's layers.jsonl: the report must have them, not the "not recorded" note.
! grep -q "has no <code>layers.jsonl" "$run/report.html" || { echo "FAIL: report.html says layers.jsonl is missing"; exit 1; }
! grep -q "has no <code>doctor.json" "$run/report.html" || { echo "FAIL: report.html says doctor.json is missing"; exit 1; }
chrome --screenshot="$work/report.png" --window-size=1200,3000 "file://$run/report.html"
chrome --screenshot="$work/lr_find.png" --window-size=1000,700 "file://$lr_run/lr_find.html"
echo "screenshots: $work/report.png $work/lr_find.png"
echo "PASS"

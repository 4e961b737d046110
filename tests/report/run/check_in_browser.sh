#!/usr/bin/env bash
# CTest report_browser: a real run's report.html must draw every chart in a real browser. Trains the tiny run
# (make_run), opens its report.html in headless Chromium and fails unless <body data-status> is "ok"; then
# empties metrics.jsonl in a copy and requires the page to say "error: ... has no data", so that the status check
# itself is known to fail when a chart cannot draw. Leaves WORK_DIR/run/report.html and WORK_DIR/report.png (a
# screenshot) as the test's artefacts. Exits 77 (CTest's skip) without Chromium or without the data set.
#   check_in_browser.sh MAKE_RUN_BINARY WORK_DIR
set -euo pipefail
make_run=$1
work=$2

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
  echo "SKIP: no Chromium (Debian's chromium package; scripts/install-deps.sh test installs it)"
  exit 77
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
rc=0
"$make_run" train "$work/run" || rc=$?
[[ $rc -eq 0 ]] || exit "$rc"  # 77: no data set

# Chromium in the background: its own profile, no GPU, no sandbox (CI containers run as root), and virtual time
# so that every script has run before the DOM is dumped.
chrome() {
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
    --virtual-time-budget=10000 "$@" 2>"$work/chromium.log"
}
# The value of body[data-status] once the page's scripts have run.
status_of() {
  chrome --dump-dom "file://$1" | grep -o 'data-status="[^"]*"' | head -n 1 | sed 's/^data-status="//; s/"$//'
}

status=$(status_of "$work/run/report.html")
echo "report.html: data-status=\"$status\""
if [[ $status != ok ]]; then
  echo "FAIL: the report's charts did not all draw (chromium log: $work/chromium.log)"
  exit 1
fi
chrome --screenshot="$work/report.png" --window-size=1200,2800 "file://$work/run/report.html"
echo "screenshot: $work/report.png"

rm -rf "$work/broken"
cp -r "$work/run" "$work/broken"
: >"$work/broken/metrics.jsonl"
"$make_run" report "$work/broken"
status=$(status_of "$work/broken/report.html")
echo "report with an empty metrics.jsonl: data-status=\"$status\""
if [[ $status != error:*"has no data"* ]]; then
  echo "FAIL: an empty metrics.jsonl should give data-status \"error: chart Loss has no data\""
  exit 1
fi
echo "PASS"

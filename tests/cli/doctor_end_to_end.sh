#!/usr/bin/env bash
# End-to-end checks of `vigil doctor` and `vigil lr-find` on Fashion-MNIST subsets (data.limit keeps them fast):
# the broken config exits with 1 and the right finding first, a healthy config exits with 0 and no warnings,
# and lr-find prints a suggested rate and a plot and writes lr_find.json and lr_find.html. Exits 77 (CTest's skip)
# without the data set (Debian's dataset-fashion-mnist; scripts/install-deps.sh test installs it).
#   doctor_end_to_end.sh VIGIL_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/e2e_common.sh"
need_fashion_mnist
enter_fresh_work_dir

subset=(--set data.limit=3000 --set data.test_limit=500 --set doctor.steps=60 --runs-dir "$work/runs")

# The broken config (raw 0-255 pixels, lr 10): it cannot fit one batch, so exit status 1, with the unscaled inputs
# ranked first: they are the root cause of everything else the doctor sees.
status=0
"$vigil" doctor configs/broken.toml "${subset[@]}" --quiet >"$work/broken.txt" 2>&1 || status=$?
[[ $status -eq 1 ]] || fail "vigil doctor on broken.toml exited with $status, not 1: $(cat "$work/broken.txt")"
grep -q "^1\. \[warning\] data\.raw_pixels" "$work/broken.txt" || fail "broken.toml's first finding: $(cat "$work/broken.txt")"
grep -q "^vigil: doctor: failing: .*probe.overfit_one_batch" "$work/broken.txt" || fail "no verdict line: $(cat "$work/broken.txt")"
broken=$(ls -d "$work"/runs/broken-doctor-*)
for file in config.toml env.json metrics.jsonl doctor.txt doctor.json layers.jsonl report.html; do
  [[ -s $broken/$file ]] || fail "the doctor's run directory lacks $file"
done
# --json: events, then a result naming the top finding; the same exit status.
status=0
"$vigil" doctor configs/broken.toml "${subset[@]}" --json >"$work/broken.json" || status=$?
[[ $status -eq 1 ]] || fail "vigil doctor --json on broken.toml exited with $status"
while read -r line; do [[ $line == \{*\} ]] || fail "--json printed a non-JSON line: $line"; done <"$work/broken.json"
tail -n 1 "$work/broken.json" | grep -q '"top":"data.raw_pixels"' || fail "--json result: $(tail -n 1 "$work/broken.json")"

# A healthy config: exit status 0 and no warnings.
status=0
"$vigil" doctor configs/fashion_mlp.toml "${subset[@]}" --quiet >"$work/healthy.txt" 2>&1 || status=$?
[[ $status -eq 0 ]] || fail "vigil doctor on fashion_mlp.toml exited with $status: $(cat "$work/healthy.txt")"
grep -q "^vigil: doctor: healthy, no warnings" "$work/healthy.txt" || fail "fashion_mlp.toml: $(cat "$work/healthy.txt")"
grep -q '"warnings": 0' "$(ls -d "$work"/runs/fashion_mlp-doctor-*)/doctor.json" || fail "doctor.json counts warnings"

# lr-find: the suggestion, the text plot, the files.
"$vigil" lr-find configs/fashion_mlp.toml "${subset[@]}" --set doctor.lr_steps=60 >"$work/lr.txt"
grep -q "^vigil: lr-find: suggested learning rate [0-9.e-]* (--set optim.lr=" "$work/lr.txt" || fail "lr-find: $(cat "$work/lr.txt")"
grep -q '^ *[0-9.e+-]* +.*\*' "$work/lr.txt" || fail "lr-find printed no plot: $(cat "$work/lr.txt")"
lr_run=$(ls -d "$work"/runs/fashion_mlp-lr-find-*)
python3 - "$lr_run/lr_find.json" <<'PY' || fail "lr_find.json: $(head -c 400 "$lr_run/lr_find.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["lrs"]) == len(r["losses"]) == len(r["smoothed"]) >= 10
assert r["lrs"] == sorted(r["lrs"]) and 1e-7 <= r["lrs"][0] < r["lrs"][-1] <= 10
assert r["suggested_lr"] is not None and r["lrs"][0] <= r["suggested_lr"] <= r["lrs"][-1], r["suggested_lr"]
assert r["reason"]
PY
grep -q 'data-status="loading"' "$lr_run/lr_find.html" || fail "lr_find.html is not a page"
grep -q 'id="chart-lr-find"' "$lr_run/lr_find.html" || fail "lr_find.html has no chart"
"$vigil" lr-find configs/fashion_mlp.toml "${subset[@]}" --json | grep -q '"suggested_lr":[0-9]' || fail "lr-find --json"
status=0
"$vigil" lr-find configs/fashion_mlp.toml "${subset[@]}" --set doctor.lr_min=1 --set doctor.lr_max=0.1 \
  2>"$work/err.txt" || status=$?
[[ $status -eq 2 ]] && grep -q 'invalid value for "doctor.lr_min"' "$work/err.txt" || fail "lr_min > lr_max: $(cat "$work/err.txt")"
echo "cli doctor end-to-end: all checks passed"

#!/usr/bin/env bash
# End-to-end checks of `vigil search` on the tiny CSV config (1 epoch per trial): --help, a 2-fold random search
# with its table, trials.jsonl, best_config.toml (which `vigil train` accepts) and report.html (drawn in headless
# Chromium when there is one), a grid refusing a --trials below its size, a bad space key (exit status 2, one
# line), and --resume extending a search.
#   search_end_to_end.sh VIGIL_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/e2e_common.sh"
enter_fresh_work_dir

help=$("$vigil" search --help)
for option in --space --method --trials --folds --metric --mode --seed --set --name --runs-dir --resume --quiet; do
  grep -q -- "$option" <<<"$help" || fail "search --help lacks $option"
done

cat >"$work/space.toml" <<'SPACE'
[optim.lr]
dist = "log_uniform"
low = 1e-3
high = 1e-1
num = 2

[model.dropout]
values = [0.0, 0.2]
SPACE
quick=(--set run.epochs=1 --set run.log_every_steps=0 --runs-dir "$work/runs")

"$vigil" search configs/tabular_csv.toml --space "$work/space.toml" --trials 3 --folds 2 --seed 1 --name e2e \
  "${quick[@]}" >"$work/search.txt"
dir=$(ls -d "$work"/runs/e2e-search-*)
grep -q "^rank  trial  val_accuracy" "$work/search.txt" || fail "no results table: $(cat "$work/search.txt")"
grep -q " +- " "$work/search.txt" || fail "k-fold table has no spread"
[[ $(wc -l <"$dir/trials.jsonl") -eq 3 ]] || fail "trials.jsonl does not hold 3 trials"
for file in search.json base_config.toml space.toml env.json results.txt best_config.toml report.html; do
  [[ -s $dir/$file ]] || fail "search directory lacks $file"
done
[[ $(ls -d "$dir"/trials/trial-*-fold-*/ | wc -l) -eq 6 ]] || fail "expected 3 trials x 2 folds of run directories"
"$vigil" train "$dir/best_config.toml" --runs-dir "$work/runs" --name best --quiet >/dev/null ||
  fail "best_config.toml does not train"

# The report draws its table and scatter in a real browser (when there is one).
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -n $browser ]]; then
  status=$("$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" --virtual-time-budget=10000 \
    --dump-dom "file://$dir/report.html" 2>/dev/null | grep -o 'data-status="[^"]*"' | head -n 1)
  [[ $status == 'data-status="ok"' ]] || fail "the search's report.html did not draw: $status"
fi

# --resume with a larger count runs only the new trials.
"$vigil" search --resume "$dir" --trials 4 >"$work/resume.txt"
grep -q "3 finished before, skipped" "$work/resume.txt" || fail "resume did not skip: $(cat "$work/resume.txt")"
[[ $(grep -c "^trial " "$work/resume.txt") -eq 1 ]] || fail "resume ran more than the one new trial"
[[ $(wc -l <"$dir/trials.jsonl") -eq 4 ]] || fail "trials.jsonl does not hold 4 trials after resume"

# A grid smaller than --trials asks: exit status 2 and one line.
set +e
"$vigil" search configs/tabular_csv.toml --space "$work/space.toml" --method grid --trials 3 "${quick[@]}" \
  2>"$work/grid.txt"
status=$?
printf '[optim.lrr]\nvalues = [0.1]\n' >"$work/bad.toml"
"$vigil" search configs/tabular_csv.toml --space "$work/bad.toml" "${quick[@]}" 2>"$work/bad.txt"
bad_status=$?
set -e
[[ $status -eq 2 ]] || fail "grid with too few trials exited $status"
grep -q "smaller than the grid" "$work/grid.txt" || fail "grid error: $(cat "$work/grid.txt")"
[[ $bad_status -eq 2 && $(wc -l <"$work/bad.txt") -eq 1 ]] || fail "bad space: status $bad_status, $(cat "$work/bad.txt")"
grep -q 'did you mean "optim.lr"' "$work/bad.txt" || fail "bad space key has no suggestion: $(cat "$work/bad.txt")"
echo "search end-to-end: ok"

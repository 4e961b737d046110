#!/usr/bin/env bash
# End-to-end checks of the vigil program on the tiny CSV config: --help lists every option with its default, a
# quick train/eval/summary with the doctor watching (its files, its --json events, the report), one-line errors
# with exit status 2, and Ctrl-C then resume giving the same weights as an uninterrupted run, with the doctor's
# files and the report written at the interruption and again after the resume.
#   end_to_end.sh VIGIL_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
source "$(dirname "$0")/e2e_common.sh"
enter_fresh_work_dir

# --help names every option, and its default where it has one.
for command in train resume eval summary doctor lr-find; do
  "$vigil" "$command" --help >"$work/help.txt"
  grep -q "Usage:" "$work/help.txt" || fail "$command --help has no usage"
done
"$vigil" train --help | grep -q -- "--set KEY=VALUE" || fail "train --help lacks --set"
for option in --name --runs-dir --quiet --json; do
  "$vigil" train --help | grep -q -- "$option" || fail "train --help lacks $option"
done
"$vigil" eval --help | grep -q -- "predictive uncertainty (default: 0" || fail "eval --help lacks --mc-dropout's default"
"$vigil" eval --help | grep -q -- "--data" || fail "eval --help lacks --data"
"$vigil" --help | grep -q "lr-find" || fail "vigil --help does not list lr-find"

# A quick run, quiet: only the final summary.
quick=(--set run.epochs=2 --set run.log_every_steps=2 --runs-dir "$work/runs")
"$vigil" train configs/tabular_csv.toml "${quick[@]}" --name quick --quiet >"$work/quiet.txt"
[[ $(wc -l <"$work/quiet.txt") -le 4 ]] || fail "--quiet printed more than the summary: $(cat "$work/quiet.txt")"
grep -q "^vigil: doctor: " "$work/quiet.txt" || fail "the summary lacks the doctor's verdict: $(cat "$work/quiet.txt")"
run=$(ls -d "$work"/runs/quick-*)
for file in config.toml env.json metrics.jsonl confusion.json checkpoints/last.safetensors checkpoints/best.safetensors \
            doctor.txt doctor.json layers.jsonl report.html; do
  [[ -s $run/$file ]] || fail "run directory lacks $file"
done
grep -q "^Verdict: " "$run/doctor.txt" || fail "doctor.txt has no verdict"
grep -q '"grad_norm"' "$run/layers.jsonl" || fail "layers.jsonl has no gradient samples"
grep -q 'data-status="loading"' "$run/report.html" || fail "report.html is not a report page"
grep -q 'Layer statistics' "$run/report.html" || fail "report.html has no layer section"
# The doctor off: no doctor files, the report still written.
"$vigil" train configs/tabular_csv.toml "${quick[@]}" --set doctor.enabled=false --name nodoctor --quiet >/dev/null
nodoctor=$(ls -d "$work"/runs/nodoctor-*)
[[ ! -e $nodoctor/doctor.json && ! -e $nodoctor/layers.jsonl && -s $nodoctor/report.html ]] ||
  fail "doctor.enabled=false: $(ls "$nodoctor")"
ls "$run" | grep -q '^events.out.tfevents\.' || fail "no TensorBoard event file"
grep -q '"git_commit"' "$run/env.json" || fail "env.json lacks git_commit"

# --json: every line is a JSON object, the last the result.
"$vigil" train configs/tabular_csv.toml "${quick[@]}" --name json --json >"$work/json.txt"
while read -r line; do [[ $line == \{*\} ]] || fail "--json printed a non-JSON line: $line"; done <"$work/json.txt"
tail -n 1 "$work/json.txt" | grep -q '"event":"result"' || fail "--json's last line is not the result"
tail -n 1 "$work/json.txt" | grep -q '"doctor":{"errors":' || fail "--json's result lacks the doctor's counts"
tail -n 1 "$work/json.txt" | grep -q '"report":"[^"]*report.html"' || fail "--json's result lacks the report"
# A run the doctor must warn about (a learning rate of 50): its findings arrive as events, during the run.
"$vigil" train configs/tabular_csv.toml "${quick[@]}" --set optim.lr=50 --set optim.name=sgd --name bad --json \
  >"$work/bad.txt"
grep -q '"event":"doctor","stage":"preflight"' "$work/bad.txt" || fail "no pre-flight doctor event: $(cat "$work/bad.txt")"
while read -r line; do [[ $line == \{*\} ]] || fail "--json printed a non-JSON line: $line"; done <"$work/bad.txt"
# Without --json, findings go to stderr in words and stdout keeps the progress lines.
"$vigil" train configs/tabular_csv.toml "${quick[@]}" --set optim.lr=50 --set optim.name=sgd --name bad \
  >"$work/bad-out.txt" 2>"$work/bad-err.txt"
grep -q "^vigil: doctor: pre-flight checks" "$work/bad-err.txt" || fail "no pre-flight findings on stderr"
grep -q "Try: " "$work/bad-err.txt" || fail "the findings on stderr have no suggestion: $(cat "$work/bad-err.txt")"
! grep -q "Try: " "$work/bad-out.txt" || fail "findings went to stdout"

"$vigil" eval "$run" >"$work/eval.txt"
grep -q "expected calibration error" "$work/eval.txt" || fail "eval printed no calibration error"
"$vigil" eval "$run" --mc-dropout 3 --json | grep -q '"mc_dropout"' || fail "eval --mc-dropout --json"
"$vigil" summary configs/tabular_csv.toml | grep -q "FLOPs per sample" || fail "summary prints no FLOPs"

# Bad input: one line on stderr naming the file, the line and the key; exit status 2.
printf '[optim]\nname = "adam"\nlrr = 0.1\n' >"$work/typo.toml"
status=0
"$vigil" train "$work/typo.toml" 2>"$work/err.txt" || status=$?
[[ $status -eq 2 ]] || fail "a typo in a key exited with $status, not 2"
[[ $(wc -l <"$work/err.txt") -eq 1 ]] || fail "more than one line of error: $(cat "$work/err.txt")"
grep -q "unknown key \"optim.lrr\" in $work/typo.toml line 3; did you mean \"optim.lr\"?" "$work/err.txt" ||
  fail "unexpected message: $(cat "$work/err.txt")"
status=0
"$vigil" train configs/tabular_csv.toml --set optim.lr=-1 2>"$work/err.txt" || status=$?
[[ $status -eq 2 ]] && grep -q 'invalid value for "optim.lr" in --set optim.lr=-1: must be > 0' "$work/err.txt" ||
  fail "negative lr: status $status, $(cat "$work/err.txt")"
status=0
"$vigil" resume "$work" 2>"$work/err.txt" || status=$?
[[ $status -eq 2 ]] && grep -q "is not a run directory" "$work/err.txt" || fail "resume of a non-run: $(cat "$work/err.txt")"

# Ctrl-C during training, then resume: the same final weights as the uninterrupted run. The data set is small,
# so the runs are slowed down by many epochs and the signal is sent once the first step lines are logged.
long=(--set run.epochs=40 --set run.log_every_steps=1 --set callbacks.early_stopping=false --runs-dir "$work/runs")
"$vigil" train configs/tabular_csv.toml "${long[@]}" --name straight --quiet >/dev/null
"$vigil" train configs/tabular_csv.toml "${long[@]}" --name stopped --quiet >"$work/stopped.txt" 2>&1 &
pid=$!
stopped_run=""
for _ in $(seq 1 200); do
  stopped_run=$(ls -d "$work"/runs/stopped-* 2>/dev/null || true)
  [[ -n $stopped_run && -f $stopped_run/metrics.jsonl ]] && [[ $(wc -l <"$stopped_run/metrics.jsonl") -ge 20 ]] && break
  sleep 0.05
done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
if [[ $status -eq 130 ]]; then
  grep -q "vigil resume $stopped_run" "$work/stopped.txt" || fail "no resume hint: $(cat "$work/stopped.txt")"
  for file in doctor.json doctor.txt layers.jsonl report.html; do
    [[ -s $stopped_run/$file ]] || fail "the interrupted run lacks $file"
  done
  cp "$stopped_run/layers.jsonl" "$work/layers-at-interrupt.jsonl"
  "$vigil" resume "$stopped_run" --quiet >"$work/resumed.txt"
  grep -q "^vigil: doctor: " "$work/resumed.txt" || fail "resume printed no verdict: $(cat "$work/resumed.txt")"
  # The resumed run's layers.jsonl continues the interrupted one's: it starts with the same samples.
  head -n "$(wc -l <"$work/layers-at-interrupt.jsonl")" "$stopped_run/layers.jsonl" |
    cmp - "$work/layers-at-interrupt.jsonl" || fail "resume lost the layer samples taken before the interruption"
  [[ $(wc -l <"$stopped_run/layers.jsonl") -gt $(wc -l <"$work/layers-at-interrupt.jsonl") ]] ||
    fail "resume added no layer samples"
else
  # The run finished before the signal landed (a fast machine): nothing to resume, the comparison still holds.
  [[ $status -eq 0 ]] || fail "interrupted run exited with $status: $(cat "$work/stopped.txt")"
fi
straight_run=$(ls -d "$work"/runs/straight-*)
cmp <(tail -n 1 "$straight_run/metrics.jsonl" | sed 's/"seconds":[^,}]*//') \
    <(tail -n 1 "$stopped_run/metrics.jsonl" | sed 's/"seconds":[^,}]*//') ||
  fail "the resumed run's last epoch differs from the uninterrupted run's"
python3 - "$straight_run/checkpoints/last.safetensors" "$stopped_run/checkpoints/last.safetensors" <<'PY' ||
import json, struct, sys
def weights(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    return {k: data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
            for k, v in header.items() if k != "__metadata__" and "/" not in k}
sys.exit(0 if weights(sys.argv[1]) == weights(sys.argv[2]) else 1)
PY
  fail "the resumed run's final weights differ from the uninterrupted run's"
echo "cli end-to-end: all checks passed"

#!/usr/bin/env bash
# Instructions per call of each per-call case of benches/calls.rs (issue 15), counted by
# callgrind: repeatable whatever else the machine is doing, unlike wall time. Each case runs N
# calls after a warm-up; callgrind counts only inside `counted_region` (start-up, warm-up and
# set-up are not counted), and the count divided by N is the cost of one call.
#
#   scripts/instructions.sh [OUT.jsonl]     # default target/bench-results/instructions.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/bench-results/instructions.jsonl}
mkdir -p "$(dirname "$OUT")"
N=${N:-2000}
BIN=$(scripts/executable.sh bench calls)
CASES=${CASES:-"double_same_python4r double_same_hand double_fresh_python4r double_fresh_hand
inc_python4r inc_hand double_held_python4r double_held_hand inc_held_python4r inc_held_hand"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
count() { # case calls -> total instructions
  PYTHONHASHSEED=0 PYTHON4R_BENCH_CALLS="$1:$2" valgrind --tool=callgrind \
    --collect-atstart=no --toggle-collect='*counted_region*' --callgrind-out-file="$TMP/out" \
    "$BIN" >/dev/null 2>"$TMP/log" || { cat "$TMP/log" >&2; return 1; }
  awk '/^(summary|totals):/ {print $2; exit}' "$TMP/out"
}
fields=()
for case in $CASES; do
  total=$(count "$case" "$N")
  per=$(( total / N ))
  echo "$case: $per instructions per call" >&2
  fields+=("\"$case\": $per")
done
(IFS=,; echo "{\"instructions_per_call\": {${fields[*]}}}") > "$OUT"
cat "$OUT"

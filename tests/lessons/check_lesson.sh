#!/bin/bash
# check_lesson.sh NNREPL LESSON PATTERN MIN [MAX]
#
# Runs LESSON to the end with `NNREPL --batch` (one BLAS thread) and checks
# that it exits with status 0 and that its metric is in range: the metric is
# the first number after PATTERN (a fixed string) on the last output line
# containing it, e.g. PATTERN "test accuracy:" on "test accuracy: 0.912".
# It must be >= MIN and, when MAX is given, <= MAX.
#
# LESSON_CPU_LIMIT (seconds, default 30; 0 = no limit) bounds the CPU time
# (user + system) the run may take: every lesson must fit in 30 s of one
# core. CPU time rather than wall time, so that a busy machine running
# tests in parallel does not fail the check.
set -u

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
    echo "usage: $0 NNREPL LESSON PATTERN MIN [MAX]" >&2
    exit 2
fi
nnrepl=$1
lesson=$2
pattern=$3
min=$4
max=${5:-}
cpu_limit=${LESSON_CPU_LIMIT:-30}

out=$(mktemp) || exit 1
timing=$(mktemp) || exit 1
trap 'rm -f "$out" "$timing"' EXIT

export OPENBLAS_NUM_THREADS=1
TIMEFORMAT='%R %U %S'
{ time "$nnrepl" --batch "$lesson" >"$out" 2>&1 ; } 2>"$timing"
status=$?

fail() {
    echo "FAIL: $lesson: $*"
    echo "---- last lines of the output ----"
    tail -n 30 "$out"
    exit 1
}

read -r real user sys <"$timing"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
echo "$lesson: exit status $status, ${real}s wall, ${cpu}s CPU"

[ "$status" -eq 0 ] || fail "nnrepl exited with status $status"
if grep -q '^not ok ' "$out"; then
    fail "a check failed: $(grep '^not ok ' "$out" | head -n 1)"
fi

line=$(grep -F -- "$pattern" "$out" | tail -n 1)
[ -n "$line" ] || fail "no output line contains '$pattern'"
rest=${line#*"$pattern"}
value=$(printf '%s\n' "$rest" | grep -Eo -- '-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?' | head -n 1)
[ -n "$value" ] || fail "no number after '$pattern' in: $line"

if ! awk -v v="$value" -v lo="$min" -v hi="$max" \
        'BEGIN { exit !(v + 0 >= lo + 0 && (hi == "" || v + 0 <= hi + 0)) }'; then
    fail "metric $value is outside [$min, ${max:-inf}] ($line)"
fi
echo "metric: $value (wanted >= $min${max:+ and <= $max})"

if [ "$cpu_limit" != 0 ] && awk -v c="$cpu" -v l="$cpu_limit" 'BEGIN { exit !(c + 0 > l + 0) }'; then
    fail "took ${cpu}s of CPU time, more than the ${cpu_limit}s a lesson may take"
fi
exit 0

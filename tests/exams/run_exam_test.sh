#!/bin/bash
# run_exam_test.sh NNREPL EXAM ANSWERS EXPECTED_STATUS EXPECTED_FILE [OPTION...]
#
# Grades ANSWERS with `NNREPL [nnrepl options] --check EXAM ANSWER...` and
# compares the report on stdout, byte for byte, with EXPECTED_FILE, and the
# exit status with EXPECTED_STATUS. Paths are as given (run it from the
# source root, as meson does, so that the reports name files the same way
# on every machine).
#
#   ANSWERS   one answer file, several separated by spaces, or - for none
#   OPTION    --stdin=FILE          feed FILE to stdin (ask()); default /dev/null
#             --max-seconds=N       fail if the run takes longer than N seconds
#                                   (default 120): a grader that hangs fails
#             --expect-stderr=FILE  also compare stderr with FILE
#             anything else         passed to nnrepl before --check
#                                   (--timeout 2, --report json ...)
#
# With EXAM_TEST_UPDATE=1 the expected files are (re)written from this run
# instead; read every changed file before committing it.
set -u

if [ $# -lt 5 ]; then
    echo "usage: $0 NNREPL EXAM ANSWERS EXPECTED_STATUS EXPECTED_FILE [OPTION...]" >&2
    exit 2
fi
nnrepl=$1
exam=$2
answers=$3
want_status=$4
want_out=$5
shift 5

stdin_file=/dev/null
max_seconds=120
want_err=
options=()
for opt in "$@"; do
    case $opt in
    --stdin=*) stdin_file=${opt#--stdin=} ;;
    --max-seconds=*) max_seconds=${opt#--max-seconds=} ;;
    --expect-stderr=*) want_err=${opt#--expect-stderr=} ;;
    *) options+=("$opt") ;;
    esac
done

answer_args=()
if [ "$answers" != - ]; then
    read -r -a answer_args <<<"$answers"
fi

out=$(mktemp) || exit 1
err=$(mktemp) || exit 1
trap 'rm -f "$out" "$err"' EXIT

export OPENBLAS_NUM_THREADS=1
start=$(date +%s)
timeout -k 5 "$max_seconds" "$nnrepl" "${options[@]}" --check "$exam" "${answer_args[@]}" \
    <"$stdin_file" >"$out" 2>"$err"
status=$?
elapsed=$(($(date +%s) - start))
echo "$exam ${answers}: exit status $status in ${elapsed}s"

if [ "${EXAM_TEST_UPDATE:-0}" = 1 ]; then
    cp "$out" "$want_out"
    [ -n "$want_err" ] && cp "$err" "$want_err"
    echo "updated $want_out${want_err:+ and $want_err} (status was $status, expected $want_status)"
    exit 0
fi

failed=0
fail() {
    echo "FAIL: $*"
    failed=1
}

if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    fail "the grader did not finish within ${max_seconds}s"
elif [ "$status" -ne "$want_status" ]; then
    fail "exit status $status, expected $want_status"
fi
if ! diff -u "$want_out" "$out" >/dev/null; then
    fail "the report differs from $want_out (- expected, + actual):"
    diff -u "$want_out" "$out" | head -n 60
fi
if [ -n "$want_err" ] && ! diff -u "$want_err" "$err" >/dev/null; then
    fail "stderr differs from $want_err (- expected, + actual):"
    diff -u "$want_err" "$err" | head -n 60
fi
if [ "$failed" -ne 0 ]; then
    echo "---- stderr (first lines) ----"
    head -n 20 "$err"
    exit 1
fi
exit 0

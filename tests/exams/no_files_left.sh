#!/bin/bash
# no_files_left.sh NNREPL
#
# Run from the source root. Grades the exams with correct, wrong and
# hostile answers from an empty working directory, with an empty HOME and
# an empty TMPDIR, and checks that none of the three, nor lessons/exams/
# or tests/exams/, holds anything new or changed afterwards (no history
# file, no output file, nothing an answer tried to write).
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 NNREPL" >&2
    exit 2
fi
nnrepl=$(realpath -- "$1") || exit 2
root=$(pwd)

scratch=$(mktemp -d) || exit 1
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/work" "$scratch/home" "$scratch/tmp"

# Every file with its size and modification time, relative to each root.
listing() {
    (cd "$scratch" && find work home tmp -printf '%p %s %T@\n' | sort)
    (cd "$root" && find lessons/exams tests/exams -printf '%p %s %T@\n' | sort)
}

before=$(listing)

export OPENBLAS_NUM_THREADS=1
status=0
grade() {
    (cd "$scratch/work" &&
        HOME="$scratch/home" TMPDIR="$scratch/tmp" timeout -k 5 60 "$nnrepl" --timeout 2 \
            --check "$@" </dev/null >/dev/null 2>&1)
    local s=$?
    if [ "$s" -gt 1 ]; then
        echo "FAIL: nnrepl --check $* exited with status $s"
        status=1
    fi
}

answers=$root/lessons/exams/answers
hostile=$root/tests/exams/hostile
grade "$root/lessons/exams/01_gradient.nnl" "$answers"/01_gradient_*.nnl "$hostile"/*.nnl
grade "$root/lessons/exams/02_logistic_update.nnl" "$answers"/02_logistic_update_*.nnl
grade "$root/lessons/exams/03_cnn_shapes.nnl" "$answers"/03_cnn_shapes_*.nnl
grade --report json "$root/lessons/exams/03_cnn_shapes.nnl" "$answers/03_cnn_shapes_correct.nnl"
(cd "$scratch/work" && HOME="$scratch/home" TMPDIR="$scratch/tmp" timeout -k 5 60 "$nnrepl" \
    --check "$root/lessons/exams/04_quiz.nnl" <"$answers/04_quiz_correct.txt" >/dev/null 2>&1) ||
    { echo "FAIL: the quiz did not pass"; status=1; }

after=$(listing)
if [ "$before" != "$after" ]; then
    echo "FAIL: files appeared or changed during --check runs (- before, + after):"
    diff -u <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 40
    status=1
fi
if [ -e "$scratch/home/.nnrepl_history" ]; then
    echo "FAIL: a --check run wrote a history file into HOME"
    status=1
fi
[ "$status" -eq 0 ] && echo "no files left behind by --check runs"
exit "$status"

#!/bin/sh
# Regenerate the golden outputs of tests/programs from the reference PyTorch.
#
#   tests/programs/regen.sh                 rewrite every tests/programs/*.expected
#   tests/programs/regen.sh 12_x.nnl ...    rewrite only these programs' .expected
#   tests/programs/regen.sh --check [...]   rewrite nothing; report differences
#
# Each NN_topic.nnl is run with the reference Python (default /usr/bin/python3 with
# Debian's python3-torch 1.13; override with PYTHON=...) and OMP_NUM_THREADS=1.
# A program fails if it exits non-zero, writes anything to stderr (a warning
# included) or prints different text on a second run.
#
# The course programs in tests/examples are also run, into a temporary directory,
# and compared with their .expected files; those files are never overwritten.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
examples="$here/../examples"
python=${PYTHON:-/usr/bin/python3}
OMP_NUM_THREADS=1
export OMP_NUM_THREADS

check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi

version=$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null) || {
    echo "regen.sh: $python cannot import torch (apt-get install python3-torch)" >&2
    exit 2
}
case $version in
    1.13*) ;;
    *) echo "regen.sh: warning: torch $version, the goldens are PyTorch 1.13's" >&2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=0

# run_program NNL OUT: run NNL twice from its own directory; OUT gets its stdout.
run_program() {
    dir=$(dirname "$1")
    base=$(basename "$1")
    if ! (cd "$dir" && "$python" "$base") >"$2" 2>"$tmp/stderr"; then
        echo "FAIL $1: exit status non-zero" >&2
        cat "$tmp/stderr" >&2
        return 1
    fi
    if [ -s "$tmp/stderr" ]; then
        echo "FAIL $1: wrote to stderr" >&2
        cat "$tmp/stderr" >&2
        return 1
    fi
    (cd "$dir" && "$python" "$base") >"$tmp/again" 2>/dev/null || true
    if ! cmp -s "$2" "$tmp/again"; then
        echo "FAIL $1: output differs between two runs" >&2
        return 1
    fi
}

if [ $# -gt 0 ]; then
    programs=""
    for p in "$@"; do
        case $p in
            /*) programs="$programs $p" ;;
            *) [ -f "$p" ] && programs="$programs $(cd "$(dirname "$p")" && pwd)/$(basename "$p")" \
                   || programs="$programs $here/$(basename "$p")" ;;
        esac
    done
else
    programs=$(ls "$here"/*.nnl)
fi

for nnl in $programs; do
    expected=${nnl%.nnl}.expected
    if ! run_program "$nnl" "$tmp/out"; then
        failed=$((failed + 1))
        continue
    fi
    if [ $check = 1 ]; then
        if ! cmp -s "$tmp/out" "$expected"; then
            echo "DIFF $nnl" >&2
            diff "$expected" "$tmp/out" | head -20 >&2 || true
            failed=$((failed + 1))
        fi
    elif ! cmp -s "$tmp/out" "$expected" 2>/dev/null; then
        cp "$tmp/out" "$expected"
        echo "wrote $(basename "$expected")"
    fi
done

# The course's own goldens: compare only.
if [ $# -eq 0 ] && [ -d "$examples" ]; then
    for nnl in "$examples"/*.nnl; do
        if ! run_program "$nnl" "$tmp/out"; then
            failed=$((failed + 1))
            continue
        fi
        if ! cmp -s "$tmp/out" "${nnl%.nnl}.expected"; then
            echo "NOTE examples/$(basename "$nnl"): PyTorch here prints differently from the course's .expected" >&2
            diff "${nnl%.nnl}.expected" "$tmp/out" | head -10 >&2 || true
        fi
    done
fi

if [ $failed -gt 0 ]; then
    echo "regen.sh: $failed program(s) failed" >&2
    exit 1
fi
echo "regen.sh: ok (torch $version)"

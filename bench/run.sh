#!/bin/bash
# nnrepl against PyTorch on the course's models (see docs/performance.md).
#
#   bench/run.sh [--short] [--threads "1 2"] [--runs N] [--no-torch] [--no-extras]
#                [--nnrepl PATH] [--only "NAME ..."]
#
# Each benchmark exists twice, bench/nnl/NAME.nnl (run with `nnrepl --batch`)
# and bench/torch/NAME.py (run with /usr/bin/python3); each times its own
# measured part and prints `seconds: X` and a `check:` line. The runs
# alternate nnrepl, PyTorch, nnrepl, ... (N of each, default 5) so that a
# change in the machine's load hits both; the table shows the medians and the
# ratio nnrepl / PyTorch (below 1: nnrepl is faster).
#
#   --short      every benchmark shrunk to a few iterations (checks that they
#                run; the times mean nothing); one run, no extras
#   --threads L  thread counts to run at (default "1 2"): OPENBLAS_NUM_THREADS
#                for nnrepl; torch.set_num_threads, OMP_NUM_THREADS and
#                OPENBLAS_NUM_THREADS for PyTorch
#   --runs N     runs of each program per thread count (default 5)
#   --no-torch   nnrepl only (also when /usr/bin/python3 cannot import torch)
#   --no-extras  skip startup time, first TUI frame and the lessons' memory
#   --nnrepl P   the nnrepl to run (default $NNREPL, else build/nnrepl)
#   --only L     these benchmarks only (of: scalar_autograd diabetes_mlp
#                cifar_lenet mnist_cnn)
#
# Builds nothing. The test suite runs `--short --no-torch` (meson test
# --suite bench): it checks that the programs run, never their times.
# Exit status 1 when a program fails or prints no time.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NNREPL=${NNREPL:-$ROOT/build/nnrepl}
PYTHON=${PYTHON:-/usr/bin/python3}
BENCHES="scalar_autograd diabetes_mlp cifar_lenet mnist_cnn"
SHORT=0
THREADS="1 2"
RUNS=5
TORCH=1
EXTRAS=1

usage() {
    sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --short) SHORT=1; RUNS=1; EXTRAS=0 ;;
        --threads) [ $# -ge 2 ] || usage; THREADS=$2; shift ;;
        --runs) [ $# -ge 2 ] || usage; RUNS=$2; shift ;;
        --no-torch) TORCH=0 ;;
        --no-extras) EXTRAS=0 ;;
        --nnrepl) [ $# -ge 2 ] || usage; NNREPL=$2; shift ;;
        --only) [ $# -ge 2 ] || usage; BENCHES=$2; shift ;;
        -h|--help) usage ;;
        *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
    shift
done
case $RUNS in ''|*[!0-9]*|0) echo "run.sh: --runs needs a positive number" >&2; exit 2 ;; esac

if [ ! -x "$NNREPL" ]; then
    echo "run.sh: no nnrepl at $NNREPL (build it, or set NNREPL=path)" >&2
    exit 1
fi
if [ "$TORCH" = 1 ] && ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    echo "run.sh: $PYTHON cannot import torch: PyTorch skipped" >&2
    TORCH=0
fi

export NNREPL_DATASETS=$ROOT/datasets
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nnrepl-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
FAILED=0

# The nnl program to run: in --short mode a copy whose `NAME = V  # --short: W`
# lines say W.
nnl_program() {
    local src=$ROOT/bench/nnl/$1.nnl
    if [ "$SHORT" = 1 ]; then
        sed -E 's/^([A-Za-z_]+ = )[^#]*# --short: (.*)$/\1\2/' "$src" >"$TMP/$1.nnl"
        echo "$TMP/$1.nnl"
    else
        echo "$src"
    fi
}

# run_one SIDE NAME THREADS: run one program; its output goes to $TMP/out,
# its time is appended to $TMP/NAME.SIDE.THREADS.
run_one() {
    local side=$1 name=$2 t=$3 out=$TMP/out
    if [ "$side" = nnrepl ]; then
        OPENBLAS_NUM_THREADS=$t "$NNREPL" --batch "$(nnl_program "$name")" >"$out" 2>&1 </dev/null
    else
        local short=""
        [ "$SHORT" = 1 ] && short=--short
        OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t \
            "$PYTHON" "$ROOT/bench/torch/$name.py" "$t" $short >"$out" 2>&1 </dev/null
    fi
    local status=$?
    local seconds
    seconds=$(sed -n 's/^seconds: //p' "$out")
    if [ $status -ne 0 ] || [ -z "$seconds" ]; then
        echo "run.sh: $side $name (threads $t) failed (status $status):" >&2
        sed 's/^/    /' "$out" >&2
        FAILED=1
        return 1
    fi
    echo "$seconds" >>"$TMP/$name.$side.$t"
    grep '^check:' "$out" >"$TMP/$name.$side.$t.check"
}

median() {
    [ -s "$1" ] || { echo "-"; return; }
    sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The largest nnrepl / PyTorch ratio that meets each benchmark's target.
target_ratio() {
    case $1 in
        scalar_autograd) echo 0.1 ;;
        diabetes_mlp) echo 0.3333 ;;
        *) echo 0.9 ;;
    esac
}

target_text() {
    case $1 in
        scalar_autograd) echo "≥10× faster" ;;
        diabetes_mlp) echo "≥3× faster" ;;
        *) echo "≤0.9× time" ;;
    esac
}

accuracy_of() {
    sed -n 's/.*test accuracy = \([0-9.]*\)%.*/\1/p' "$1" 2>/dev/null
}

for t in $THREADS; do
    for name in $BENCHES; do
        for r in $(seq "$RUNS"); do
            run_one nnrepl "$name" "$t"
            [ "$TORCH" = 1 ] && run_one torch "$name" "$t"
        done
    done
done

echo
echo "nnrepl: $NNREPL"
[ "$TORCH" = 1 ] && echo "PyTorch: $("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null) ($PYTHON)"
echo "medians of $RUNS run(s), seconds of the timed part$([ "$SHORT" = 1 ] && echo ', --short: times mean nothing')"
echo
printf '%-16s %7s %12s %12s %8s %12s %5s\n' benchmark threads nnrepl pytorch ratio target met
for t in $THREADS; do
    for name in $BENCHES; do
        n=$(median "$TMP/$name.nnrepl.$t")
        p=$(median "$TMP/$name.torch.$t")
        ratio=- met=-
        if [ "$n" != - ] && [ "$p" != - ]; then
            ratio=$(awk -v n="$n" -v p="$p" 'BEGIN { printf "%.3f", n / p }')
            met=$(awk -v r="$ratio" -v m="$(target_ratio "$name")" 'BEGIN { print (r <= m) ? "yes" : "NO" }')
            if [ "$name" = mnist_cnn ]; then
                a=$(accuracy_of "$TMP/$name.nnrepl.$t.check")
                b=$(accuracy_of "$TMP/$name.torch.$t.check")
                if [ -n "$a" ] && [ -n "$b" ] &&
                    ! awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(d <= 2 && d >= -2) }'; then
                    met=NO
                fi
            fi
        fi
        printf '%-16s %7s %12s %12s %8s %12s %5s\n' "$name" "$t" "$n" "$p" "$ratio" "$(target_text "$name")" "$met"
    done
done
echo
echo "correctness lines (last run):"
for t in $THREADS; do
    for name in $BENCHES; do
        for side in nnrepl torch; do
            f=$TMP/$name.$side.$t.check
            [ -s "$f" ] && printf '  %-16s %-6s t=%s  %s\n' "$name" "$side" "$t" "$(cat "$f")"
        done
    done
done

[ "$EXTRAS" = 1 ] || exit $FAILED

# ---- startup, first TUI frame, peak memory of the lessons ----

now_ns() { date +%s%N; }

echo
: >"$TMP/startup"
for r in $(seq 21); do
    t0=$(now_ns)
    OPENBLAS_NUM_THREADS=1 "$NNREPL" -e '1' >/dev/null 2>&1 </dev/null
    t1=$(now_ns)
    echo "$(( (t1 - t0) / 1000 ))" >>"$TMP/startup"
done
echo "startup of nnrepl -e '1' (1 thread): median $(median "$TMP/startup") µs of 21 runs (fork and exec included)"

if [ -x "$PYTHON" ]; then
    for lesson in "" "$ROOT/lessons/01_neuron.nnl"; do
        what=${lesson:+$(basename "$lesson")}
        if frame=$("$PYTHON" "$ROOT/bench/tui_first_frame.py" "$NNREPL" "$lesson" 11 2>&1); then
            echo "first TUI frame of nnrepl ${what:-(empty session)} at 80x24: $frame"
        else
            echo "first TUI frame of nnrepl ${what:-(empty session)}: not measured ($frame)"
        fi
    done
fi

if [ -x /usr/bin/time ]; then
    echo "peak memory (maximum resident set size) of each lesson in --batch, 1 thread:"
    for lesson in "$ROOT"/lessons/*.nnl; do
        OPENBLAS_NUM_THREADS=1 /usr/bin/time -v "$NNREPL" --batch "$lesson" \
            >/dev/null 2>"$TMP/time" </dev/null
        status=$?
        kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/time")
        printf '  %-28s %8s kB  %6.1f MB  status %s  %s\n' "$(basename "$lesson")" "$kb" \
            "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$status" \
            "$(awk -v k="$kb" 'BEGIN { print (k < 65536) ? "< 64 MB" : "OVER 64 MB" }')"
    done
fi
exit $FAILED

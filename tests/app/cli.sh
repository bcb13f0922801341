#!/bin/sh
# The command line and inputs no .nnl text file can carry: exit statuses,
# usage errors, stdin, -e, binary garbage, invalid UTF-8, deep nesting,
# missing and malformed files, limits.
# usage: cli.sh NNREPL
set -u
NNREPL=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

# expect STATUS "first line of stderr or stdout" -- command...
expect() {
    want_status=$1
    want_text=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
    if [ "$status" -ne "$want_status" ]; then
        echo "FAIL: $* -> exit $status, expected $want_status"
        sed 's/^/  | /' "$TMP/err" | head -5
        failures=$((failures + 1))
        return
    fi
    if [ -n "$want_text" ] && ! grep -qF -- "$want_text" "$TMP/out" "$TMP/err"; then
        echo "FAIL: $* -> output lacks: $want_text"
        sed 's/^/  | /' "$TMP/out" "$TMP/err" | head -8
        failures=$((failures + 1))
    fi
}

expect 0 "3" "$NNREPL" -e '1 + 2'
expect 0 "usage: nnrepl" "$NNREPL" --help
expect 0 "nnrepl " "$NNREPL" --version
expect 2 "nnrepl: unknown option '--frobnicate' (try 'nnrepl --help')" "$NNREPL" --frobnicate
expect 2 "nnrepl: cannot read '$TMP/missing.nnl'" "$NNREPL" --batch "$TMP/missing.nnl"
expect 2 "--batch needs a file" "$NNREPL" --batch
expect 2 "--seed takes a non-negative integer" "$NNREPL" --seed x -e 1
expect 2 "--check needs an exam file" "$NNREPL" --check
expect 1 "<string>:1:1: error: name 'nope' is not defined" "$NNREPL" -e 'nope'

# a file without a terminal runs as batch; source on stdin when no file
printf 'print("from a file")\n' >"$TMP/ok.nnl"
expect 0 "from a file" "$NNREPL" "$TMP/ok.nnl"
printf 'print(6 * 7)\n' | "$NNREPL" >"$TMP/out" 2>&1
grep -qx 42 "$TMP/out" || { echo "FAIL: stdin source"; failures=$((failures + 1)); }

# binary garbage and invalid UTF-8
head -c 4096 /dev/urandom >"$TMP/garbage.nnl"
printf 'x = 1\n\000\001\002\n' >"$TMP/nul.nnl"
printf 'print("caf\351")\n' >"$TMP/latin1.nnl"
expect 1 "error:" "$NNREPL" --batch "$TMP/garbage.nnl"
expect 1 "nul.nnl:2:1: error: invalid character" "$NNREPL" --batch "$TMP/nul.nnl"
expect 1 "latin1.nnl:1:11: error: invalid UTF-8 byte 0xe9" "$NNREPL" --batch "$TMP/latin1.nnl"

# a tab in indentation, deep nesting, deep recursion
printf 'if True:\n\tprint(1)\n' >"$TMP/tab.nnl"
expect 1 "tab.nnl:2:1: error: tab in indentation: nnl indents with spaces" "$NNREPL" --batch "$TMP/tab.nnl"
python_free_nest=$(printf '%0.s(' $(seq 1 300))
printf 'x = %s1\n' "$python_free_nest" >"$TMP/deep.nnl"
expect 1 "error: too deeply nested (more than 100 levels)" "$NNREPL" --batch "$TMP/deep.nnl"
printf 'def f(n):\n    return f(n + 1)\nf(0)\n' >"$TMP/rec.nnl"
expect 1 "rec.nnl:2:12: error: maximum recursion depth exceeded" "$NNREPL" --batch "$TMP/rec.nnl"

# data files: missing, malformed CSV row
printf '1,2,3\n4,5\n' >"$TMP/bad.csv"
printf 'import numpy as np\nx = np.loadtxt("%s", delimiter=",")\n' "$TMP/bad.csv" >"$TMP/csv.nnl"
expect 1 "bad.csv:2: expected 3 values, found 2" "$NNREPL" --batch "$TMP/csv.nnl"
printf 'import numpy as np\nx = np.loadtxt("no_such_file.csv")\n' >"$TMP/nofile.nnl"
expect 1 "no_such_file.csv" "$NNREPL" --batch "$TMP/nofile.nnl"

# limits: memory, time (Ctrl-C is covered by the TUI tests)
expect 1 "memory limit of 10.0 MB" "$NNREPL" --max-mem 10 -e 'import torch
x = torch.zeros(2000, 2000)'
expect 1 "time limit of 1 s exceeded" "$NNREPL" --timeout 1 -e 'while True:
    pass'

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all command-line checks passed"

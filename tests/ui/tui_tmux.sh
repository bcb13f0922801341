#!/bin/sh
# The terminal classroom driven like a person would: keys into a tmux pane,
# the screen read back with capture-pane.
#
#   tui_tmux.sh NNREPL SOURCE_ROOT
#
# Exit 0 when every check passes, 1 on the first failure (the screen is
# printed), 77 (skipped) without tmux. Waits poll the screen with a time
# limit; nothing depends on a fixed sleep.
set -u

NNREPL=$1
ROOT=$2
FIXTURE=$ROOT/tests/ui/fixtures/stepping.nnl
LESSON=$ROOT/lessons/03_logistic.nnl

command -v tmux >/dev/null 2>&1 || { echo "tmux is not installed: skipped"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/nnrepl-tui.XXXXXX") || exit 1
SOCKET=nnrepl-test-$$
STATUS=$TMP/status
TIMEOUT=${TUI_TEST_TIMEOUT:-15}
trap 'tmux -L "$SOCKET" kill-server >/dev/null 2>&1; rm -rf "$TMP"' EXIT

# The wrapper records nnrepl's exit status; the shell ignores Ctrl-C (a
# handler, not SIG_IGN, so nnrepl still gets the default).
cat >"$TMP/run.sh" <<'EOF'
#!/bin/sh
trap : INT
status_file=$1
shift
"$@"
echo $? >"$status_file"
EOF
chmod +x "$TMP/run.sh"

STEP=""
T0=$(date +%s)

fail() {
    echo "FAIL ($STEP, after $(( $(date +%s) - T0 ))s): $*"
    echo "---- screen ----"
    tmux -L "$SOCKET" capture-pane -p 2>/dev/null
    echo "----------------"
    exit 1
}

screen() {
    tmux -L "$SOCKET" capture-pane -p
}

# wait_for TEXT [SECONDS]: until TEXT is on the screen (polled 20 times a
# second).
wait_for() {
    polls=$(( ${2:-$TIMEOUT} * 20 ))
    while [ "$polls" -gt 0 ]; do
        screen | grep -F -q -- "$1" && return 0
        polls=$((polls - 1))
        sleep 0.05
    done
    fail "'$1' did not appear within ${2:-$TIMEOUT}s"
}

# wait_for_regex REGEX [SECONDS]: the same with an extended regex.
wait_for_regex() {
    polls=$(( ${2:-$TIMEOUT} * 20 ))
    while [ "$polls" -gt 0 ]; do
        screen | grep -E -q -- "$1" && return 0
        polls=$((polls - 1))
        sleep 0.05
    done
    fail "/$1/ did not appear within ${2:-$TIMEOUT}s"
}

# wait_gone TEXT: until TEXT is no longer on the screen.
wait_gone() {
    polls=$((TIMEOUT * 20))
    while [ "$polls" -gt 0 ]; do
        screen | grep -F -q -- "$1" || return 0
        polls=$((polls - 1))
        sleep 0.05
    done
    fail "'$1' still there after ${TIMEOUT}s"
}

expect_absent() {
    screen | grep -F -q -- "$1" && fail "'$1' should not be on the screen"
    return 0
}

keys() {
    tmux -L "$SOCKET" send-keys "$@"
}

# type_line TEXT: type a line and press Enter.
type_line() {
    tmux -L "$SOCKET" send-keys -l -- "$1"
    tmux -L "$SOCKET" send-keys Enter
}

# start W H ARGS...: nnrepl in a fresh tmux server of W x H (a new socket
# each time: a server that is still shutting down keeps its own).
SESSIONS=0
start() {
    w=$1
    h=$2
    shift 2
    tmux -L "$SOCKET" kill-server >/dev/null 2>&1
    SESSIONS=$((SESSIONS + 1))
    SOCKET=nnrepl-test-$$-$SESSIONS
    rm -f "$STATUS"
    tmux -L "$SOCKET" -f /dev/null new-session -d -x "$w" -y "$h" \
        "env LC_ALL=C.UTF-8 TERM=xterm-256color INPUTRC=/dev/null HOME=$TMP NO_COLOR=1 $TMP/run.sh $STATUS $NNREPL $*" ||
        fail "tmux did not start"
}

# quit_ok: :quit leaves with status 0 and gives the terminal back.
quit_ok() {
    type_line ":quit"
    polls=$((TIMEOUT * 20))
    while [ ! -s "$STATUS" ]; do
        [ "$polls" -gt 0 ] || fail ":quit did not end nnrepl"
        polls=$((polls - 1))
        sleep 0.05
    done
    [ "$(cat "$STATUS")" = 0 ] || fail "exit status $(cat "$STATUS"), expected 0"
}

# The Weights and Gradients panes are the right half of the screen's top
# rows: strip everything up to the frames between the halves.
right_half() {
    sed -E -e 's/^.*(││|[|][|])//' -e 's/(│|[|]) *$//'
}

# check_step_arithmetic FRAME: the numbers on show obey SGD with lr 0.01:
# after = before - lr * grad, and Δw = after - before (each shown rounded).
check_step_arithmetic() {
    rows=$(screen | head -n 16 | right_half)
    values=$(echo "$rows" | awk '
        /^weight  \(1, 1\)/        { w = 1; next }
        w == 1 && /before/         { w = 2; next }
        w == 2                     { before = $1; after = $2; w = 3; next }
        /^weight\.grad  \(1, 1\)/  { g = 1; next }
        g == 1 && /grad/           { g = 2; next }
        g == 2                     { grad = $1; delta = $2; g = 3; next }
        END { print before, after, grad, delta }')
    set -- $values
    [ $# -eq 4 ] || fail "could not read before/after/grad/dw from the panes: '$values'"
    ok=$(awk -v b="$1" -v a="$2" -v g="$3" -v d="$4" 'BEGIN {
        e1 = a - (b - 0.01 * g); if (e1 < 0) e1 = -e1
        e2 = d - (a - b); if (e2 < 0) e2 = -e2
        print (e1 <= 1.5e-4 && e2 <= 1.5e-4 && d != 0) ? "yes" : "no" }')
    [ "$ok" = yes ] || fail "step arithmetic: before $1, after $2, grad $3, dw $4"
    echo "$2"
}

# ---------------------------------------------------------------- 100x30
STEP="100x30 open"
start 100 30 "$FIXTURE"
for title in "Lesson" "Weights" "Gradients" "Outputs" "Loss" "Console"; do
    wait_for "┌ $title "
done
wait_for "cell 0/3"
wait_for "idle"
wait_for "Stepping through training"

STEP=":next"
type_line ":next"
wait_for "cell 1/3"
type_line ":next"
wait_for "model ready"
wait_for "weight  (1, 1)"

STEP=":step"
type_line ":step"
wait_for "stepping: step 1"
wait_for "Δw = after − before"
wait_for "before   after"
after1=$(check_step_arithmetic)
screen | grep -F -q "▶" || fail "no running line marked in the Lesson pane"

STEP=":step again"
type_line ":step"
wait_for "stepping: step 2"
wait_for "epoch 1 of 500"
after2=$(check_step_arithmetic)
[ "$after1" != "$after2" ] || fail "the weight did not change between steps ($after1)"

STEP="code at the pause"
type_line "seen = epoch * 10"
type_line "undefined_name + 1"
wait_for "error: name 'undefined_name'"
type_line "print('seen', seen + 7)"
wait_for "seen 17"
wait_for "stepping: step 2"

STEP=":continue"
keys F5
wait_for "trained 500 epochs"
wait_for "idle"
wait_for "loss "

STEP="error at the prompt"
type_line "kept = 41"
type_line "1 / zero_division_here"
wait_for "name 'zero_division_here'"
type_line "print(kept + 1)"
wait_for "42"

STEP="Ctrl-C"
type_line "for i in range(1000000000):"
type_line "    xs = list(range(2000))"
type_line ""
wait_for "running: i "
keys C-c
wait_for "interrupted (Ctrl-C)"
wait_for "idle"
type_line "print('after', i > 0, len(xs), kept)"
wait_for "after True 2000 41"

STEP="resize"
tmux -L "$SOCKET" resize-window -x 60 -y 20
wait_gone "┌ Weights "
wait_for "┌ Lesson "
wait_for "┌ Console "
tmux -L "$SOCKET" resize-window -x 30 -y 8
wait_for "needs at least"
tmux -L "$SOCKET" resize-window -x 100 -y 30
wait_for "┌ Weights "
wait_for "┌ Loss "
type_line "print('still', kept)"
wait_for "still 41"

STEP="history"
type_line "hist = [1,"
type_line "  2]"
type_line "print('one', len(hist))"
wait_for "one 2"
keys Up Up
wait_for "hist = [1,↵  2]"
keys Enter
type_line "print('two', len(hist))"
wait_for "two 2"

STEP="odd input"
# keys that once upset Readline: a C-x prefix inside Ctrl-R's search,
# malformed UTF-8, M-C-j (vi mode), a keyboard macro, undo after Ctrl-C
keys C-r a C-x y
tmux -L "$SOCKET" send-keys -l -- "$(printf 'x\377\376\300\200y\355\240\200z')"
keys C-c Escape C-j
tmux -L "$SOCKET" send-keys -l -- "abc"
keys C-x "(" d e C-x ")" C-x e C-_ C-_ C-c Up Up C-a C-k C-c C-_ C-_
type_line "print('odd', 40 + 2)"
wait_for "odd 42"

STEP="quit"
quit_ok

# ---------------------------------------------------------------- 200x60
STEP="200x60"
start 200 60 "$FIXTURE"
for title in "Lesson" "Weights" "Gradients" "Outputs" "Loss" "Console"; do
    wait_for "┌ $title "
done
wait_for "F7 next  F6 step  F10 quit"
keys F7
wait_for "cell 1/3"
keys F6
wait_for "stepping: step 1"
wait_for "Δw"
keys F6
wait_for "stepping: step 2"
keys F5
wait_for "trained 500 epochs"
quit_ok

# ---------------------------------------------------------------- --ascii
STEP="--ascii"
start 100 30 --ascii "$FIXTURE"
for title in "Lesson" "Weights" "Gradients" "Outputs" "Loss" "Console"; do
    wait_for "+ $title "
done
expect_absent "┌"
type_line ":next"
type_line ":step"
wait_for "stepping: step 1"
wait_for "dw = after - before"
after1=$(check_step_arithmetic)
keys F6
wait_for "stepping: step 2"
after2=$(check_step_arithmetic)
[ "$after1" != "$after2" ] || fail "the weight did not change between steps ($after1)"
screen | LC_ALL=C grep -q '[^ -~]' && fail "non-ASCII characters on the screen"
quit_ok

STEP="--ascii 80x24"
start 80 24 --ascii "$FIXTURE"
wait_for "+ Console "
type_line ":next"
type_line ":step"
wait_for "stepping: step 1"
# every frame whole: a pane's corner sits right after its neighbour's border
for title in "Lesson" "Weights" "Gradients" "Outputs" "Loss" "Console"; do
    screen | grep -E -q "(^|[+|])[+] $title " || fail "the frame of $title is broken"
done
quit_ok

# ---------------------------------------------------------------- a lesson
if [ -f "$LESSON" ]; then
    STEP="lessons/03_logistic.nnl"
    start 80 24 --ascii "$LESSON"
    for title in "Lesson" "Weights" "Gradients" "Outputs" "Loss" "Console"; do
        wait_for "+ $title "
    done
    type_line ":step"
    wait_for "stepping: step"
    wait_for "dw"
    for title in "Lesson" "Weights" "Gradients" "Outputs" "Loss" "Console"; do
        screen | grep -E -q "(^|[+|])[+] $title " || fail "the frame of $title is broken"
    done
    type_line ":run"
    wait_for_regex "cell ([0-9]+)/\\1 .* idle" 60
    expect_absent "error:"
    quit_ok
fi

# ---------------------------------------------------------------- Ctrl-C
# The loop every training script has: its only safe point is the loop's own.
STEP="Ctrl-C in a plain range loop"
start 100 30
wait_for "┌ Console "
type_line "for j in range(1000000000):"
type_line "    z = j"
type_line ""
wait_for "running: j "
keys C-c
wait_for "interrupted (Ctrl-C)" 5
wait_for "idle"
type_line "print('stopped at', z > 0)"
wait_for "stopped at True"
quit_ok

echo "ok: the terminal classroom"
exit 0

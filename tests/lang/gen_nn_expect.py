#!/usr/bin/python3
"""Write the `# expect:` lines of golden nnl programs from real PyTorch.

    /usr/bin/python3 tests/lang/gen_nn_expect.py tests/lang/nn_*.nnl

Each program is valid Python. It runs under Python 3 with PyTorch 1.13
(Debian's python3-torch); whatever it prints becomes `# expect:` lines placed
after the top-level statement that printed them (old `# expect:` lines are
dropped first). A program with a `# expect error: LINE:COL message` line must
raise in its last statement: the line is kept as written (the column is
nnl's, which Python does not give) and Python's message is shown on stderr to
compare with it. A program containing the line `# expectations written by hand`
is left alone.

The test suite never runs this script: its results are committed.
"""
import ast
import io
import sys
import traceback
import warnings

EXPECT = "# expect:"


class Recorder(io.TextIOBase):
    """stdout that remembers which top-level line of the program printed."""

    def __init__(self, filename):
        self.filename = filename
        self.chunks = []  # (top-level line, text)

    def writable(self):
        return True

    def write(self, text):
        frame = sys._getframe(1)
        line = 0
        while frame:
            if frame.f_code.co_filename == self.filename and frame.f_code.co_name == "<module>":
                line = frame.f_lineno
            frame = frame.f_back
        self.chunks.append((line, text))
        return len(text)


def statement_ends(tree):
    """(first line, last line) of each top-level statement."""
    return [(s.lineno, s.end_lineno) for s in tree.body]


def run(path, lines):
    source = "\n".join(lines) + "\n"
    tree = ast.parse(source, path)
    rec = Recorder(path)
    saved = sys.stdout
    sys.stdout = rec
    error = None
    try:
        exec(compile(tree, path, "exec"), {"__name__": "__main__"})
    except Exception as e:  # noqa: BLE001 - any error is the program's
        tb = traceback.extract_tb(e.__traceback__)
        top = [f for f in tb if f.filename == path]
        error = (top[0].lineno if top else 0, f"{type(e).__name__}: {e}")
    finally:
        sys.stdout = saved
    return tree, rec.chunks, error


def output_by_statement(tree, chunks):
    """Lines printed, grouped by the end line of their top-level statement."""
    spans = statement_ends(tree)
    text_by_end = {}
    for line, text in chunks:
        end = next((e for s, e in spans if s <= line <= e), spans[-1][1])
        text_by_end[end] = text_by_end.get(end, "") + text
    return {end: text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
            for end, text in text_by_end.items()}


def regenerate(path):
    with open(path) as f:
        original = f.read().split("\n")
    if original and original[-1] == "":
        original.pop()
    if any(l.strip() == "# expectations written by hand" for l in original):
        return
    lines = [l for l in original if not l.strip().startswith(EXPECT)]
    wants_error = any(l.strip().startswith("# expect error:") for l in lines)
    tree, chunks, error = run(path, lines)
    if wants_error:
        last = tree.body[-1]
        if not error or not (last.lineno <= error[0] <= last.end_lineno):
            sys.exit(f"{path}: expected an error in the last statement, got {error}")
        print(f"{path}:{error[0]}: python: {error[1]}", file=sys.stderr)
    elif error:
        sys.exit(f"{path}:{error[0]}: {error[1]}")
    outputs = output_by_statement(tree, chunks)
    result = []
    for number, line in enumerate(lines, start=1):
        result.append(line)
        for out in outputs.get(number, []):
            result.append(f"{EXPECT} {out}" if out else EXPECT)
    with open(path, "w") as f:
        f.write("\n".join(result) + "\n")


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # PyTorch's deprecation notices go to stderr
    for p in sys.argv[1:]:
        regenerate(p)

"""Report printed numbers of a golden program that depend on float rounding.

Usage: /usr/bin/python3 conditioning.py NN_topic.nnl ...   (REL=1e-5 for a stricter margin)

Runs each program twice under PyTorch: as written (float32), and with float64 as the
default dtype (and np.float32 mapped to np.float64). Text must come out the same and
every number must agree to a relative REL (default 1e-4). A number that differs
depends on the last bits of float32 arithmetic - it sits next to a printed-digit
boundary, or comes from an ill-conditioned computation - so an independent float32
implementation cannot be expected to reproduce it. Exit status 1 if any is found.
"""
import os
import re
import subprocess
import sys

NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
PRELUDE = (
    "import sys, numpy, torch\n"
    "torch.set_default_dtype(torch.float64)\n"
    "numpy.float32 = numpy.float64\n"
    "sys.argv = sys.argv[1:]\n"
    "__file__ = sys.argv[0]\n"
    "exec(compile(open(sys.argv[0]).read(), sys.argv[0], 'exec'))\n"
)
# Under float64, an explicit float32 result prints its dtype, and x.float() on a
# float64 leaf is a copy with a grad_fn instead of the leaf itself.
F64_ONLY = [(", dtype=torch.float32", ""), ("grad_fn=<ToCopyBackward0>", "requires_grad=True")]


def run(path, f64):
    directory, name = os.path.split(os.path.abspath(path))
    cmd = [sys.executable, "-c", PRELUDE, name] if f64 else [sys.executable, name]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=directory).stdout
    if f64:
        for old, new in F64_ONLY:
            out = out.replace(old, new)
    return out


def close(a, b, rel):
    x, y = float(a), float(b)
    return abs(x - y) <= rel * max(abs(x), abs(y)) or abs(x - y) <= 1e-12


def compare(path, rel):
    lines32 = run(path, False).splitlines()
    lines64 = run(path, True).splitlines()
    bad = 0
    if len(lines32) != len(lines64):
        print(f"{path}: {len(lines32)} lines in float32, {len(lines64)} in float64")
        bad += 1
    for i, (a, b) in enumerate(zip(lines32, lines64)):
        na, nb = NUM.findall(a), NUM.findall(b)
        if NUM.sub("#", a) != NUM.sub("#", b) or len(na) != len(nb):
            print(f"{path}:{i + 1}: text differs\n  f32: {a}\n  f64: {b}")
            bad += 1
            continue
        for x, y in zip(na, nb):
            if not close(x, y, rel):
                print(f"{path}:{i + 1}: {x} vs {y}\n  f32: {a}\n  f64: {b}")
                bad += 1
    return bad


def main():
    rel = float(os.environ.get("REL", "1e-4"))
    bad = sum(compare(p, rel) for p in sys.argv[1:])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

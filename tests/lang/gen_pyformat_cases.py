#!/usr/bin/python3
"""Write tests/lang/pyformat_cases.inc: what Python 3.11, PyTorch 1.13 and
NumPy 1.24 print, for test_pyformat.c to compare nnrepl's printing against.

Run once with Debian's interpreter (python3-torch, python3-numpy) from the
repository root:

    /usr/bin/python3 tests/lang/gen_pyformat_cases.py

The output is committed; the tests themselves never need Python.
"""
import math
import os
import random
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyformat_cases.inc")

rng = random.Random(20240607)
torch.manual_seed(7)
np_rng = np.random.default_rng(11)


# ---- C literals -------------------------------------------------------------

def c_str(s):
    """A C string literal for s (UTF-8, octal escapes for anything unusual)."""
    if s is None:
        return "NULL"
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif 32 <= b < 127 and c != "?":
            out.append(c)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def c_double(x):
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    if x == int(x) and abs(x) < 2 ** 53 and not (x == 0 and math.copysign(1, x) < 0):
        return "%d.0" % int(x)
    mantissa, exponent = x.hex().split("p")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa + "p" + exponent


def c_bool(b):
    return "true" if b else "false"


def f32(x):
    return float(np.float32(x))


# ---- Python floats ------------------------------------------------------------

def float_values():
    vals = [0.0, -0.0, 1.0, -1.0, 2.0, 0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3, 100.0, 1e-4,
            1e-5, 0.00012, 9.999e-5, 1e15, 1e16, 9999999999999998.0, 1e17, 1e22, 1e23,
            123456789.0, 7.804863933862125, 4.539787187241018e-05, 1.5e300, -1.5e-300,
            5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 2.0 ** 53,
            2.0 ** 53 + 2, 2.0 ** 63, 2.0 ** -1074, 2.0 ** -1022, 0.5, 0.25, 1.5, 2.5,
            float("inf"), float("-inf"), float("nan"), 3.141592653589793,
            2.718281828459045, 1e-7, 123.456, -987.654321, 4.35, 0.07, 1e100, 12345.6789]
    vals += [2.0 ** k for k in range(-1074, 1024, 29)]
    vals += [f32(x) for x in (0.1, 0.3, -7.84, 16.2288, 3.9987640380859375, 1e-6, 2.5e-8)]
    for _ in range(60):  # random bit patterns
        bits = rng.getrandbits(64)
        x = np.frombuffer(bits.to_bytes(8, "little"), dtype=np.float64)[0]
        if math.isfinite(x):
            vals.append(float(x))
    for _ in range(60):  # everyday magnitudes
        vals.append(rng.uniform(-1, 1) * 10 ** rng.randint(-8, 18))
    for _ in range(40):  # float32 values seen as doubles (tensor.item())
        vals.append(f32(rng.gauss(0, 1) * 10 ** rng.randint(-6, 6)))
    return vals


def gen_float_repr(w):
    w("static const FloatReprCase float_repr_cases[] = {")
    for x in float_values():
        w("    {%s, %s}," % (c_double(x), c_str(repr(x))))
    w("};")


def gen_int_str(w):
    vals = [0, 1, -1, 7, -42, 1000000, 2 ** 31, -(2 ** 31) - 1, 2 ** 63 - 1, -(2 ** 63)]
    w("static const IntStrCase int_str_cases[] = {")
    for v in vals:
        lit = "INT64_MIN" if v == -(2 ** 63) else "INT64_C(%d)" % v
        w("    {%s, %s}," % (lit, c_str(str(v))))
    w("};")


# ---- format specs -----------------------------------------------------------------

FLOAT_SPECS = ["", ".4f", ".6f", ".2f", ".0f", "#.0f", "f", "F", "e", "E", ".3e", ".0e",
               "#.0e", "g", "G", ".3g", ".10g", "#g", "#.3g", ".0g", "%", ".1%", "n", ".3n",
               ".3", ".1", ".0", ".17", "#", "#.3", "10", "<10", ">10", "^10", "=10",
               "*^12.3f", "+", " ", "-", "+.2f", " .2f", "010.3f", "010", "0=10", "0<10",
               "0^11.2f", ",", ",.2f", "_", "_.3f", "015,.2f", "08,", "012_.1f", "z.2f", "z",
               "+z.1f", "12,.4e", "-^+15,.3f", "\u2605>8.2f", ".3%", "x", "d", "s", "c",
               "abc", ".", ",_", "_,", "10,,", ",n", "99999999999999999999", ".2fx",
               "\u00e9", "=+12.3E", "#x"]
FLOAT_SPEC_VALUES = [0.0, -0.0, 1.0, -1.5, 0.5, 2.5, 123.456, -1234567.891, 1e-07, 1e16,
                     1e22, float("inf"), float("-inf"), float("nan"), 2 / 3, 7.804863933862125,
                     999.9996, -0.004, 100.0, 12345678.9, f32(0.1)]
INT_SPECS = ["", "d", "5", "05", "<5", "^7", "=+8", "+", " ", "-", ",", "_", "_x", "#x",
             "#X", "x", "X", "o", "#o", "b", "#b", "#_b", "010,", "#010x", "c", ">5c", "05c",
             "n", "e", ".2f", "%", "g", "G", ".2", "z", "s", ",x", "#c", "+c", "abc",
             "*<+9,", "09,d", ",n", "_n", "_c", "#_x", "=^10", "\u00b7>6", "08_o", "x_",
             ",.2e", "#d"]
INT_SPEC_VALUES = [0, 1, -1, 42, -42, 255, 1234567, -1234567, 2 ** 63 - 1, -(2 ** 63), 65,
                   0x1F600, 0x110000, -5, 16777216]
BOOL_SPECS = ["", "d", ">6", "5", "s", "f", "x", "^7", "abc", "#b", "<3", ".1"]
STR_SPECS = ["", "s", "10", "<10", ">10", "^10", "^9", "*^9", ".2", "10.3", "05", ">05",
             "=10", "+", " ", "-", "z", "#", ",", "_", ",s", "d", "x,", ".", "\u00e9^8",
             "0", ".0", "3", "\u2605<7.4s"]
STR_SPEC_VALUES = ["abc", "", "h\u00e9llo", "a longer string value", "\u2605\u2605"]


def spec_entry(kind, value, spec):
    try:
        text, ok = format(value, spec), True
    except (ValueError, OverflowError) as e:
        text, ok = str(e), False
    x = value if kind == "f" else 0.0
    i = value if kind in "ib" else 0
    s = value if kind == "s" else None
    ilit = "INT64_MIN" if i == -(2 ** 63) else "INT64_C(%d)" % int(i)
    return "    {'%s', %s, %s, %s, %s, %s, %s}," % (kind, c_double(x), ilit, c_str(s),
                                                  c_str(spec), c_bool(ok), c_str(text))


def gen_specs(w):
    w("static const SpecCase spec_cases[] = {")
    for x in FLOAT_SPEC_VALUES:
        for spec in FLOAT_SPECS:
            w(spec_entry("f", x, spec))
    for v in INT_SPEC_VALUES:
        for spec in INT_SPECS:
            w(spec_entry("i", v, spec))
    for v in (True, False):
        for spec in BOOL_SPECS:
            w(spec_entry("b", v, spec))
    for v in STR_SPEC_VALUES:
        for spec in STR_SPECS:
            w(spec_entry("s", v, spec))
    w("};")


# ---- round(), int(), //, % -----------------------------------------------------------

def gen_rounding(w):
    values = [2.675, 0.125, 0.375, 2.5, -2.5, 1.005, 123.456, 1e300, 5e-324, 0.5, 1.5, -0.5,
              25.0, 15.0, 35.0, 25.3, 1234.5678, -0.4, 0.0, -0.0, float("inf"), float("nan"),
              1.7e308, 1e308, 7.804863933862125, 0.285, 1e-10, 45.0, 1e22, 5e22, 2.0 ** 60,
              -1234567.5, f32(0.1), 9.995, 0.015]
    values += [rng.uniform(-1000, 1000) for _ in range(20)]
    ndigits_list = [0, 1, 2, 3, 4, 5, 6, 10, 17, 20, -1, -2, -3, -5, -22, -308, -309, 323, 324]
    w("static const RoundCase round_cases[] = {")
    for x in values:
        for n in ndigits_list:
            try:
                r, ok = round(x, n), True
            except OverflowError:
                r, ok = 0.0, False
            w("    {%s, %d, %s, %s}," % (c_double(x), n, c_double(r), c_bool(ok)))
    w("};")

    int_values = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.7, -3.7, 1e18, 9.3e18, -9.3e18,
                  9.2e18, -9.223372036854775808e18, 9.223372036854775808e18, float("inf"),
                  float("-inf"), float("nan"), 0.49999999999999994, 4503599627370497.0, -0.0,
                  123456.5, 123457.5]
    w("static const ToIntCase to_int_cases[] = {")
    for x in int_values:
        entries = []
        for fn in (round, int):
            try:
                r = fn(x)
                ok = -(2 ** 63) <= r < 2 ** 63
                msg = None if ok else "int too large: nnl's int is 64-bit"
            except (OverflowError, ValueError) as e:
                r, ok, msg = 0, False, str(e)
            lit = "INT64_MIN" if ok and r == -(2 ** 63) else "INT64_C(%d)" % (r if ok else 0)
            entries.append("%s, %s, %s" % (c_bool(ok), lit, c_str(msg)))
        w("    {%s, %s, %s}," % (c_double(x), entries[0], entries[1]))
    w("};")

    pairs = [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-7.5, -2.0), (1.0, 0.1), (-1.0, 0.1),
             (0.0, 5.0), (-0.0, 5.0), (0.0, -5.0), (5.0, float("inf")), (-5.0, float("inf")),
             (5.0, float("-inf")), (float("inf"), 1.0), (float("nan"), 1.0),
             (1.0, float("nan")), (1e300, 1e-300), (-3.0, 3.0), (3.0, -3.0), (6.0, 3.0),
             (0.3, 0.1), (-0.3, 0.1), (1e16, 3.0), (2.0 ** 60, 0.7), (-1e-300, 1e300),
             (5.5, 0.5), (-5.5, 0.5)]
    pairs += [(rng.uniform(-100, 100), rng.uniform(-10, 10)) for _ in range(20)]
    w("static const DivModCase divmod_cases[] = {")
    for a, b in pairs:
        w("    {%s, %s, %s, %s}," % (c_double(a), c_double(b), c_double(a // b), c_double(a % b)))
    w("};")


# ---- tensors --------------------------------------------------------------------

storage_values = []


def add_storage(values):
    start = len(storage_values)
    storage_values.extend(float(v) for v in values)
    return start


DTYPES = {torch.float32: "DTYPE_FLOAT32", torch.int64: "DTYPE_INT64", torch.bool: "DTYPE_BOOL"}
NP_DTYPES = {np.dtype(np.float32): "DTYPE_FLOAT32", np.dtype(np.int64): "DTYPE_INT64",
             np.dtype(np.bool_): "DTYPE_BOOL"}


def layout_fields(dtype, shape, stride, offset, base_values):
    start = add_storage(base_values)
    dims = list(shape) + [0] * (4 - len(shape))
    strides = list(stride) + [0] * (4 - len(stride))
    return "%s, %d, {%s}, {%s}, %d, %d, %d" % (
        dtype, len(shape), ", ".join(str(d) for d in dims), ", ".join(str(s) for s in strides),
        offset, start, len(base_values))


def torch_entry(t, base=None):
    """t is a view of `base` (a contiguous tensor), or contiguous itself."""
    if base is None:
        base = t.detach().contiguous()
        offset, stride = 0, base.stride()
    else:
        offset, stride = t.storage_offset(), t.stride()
    flat = base.detach().reshape(-1).to(torch.float64).tolist()
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    fields = layout_fields(DTYPES[t.dtype], tuple(t.shape), stride, offset, flat)
    return "    {%s, %s, %s, %s}," % (fields, c_bool(t.requires_grad and t.grad_fn is None),
                                      c_str(grad_fn), c_str(repr(t)))


def tensor_cases():
    T = torch.tensor
    f = torch.float32
    cases = []
    add = cases.append
    # 0-d
    for v in [2.0, 2.5, -0.0, 0.0, 1e-5, 123456.789, 1e10, float("inf"), float("nan"),
              float("-inf"), -3.25, 1e8, 1.5e8, 0.1]:
        add(T(v))
    add(T(7))
    add(T(-3))
    add(T(True))
    add(T(False))
    add(T(1.5, requires_grad=True))
    # 1-d
    for vals in [[2.0], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], [1e-5, 1e5], [1e-5, 1.0],
                 [1.0, 1001.0], [1.0, 1000.0], [1e8, 1.0], [1.5e8], [1e9, 2e9], [-0.0, 1.0],
                 [-0.0, 0.5], [0.0, 0.0], [float("nan"), 1.0], [float("inf"), -float("inf"),
                 float("nan")], [float("inf"), 1.5], [1e-4], [9.9e-5], [0.00012, 1.0],
                 [-1.5, 2.25, 3.125], [1e-4, 1e-4 * 1000], [123456.0, 0.5], [12345.678],
                 [-1e-10, 1e-10], [0.0, 1e-20], [3e38, -3e38], [1e-45, 1.0],
                 [16777216.0, -16777216.0], [0.0001, 0.1], [1.0, float("nan"), -2.0]]:
        add(T(vals, dtype=f))
    add(torch.randn(5))
    add(torch.randn(20))
    add(torch.randn(100))
    add(torch.randn(8) * 1000)
    add(torch.linspace(0, 1, 11))
    add(torch.arange(30))
    add(torch.arange(-50, 50))
    add(T([16777216, -16777216, 0]))
    add(T([True, False, True]))
    add(T([False] * 30))
    add(T([], dtype=f))
    add(T([], dtype=torch.int64))
    add(T([], dtype=torch.bool))
    add(torch.arange(1010))
    add(torch.randn(1100))
    add(torch.linspace(0, 1, 1001))
    add(T([True, False] * 600))
    # 2-d
    add(torch.randn(2, 3))
    add(torch.randn(3, 40))
    add(torch.ones(2, 2))
    add(torch.eye(3))
    add(torch.arange(12).view(3, 4))
    add(torch.randn(10, 10) * 1000)
    add(T([[1e-5, 1.0], [2.0, 3.0]]))
    add(T([[1.0, -2.0], [3.5, float("inf")]]))
    add(torch.zeros(0, 3))
    add(torch.zeros(3, 0))
    add(torch.zeros(0, 3, dtype=torch.int64))
    add(torch.zeros(2, 0, dtype=torch.bool))
    add(T([[True, False], [False, True]]))
    add(torch.randn(33, 33))
    add(torch.randn(1000, 1)[:12])
    add(torch.randn(1001, 1))
    add(torch.randn(3, 340))
    add(torch.arange(1050).view(30, 35))
    add(torch.randn(7, 7) > 0)
    add(torch.rand(5, 12))
    # 3-d and 4-d
    add(torch.randn(2, 3, 4))
    add(torch.arange(24).view(2, 3, 4))
    add(torch.randn(11, 10, 10))
    add(torch.randn(2, 2, 30))
    add(torch.randn(2, 2, 2, 2))
    add(torch.arange(16).view(2, 2, 2, 2))
    add(torch.rand(1, 1, 28, 28))
    add(torch.rand(2, 1, 28, 28))
    add(torch.zeros(1, 2, 0, 3))
    add(torch.randn(8, 3, 5, 5))
    add(torch.arange(1274).view(7, 2, 7, 13) - 600)
    # autograd suffixes
    x = torch.randn(3, requires_grad=True)
    w = torch.randn(3, 4, requires_grad=True)
    add(x)
    add(w)
    add(x * 2)
    add((x * 2).sum())
    add((x ** 2).mean())
    add(torch.sigmoid(x))
    add(x @ w)
    add(torch.randn(8, requires_grad=True))
    add(torch.randn(8) * torch.ones(8, requires_grad=True))
    add(torch.randn(7, requires_grad=True))
    add(torch.randn(9, requires_grad=True))
    add(torch.randn(4, 8, requires_grad=True))
    add(torch.randn(4, 8, requires_grad=True).softmax(dim=1))
    add(torch.nn.functional.mse_loss(x, torch.zeros(3)))
    add(torch.zeros(0, requires_grad=True))
    add(torch.zeros(0, 4, requires_grad=True) * 2)
    add(T([1.0, 2.0], requires_grad=True) * 2)
    add(torch.arange(11, dtype=f).requires_grad_())
    add(torch.arange(12, dtype=f).requires_grad_())
    add(torch.randn(3, 30, requires_grad=True))
    add(torch.randn(32, 32, requires_grad=True) * 1)
    long_name = torch.randn(2, 10, requires_grad=True)
    add(torch.nn.functional.log_softmax(long_name, dim=1))
    # every element width around the wrap points, with suffixes near column 80
    for digits in range(1, 5):
        for n in range(1, 21):
            add(torch.full((n,), 10.0 ** (digits - 1), requires_grad=True))
    for n in range(8, 20):
        add(torch.full((n,), 1.5, requires_grad=True) * 1)
        add(torch.full((2, n), 12345, dtype=torch.int64))
    # suffixes that end exactly at, just before and just after column 80
    for value in (1.0, 10.0, 100.0, 1.5, -1.5, 0.25):
        for n in range(1, 24):
            for rows in (1, 3):
                x = torch.full((rows, n) if rows > 1 else (n,), value, requires_grad=True)
                for t in (x, x * 1, x.clone(), x.exp().log(), torch.sigmoid(x)):
                    body = repr(t.detach())[:-1]
                    last_line = len(body) - body.rfind("\n") + 1
                    suffix = repr(t)[len(body) + 2:-1].lstrip()
                    if abs(last_line + len(suffix) + 2 - 80) <= 1:
                        add(t)
    entries = [torch_entry(t) for t in cases]
    # views: transposed, strided, offset
    base = torch.arange(12, dtype=f).view(3, 4) / 4
    entries.append(torch_entry(base.t(), base))
    entries.append(torch_entry(base[:, 1::2], base))
    entries.append(torch_entry(base[1], base))
    entries.append(torch_entry(base[2, 3], base))
    big = torch.randn(30, 50)
    entries.append(torch_entry(big.t(), big))
    return entries


def gen_tensors(w):
    entries = tensor_cases()
    numpy_entries = numpy_cases()
    w("static const double storage_values[] = {")
    for i in range(0, len(storage_values), 6):
        w("    " + ", ".join(c_double(v) for v in storage_values[i:i + 6]) + ",")
    w("};")
    w("static const TensorCase tensor_cases[] = {")
    for e in entries:
        w(e)
    w("};")
    w("static const NumpyCase numpy_cases[] = {")
    for e in numpy_entries:
        w(e)
    w("};")


def gen_sizes(w):
    w("static const SizeCase size_cases[] = {")
    for shape in [(), (3,), (3, 1), (2, 3, 4, 5), (0,), (1, 1, 28, 28)]:
        dims = list(shape) + [0] * (4 - len(shape))
        w("    {%d, {%s}, %s}," % (len(shape), ", ".join(map(str, dims)),
                                   c_str(repr(torch.Size(shape)))))
    w("};")


# ---- NumPy -------------------------------------------------------------------------

def numpy_entry(a, base=None):
    if base is None:
        base = np.ascontiguousarray(a)
        offset, stride = 0, [s // a.itemsize for s in base.strides]
    else:
        offset = (a.__array_interface__["data"][0] - base.__array_interface__["data"][0]) \
            // a.itemsize
        stride = [s // a.itemsize for s in a.strides]
    flat = [float(v) for v in base.reshape(-1)]
    fields = layout_fields(NP_DTYPES[a.dtype], a.shape, stride, offset, flat)
    return "    {%s, %s, %s}," % (fields, c_str(str(a)), c_str(repr(a)))


def numpy_cases():
    F = np.float32
    A = np.array
    cases = []
    add = cases.append
    for vals in [[1.0, 2.0, 3.0], [0.1, 0.2, 0.3], [0.5, 1.25, -3.0], [0.0], [-0.0, 1.0],
                 [1e8, 1.0], [1e-4], [1e-4, 2e-4], [1e-5, 1e5], [0.1, 1e-5], [0.1, 1.2345e-5],
                 [0.3, 1.2345678e-5], [67108872.0], [67108872.0, 1.0], [0.000123456, 1.0],
                 [1.5, float("nan")], [1e10, float("-inf")], [float("inf"), float("nan")],
                 [float("nan")], [1e-45, 1.0], [3e38, 1.0], [123456.79, 0.5], [0.00012345678],
                 [12345678.0, 0.25], [99999.99, 1.0], [1.0, 1000.0], [1.0, 1000.1],
                 [-1.0, -2.5, float("inf")], [0.0, 0.0], [1e-9, 0.0], [1 / 3, 2 / 3],
                 [33554436.0], [-0.0]]:
        add(A(vals, dtype=F))
    add(A([[0.1, 0.2], [0.3, 0.4]], dtype=F))
    add(np.arange(10))
    add(np.arange(-20, 20))
    add(A([16777216, -3]))
    add(np.linspace(0, 1, 11).astype(F))
    add(np.linspace(-5, 5, 30).astype(F))
    add(np.exp(np.linspace(-10, 10, 9)).astype(F))
    add(np_rng.standard_normal(20).astype(F))
    add(np_rng.standard_normal((4, 9)).astype(F))
    add(np_rng.standard_normal((2, 3, 4)).astype(F))
    add(np_rng.standard_normal((2, 2, 2, 3)).astype(F))
    add((np_rng.standard_normal((5, 5)) * 1e4).astype(F))
    add(np_rng.uniform(0, 1, 50).astype(F))
    add(np.arange(1100))
    add(np_rng.standard_normal((33, 33)).astype(F))
    add(np_rng.standard_normal(1100).astype(F))
    add(np.arange(1120).reshape(7, 8, 20))
    add(A([True, False, True]))
    add(A([[True], [False]]))
    add(np_rng.standard_normal(1010) > 0)
    add(A([], dtype=F))
    add(np.zeros((0, 3), dtype=F))
    add(np.zeros((0, 3), dtype=np.int64))
    add(A([], dtype=np.int64))
    add(A([], dtype=np.bool_))
    add(np.zeros((2, 0, 2), dtype=F))
    for v in [1.0, 0.1, 1e-4, 1e15, 123456789.0, -0.0, float("nan"), 16777216.0, 2.5e-7]:
        add(A(v, dtype=F))
    add(A(5))
    add(A(-12))
    add(A(True))
    add(A(False))
    # element widths around the wrap points and the dtype's own line
    for digits in range(1, 5):
        for n in range(8, 22):
            add(np.full(n, 10 ** (digits - 1)))
    for n in range(8, 16):
        add(np.full(n, 1.5, dtype=F))
        add(np.full((2, n), -2.25, dtype=F))
    entries = [numpy_entry(a) for a in cases]
    base = np.arange(12, dtype=F).reshape(3, 4) / F(4)
    entries.append(numpy_entry(base.T, base))
    entries.append(numpy_entry(base[:, 1::2], base))
    entries.append(numpy_entry(base[2], base))
    return entries


def gen_float32_scalars(w):
    vals = [0.1, 1e-4, 1e-5, 1e16, 1e15, 123456789.0, -0.0, 0.0, 3.0, float("nan"),
            float("inf"), float("-inf"), 16777216.0, 0.3, 1 / 3, 67108872.0, 1e-45, 3.4e38,
            1.5, -2.75, 0.0001, 0.00010001, 9.999e15, 1.0e-38, 100.0, 2 ** 24 + 2.0]
    vals += [rng.gauss(0, 1) * 10 ** rng.randint(-12, 20) for _ in range(80)]
    w("static const Float32Case float32_cases[] = {")
    for v in vals:
        x = np.float32(v)
        w("    {%s, %s}," % (c_double(float(x)), c_str(str(x))))
    w("};")


def main():
    lines = []
    w = lines.append
    w("/* Generated by tests/lang/gen_pyformat_cases.py from Python %s, PyTorch %s and"
      % (sys.version.split()[0], torch.__version__))
    w(" * NumPy %s. Do not edit. */" % np.__version__)
    gen_float_repr(w)
    gen_int_str(w)
    gen_specs(w)
    gen_rounding(w)
    gen_tensors(w)
    gen_sizes(w)
    gen_float32_scalars(w)
    with open(OUT, "w", encoding="ascii") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote", OUT, len(lines), "lines")


if __name__ == "__main__":
    main()

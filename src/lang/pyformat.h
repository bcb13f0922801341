/*
 * pyformat.h - numbers, strings and tensors printed exactly as Python 3.11,
 * PyTorch 1.13 and NumPy 1.24 print them.
 *
 * nnl promises that a course program prints what the real thing prints, so
 * every function here reproduces one piece of CPython, PyTorch or NumPy output
 * byte for byte:
 *
 *   py_format_float_repr   repr(x) / str(x) of a float      7.804863933862125
 *   py_format_int          str(n) of an int                  -42
 *   py_format_*_spec       format(x, spec), f"{x:spec}"      f"{loss:.4f}"
 *   py_round ...           round(), int(), //, % on floats
 *   torch_format_tensor    print(t) / repr(t) of a tensor    tensor([2.0000])
 *   torch_format_size      t.shape                           torch.Size([3, 1])
 *   numpy_format_array_*   print(a) / repr(a) of an array    [1. 2. 3.]
 *   numpy_format_float32_scalar  a NumPy float32 scalar      0.1
 *
 * All functions are pure: they append to a StrBuf and read tensors through
 * their shape, strides, offset and storage only.
 *
 * Errors follow the language's error rule: a function that can fail returns
 * false and writes Python's own message (the text of the ValueError or
 * OverflowError Python raises) into `err`; `out` is left unchanged then.
 */
#ifndef NNREPL_PYFORMAT_H
#define NNREPL_PYFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/tensor.h"
#include "../util/strbuf.h"

/* ---- Python numbers ---- */

/* repr(x) == str(x) for a Python float: the shortest digits that read back as
 * x, positional for decimal exponents -4..15 ("2.0", "0.0001", "100.0"),
 * otherwise scientific ("1e-05", "1e+16"); "inf", "-inf", "nan", "-0.0". */
void py_format_float_repr(StrBuf *out, double x);

/* str(v) of an int. */
void py_format_int(StrBuf *out, int64_t v);

/* ---- the format-spec mini-language: [[fill]align][sign][z][#][0][width][,|_][.precision][type] ---- */

/* Widths and precisions above this are refused (Python would try to build the
 * string; a REPL must not be made to allocate gigabytes by one typo). */
#define PY_FORMAT_MAX_WIDTH 1000000

typedef struct FormatSpec {
    char fill[5];       /* the fill character, UTF-8, "" when none was given */
    char align;         /* '<' '>' '^' '=' or 0 when none was given */
    char sign;          /* '+' '-' ' ' or 0 when none was given */
    bool no_neg_zero;   /* 'z': -0.0 after rounding prints as 0.0 */
    bool alternate;     /* '#' */
    bool zero_pad;      /* '0' before the width, without an explicit fill */
    int64_t width;      /* -1 when none was given */
    char grouping;      /* ',' or '_' or 0 */
    int64_t precision;  /* -1 when none was given */
    uint32_t type;      /* the presentation type (a code point), 0 when none */
    bool empty;         /* the whole spec was "" (str(x) for any x) */
} FormatSpec;

/* Parse a format spec. Errors: "Invalid format specifier 'abc' for object of
 * type 'float'" (type_name names the value's Python type: "float", "int",
 * "bool", "str"), "Format specifier missing precision", "Too many decimal
 * digits in format string", "Cannot specify both ',' and '_'.", "Cannot
 * specify ',' with 'x'.". */
bool py_parse_format_spec_for(const char *spec, const char *type_name, FormatSpec *out,
                              char *err, size_t errsz);
/* The same for a value whose type is not known yet: only the message for
 * trailing characters differs ("Invalid format specifier 'abc'"). */
bool py_parse_format_spec(const char *spec, FormatSpec *out, char *err, size_t errsz);

/* format(x, spec) for a parsed spec; false + Python's message on error. */
bool py_format_float_spec(StrBuf *out, double x, const FormatSpec *spec, char *err, size_t errsz);
bool py_format_int_spec(StrBuf *out, int64_t v, const FormatSpec *spec, char *err, size_t errsz);
/* bool formats as str ("True") for an empty spec, otherwise like int (1). */
bool py_format_bool_spec(StrBuf *out, bool v, const FormatSpec *spec, char *err, size_t errsz);
/* s is UTF-8; width and precision count code points. */
bool py_format_str_spec(StrBuf *out, const char *s, const FormatSpec *spec, char *err, size_t errsz);

/* Parse and format in one call, with every message exactly Python's: what
 * f"{x:spec}" and "{:spec}".format(x) need. */
bool py_format_float_with(StrBuf *out, double x, const char *spec, char *err, size_t errsz);
bool py_format_int_with(StrBuf *out, int64_t v, const char *spec, char *err, size_t errsz);
bool py_format_bool_with(StrBuf *out, bool v, const char *spec, char *err, size_t errsz);
bool py_format_str_with(StrBuf *out, const char *s, const char *spec, char *err, size_t errsz);

/* ---- rounding and float arithmetic as Python does it ---- */

/* round(x, ndigits): the exact binary value of x correctly rounded to ndigits
 * decimal places (half to even), read back as a double. inf and nan come back
 * unchanged. When the rounded value is too large for a double Python raises
 * OverflowError("rounded value too large to represent"); this returns +-inf
 * then, so a caller checks isinf(result) && isfinite(x). Any int is a valid
 * ndigits: above 323 x comes back, below -308 a zero with x's sign. */
double py_round(double x, int ndigits);
#define PY_MSG_ROUND_OVERFLOW "rounded value too large to represent"

/* round(x) -> int, halves to even. false for inf, nan and values outside the
 * 64-bit range; py_float_to_int_error() gives the message. */
bool py_round_to_int(double x, int64_t *out);
/* int(x): truncation toward zero; false as above. */
bool py_float_to_int(double x, int64_t *out);
/* Why an int conversion of x (already rounded or truncated) fails:
 * "cannot convert float infinity to integer", "cannot convert float NaN to
 * integer", or nnl's limit for values beyond 64 bits; NULL if it does not. */
const char *py_float_to_int_error(double x);

/* a // b and a % b for floats (the result of % has the sign of b), exactly as
 * CPython computes them, inf and nan included. b must not be zero: Python
 * raises ZeroDivisionError with these messages. */
double py_float_floordiv(double a, double b);
double py_float_mod(double a, double b);
#define PY_MSG_FLOAT_FLOORDIV_ZERO "float floor division by zero"
#define PY_MSG_FLOAT_MOD_ZERO "float modulo"

/* ---- PyTorch ---- */

/* repr(t) == str(t) in PyTorch 1.13 with the default print options. The
 * suffix is ", grad_fn=<NAME>" when grad_fn_name is not NULL (a non-leaf),
 * else ", requires_grad=True" when t->requires_grad. */
void torch_format_tensor(StrBuf *out, const Tensor *t, const char *grad_fn_name);

/* torch.Size([3, 1]), torch.Size([]). */
void torch_format_size(StrBuf *out, int ndim, const int64_t *shape);

/* ---- NumPy ---- */

/* str(a) and repr(a) of a NumPy 1.24 array with the default print options:
 * "[1. 2. 3.]" and "array([1., 2., 3.], dtype=float32)"; a float32 tensor is
 * an np.float32 array, int64 an np.int64 array, bool an np.bool_ array. */
void numpy_format_array_str(StrBuf *out, const Tensor *t);
void numpy_format_array_repr(StrBuf *out, const Tensor *t);

/* str() == repr() of an np.float32 scalar in NumPy 1.24: the shortest digits
 * that read back as the same float32, "0.1", "1e-05", "123456790.0". */
void numpy_format_float32_scalar(StrBuf *out, float x);

#endif

/*
 * test_pyformat.c - nnrepl prints numbers, strings, tensors and arrays
 * exactly as Python 3.11, PyTorch 1.13 and NumPy 1.24 do.
 *
 * The expected texts in pyformat_cases.inc were printed by the real
 * programs (tests/lang/gen_pyformat_cases.py); every case must match byte
 * for byte. Each table test reports every mismatching case, then fails.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/lang/pyformat.h"

typedef struct FloatReprCase {
    double x;
    const char *text;
} FloatReprCase;

typedef struct IntStrCase {
    int64_t v;
    const char *text;
} IntStrCase;

typedef struct SpecCase {
    char kind; /* 'f' float, 'i' int, 'b' bool, 's' str */
    double x;
    int64_t i;
    const char *s;
    const char *spec;
    bool ok;
    const char *text; /* the result, or the error message */
} SpecCase;

typedef struct RoundCase {
    double x;
    int ndigits;
    double result;
    bool ok; /* false: OverflowError */
} RoundCase;

typedef struct ToIntCase {
    double x;
    bool round_ok;
    int64_t round_value;
    const char *round_error;
    bool int_ok;
    int64_t int_value;
    const char *int_error;
} ToIntCase;

typedef struct DivModCase {
    double a, b, floordiv, mod;
} DivModCase;

typedef struct TensorCase {
    DType dtype;
    int ndim;
    int64_t shape[4];
    int64_t stride[4];
    int64_t offset;
    int64_t storage_start, storage_len; /* in storage_values */
    bool requires_grad;
    const char *grad_fn;
    const char *repr;
} TensorCase;

typedef struct NumpyCase {
    DType dtype;
    int ndim;
    int64_t shape[4];
    int64_t stride[4];
    int64_t offset;
    int64_t storage_start, storage_len;
    const char *str;
    const char *repr;
} NumpyCase;

typedef struct SizeCase {
    int ndim;
    int64_t shape[4];
    const char *text;
} SizeCase;

typedef struct Float32Case {
    double x;
    const char *text;
} Float32Case;

#include "pyformat_cases.inc"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* Same value, same sign of zero, or both nan. */
static bool same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static int report_text(const char *what, const char *input, const char *expected, const char *got)
{
    print_message("MISMATCH %s [%s]\n  expected: %s\n  got:      %s\n", what, input, expected, got);
    return 1;
}

/* A tensor built by hand over a private float32 storage, the way the engine
 * lays one out: values from the generator, then the view's shape, strides and
 * offset. */
typedef struct TestTensor {
    Tensor t;
    Storage storage;
} TestTensor;

static void test_tensor_init(TestTensor *tt, DType dtype, int ndim, const int64_t *shape,
                             const int64_t *stride, int64_t offset, int64_t start, int64_t len)
{
    memset(tt, 0, sizeof *tt);
    tt->storage.refcount = 1;
    tt->storage.numel = len;
    tt->storage.data = malloc(sizeof(float) * (size_t)(len > 0 ? len : 1));
    assert_non_null(tt->storage.data);
    for (int64_t i = 0; i < len; i++)
        tt->storage.data[i] = (float)storage_values[start + i];
    tt->t.refcount = 1;
    tt->t.dtype = dtype;
    tt->t.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        tt->t.shape[d] = shape[d];
        tt->t.stride[d] = stride[d];
    }
    tt->t.offset = offset;
    tt->t.storage = &tt->storage;
}

static void test_tensor_free(TestTensor *tt)
{
    free(tt->storage.data);
}

/* ---- Python floats and ints ---- */

static void test_float_repr(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(float_repr_cases); i++) {
        StrBuf out = STRBUF_INIT;
        py_format_float_repr(&out, float_repr_cases[i].x);
        if (strcmp(sb_str(&out), float_repr_cases[i].text) != 0) {
            char input[40];
            snprintf(input, sizeof input, "%a", float_repr_cases[i].x);
            failures += report_text("repr(float)", input, float_repr_cases[i].text, sb_str(&out));
        }
        sb_free(&out);
    }
    assert_int_equal(failures, 0);
}

static void test_int_str(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(int_str_cases); i++) {
        StrBuf out = STRBUF_INIT;
        sb_append(&out, "x="); /* appends, never overwrites */
        py_format_int(&out, int_str_cases[i].v);
        if (strncmp(sb_str(&out), "x=", 2) != 0 || strcmp(sb_str(&out) + 2, int_str_cases[i].text) != 0)
            failures += report_text("str(int)", int_str_cases[i].text, int_str_cases[i].text, sb_str(&out));
        sb_free(&out);
    }
    assert_int_equal(failures, 0);
}

/* ---- format specs ---- */

static bool run_spec_case(const SpecCase *c, StrBuf *out, char *err, size_t errsz)
{
    switch (c->kind) {
    case 'f': return py_format_float_with(out, c->x, c->spec, err, errsz);
    case 'i': return py_format_int_with(out, c->i, c->spec, err, errsz);
    case 'b': return py_format_bool_with(out, c->i != 0, c->spec, err, errsz);
    default: return py_format_str_with(out, c->s, c->spec, err, errsz);
    }
}

static void test_format_specs(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(spec_cases); i++) {
        const SpecCase *c = &spec_cases[i];
        StrBuf out = STRBUF_INIT;
        char err[256] = "";
        bool ok = run_spec_case(c, &out, err, sizeof err);
        char input[160];
        if (c->kind == 'f')
            snprintf(input, sizeof input, "format(%a, '%s')", c->x, c->spec);
        else if (c->kind == 's')
            snprintf(input, sizeof input, "format('%s', '%s')", c->s, c->spec);
        else
            snprintf(input, sizeof input, "format(%c%" PRId64 ", '%s')", c->kind, c->i, c->spec);
        if (ok != c->ok)
            failures += report_text(input, c->ok ? "ok" : "error", c->text,
                                    ok ? sb_str(&out) : err);
        else if (ok && strcmp(sb_str(&out), c->text) != 0)
            failures += report_text(input, "text", c->text, sb_str(&out));
        else if (!ok && (strcmp(err, c->text) != 0 || out.len != 0))
            failures += report_text(input, "error (and nothing written)", c->text, err);
        sb_free(&out);
    }
    assert_int_equal(failures, 0);
}

static void test_parse_format_spec_fields(void **state)
{
    (void)state;
    FormatSpec f;
    char err[128];
    assert_true(py_parse_format_spec("*^+z#012_.3f", &f, err, sizeof err));
    assert_string_equal(f.fill, "*");
    assert_int_equal(f.align, '^');
    assert_int_equal(f.sign, '+');
    assert_true(f.no_neg_zero);
    assert_true(f.alternate);
    assert_true(f.zero_pad == false); /* an explicit fill: '0' is part of the width */
    assert_int_equal(f.width, 12);
    assert_int_equal(f.grouping, '_');
    assert_int_equal(f.precision, 3);
    assert_int_equal(f.type, 'f');
    assert_false(f.empty);

    assert_true(py_parse_format_spec("", &f, err, sizeof err));
    assert_true(f.empty);
    assert_int_equal(f.width, -1);
    assert_int_equal(f.precision, -1);
    assert_int_equal(f.type, 0);

    assert_true(py_parse_format_spec("\xe2\x98\x85<7", &f, err, sizeof err)); /* U+2605 fill */
    assert_string_equal(f.fill, "\xe2\x98\x85");
    assert_int_equal(f.width, 7);

    /* Without a known type the message leaves the type out. */
    assert_false(py_parse_format_spec("abc", &f, err, sizeof err));
    assert_string_equal(err, "Invalid format specifier 'abc'");
    assert_false(py_parse_format_spec_for("abc", "float", &f, err, sizeof err));
    assert_string_equal(err, "Invalid format specifier 'abc' for object of type 'float'");
}

static void test_format_limits(void **state)
{
    (void)state;
    StrBuf out = STRBUF_INIT;
    char err[128];
    /* nnl refuses widths Python would try to allocate */
    assert_false(py_format_float_with(&out, 1.0, "2000000", err, sizeof err));
    assert_string_equal(err, "format width or precision too large (at most 1000000)");
    assert_false(py_format_str_with(&out, "x", ".2000000", err, sizeof err));
    assert_int_equal(out.len, 0);
    /* the largest allowed still works */
    assert_true(py_format_float_with(&out, 1.0, ">1000000", err, sizeof err));
    assert_int_equal(out.len, 1000000);
    assert_string_equal(sb_str(&out) + 999997, "1.0");
    sb_clear(&out);
    assert_true(py_format_float_with(&out, 1e300, ".400f", err, sizeof err));
    assert_int_equal(out.len, 301 + 1 + 400);
    /* a NULL or empty error buffer is fine */
    assert_false(py_format_int_with(&out, 1, ".2", NULL, 0));
    sb_free(&out);
}

/* ---- round(), int(), //, % ---- */

static void test_round(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(round_cases); i++) {
        const RoundCase *c = &round_cases[i];
        double r = py_round(c->x, c->ndigits);
        bool overflow = isinf(r) && isfinite(c->x);
        if (overflow == c->ok || (c->ok && !same_double(r, c->result))) {
            char input[64], expected[64], got[64];
            snprintf(input, sizeof input, "round(%a, %d)", c->x, c->ndigits);
            snprintf(expected, sizeof expected, c->ok ? "%a" : "OverflowError", c->result);
            snprintf(got, sizeof got, "%a", r);
            failures += report_text("round", input, expected, got);
        }
    }
    assert_int_equal(failures, 0);
}

static void test_to_int(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(to_int_cases); i++) {
        const ToIntCase *c = &to_int_cases[i];
        int64_t v = 12345;
        bool ok = py_round_to_int(c->x, &v);
        char input[48];
        snprintf(input, sizeof input, "%a", c->x);
        if (ok != c->round_ok || (ok && v != c->round_value))
            failures += report_text("round() to int", input, c->round_ok ? "value" : "error", ok ? "value" : "error");
        if (!ok && strcmp(py_float_to_int_error(c->x), c->round_error) != 0)
            failures += report_text("round() message", input, c->round_error,
                                    py_float_to_int_error(c->x));
        ok = py_float_to_int(c->x, &v);
        if (ok != c->int_ok || (ok && v != c->int_value))
            failures += report_text("int()", input, c->int_ok ? "value" : "error", ok ? "value" : "error");
        if (!ok && strcmp(py_float_to_int_error(c->x), c->int_error) != 0)
            failures += report_text("int() message", input, c->int_error,
                                    py_float_to_int_error(c->x));
    }
    assert_int_equal(failures, 0);
    assert_null(py_float_to_int_error(3.0));
}

static void test_floordiv_mod(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(divmod_cases); i++) {
        const DivModCase *c = &divmod_cases[i];
        double q = py_float_floordiv(c->a, c->b), m = py_float_mod(c->a, c->b);
        if (!same_double(q, c->floordiv) || !same_double(m, c->mod)) {
            char input[80], expected[80], got[80];
            snprintf(input, sizeof input, "%a // %a, %%", c->a, c->b);
            snprintf(expected, sizeof expected, "%a, %a", c->floordiv, c->mod);
            snprintf(got, sizeof got, "%a, %a", q, m);
            failures += report_text("divmod", input, expected, got);
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- PyTorch ---- */

static void test_torch_tensors(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(tensor_cases); i++) {
        const TensorCase *c = &tensor_cases[i];
        TestTensor tt;
        test_tensor_init(&tt, c->dtype, c->ndim, c->shape, c->stride, c->offset,
                         c->storage_start, c->storage_len);
        tt.t.requires_grad = c->requires_grad || c->grad_fn != NULL;
        StrBuf out = STRBUF_INIT;
        torch_format_tensor(&out, &tt.t, c->grad_fn);
        if (strcmp(sb_str(&out), c->repr) != 0) {
            char input[32];
            snprintf(input, sizeof input, "tensor case %zu", i);
            failures += report_text("repr(tensor)", input, c->repr, sb_str(&out));
        }
        sb_free(&out);
        test_tensor_free(&tt);
    }
    assert_int_equal(failures, 0);
}

static void test_torch_size(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(size_cases); i++) {
        StrBuf out = STRBUF_INIT;
        torch_format_size(&out, size_cases[i].ndim, size_cases[i].shape);
        assert_string_equal(sb_str(&out), size_cases[i].text);
        sb_free(&out);
    }
}

/* ---- NumPy ---- */

static void test_numpy_arrays(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(numpy_cases); i++) {
        const NumpyCase *c = &numpy_cases[i];
        TestTensor tt;
        test_tensor_init(&tt, c->dtype, c->ndim, c->shape, c->stride, c->offset,
                         c->storage_start, c->storage_len);
        char input[32];
        snprintf(input, sizeof input, "numpy case %zu", i);
        StrBuf out = STRBUF_INIT;
        numpy_format_array_str(&out, &tt.t);
        if (strcmp(sb_str(&out), c->str) != 0)
            failures += report_text("str(array)", input, c->str, sb_str(&out));
        sb_clear(&out);
        numpy_format_array_repr(&out, &tt.t);
        if (strcmp(sb_str(&out), c->repr) != 0)
            failures += report_text("repr(array)", input, c->repr, sb_str(&out));
        sb_free(&out);
        test_tensor_free(&tt);
    }
    assert_int_equal(failures, 0);
}

static void test_numpy_float32_scalars(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(float32_cases); i++) {
        StrBuf out = STRBUF_INIT;
        numpy_format_float32_scalar(&out, (float)float32_cases[i].x);
        if (strcmp(sb_str(&out), float32_cases[i].text) != 0) {
            char input[40];
            snprintf(input, sizeof input, "%a", float32_cases[i].x);
            failures += report_text("str(np.float32)", input, float32_cases[i].text, sb_str(&out));
        }
        sb_free(&out);
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_repr),
        cmocka_unit_test(test_int_str),
        cmocka_unit_test(test_format_specs),
        cmocka_unit_test(test_parse_format_spec_fields),
        cmocka_unit_test(test_format_limits),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_to_int),
        cmocka_unit_test(test_floordiv_mod),
        cmocka_unit_test(test_torch_tensors),
        cmocka_unit_test(test_torch_size),
        cmocka_unit_test(test_numpy_arrays),
        cmocka_unit_test(test_numpy_float32_scalars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* matmul, mm and linear: forward values (hand-computed or printed by
 * PyTorch 1.13 for the same inputs), every combination of dims, broadcast
 * batch dims, non-contiguous operands, the grad_fn names PyTorch prints,
 * gradients by central differences, and shape errors. */
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "gradcheck.h"

/* arange(n) * scale + shift in the given shape */
static Tensor *ramp(Engine *eng, int ndim, const int64_t *shape, float scale, float shift)
{
    Tensor *t = tensor_empty(eng, DTYPE_FLOAT32, ndim, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < tensor_numel(t); i++)
        tensor_data(t)[i] = (float)i * scale + shift;
    return t;
}

/* A leaf that requires grad and is the transpose of a contiguous
 * (cols, rows) tensor: shape (rows, cols), strides (1, rows). */
static Tensor *transposed_leaf(Engine *eng, int64_t rows, int64_t cols)
{
    Tensor *base = random_tensor(eng, 2, SHAPE(cols, rows), -1, 1, false);
    Tensor *t = tensor_transpose(eng, base, 0, 1);
    assert_non_null(t);
    assert_false(tensor_is_contiguous(t));
    t->requires_grad = true;
    tensor_release(base);
    return t;
}

/* Σ_k a[i, k] b[k, j] in double, any layouts, 2-D operands */
static void assert_matches_reference(const Tensor *a, const Tensor *b, const Tensor *c)
{
    int64_t n = a->shape[0], k = a->shape[1], m = b->shape[1];
    assert_int_equal(c->shape[0], n);
    assert_int_equal(c->shape[1], m);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < m; j++) {
            double acc = 0.0;
            for (int64_t q = 0; q < k; q++)
                acc += (double)tensor_get_flat(a, i * k + q) * tensor_get_flat(b, q * m + j);
            double got = tensor_get_flat(c, i * m + j);
            if (fabs(got - acc) > 1e-5 * (1.0 + fabs(acc))) {
                print_error("c[%lld, %lld] = %g, expected %g\n", (long long)i, (long long)j, got, acc);
                fail();
            }
        }
}

/* ---- forward ---- */

static void test_mm_values(void **state)
{
    Engine *eng = *state;
    Tensor *a = make_tensor(eng, 2, SHAPE(3, 2), VALUES(1, 2, 3, 4, 5, 6));
    Tensor *b = make_tensor(eng, 2, SHAPE(2, 3), VALUES(1, 0, -1, 2, 1, 0));
    Tensor *c = tensor_mm(eng, a, b);
    assert_non_null(c);
    assert_shape(c, 2, SHAPE(3, 3));
    assert_tensor_close(c, VALUES(5, 2, -1, 11, 4, -3, 17, 6, -5), 9, 0);
    tensor_release(c);
    c = tensor_matmul(eng, a, b);
    assert_tensor_close(c, VALUES(5, 2, -1, 11, 4, -3, 17, 6, -5), 9, 0);
    tensor_release(c);
    tensor_release(a);
    tensor_release(b);
}

static void test_matmul_vector_cases(void **state)
{
    Engine *eng = *state;
    Tensor *v = make_tensor(eng, 1, SHAPE(3), VALUES(1, -2, 3));
    Tensor *u = make_tensor(eng, 1, SHAPE(3), VALUES(4, 5, 6));
    Tensor *m = make_tensor(eng, 2, SHAPE(2, 3), VALUES(1, 2, 3, 4, 5, 6));
    Tensor *r = tensor_matmul(eng, v, u); /* dot: 4 - 10 + 18 */
    assert_non_null(r);
    assert_int_equal(r->ndim, 0);
    assert_tensor_close(r, VALUES(12), 1, 0);
    tensor_release(r);
    r = tensor_matmul(eng, m, v); /* mv */
    assert_shape(r, 1, SHAPE(2));
    assert_tensor_close(r, VALUES(6, 12), 2, 0);
    tensor_release(r);
    Tensor *w = make_tensor(eng, 1, SHAPE(2), VALUES(1, -1));
    r = tensor_matmul(eng, w, m); /* vector @ matrix */
    assert_shape(r, 1, SHAPE(3));
    assert_tensor_close(r, VALUES(-3, -3, -3), 3, 0);
    tensor_release(r);
    tensor_release(w);
    tensor_release(v);
    tensor_release(u);
    tensor_release(m);
}

/* Values printed by PyTorch 1.13 for the same ramps. */
static void test_matmul_batched_values(void **state)
{
    Engine *eng = *state;
    Tensor *a = ramp(eng, 3, SHAPE(2, 3, 4), 0.1f, -1.0f);
    Tensor *b = ramp(eng, 3, SHAPE(2, 4, 5), 0.05f, -0.5f);
    Tensor *w = ramp(eng, 2, SHAPE(4, 5), 0.1f, -1.0f);
    Tensor *m = ramp(eng, 2, SHAPE(3, 4), 0.25f, -1.0f);
    Tensor *v = make_tensor(eng, 1, SHAPE(4), VALUES(1, -2, 0.5f, 3));

    Tensor *r = tensor_matmul(eng, a, b);
    assert_shape(r, 3, SHAPE(2, 3, 5));
    assert_tensor_close(r, VALUES(0.55f, 0.38f, 0.21f, 0.04f, -0.13f, 0.35f, 0.26f, 0.17f, 0.08f,
                                  -0.01f, 0.15f, 0.14f, 0.13f, 0.12f, 0.11f, 1.35f, 1.42f, 1.49f,
                                  1.56f, 1.63f, 2.75f, 2.9f, 3.05f, 3.2f, 3.35f, 4.15f, 4.38f,
                                  4.61f, 4.84f, 5.07f), 30, 1e-5);
    tensor_release(r);
    r = tensor_matmul(eng, a, w); /* folded into one (6, 4) @ (4, 5) */
    assert_shape(r, 3, SHAPE(2, 3, 5));
    assert_tensor_close(r, VALUES(1.1f, 0.76f, 0.42f, 0.08f, -0.26f, 0.7f, 0.52f, 0.34f, 0.16f,
                                  -0.02f, 0.3f, 0.28f, 0.26f, 0.24f, 0.22f, -0.1f, 0.04f, 0.18f,
                                  0.32f, 0.46f, -0.5f, -0.2f, 0.1f, 0.4f, 0.7f, -0.9f, -0.44f,
                                  0.02f, 0.48f, 0.94f), 30, 1e-5);
    tensor_release(r);
    r = tensor_matmul(eng, m, b);
    assert_shape(r, 3, SHAPE(2, 3, 5));
    assert_tensor_close(r, VALUES(0.625f, 0.5f, 0.375f, 0.25f, 0.125f, 0.125f, 0.2f, 0.275f, 0.35f,
                                  0.425f, -0.375f, -0.1f, 0.175f, 0.45f, 0.725f, -1.875f, -2,
                                  -2.125f, -2.25f, -2.375f, 1.625f, 1.7f, 1.775f, 1.85f, 1.925f,
                                  5.125f, 5.4f, 5.675f, 5.95f, 6.225f), 30, 1e-5);
    tensor_release(r);
    r = tensor_matmul(eng, a, v);
    assert_shape(r, 2, SHAPE(2, 3));
    assert_tensor_close(r, VALUES(-1.7f, -0.7f, 0.3f, 1.3f, 2.3f, 3.3f), 6, 1e-5);
    tensor_release(r);
    r = tensor_matmul(eng, v, b);
    assert_shape(r, 2, SHAPE(2, 5));
    assert_tensor_close(r, VALUES(0.75f, 0.875f, 1, 1.125f, 1.25f, 3.25f, 3.375f, 3.5f, 3.625f, 3.75f),
                        10, 1e-5);
    tensor_release(r);
    tensor_release(a);
    tensor_release(b);
    tensor_release(w);
    tensor_release(m);
    tensor_release(v);
}

static void test_matmul_broadcasts_batch_dims(void **state)
{
    Engine *eng = *state;
    Tensor *a = ramp(eng, 4, SHAPE(2, 1, 2, 3), 1, -5);
    Tensor *b = ramp(eng, 3, SHAPE(3, 3, 2), 1.0f / 3.0f, 0);
    Tensor *r = tensor_matmul(eng, a, b);
    assert_non_null(r);
    assert_shape(r, 4, SHAPE(2, 3, 2, 2));
    assert_tensor_close(r, VALUES(-6.666667f, -10.666667f, -0.666667f, -1.666667f, -30.666667f,
                                  -34.666667f, -6.666667f, -7.666667f, -54.666667f, -58.666667f,
                                  -12.666667f, -13.666667f, 5.333333f, 7.333333f, 11.333333f,
                                  16.333333f, 17.333333f, 19.333333f, 41.333333f, 46.333333f,
                                  29.333333f, 31.333333f, 71.333333f, 76.333333f), 24, 1e-5);
    tensor_release(r);
    tensor_release(a);
    tensor_release(b);
}

static void test_matmul_non_contiguous_operands(void **state)
{
    Engine *eng = *state;
    /* transposed (read with sgemm's transpose flag) */
    Tensor *base = random_tensor(eng, 2, SHAPE(4, 3), -1, 1, false);
    Tensor *at = tensor_t(eng, base);                     /* (3, 4), strides (1, 3) */
    Tensor *b = random_tensor(eng, 2, SHAPE(4, 5), -1, 1, false);
    Tensor *c = tensor_matmul(eng, at, b);
    assert_non_null(c);
    assert_matches_reference(at, b, c);
    tensor_release(c);
    /* a column slice with step 2 (copied) and an expanded operand (stride 0) */
    Tensor *wide = random_tensor(eng, 2, SHAPE(5, 8), -1, 1, false);
    SliceSpec every_other = {false, false, 0, 0, 2};
    Tensor *sliced = tensor_slice(eng, wide, 1, every_other);  /* (5, 4), strides (8, 2) */
    Tensor *col = random_tensor(eng, 2, SHAPE(4, 1), -1, 1, false);
    Tensor *expanded = tensor_expand(eng, col, 2, SHAPE(4, 3)); /* strides (1, 0) */
    c = tensor_matmul(eng, sliced, expanded);
    assert_non_null(c);
    assert_matches_reference(sliced, expanded, c);
    tensor_release(c);
    Tensor *base2 = random_tensor(eng, 2, SHAPE(3, 4), -1, 1, false);
    Tensor *bt = tensor_t(eng, base2);                    /* (4, 3), strides (1, 4) */
    c = tensor_matmul(eng, sliced, bt);
    assert_non_null(c);
    assert_matches_reference(sliced, bt, c);
    tensor_release(c);
    tensor_release(bt);
    tensor_release(base2);
    /* a batched transposed operand */
    Tensor *a3 = random_tensor(eng, 3, SHAPE(2, 4, 3), -1, 1, false);
    Tensor *a3t = tensor_transpose(eng, a3, 1, 2);
    Tensor *a3c = tensor_contiguous(eng, a3t);
    Tensor *r1 = tensor_matmul(eng, a3t, b), *r2 = tensor_matmul(eng, a3c, b);
    bool close = false;
    assert_true(tensor_allclose(eng, r1, r2, 1e-6, 1e-6, &close));
    assert_true(close);
    tensor_release(r1);
    tensor_release(r2);
    tensor_release(a3);
    tensor_release(a3t);
    tensor_release(a3c);
    tensor_release(base);
    tensor_release(at);
    tensor_release(b);
    tensor_release(wide);
    tensor_release(sliced);
    tensor_release(col);
    tensor_release(expanded);
}

static void test_matmul_empty_and_integer(void **state)
{
    Engine *eng = *state;
    Tensor *a = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(0, 3));
    Tensor *b = tensor_full(eng, DTYPE_FLOAT32, 2, SHAPE(3, 2), 1);
    Tensor *r = tensor_matmul(eng, a, b);
    assert_shape(r, 2, SHAPE(0, 2));
    tensor_release(r);
    Tensor *k0a = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(2, 0));
    Tensor *k0b = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(0, 3));
    r = tensor_matmul(eng, k0a, k0b); /* an empty sum is 0 */
    assert_shape(r, 2, SHAPE(2, 3));
    assert_tensor_close(r, VALUES(0, 0, 0, 0, 0, 0), 6, 0);
    tensor_release(r);
    Tensor *i = tensor_arange(eng, 1, 3, 1, DTYPE_INT64);            /* [1, 2] */
    Tensor *j = tensor_from_doubles(eng, DTYPE_INT64, 2, SHAPE(2, 1), (double[]){3, 4}, 2);
    r = tensor_matmul(eng, i, j);
    assert_int_equal(r->dtype, DTYPE_INT64);
    assert_tensor_close(r, VALUES(11), 1, 0);
    tensor_release(r);
    assert_null(tensor_matmul(eng, b, j));
    assert_string_equal(engine_error(eng),
                        "matmul: expected both tensors to have the same dtype, but got torch.float32 @ torch.int64");
    tensor_release(a);
    tensor_release(b);
    tensor_release(k0a);
    tensor_release(k0b);
    tensor_release(i);
    tensor_release(j);
}

static void test_matmul_errors(void **state)
{
    Engine *eng = *state;
    Tensor *a = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(3, 2));
    Tensor *b = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(3, 1));
    Tensor *v3 = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(3));
    Tensor *v4 = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(4));
    Tensor *s = tensor_scalar(eng, DTYPE_FLOAT32, 1);
    Tensor *p = tensor_zeros(eng, DTYPE_FLOAT32, 3, SHAPE(2, 3, 2));
    Tensor *q = tensor_zeros(eng, DTYPE_FLOAT32, 3, SHAPE(4, 2, 1));
    assert_null(tensor_matmul(eng, a, b));
    assert_string_equal(engine_error(eng), "matmul shape mismatch: (3, 2) @ (3, 1)");
    assert_null(tensor_matmul(eng, v3, v4));
    assert_string_equal(engine_error(eng), "matmul shape mismatch: (3) @ (4)");
    assert_null(tensor_matmul(eng, v4, a));
    assert_string_equal(engine_error(eng), "matmul shape mismatch: (4) @ (3, 2)");
    assert_null(tensor_matmul(eng, p, q)); /* batch dims 2 and 4 */
    assert_string_equal(engine_error(eng), "matmul shape mismatch: (2, 3, 2) @ (4, 2, 1)");
    assert_null(tensor_matmul(eng, s, v3));
    assert_string_equal(engine_error(eng),
                        "both arguments to matmul need to be at least 1-D, but they are 0-D and 1-D");
    assert_null(tensor_mm(eng, v3, a));
    assert_string_equal(engine_error(eng), "mm: expected 2-D tensors, got 1-D and 2-D");
    assert_null(tensor_mm(eng, a, a));
    assert_string_equal(engine_error(eng), "mm shape mismatch: (3, 2) @ (3, 2)");
    tensor_release(a);
    tensor_release(b);
    tensor_release(v3);
    tensor_release(v4);
    tensor_release(s);
    tensor_release(p);
    tensor_release(q);
}

/* ---- grad_fn names (what PyTorch 1.13 prints) ---- */

typedef struct NameCase {
    int nda;
    int64_t sa[4];
    int ndb;
    int64_t sb[4];
    const char *name;
} NameCase;

static void test_matmul_grad_fn_names(void **state)
{
    Engine *eng = *state;
    const NameCase cases[] = {
        {1, {4}, 1, {4}, "DotBackward0"},
        {2, {3, 4}, 1, {4}, "MvBackward0"},
        {1, {3}, 2, {3, 4}, "SqueezeBackward3"},
        {2, {3, 4}, 2, {4, 5}, "MmBackward0"},
        {3, {2, 3, 4}, 3, {2, 4, 5}, "UnsafeViewBackward0"},
        {3, {2, 3, 4}, 2, {4, 5}, "UnsafeViewBackward0"},
        {2, {3, 4}, 3, {2, 4, 5}, "CloneBackward0"},
        {3, {2, 3, 4}, 1, {4}, "UnsafeViewBackward0"},
        {1, {4}, 3, {2, 4, 5}, "UnsafeViewBackward0"},
        {4, {2, 2, 3, 4}, 4, {2, 2, 4, 5}, "UnsafeViewBackward0"},
        {4, {2, 2, 3, 4}, 3, {2, 4, 5}, "UnsafeViewBackward0"},
        {2, {3, 4}, 4, {2, 2, 4, 5}, "CloneBackward0"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *a = random_tensor(eng, cases[c].nda, cases[c].sa, -1, 1, true);
        Tensor *b = random_tensor(eng, cases[c].ndb, cases[c].sb, -1, 1, false);
        Tensor *r = tensor_matmul(eng, a, b);
        assert_non_null(r);
        assert_string_equal(tensor_grad_fn_name(r), cases[c].name);
        tensor_release(r);
        tensor_release(a);
        tensor_release(b);
    }
    Tensor *a = random_tensor(eng, 2, SHAPE(2, 2), -1, 1, true);
    Tensor *r = tensor_mm(eng, a, a);
    assert_string_equal(tensor_grad_fn_name(r), "MmBackward0");
    tensor_release(r);
    tensor_release(a);
}

static void test_linear_grad_fn_names(void **state)
{
    Engine *eng = *state;
    Tensor *w = random_tensor(eng, 2, SHAPE(5, 4), -1, 1, true);
    Tensor *b = random_tensor(eng, 1, SHAPE(5), -1, 1, true);
    const struct {
        int nd;
        int64_t shape[4];
        const char *with_bias, *without_bias;
    } cases[] = {
        {1, {4}, "AddBackward0", "SqueezeBackward3"},
        {2, {3, 4}, "AddmmBackward0", "MmBackward0"},
        {3, {2, 3, 4}, "ViewBackward0", "UnsafeViewBackward0"},
        {4, {2, 2, 3, 4}, "AddBackward0", "UnsafeViewBackward0"},
    };
    for (size_t c = 0; c < 4; c++) {
        Tensor *x = random_tensor(eng, cases[c].nd, cases[c].shape, -1, 1, false);
        Tensor *y = tensor_linear(eng, x, w, b);
        assert_string_equal(tensor_grad_fn_name(y), cases[c].with_bias);
        tensor_release(y);
        y = tensor_linear(eng, x, w, NULL);
        assert_string_equal(tensor_grad_fn_name(y), cases[c].without_bias);
        tensor_release(y);
        tensor_release(x);
    }
    /* a non-contiguous 3-D input takes matmul + add in PyTorch */
    Tensor *x = random_tensor(eng, 3, SHAPE(2, 4, 3), -1, 1, false);
    Tensor *xt = tensor_transpose(eng, x, 1, 2);
    Tensor *y = tensor_linear(eng, xt, w, b);
    assert_string_equal(tensor_grad_fn_name(y), "AddBackward0");
    tensor_release(y);
    tensor_release(xt);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

/* ---- linear forward ---- */

static void test_linear_values(void **state)
{
    Engine *eng = *state;
    /* PyTorch: F.linear(x, W, b) */
    Tensor *x = make_tensor(eng, 2, SHAPE(2, 3), VALUES(1, 2, 3, -1, 0.5f, 2));
    Tensor *w = make_tensor(eng, 2, SHAPE(2, 3), VALUES(0.1f, 0.2f, 0.3f, -0.5f, 0.4f, 1.0f));
    Tensor *b = make_tensor(eng, 1, SHAPE(2), VALUES(0.5f, -1));
    Tensor *y = tensor_linear(eng, x, w, b);
    assert_non_null(y);
    assert_shape(y, 2, SHAPE(2, 2));
    assert_tensor_close(y, VALUES(1.9f, 2.3f, 1.1f, 1.7f), 4, 1e-6);
    tensor_release(y);
    y = tensor_linear(eng, x, w, NULL);
    assert_tensor_close(y, VALUES(1.4f, 3.3f, 0.6f, 2.7f), 4, 1e-6);
    tensor_release(y);
    /* 1-D input: one sample */
    Tensor *x1 = tensor_select(eng, x, 0, 1);
    y = tensor_linear(eng, x1, w, b);
    assert_shape(y, 1, SHAPE(2));
    assert_tensor_close(y, VALUES(1.1f, 1.7f), 2, 1e-6);
    tensor_release(y);
    tensor_release(x1);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

/* linear(x, W, b) == x @ W.t() + b for every input rank and layout */
static void test_linear_matches_matmul(void **state)
{
    Engine *eng = *state;
    Tensor *w = random_tensor(eng, 2, SHAPE(3, 4), -1, 1, false);
    Tensor *b = random_tensor(eng, 1, SHAPE(3), -1, 1, false);
    Tensor *wt = tensor_t(eng, w);
    const struct { int nd; int64_t shape[4]; } inputs[] = {
        {1, {4}}, {2, {5, 4}}, {3, {2, 5, 4}}, {4, {2, 1, 3, 4}},
    };
    for (size_t c = 0; c < 4; c++) {
        Tensor *x = random_tensor(eng, inputs[c].nd, inputs[c].shape, -1, 1, false);
        Tensor *y = tensor_linear(eng, x, w, b);
        Tensor *xw = tensor_matmul(eng, x, wt);
        Tensor *expect = tensor_add(eng, xw, b);
        bool close = false;
        assert_true(tensor_allclose(eng, y, expect, 1e-5, 1e-6, &close));
        assert_true(close);
        assert_true(tensor_same_shape(y, expect));
        tensor_release(y);
        tensor_release(xw);
        tensor_release(expect);
        tensor_release(x);
    }
    /* transposed input and weight */
    Tensor *xt = transposed_leaf(eng, 5, 4);
    Tensor *w_alt = transposed_leaf(eng, 3, 4);
    Tensor *w_altt = tensor_t(eng, w_alt);
    Tensor *y = tensor_linear(eng, xt, w_alt, b);
    Tensor *xw = tensor_matmul(eng, xt, w_altt);
    Tensor *expect = tensor_add(eng, xw, b);
    bool close = false;
    assert_true(tensor_allclose(eng, y, expect, 1e-5, 1e-6, &close));
    assert_true(close);
    tensor_release(y);
    tensor_release(xw);
    tensor_release(expect);
    tensor_release(xt);
    tensor_release(w_alt);
    tensor_release(w_altt);
    tensor_release(wt);
    tensor_release(w);
    tensor_release(b);
}

static void test_linear_errors(void **state)
{
    Engine *eng = *state;
    Tensor *x = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(2, 3));
    Tensor *w = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(4, 5));
    Tensor *w3 = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(4, 3));
    Tensor *b = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(3));
    Tensor *xi = tensor_zeros(eng, DTYPE_INT64, 2, SHAPE(2, 3));
    assert_null(tensor_linear(eng, x, w, NULL));
    assert_string_equal(engine_error(eng), "mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)");
    assert_null(tensor_linear(eng, x, w3, b));
    assert_string_equal(engine_error(eng),
                        "linear shape mismatch: bias (3) does not match weight (4, 3) (expected 4 values)");
    assert_null(tensor_linear(eng, xi, w3, NULL));
    assert_string_equal(engine_error(eng),
                        "linear: expected float tensors, but the input is torch.int64 (convert it with .float())");
    tensor_release(x);
    tensor_release(w);
    tensor_release(w3);
    tensor_release(b);
    tensor_release(xi);
}

/* ---- gradients ---- */

static Tensor *matmul_fn(Engine *eng, Tensor **in, void *ctx)
{
    (void)ctx;
    return tensor_matmul(eng, in[0], in[1]);
}

static Tensor *mm_fn(Engine *eng, Tensor **in, void *ctx)
{
    (void)ctx;
    return tensor_mm(eng, in[0], in[1]);
}

static void test_matmul_gradients(void **state)
{
    Engine *eng = *state;
    const NameCase cases[] = {
        {1, {4}, 1, {4}, ""},
        {2, {3, 4}, 1, {4}, ""},
        {1, {3}, 2, {3, 4}, ""},
        {2, {3, 4}, 2, {4, 5}, ""},
        {3, {2, 3, 4}, 3, {2, 4, 5}, ""},
        {3, {2, 3, 4}, 2, {4, 5}, ""},      /* folded */
        {2, {3, 4}, 3, {2, 4, 5}, ""},      /* a broadcast over the batch */
        {3, {2, 3, 4}, 1, {4}, ""},
        {1, {4}, 3, {2, 4, 5}, ""},
        {3, {1, 3, 4}, 3, {2, 4, 2}, ""},   /* batch dim 1 broadcast */
        {4, {2, 1, 2, 3}, 3, {3, 3, 2}, ""},
        {4, {2, 2, 3, 4}, 4, {2, 2, 4, 5}, ""},
        {2, {1, 1}, 2, {1, 1}, ""},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *in[2] = {random_tensor(eng, cases[c].nda, cases[c].sa, -1, 1, true),
                         random_tensor(eng, cases[c].ndb, cases[c].sb, -1, 1, true)};
        assert_gradcheck(eng, matmul_fn, 2, in, NULL, NULL);
        tensor_release(in[0]);
        tensor_release(in[1]);
    }
    /* only one side requires grad */
    Tensor *in[2] = {random_tensor(eng, 3, SHAPE(2, 3, 4), -1, 1, false),
                     random_tensor(eng, 2, SHAPE(4, 2), -1, 1, true)};
    assert_gradcheck(eng, matmul_fn, 2, in, NULL, NULL);
    in[0]->requires_grad = true;
    in[1]->requires_grad = false;
    assert_gradcheck(eng, matmul_fn, 2, in, NULL, NULL);
    tensor_release(in[0]);
    tensor_release(in[1]);
}

static void test_matmul_gradients_non_contiguous(void **state)
{
    Engine *eng = *state;
    Tensor *in[2] = {transposed_leaf(eng, 3, 4), transposed_leaf(eng, 4, 2)};
    assert_gradcheck(eng, matmul_fn, 2, in, NULL, NULL);
    assert_gradcheck(eng, mm_fn, 2, in, NULL, NULL);
    tensor_release(in[1]);
    /* transposed 2-D against a batch, and a column vector leaf */
    in[1] = random_tensor(eng, 3, SHAPE(2, 4, 3), -1, 1, true);
    assert_gradcheck(eng, matmul_fn, 2, in, NULL, NULL);
    tensor_release(in[0]);
    tensor_release(in[1]);
}

/* (x.t() @ y[:, ::2]): views inside the graph */
static Tensor *views_then_matmul(Engine *eng, Tensor **in, void *ctx)
{
    (void)ctx;
    SliceSpec every_other = {false, false, 0, 0, 2};
    Tensor *xt = tensor_t(eng, in[0]);
    Tensor *ys = tensor_slice(eng, in[1], 1, every_other);
    Tensor *r = xt && ys ? tensor_matmul(eng, xt, ys) : NULL;
    tensor_release(xt);
    tensor_release(ys);
    return r;
}

static void test_matmul_gradients_through_views(void **state)
{
    Engine *eng = *state;
    Tensor *in[2] = {random_tensor(eng, 2, SHAPE(4, 3), -1, 1, true),
                     random_tensor(eng, 2, SHAPE(4, 5), -1, 1, true)};
    assert_gradcheck(eng, views_then_matmul, 2, in, NULL, NULL);
    tensor_release(in[0]);
    tensor_release(in[1]);
}

static Tensor *linear_fn(Engine *eng, Tensor **in, void *ctx)
{
    bool with_bias = *(bool *)ctx;
    return tensor_linear(eng, in[0], in[1], with_bias ? in[2] : NULL);
}

static void test_linear_gradients(void **state)
{
    Engine *eng = *state;
    const struct { int nd; int64_t shape[4]; } inputs[] = {
        {1, {4}}, {2, {5, 4}}, {3, {2, 3, 4}}, {4, {2, 1, 2, 4}},
    };
    for (size_t c = 0; c < 4; c++)
        for (int bias = 0; bias < 2; bias++) {
            bool with_bias = bias == 1;
            Tensor *in[3] = {random_tensor(eng, inputs[c].nd, inputs[c].shape, -1, 1, true),
                             random_tensor(eng, 2, SHAPE(3, 4), -1, 1, true),
                             random_tensor(eng, 1, SHAPE(3), -1, 1, true)};
            assert_gradcheck(eng, linear_fn, with_bias ? 3 : 2, in, &with_bias, NULL);
            for (int i = 0; i < 3; i++)
                tensor_release(in[i]);
        }
    /* non-contiguous input and weight; a leaf input that needs no grad */
    bool with_bias = true;
    Tensor *in[3] = {transposed_leaf(eng, 5, 4), transposed_leaf(eng, 3, 4),
                     random_tensor(eng, 1, SHAPE(3), -1, 1, true)};
    assert_gradcheck(eng, linear_fn, 3, in, &with_bias, NULL);
    in[0]->requires_grad = false;
    assert_gradcheck(eng, linear_fn, 3, in, &with_bias, NULL);
    for (int i = 0; i < 3; i++)
        tensor_release(in[i]);
}

/* The course's MLP layer sizes: one backward pass gives the same gradient
 * as linear built from matmul, t and add. */
static void test_linear_course_sizes_agree_with_composition(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 2, SHAPE(759, 8), -1, 1, false);
    Tensor *w = random_tensor(eng, 2, SHAPE(6, 8), -0.35, 0.35, true);
    Tensor *b = random_tensor(eng, 1, SHAPE(6), -0.35, 0.35, true);
    Tensor *y = tensor_linear(eng, x, w, b);
    Tensor *s = tensor_sum(eng, y);
    assert_true(autograd_backward(eng, s, false));
    Tensor *gw = tensor_retain(w->grad), *gb = tensor_retain(b->grad);
    tensor_release(w->grad);
    tensor_release(b->grad);
    w->grad = b->grad = NULL;
    Tensor *wt = tensor_t(eng, w);
    Tensor *xw = tensor_matmul(eng, x, wt);
    Tensor *y2 = tensor_add(eng, xw, b);
    Tensor *s2 = tensor_sum(eng, y2);
    assert_true(autograd_backward(eng, s2, false));
    bool close = false;
    assert_true(tensor_allclose(eng, y, y2, 1e-5, 1e-5, &close));
    assert_true(close);
    assert_true(tensor_allclose(eng, gw, w->grad, 1e-5, 1e-4, &close));
    assert_true(close);
    assert_true(tensor_allclose(eng, gb, b->grad, 1e-5, 1e-4, &close));
    assert_true(close);
    /* dL/db = number of rows for L = Σ y */
    assert_tensor_close(gb, VALUES(759, 759, 759, 759, 759, 759), 6, 1e-6);
    Tensor *objs[] = {x, w, b, y, s, gw, gb, wt, xw, y2, s2};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        tensor_release(objs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mm_values),
        cmocka_unit_test(test_matmul_vector_cases),
        cmocka_unit_test(test_matmul_batched_values),
        cmocka_unit_test(test_matmul_broadcasts_batch_dims),
        cmocka_unit_test(test_matmul_non_contiguous_operands),
        cmocka_unit_test(test_matmul_empty_and_integer),
        cmocka_unit_test(test_matmul_errors),
        cmocka_unit_test(test_matmul_grad_fn_names),
        cmocka_unit_test(test_linear_grad_fn_names),
        cmocka_unit_test(test_linear_values),
        cmocka_unit_test(test_linear_matches_matmul),
        cmocka_unit_test(test_linear_errors),
        cmocka_unit_test(test_matmul_gradients),
        cmocka_unit_test(test_matmul_gradients_non_contiguous),
        cmocka_unit_test(test_matmul_gradients_through_views),
        cmocka_unit_test(test_linear_gradients),
        cmocka_unit_test(test_linear_course_sizes_agree_with_composition),
    };
    return cmocka_run_group_tests(tests, engine_setup, NULL);
}

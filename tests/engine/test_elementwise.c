/* Elementwise ops and reductions: forward values, broadcasting, dtypes,
 * gradients by central differences, and errors. */
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "gradcheck.h"

/* ---- forward values ---- */

static void test_add_broadcasts_row_and_column(void **state)
{
    Engine *eng = *state;
    Tensor *col = make_tensor(eng, 2, SHAPE(3, 1), VALUES(1, 2, 3));
    Tensor *row = make_tensor(eng, 1, SHAPE(2), VALUES(10, 20));
    Tensor *sum = tensor_add(eng, col, row);
    assert_non_null(sum);
    assert_shape(sum, 2, SHAPE(3, 2));
    assert_tensor_close(sum, VALUES(11, 21, 12, 22, 13, 23), 6, 0);
    tensor_release(sum);
    tensor_release(col);
    tensor_release(row);
}

static void test_binary_ops_values(void **state)
{
    Engine *eng = *state;
    Tensor *a = make_tensor(eng, 1, SHAPE(4), VALUES(-7, -1.5f, 2, 9));
    Tensor *b = make_tensor(eng, 1, SHAPE(4), VALUES(2, 2, -4, 4));
    Tensor *r;
    r = tensor_sub(eng, a, b);
    assert_tensor_close(r, VALUES(-9, -3.5f, 6, 5), 4, 0);
    tensor_release(r);
    r = tensor_mul(eng, a, b);
    assert_tensor_close(r, VALUES(-14, -3, -8, 36), 4, 0);
    tensor_release(r);
    r = tensor_div(eng, a, b);
    assert_tensor_close(r, VALUES(-3.5f, -0.75f, -0.5f, 2.25f), 4, 1e-7);
    tensor_release(r);
    r = tensor_floor_div(eng, a, b);
    assert_tensor_close(r, VALUES(-4, -1, -1, 2), 4, 0);
    tensor_release(r);
    r = tensor_remainder(eng, a, b); /* Python's sign rule: follows the divisor */
    assert_tensor_close(r, VALUES(1, 0.5f, -2, 1), 4, 0);
    tensor_release(r);
    r = tensor_pow_scalar(eng, b, 3);
    assert_tensor_close(r, VALUES(8, 8, -64, 64), 4, 0);
    tensor_release(r);
    r = tensor_compare(eng, CMP_GT, a, b);
    assert_int_equal(r->dtype, DTYPE_BOOL);
    assert_tensor_close(r, VALUES(0, 0, 1, 1), 4, 0);
    tensor_release(r);
    tensor_release(a);
    tensor_release(b);
}

static void test_unary_values(void **state)
{
    Engine *eng = *state;
    Tensor *x = make_tensor(eng, 1, SHAPE(3), VALUES(-1, 0, 2));
    Tensor *r = tensor_sigmoid(eng, x);
    assert_tensor_close(r, VALUES(0.26894142f, 0.5f, 0.88079708f), 3, 1e-6);
    tensor_release(r);
    r = tensor_relu(eng, x);
    assert_tensor_close(r, VALUES(0, 0, 2), 3, 0);
    tensor_release(r);
    r = tensor_tanh(eng, x);
    assert_tensor_close(r, VALUES(-0.76159416f, 0, 0.96402758f), 3, 1e-6);
    tensor_release(r);
    r = tensor_clamp(eng, x, true, -0.5, true, 1.0);
    assert_tensor_close(r, VALUES(-0.5f, 0, 1), 3, 0);
    tensor_release(r);
    r = tensor_abs(eng, x);
    assert_tensor_close(r, VALUES(1, 0, 2), 3, 0);
    tensor_release(r);
    r = tensor_exp(eng, x);
    assert_tensor_close(r, VALUES(0.36787944f, 1, 7.3890561f), 3, 1e-6);
    tensor_release(r);
    tensor_release(x);
}

static void test_sigmoid_saturates_without_nan(void **state)
{
    Engine *eng = *state;
    Tensor *x = make_tensor(eng, 1, SHAPE(2), VALUES(-200, 200));
    Tensor *r = tensor_sigmoid(eng, x);
    assert_tensor_close(r, VALUES(0, 1), 2, 0);
    tensor_release(r);
    tensor_release(x);
}

static void test_dtype_promotion(void **state)
{
    Engine *eng = *state;
    Tensor *i = tensor_arange(eng, 0, 3, 1, DTYPE_INT64);
    Tensor *two = tensor_scalar(eng, DTYPE_INT64, 2);
    Tensor *half = tensor_scalar(eng, DTYPE_FLOAT32, 0.5);
    two->is_wrapped_number = half->is_wrapped_number = true;
    Tensor *r = tensor_mul(eng, i, two);
    assert_int_equal(r->dtype, DTYPE_INT64);
    tensor_release(r);
    r = tensor_mul(eng, i, half);
    assert_int_equal(r->dtype, DTYPE_FLOAT32);
    tensor_release(r);
    r = tensor_div(eng, i, two);
    assert_int_equal(r->dtype, DTYPE_FLOAT32);
    assert_tensor_close(r, VALUES(0, 0.5f, 1), 3, 0);
    tensor_release(r);
    r = tensor_sum(eng, i);
    assert_int_equal(r->dtype, DTYPE_INT64);
    tensor_release(r);
    assert_null(tensor_mean(eng, i));
    assert_non_null(strstr(engine_error(eng), "mean(): could not infer output dtype"));
    tensor_release(i);
    tensor_release(two);
    tensor_release(half);
}

static void test_integer_division_by_zero_is_an_error(void **state)
{
    Engine *eng = *state;
    Tensor *i = tensor_arange(eng, 0, 3, 1, DTYPE_INT64);
    Tensor *zero = tensor_scalar(eng, DTYPE_INT64, 0);
    assert_null(tensor_floor_div(eng, i, zero));
    assert_string_equal(engine_error(eng), "integer division by zero");
    tensor_release(i);
    tensor_release(zero);
}

static void test_broadcast_mismatch_message(void **state)
{
    Engine *eng = *state;
    Tensor *a = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(3, 2));
    Tensor *b = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(3));
    assert_null(tensor_add(eng, a, b));
    assert_string_equal(engine_error(eng),
                        "add: shapes (3, 2) and (3) cannot be broadcast together (dimension 1: 2 vs 3)");
    tensor_release(a);
    tensor_release(b);
}

static void test_reductions_values(void **state)
{
    Engine *eng = *state;
    Tensor *x = make_tensor(eng, 2, SHAPE(2, 3), VALUES(1, 5, 3, 4, 2, 6));
    Tensor *r = tensor_sum_dim(eng, x, 0, false);
    assert_shape(r, 1, SHAPE(3));
    assert_tensor_close(r, VALUES(5, 7, 9), 3, 0);
    tensor_release(r);
    r = tensor_mean_dim(eng, x, -1, true);
    assert_shape(r, 2, SHAPE(2, 1));
    assert_tensor_close(r, VALUES(3, 4), 2, 1e-7);
    tensor_release(r);
    Tensor *values, *indices;
    assert_true(tensor_max_dim(eng, x, 1, false, &values, &indices));
    assert_tensor_close(values, VALUES(5, 6), 2, 0);
    assert_tensor_close(indices, VALUES(1, 2), 2, 0);
    assert_int_equal(indices->dtype, DTYPE_INT64);
    tensor_release(values);
    tensor_release(indices);
    r = tensor_argmax(eng, x);
    assert_int_equal(r->ndim, 0);
    assert_tensor_close(r, VALUES(5), 1, 0);
    tensor_release(r);
    r = tensor_min(eng, x);
    assert_tensor_close(r, VALUES(1), 1, 0);
    tensor_release(r);
    assert_null(tensor_sum_dim(eng, x, 2, false));
    assert_string_equal(engine_error(eng),
                        "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    tensor_release(x);
}

/* ---- gradients ---- */

typedef struct UnaryCase {
    const char *name;
    Tensor *(*fn)(Engine *, Tensor *);
    double lo, hi;
} UnaryCase;

static Tensor *call_unary(Engine *eng, Tensor **in, void *ctx)
{
    return ((const UnaryCase *)ctx)->fn(eng, in[0]);
}

static void test_unary_gradients(void **state)
{
    Engine *eng = *state;
    /* Ranges keep away from kinks (abs, relu, clamp at 0) by less than ε. */
    const UnaryCase cases[] = {
        {"neg", tensor_neg, -2, 2},      {"exp", tensor_exp, -2, 2},
        {"log", tensor_log, 0.5, 3},     {"sqrt", tensor_sqrt, 0.5, 3},
        {"abs", tensor_abs, 0.1, 2},     {"tanh", tensor_tanh, -2, 2},
        {"sigmoid", tensor_sigmoid, -3, 3}, {"relu", tensor_relu, 0.1, 2},
    };
    const int64_t shapes[][3] = {{1, 5, 0}, {2, 3, 4}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t s = 0; s < 2; s++) {
            int nd = shapes[s][2] ? 3 : 2;
            Tensor *x = random_tensor(eng, nd, shapes[s], cases[c].lo, cases[c].hi, true);
            assert_gradcheck(eng, call_unary, 1, &x, (void *)&cases[c], NULL);
            tensor_release(x);
        }
    /* relu and abs on the negative side */
    Tensor *x = random_tensor(eng, 1, SHAPE(6), -2, -0.1, true);
    UnaryCase relu = {"relu", tensor_relu, 0, 0}, abs_case = {"abs", tensor_abs, 0, 0};
    assert_gradcheck(eng, call_unary, 1, &x, &relu, NULL);
    assert_gradcheck(eng, call_unary, 1, &x, &abs_case, NULL);
    tensor_release(x);
}

typedef Tensor *(*BinaryFn)(Engine *, Tensor *, Tensor *);

static Tensor *call_binary(Engine *eng, Tensor **in, void *ctx)
{
    return (*(BinaryFn *)ctx)(eng, in[0], in[1]);
}

static void test_binary_gradients_with_broadcasting(void **state)
{
    Engine *eng = *state;
    BinaryFn fns[] = {tensor_add, tensor_sub, tensor_mul, tensor_div, tensor_pow};
    /* (shape a, shape b): same, row, column, scalar, leading dims */
    const int64_t sa[][4] = {{2, 3}, {2, 3}, {2, 3}, {2, 3}, {3}, {2, 1, 3}};
    const int64_t sb[][4] = {{2, 3}, {3}, {2, 1}, {1}, {2, 3}, {4, 1}};
    const int nda[] = {2, 2, 2, 2, 1, 3}, ndb[] = {2, 1, 2, 1, 2, 2};
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++)
        for (size_t s = 0; s < 6; s++) {
            Tensor *in[2] = {random_tensor(eng, nda[s], sa[s], 0.5, 2.0, true),
                             random_tensor(eng, ndb[s], sb[s], 0.5, 2.0, true)};
            assert_gradcheck(eng, call_binary, 2, in, &fns[f], NULL);
            tensor_release(in[0]);
            tensor_release(in[1]);
        }
}

static Tensor *pow_scalar_fn(Engine *eng, Tensor **in, void *ctx)
{
    return tensor_pow_scalar(eng, in[0], *(double *)ctx);
}

static Tensor *rpow_fn(Engine *eng, Tensor **in, void *ctx)
{
    return tensor_rpow_scalar(eng, *(double *)ctx, in[0]);
}

static Tensor *clamp_fn(Engine *eng, Tensor **in, void *ctx)
{
    (void)ctx;
    return tensor_clamp(eng, in[0], true, -0.5, true, 0.5);
}

static void test_scalar_pow_and_clamp_gradients(void **state)
{
    Engine *eng = *state;
    double exponents[] = {2, 3, 0.5, -1, 0};
    for (size_t i = 0; i < 5; i++) {
        Tensor *x = random_tensor(eng, 2, SHAPE(3, 2), 0.5, 2, true);
        assert_gradcheck(eng, pow_scalar_fn, 1, &x, &exponents[i], NULL);
        tensor_release(x);
    }
    double base = 2.0;
    Tensor *x = random_tensor(eng, 1, SHAPE(4), -1, 1, true);
    assert_gradcheck(eng, rpow_fn, 1, &x, &base, NULL);
    tensor_release(x);
    /* clamp: values kept away from the bounds by more than ε */
    x = make_tensor(eng, 1, SHAPE(5), VALUES(-1.2f, -0.3f, 0.1f, 0.4f, 0.9f));
    x->requires_grad = true;
    assert_gradcheck(eng, clamp_fn, 1, &x, NULL, NULL);
    tensor_release(x);
}

typedef struct ReduceCase {
    int kind; /* 0 sum, 1 mean, 2 max dim, 3 min dim, 4 max all, 5 min all */
    bool has_dim;
    int64_t dim;
    bool keepdim;
} ReduceCase;

static Tensor *call_reduce(Engine *eng, Tensor **in, void *ctx)
{
    const ReduceCase *c = ctx;
    Tensor *v = NULL, *idx = NULL;
    switch (c->kind) {
    case 0:
        return c->has_dim ? tensor_sum_dim(eng, in[0], c->dim, c->keepdim) : tensor_sum(eng, in[0]);
    case 1:
        return c->has_dim ? tensor_mean_dim(eng, in[0], c->dim, c->keepdim) : tensor_mean(eng, in[0]);
    case 2:
    case 3:
        if (c->kind == 2)
            tensor_max_dim(eng, in[0], c->dim, c->keepdim, &v, &idx);
        else
            tensor_min_dim(eng, in[0], c->dim, c->keepdim, &v, &idx);
        tensor_release(idx);
        return v;
    case 4:
        return tensor_max(eng, in[0]);
    default:
        return tensor_min(eng, in[0]);
    }
}

static void test_reduction_gradients(void **state)
{
    Engine *eng = *state;
    const ReduceCase cases[] = {
        {0, false, 0, false}, {0, true, 0, false}, {0, true, -1, true}, {0, true, 1, false},
        {1, false, 0, false}, {1, true, 0, true},  {1, true, 2, false},
        {2, true, 1, false},  {2, true, -1, true}, {3, true, 0, false},
        {4, false, 0, false}, {5, false, 0, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* distinct values, so max/min are unique and ε does not change them */
        Tensor *perm = tensor_randperm(eng, 24);
        Tensor *in = tensor_empty(eng, DTYPE_FLOAT32, 3, SHAPE(2, 3, 4));
        for (int64_t k = 0; k < 24; k++)
            tensor_data(in)[k] = tensor_get_flat(perm, k) / 4.0f;
        in->requires_grad = true;
        assert_gradcheck(eng, call_reduce, 1, &in, (void *)&cases[c], NULL);
        tensor_release(in);
        tensor_release(perm);
    }
}

static void test_remainder_gradient(void **state)
{
    Engine *eng = *state;
    /* a / b kept away from integers, where the remainder jumps */
    Tensor *in[2] = {make_tensor(eng, 1, SHAPE(4), VALUES(5.3f, -2.6f, 7.9f, 0.4f)),
                     make_tensor(eng, 1, SHAPE(4), VALUES(2.0f, 1.5f, -3.0f, 0.9f))};
    in[0]->requires_grad = in[1]->requires_grad = true;
    BinaryFn fn = tensor_remainder;
    assert_gradcheck(eng, call_binary, 2, in, &fn, NULL);
    Tensor *r = tensor_remainder(eng, in[0], in[1]);
    assert_string_equal(tensor_grad_fn_name(r), "RemainderBackward0");
    tensor_release(r);
    tensor_release(in[0]);
    tensor_release(in[1]);
}

static void test_max_all_shares_gradient_between_ties(void **state)
{
    Engine *eng = *state;
    Tensor *x = make_tensor(eng, 1, SHAPE(4), VALUES(3, 1, 3, 2));
    x->requires_grad = true;
    Tensor *m = tensor_max(eng, x);
    assert_true(autograd_backward(eng, m, false));
    assert_tensor_close(x->grad, VALUES(0.5f, 0, 0.5f, 0), 4, 0);
    tensor_release(m);
    tensor_release(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_broadcasts_row_and_column),
        cmocka_unit_test(test_binary_ops_values),
        cmocka_unit_test(test_unary_values),
        cmocka_unit_test(test_sigmoid_saturates_without_nan),
        cmocka_unit_test(test_dtype_promotion),
        cmocka_unit_test(test_integer_division_by_zero_is_an_error),
        cmocka_unit_test(test_broadcast_mismatch_message),
        cmocka_unit_test(test_reductions_values),
        cmocka_unit_test(test_unary_gradients),
        cmocka_unit_test(test_binary_gradients_with_broadcasting),
        cmocka_unit_test(test_scalar_pow_and_clamp_gradients),
        cmocka_unit_test(test_reduction_gradients),
        cmocka_unit_test(test_remainder_gradient),
        cmocka_unit_test(test_max_all_shares_gradient_between_ties),
    };
    return cmocka_run_group_tests(tests, engine_setup, NULL);
}

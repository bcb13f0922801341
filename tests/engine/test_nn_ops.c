/* Neural-network ops: softmax, losses, conv2d, max_pool2d, dropout. Forward
 * values against PyTorch 1.13 (nn_ops_reference.h, from gen/nn_ops_reference.py),
 * gradients by central differences, grad_fn names and error messages. */
#include <math.h>
#include <string.h>

#include "conv_fast.h"
#include "fixture.h"
#include "gradcheck.h"
#include "nn_ops_reference.h"

/* A fresh engine per test. */
static Tensor *int_tensor(Engine *eng, int ndim, const int64_t *shape, const double *values)
{
    Tensor *t = tensor_from_doubles(eng, DTYPE_INT64, ndim, shape, values, shape_numel(ndim, shape));
    assert_non_null(t);
    return t;
}

#define INTS(...) ((const double[]){__VA_ARGS__})

static void check_and_release(Tensor *t, const float *expected, int64_t n, double tol)
{
    assert_non_null(t);
    assert_tensor_close(t, expected, n, tol);
    tensor_release(t);
}

static void assert_error_contains(Engine *eng, Tensor *result, const char *text)
{
    assert_null(result);
    if (!strstr(engine_error(eng), text)) {
        print_error("error \"%s\" does not contain \"%s\"\n", engine_error(eng), text);
        fail();
    }
}

/* ---- softmax ---- */

static void test_softmax_values(void **state)
{
    Engine *eng = *state;
    Tensor *x = wave(eng, 3, SHAPE(2, 3, 4), 0.9, 0.1, 3.0, 0.0);
    check_and_release(tensor_softmax(eng, x, 1), REF_SOFTMAX_DIM1, 24, 1e-6);
    check_and_release(tensor_softmax(eng, x, 0), REF_SOFTMAX_DIM0, 24, 1e-6);
    check_and_release(tensor_log_softmax(eng, x, 2), REF_LOG_SOFTMAX_DIM2, 24, 1e-6);
    check_and_release(tensor_log_softmax(eng, x, -3), REF_LOG_SOFTMAX_DIMM3, 24, 1e-6);
    tensor_release(x);
}

static void test_softmax_is_stable_for_large_inputs(void **state)
{
    Engine *eng = *state;
    Tensor *x = make_tensor(eng, 1, SHAPE(3), VALUES(1000, 1001, 1002));
    check_and_release(tensor_softmax(eng, x, 0), VALUES(0.09003057f, 0.24472847f, 0.66524096f), 3, 1e-6);
    check_and_release(tensor_log_softmax(eng, x, -1), VALUES(-2.40760596f, -1.40760596f, -0.40760596f),
                      3, 1e-6);
    tensor_release(x);
}

static Tensor *softmax_fn(Engine *eng, Tensor **in, void *ctx)
{
    return tensor_softmax(eng, in[0], *(int *)ctx);
}

static Tensor *log_softmax_fn(Engine *eng, Tensor **in, void *ctx)
{
    return tensor_log_softmax(eng, in[0], *(int *)ctx);
}

static void test_softmax_gradients(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 3, SHAPE(2, 3, 4), -2, 2, true);
    for (int dim = -1; dim < 3; dim++) {
        assert_gradcheck(eng, softmax_fn, 1, &x, &dim, NULL);
        assert_gradcheck(eng, log_softmax_fn, 1, &x, &dim, NULL);
    }
    tensor_release(x);
}

static void test_softmax_grad_fn_and_errors(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 2, SHAPE(2, 3), -1, 1, true);
    Tensor *y = tensor_softmax(eng, x, 1);
    assert_string_equal(tensor_grad_fn_name(y), "SoftmaxBackward0");
    tensor_release(y);
    y = tensor_log_softmax(eng, x, 1);
    assert_string_equal(tensor_grad_fn_name(y), "LogSoftmaxBackward0");
    tensor_release(y);
    assert_error_contains(eng, tensor_softmax(eng, x, 2),
                          "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    Tensor *i = tensor_arange(eng, 0, 3, 1, DTYPE_INT64);
    assert_error_contains(eng, tensor_softmax(eng, i, 0),
                          "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'");
    tensor_release(i);
    tensor_release(x);
}

/* ---- losses: values ---- */

static void test_mse_values(void **state)
{
    Engine *eng = *state;
    Tensor *x = wave(eng, 2, SHAPE(4, 3), 0.7, 0.2, 1, 0);
    Tensor *t = wave(eng, 2, SHAPE(4, 3), 1.3, -0.4, 1, 0);
    Tensor *r = tensor_mse_loss(eng, x, t, REDUCTION_NONE);
    assert_shape(r, 2, SHAPE(4, 3));
    check_and_release(r, REF_MSE_NONE, 12, 1e-6);
    r = tensor_mse_loss(eng, x, t, REDUCTION_MEAN);
    assert_int_equal(r->ndim, 0);
    check_and_release(r, REF_MSE_MEAN, 1, 1e-6);
    check_and_release(tensor_mse_loss(eng, x, t, REDUCTION_SUM), REF_MSE_SUM, 1, 1e-6);
    Tensor *row = wave(eng, 1, SHAPE(3), 1.1, 0.5, 1, 0);
    check_and_release(tensor_mse_loss(eng, x, row, REDUCTION_MEAN), REF_MSE_BROADCAST_MEAN, 1, 1e-6);
    tensor_release(row);
    tensor_release(x);
    tensor_release(t);
}

static Tensor *bce_inputs(Engine *eng)
{
    Tensor *x = wave(eng, 2, SHAPE(2, 3), 1.7, 0.3, 0.45, 0.5);
    tensor_data(x)[0] = 0.0f;
    tensor_data(x)[5] = 1.0f;
    return x;
}

static void test_bce_values_clamp_logs_at_minus_100(void **state)
{
    Engine *eng = *state;
    Tensor *x = bce_inputs(eng);
    Tensor *t = make_tensor(eng, 2, SHAPE(2, 3), VALUES(1, 0.2f, 0.7f, 0, 1, 0));
    check_and_release(tensor_bce_loss(eng, x, t, REDUCTION_NONE), REF_BCE_NONE, 6, 1e-6);
    check_and_release(tensor_bce_loss(eng, x, t, REDUCTION_MEAN), REF_BCE_MEAN, 1, 1e-6);
    check_and_release(tensor_bce_loss(eng, x, t, REDUCTION_SUM), REF_BCE_SUM, 1, 1e-6);
    assert_float_equal(REF_BCE_NONE[0], 100.0f, 1e-4); /* x = 0, t = 1: -log 0 clamped */
    tensor_release(x);
    tensor_release(t);
}

static void test_nll_values(void **state)
{
    Engine *eng = *state;
    Tensor *x = wave(eng, 2, SHAPE(4, 5), 0.55, 0.0, 1, 0);
    Tensor *t = int_tensor(eng, 1, SHAPE(4), INTS(1, 4, 0, -100)); /* -100 is ignored */
    Tensor *r = tensor_nll_loss(eng, x, t, REDUCTION_NONE);
    assert_shape(r, 1, SHAPE(4));
    check_and_release(r, REF_NLL_NONE, 4, 1e-6);
    check_and_release(tensor_nll_loss(eng, x, t, REDUCTION_MEAN), REF_NLL_MEAN, 1, 1e-6);
    check_and_release(tensor_nll_loss(eng, x, t, REDUCTION_SUM), REF_NLL_SUM, 1, 1e-6);
    Tensor *row = tensor_select(eng, x, 0, 0);
    Tensor *three = tensor_scalar(eng, DTYPE_INT64, 3);
    r = tensor_nll_loss(eng, row, three, REDUCTION_MEAN);
    assert_int_equal(r->ndim, 0);
    check_and_release(r, REF_NLL_1D, 1, 1e-6);
    tensor_release(row);
    tensor_release(three);
    tensor_release(x);
    tensor_release(t);
}

static void test_cross_entropy_values_and_gradient(void **state)
{
    Engine *eng = *state;
    Tensor *x = wave(eng, 2, SHAPE(4, 5), 0.81, 0.6, 2, 0);
    x->requires_grad = true;
    Tensor *t = int_tensor(eng, 1, SHAPE(4), INTS(3, 0, 4, 2));
    check_and_release(tensor_cross_entropy(eng, x, t, REDUCTION_NONE), REF_CE_NONE, 4, 1e-6);
    check_and_release(tensor_cross_entropy(eng, x, t, REDUCTION_SUM), REF_CE_SUM, 1, 1e-6);
    Tensor *loss = tensor_cross_entropy(eng, x, t, REDUCTION_MEAN);
    assert_non_null(loss);
    assert_tensor_close(loss, REF_CE_MEAN, 1, 1e-6);
    assert_string_equal(tensor_grad_fn_name(loss), "NllLossBackward0");
    assert_true(autograd_backward(eng, loss, false));
    assert_tensor_close(x->grad, REF_CE_MEAN_GRAD, 20, 1e-6);
    tensor_release(loss);
    Tensor *ignoring = int_tensor(eng, 1, SHAPE(4), INTS(3, -100, 4, 2));
    check_and_release(tensor_cross_entropy(eng, x, ignoring, REDUCTION_MEAN), REF_CE_IGNORE_MEAN, 1, 1e-6);
    tensor_release(ignoring);
    tensor_release(x);
    tensor_release(t);
}

/* ---- losses: gradients ---- */

typedef struct LossCase {
    Tensor *(*loss)(Engine *, Tensor *, Tensor *, int);
    int reduction;
} LossCase;

static Tensor *loss_fn(Engine *eng, Tensor **in, void *ctx)
{
    const LossCase *c = ctx;
    return c->loss(eng, in[0], in[1], c->reduction);
}

static const int REDUCTIONS[3] = {REDUCTION_NONE, REDUCTION_MEAN, REDUCTION_SUM};

static void test_mse_gradients(void **state)
{
    Engine *eng = *state;
    Tensor *in[2] = {random_tensor(eng, 2, SHAPE(3, 4), -1, 1, true),
                     random_tensor(eng, 2, SHAPE(3, 4), -1, 1, true)};
    for (int r = 0; r < 3; r++) {
        LossCase c = {tensor_mse_loss, REDUCTIONS[r]};
        assert_gradcheck(eng, loss_fn, 2, in, &c, NULL);
    }
    /* a broadcast target: its gradient is summed over the broadcast rows */
    Tensor *bin[2] = {in[0], random_tensor(eng, 1, SHAPE(4), -1, 1, true)};
    LossCase c = {tensor_mse_loss, REDUCTION_MEAN};
    assert_gradcheck(eng, loss_fn, 2, bin, &c, NULL);
    tensor_release(bin[1]);
    tensor_release(in[0]);
    tensor_release(in[1]);
}

static void test_bce_gradients(void **state)
{
    Engine *eng = *state;
    Tensor *in[2] = {random_tensor(eng, 2, SHAPE(3, 4), 0.1, 0.9, true),
                     random_tensor(eng, 2, SHAPE(3, 4), 0, 1, true)};
    GradcheckOptions opt = {1e-3, 5e-3, 5e-3}; /* log has curvature near 0.1: smaller steps */
    for (int r = 0; r < 3; r++) {
        LossCase c = {tensor_bce_loss, REDUCTIONS[r]};
        assert_gradcheck(eng, loss_fn, 2, in, &c, &opt);
    }
    tensor_release(in[0]);
    tensor_release(in[1]);
}

static void test_nll_and_cross_entropy_gradients(void **state)
{
    Engine *eng = *state;
    Tensor *in[2] = {random_tensor(eng, 2, SHAPE(5, 4), -2, 2, true),
                     int_tensor(eng, 1, SHAPE(5), INTS(0, 3, -100, 1, 3))};
    for (int r = 0; r < 3; r++) {
        LossCase nll = {tensor_nll_loss, REDUCTIONS[r]};
        assert_gradcheck(eng, loss_fn, 2, in, &nll, NULL);
        LossCase ce = {tensor_cross_entropy, REDUCTIONS[r]};
        assert_gradcheck(eng, loss_fn, 2, in, &ce, NULL);
    }
    /* a single sample: input (C), 0-d target */
    Tensor *one[2] = {random_tensor(eng, 1, SHAPE(4), -2, 2, true), tensor_scalar(eng, DTYPE_INT64, 2)};
    LossCase ce = {tensor_cross_entropy, REDUCTION_MEAN};
    assert_gradcheck(eng, loss_fn, 2, one, &ce, NULL);
    tensor_release(one[0]);
    tensor_release(one[1]);
    tensor_release(in[0]);
    tensor_release(in[1]);
}

static void test_loss_grad_fn_names(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 2, SHAPE(2, 3), 0.2, 0.8, true);
    Tensor *p = random_tensor(eng, 2, SHAPE(2, 3), 0, 1, false);
    Tensor *t = int_tensor(eng, 1, SHAPE(2), INTS(0, 2));
    Tensor *r = tensor_mse_loss(eng, x, p, REDUCTION_NONE);
    assert_string_equal(tensor_grad_fn_name(r), "MseLossBackward0");
    tensor_release(r);
    r = tensor_bce_loss(eng, x, p, REDUCTION_MEAN);
    assert_string_equal(tensor_grad_fn_name(r), "BinaryCrossEntropyBackward0");
    tensor_release(r);
    r = tensor_nll_loss(eng, x, t, REDUCTION_SUM);
    assert_string_equal(tensor_grad_fn_name(r), "NllLossBackward0");
    tensor_release(r);
    tensor_release(x);
    tensor_release(p);
    tensor_release(t);
}

static void test_loss_errors(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 2, SHAPE(4, 3), 0.1, 0.9, false);
    Tensor *bad = make_tensor(eng, 1, SHAPE(2), VALUES(1.5f, 0.2f));
    Tensor *two = make_tensor(eng, 1, SHAPE(2), VALUES(1, 0));
    assert_error_contains(eng, tensor_bce_loss(eng, bad, two, REDUCTION_MEAN),
                          "all elements of input should be between 0 and 1");
    assert_error_contains(eng, tensor_bce_loss(eng, x, two, REDUCTION_MEAN),
                          "Using a target size (torch.Size([2])) that is different to the input size "
                          "(torch.Size([4, 3])) is deprecated");
    Tensor *rows5 = random_tensor(eng, 2, SHAPE(5, 3), 0, 1, false);
    assert_error_contains(eng, tensor_mse_loss(eng, x, rows5, REDUCTION_MEAN),
                          "The size of tensor a (4) must match the size of tensor b (5) at "
                          "non-singleton dimension 0");
    assert_error_contains(eng, tensor_mse_loss(eng, x, x, 7), "7 is not a valid value for reduction");
    Tensor *t = int_tensor(eng, 1, SHAPE(4), INTS(0, 5, 1, 1));
    assert_error_contains(eng, tensor_nll_loss(eng, x, t, REDUCTION_MEAN), "Target 5 is out of bounds.");
    assert_error_contains(eng, tensor_cross_entropy(eng, x, t, REDUCTION_MEAN), "Target 5 is out of bounds.");
    Tensor *t3 = int_tensor(eng, 1, SHAPE(3), INTS(0, 1, 1));
    assert_error_contains(eng, tensor_cross_entropy(eng, x, t3, REDUCTION_MEAN),
                          "Expected input batch_size (4) to match target batch_size (3).");
    Tensor *ft = make_tensor(eng, 1, SHAPE(4), VALUES(0, 1, 1, 1));
    assert_error_contains(eng, tensor_nll_loss(eng, x, ft, REDUCTION_MEAN),
                          "expected scalar type Long but found Float");
    tensor_release(ft);
    tensor_release(t3);
    tensor_release(t);
    tensor_release(rows5);
    tensor_release(bad);
    tensor_release(two);
    tensor_release(x);
}

/* ---- conv2d ---- */

static void test_conv2d_values(void **state)
{
    Engine *eng = *state;
    Tensor *x = wave(eng, 4, SHAPE(2, 3, 7, 6), 0.37, 0.1, 1, 0);
    Tensor *w = wave(eng, 4, SHAPE(4, 3, 3, 3), 0.61, 0.5, 0.3, 0);
    Tensor *b = wave(eng, 1, SHAPE(4), 1.9, 0.2, 0.5, 0);
    Tensor *y = tensor_conv2d(eng, x, w, b, 2, 1);
    assert_shape(y, 4, SHAPE(2, 4, 4, 3));
    check_and_release(y, REF_CONV_S2P1, 96, 1e-5);
    y = tensor_conv2d(eng, x, w, b, 1, 0);
    assert_shape(y, 4, SHAPE(2, 4, 5, 4));
    check_and_release(y, REF_CONV_S1P0, 160, 1e-5);
    Tensor *x0 = tensor_select(eng, x, 0, 0);
    y = tensor_conv2d(eng, x0, w, NULL, 1, 2);
    assert_shape(y, 3, SHAPE(4, 9, 8));
    check_and_release(y, REF_CONV_UNBATCHED_S1P2, 288, 1e-5);
    tensor_release(x0);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

static void test_conv2d_gradient_matches_pytorch(void **state)
{
    Engine *eng = *state;
    Tensor *x = wave(eng, 4, SHAPE(2, 3, 7, 6), 0.37, 0.1, 1, 0);
    Tensor *w = wave(eng, 4, SHAPE(4, 3, 3, 3), 0.61, 0.5, 0.3, 0);
    Tensor *b = wave(eng, 1, SHAPE(4), 1.9, 0.2, 0.5, 0);
    x->requires_grad = w->requires_grad = b->requires_grad = true;
    Tensor *y = tensor_conv2d(eng, x, w, b, 2, 1);
    assert_string_equal(tensor_grad_fn_name(y), "ConvolutionBackward0");
    Tensor *r = wave(eng, 4, SHAPE(2, 4, 4, 3), 0.23, 0.9, 1, 0);
    Tensor *yr = tensor_mul(eng, y, r);
    Tensor *loss = tensor_sum(eng, yr);
    assert_true(autograd_backward(eng, loss, false));
    assert_tensor_close(x->grad, REF_CONV_S2P1_DX, 252, 1e-5);
    assert_tensor_close(w->grad, REF_CONV_S2P1_DW, 108, 1e-5);
    assert_tensor_close(b->grad, REF_CONV_S2P1_DB, 4, 1e-5);
    tensor_release(loss);
    tensor_release(yr);
    tensor_release(r);
    tensor_release(y);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

typedef struct ConvCase {
    int stride, padding;
    bool bias;
} ConvCase;

static Tensor *conv_fn(Engine *eng, Tensor **in, void *ctx)
{
    const ConvCase *c = ctx;
    return tensor_conv2d(eng, in[0], in[1], c->bias ? in[2] : NULL, c->stride, c->padding);
}

static void test_conv2d_gradients(void **state)
{
    Engine *eng = *state;
    /* a batch of 3 (odd sizes, so chunked and per-sample paths both run) */
    Tensor *in[3] = {random_tensor(eng, 4, SHAPE(3, 2, 6, 5), -1, 1, true),
                     random_tensor(eng, 4, SHAPE(3, 2, 3, 3), -1, 1, true),
                     random_tensor(eng, 1, SHAPE(3), -1, 1, true)};
    for (int stride = 1; stride <= 2; stride++)
        for (int padding = 0; padding <= 2; padding++) {
            ConvCase c = {stride, padding, padding != 1};
            assert_gradcheck(eng, conv_fn, c.bias ? 3 : 2, in, &c, NULL);
        }
    tensor_release(in[0]);
    tensor_release(in[1]);
    tensor_release(in[2]);
    /* unbatched input, PyTorch's grad_fn for it */
    Tensor *un[2] = {random_tensor(eng, 3, SHAPE(2, 5, 5), -1, 1, true),
                     random_tensor(eng, 4, SHAPE(2, 2, 2, 2), -1, 1, true)};
    ConvCase c = {1, 1, false};
    assert_gradcheck(eng, conv_fn, 2, un, &c, NULL);
    Tensor *y = tensor_conv2d(eng, un[0], un[1], NULL, 1, 1);
    assert_string_equal(tensor_grad_fn_name(y), "SqueezeBackward1");
    tensor_release(y);
    tensor_release(un[0]);
    tensor_release(un[1]);
}

/* A large batch crosses several chunks; compare with a sample-by-sample run. */
static void test_conv2d_batch_equals_single_samples(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 4, SHAPE(37, 3, 12, 12), -1, 1, false);
    Tensor *w = random_tensor(eng, 4, SHAPE(5, 3, 5, 5), -1, 1, false);
    Tensor *b = random_tensor(eng, 1, SHAPE(5), -1, 1, false);
    Tensor *y = tensor_conv2d(eng, x, w, b, 1, 1);
    assert_non_null(y);
    for (int64_t s = 0; s < 37; s += 9) {
        Tensor *xs = tensor_select(eng, x, 0, s);
        Tensor *ys = tensor_conv2d(eng, xs, w, b, 1, 1);
        Tensor *yrow = tensor_select(eng, y, 0, s);
        Tensor *yc = tensor_contiguous(eng, yrow);
        assert_tensor_close(ys, tensor_data(yc), tensor_numel(ys), 1e-5);
        tensor_release(yc);
        tensor_release(yrow);
        tensor_release(ys);
        tensor_release(xs);
    }
    tensor_release(y);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

/* Forward values and all three gradients of one path. */
typedef struct ConvRun {
    Tensor *y, *dx, *dw, *db;
} ConvRun;

static ConvRun conv_run(Engine *eng, Tensor *x, Tensor *w, Tensor *b, int padding, ConvPath path,
                        bool first_layer)
{
    ConvRun r = {0};
    Tensor *ts[3] = {x, w, b};
    for (int i = 0; i < 3; i++) {
        tensor_release(ts[i]->grad);
        ts[i]->grad = NULL;
    }
    /* the first layer of a network: no gradient for its input */
    x->requires_grad = !first_layer;
    r.y = tensor_conv2d_path(eng, x, w, b, 1, padding, path);
    assert_non_null(r.y);
    Tensor *g = wave(eng, r.y->ndim, r.y->shape, 0.31, 0.2, 1, 0);
    Tensor *yg = tensor_mul(eng, r.y, g);
    Tensor *loss = tensor_sum(eng, yg);
    assert_true(autograd_backward(eng, loss, false));
    r.dx = tensor_retain(x->grad);
    r.dw = tensor_retain(w->grad);
    r.db = tensor_retain(b->grad);
    tensor_release(loss);
    tensor_release(yg);
    tensor_release(g);
    return r;
}

static void conv_run_release(ConvRun *r)
{
    tensor_release(r->y);
    tensor_release(r->dx);
    tensor_release(r->dw);
    tensor_release(r->db);
}

static void assert_same_values(const Tensor *a, const Tensor *b, double tol)
{
    assert_int_equal(tensor_numel(a), tensor_numel(b));
    assert_tensor_close(a, tensor_data(b), tensor_numel(b), tol);
}

/* The direct kernels, the wide im2col layout and the textbook one give the
 * same results (stride 1), over output counts that exercise every register
 * block height and column tails. */
static void test_conv2d_paths_agree(void **state)
{
    Engine *eng = *state;
    const struct { int64_t n, cin, h, w, cout, k; int pad; } cases[] = {
        {3, 3, 12, 11, 6, 5, 0},  {2, 1, 9, 9, 10, 3, 1}, {1, 4, 7, 20, 16, 3, 2},
        {2, 2, 6, 6, 20, 5, 2},   {1, 3, 5, 5, 7, 1, 0},  {5, 2, 8, 37, 1, 4, 1},
        {2, 12, 6, 7, 11, 3, 1},  {1, 9, 5, 9, 12, 2, 0}, {1, 2, 4, 4, 9, 3, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *x = random_tensor(eng, 4, SHAPE(cases[c].n, cases[c].cin, cases[c].h, cases[c].w), -1, 1, true);
        Tensor *w = random_tensor(eng, 4, SHAPE(cases[c].cout, cases[c].cin, cases[c].k, cases[c].k), -1, 1, true);
        Tensor *b = random_tensor(eng, 1, SHAPE(cases[c].cout), -1, 1, true);
        bool first_layer = c % 2 == 1;
        ConvRun rows = conv_run(eng, x, w, b, cases[c].pad, CONV_PATH_ROWS, first_layer);
        const ConvPath others[3] = {CONV_PATH_WIDE, CONV_PATH_DIRECT, CONV_PATH_DIRECT_AVX2};
        for (int p = 0; p < 3; p++) {
            ConvRun r = conv_run(eng, x, w, b, cases[c].pad, others[p], first_layer);
            assert_same_values(r.y, rows.y, 1e-5);
            assert_true(first_layer ? r.dx == NULL : r.dx != NULL);
            if (r.dx)
                assert_same_values(r.dx, rows.dx, 1e-5);
            assert_same_values(r.dw, rows.dw, 1e-5);
            assert_same_values(r.db, rows.db, 1e-5);
            conv_run_release(&r);
        }
        conv_run_release(&rows);
        tensor_release(x);
        tensor_release(w);
        tensor_release(b);
    }
}

/* Running out of the engine's memory is an error that leaves nothing
 * allocated, whichever allocation fails (output, scratch, gradients). */
static void test_conv2d_memory_limit(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 4, SHAPE(8, 3, 16, 16), -1, 1, true);
    Tensor *w = random_tensor(eng, 4, SHAPE(6, 3, 5, 5), -1, 1, true);
    size_t base = eng->bytes_in_use;
    const ConvPath paths[3] = {CONV_PATH_AUTO, CONV_PATH_WIDE, CONV_PATH_ROWS};
    for (int p = 0; p < 3; p++)
        for (size_t room = 0; room < 200000; room += 4000) {
            engine_set_max_bytes(eng, base + room);
            Tensor *y = tensor_conv2d_path(eng, x, w, NULL, 1, 1, paths[p]);
            Tensor *s = y ? tensor_sum(eng, y) : NULL;
            bool ok = s && autograd_backward(eng, s, false);
            if (!ok)
                assert_non_null(strstr(engine_error(eng), "memory limit"));
            tensor_release(s);
            tensor_release(y);
            tensor_release(x->grad);
            tensor_release(w->grad);
            x->grad = w->grad = NULL;
            assert_int_equal(eng->bytes_in_use, base);
        }
    engine_set_max_bytes(eng, ENGINE_DEFAULT_MAX_BYTES);
    tensor_release(x);
    tensor_release(w);
}

static void test_conv2d_errors(void **state)
{
    Engine *eng = *state;
    Tensor *w = tensor_zeros(eng, DTYPE_FLOAT32, 4, SHAPE(6, 3, 5, 5));
    Tensor *x = tensor_zeros(eng, DTYPE_FLOAT32, 4, SHAPE(64, 1, 32, 32));
    assert_error_contains(eng, tensor_conv2d(eng, x, w, NULL, 1, 0),
                          "Given groups=1, weight of size [6, 3, 5, 5], expected input[64, 1, 32, 32] "
                          "to have 3 channels, but got 1 channels instead");
    tensor_release(x);
    x = tensor_zeros(eng, DTYPE_FLOAT32, 4, SHAPE(64, 3, 4, 4));
    assert_error_contains(eng, tensor_conv2d(eng, x, w, NULL, 1, 0),
                          "Calculated padded input size per channel: (4 x 4). Kernel size: (5 x 5). "
                          "Kernel size can't be greater than actual input size");
    assert_error_contains(eng, tensor_conv2d(eng, x, w, NULL, 0, 1), "non-positive stride is not supported");
    Tensor *b = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(5));
    assert_error_contains(eng, tensor_conv2d(eng, x, w, b, 1, 1),
                          "Given weight of size [6, 3, 5, 5], expected bias to be 1-dimensional with 6 "
                          "elements, but got bias of size [5] instead");
    tensor_release(b);
    tensor_release(x);
    x = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(32, 32));
    assert_error_contains(eng, tensor_conv2d(eng, x, w, NULL, 1, 0),
                          "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of "
                          "size: [32, 32]");
    tensor_release(x);
    tensor_release(w);
}

/* ---- max_pool2d ---- */

static void test_max_pool2d_values(void **state)
{
    Engine *eng = *state;
    Tensor *x = wave(eng, 4, SHAPE(2, 2, 5, 5), 2.3, 0.4, 1, 0);
    Tensor *y = tensor_max_pool2d(eng, x, 2, 0);
    assert_shape(y, 4, SHAPE(2, 2, 2, 2));
    check_and_release(y, REF_POOL_K2, 16, 0);
    y = tensor_max_pool2d(eng, x, 3, 1);
    assert_shape(y, 4, SHAPE(2, 2, 3, 3));
    check_and_release(y, REF_POOL_K3S1, 36, 0);
    Tensor *x1 = tensor_select(eng, x, 0, 1);
    y = tensor_max_pool2d(eng, x1, 3, 2);
    assert_shape(y, 3, SHAPE(2, 2, 2));
    check_and_release(y, REF_POOL_UNBATCHED_K3S2, 8, 0);
    tensor_release(x1);
    tensor_release(x);
}

typedef struct PoolCase {
    int kernel, stride;
} PoolCase;

static Tensor *pool_fn(Engine *eng, Tensor **in, void *ctx)
{
    const PoolCase *c = ctx;
    return tensor_max_pool2d(eng, in[0], c->kernel, c->stride);
}

static void test_max_pool2d_gradients(void **state)
{
    Engine *eng = *state;
    /* distinct values 0.05 apart (a shuffled ramp), so a ±0.01 step never
     * changes which element is the maximum */
    Tensor *perm = tensor_randperm(eng, 2 * 3 * 6 * 5);
    Tensor *x = tensor_empty(eng, DTYPE_FLOAT32, 4, SHAPE(2, 3, 6, 5));
    for (int64_t i = 0; i < tensor_numel(x); i++)
        tensor_data(x)[i] = 0.05f * tensor_data(perm)[i];
    x->requires_grad = true;
    PoolCase cases[3] = {{2, 2}, {3, 1}, {3, 2}};
    for (int c = 0; c < 3; c++)
        assert_gradcheck(eng, pool_fn, 1, &x, &cases[c], NULL);
    Tensor *y = tensor_max_pool2d(eng, x, 2, 2);
    assert_string_equal(tensor_grad_fn_name(y), "MaxPool2DWithIndicesBackward0");
    tensor_release(y);
    tensor_release(x);
    tensor_release(perm);
}

/* Rows wide enough for the four-at-a-time path, checked against plain
 * loops; a NaN wins its window, as in PyTorch. */
static void test_max_pool2d_wide_rows_and_nan(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 4, SHAPE(2, 3, 10, 13), -1, 1, true);
    tensor_data(x)[3 * 13 + 5] = NAN; /* plane 0, row 3, column 5: window (1, 2) */
    Tensor *y = tensor_max_pool2d(eng, x, 2, 2);
    assert_shape(y, 4, SHAPE(2, 3, 5, 6));
    const float *in = tensor_data(x);
    for (int64_t p = 0; p < 6; p++)
        for (int64_t oy = 0; oy < 5; oy++)
            for (int64_t ox = 0; ox < 6; ox++) {
                const float *w = in + p * 130 + 2 * oy * 13 + 2 * ox;
                float m = fmaxf(fmaxf(w[0], w[1]), fmaxf(w[13], w[14]));
                float got = tensor_data(y)[(p * 5 + oy) * 6 + ox];
                if (p == 0 && oy == 1 && ox == 2)
                    assert_true(isnan(got));
                else
                    assert_float_equal(got, m, 0);
            }
    /* the gradient goes to the argmax, the NaN included */
    Tensor *s = tensor_sum(eng, y);
    assert_true(autograd_backward(eng, s, false));
    assert_float_equal(tensor_data(x->grad)[3 * 13 + 5], 1.0f, 0);
    double total = 0;
    for (int64_t i = 0; i < tensor_numel(x); i++)
        total += tensor_data(x->grad)[i];
    assert_float_equal(total, 2 * 3 * 5 * 6, 0);
    tensor_release(s);
    tensor_release(y);
    tensor_release(x);
}

static void test_max_pool2d_errors(void **state)
{
    Engine *eng = *state;
    Tensor *x = tensor_zeros(eng, DTYPE_FLOAT32, 3, SHAPE(1, 3, 3));
    assert_error_contains(eng, tensor_max_pool2d(eng, x, 4, 0),
                          "Given input size: (1x3x3). Calculated output size: (1x0x0). Output size is too small");
    tensor_release(x);
    x = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(3, 3));
    assert_error_contains(eng, tensor_max_pool2d(eng, x, 2, 0),
                          "non-empty 3D or 4D (batch mode) tensor expected for input");
    tensor_release(x);
}

/* ---- dropout ---- */

static void test_dropout_eval_is_identity(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 2, SHAPE(3, 4), -1, 1, true);
    Tensor *y = tensor_dropout(eng, x, 0.5, false);
    assert_ptr_equal(y, x);
    tensor_release(y);
    y = tensor_dropout(eng, x, 0.0, true);
    assert_ptr_equal(y, x);
    tensor_release(y);
    assert_error_contains(eng, tensor_dropout(eng, x, 1.5, true),
                          "dropout probability has to be between 0 and 1, but got 1.5");
    tensor_release(x);
}

static void test_dropout_train_statistics(void **state)
{
    Engine *eng = *state;
    rng_seed(&eng->rng, 7);
    const int64_t n = 20000;
    Tensor *x = tensor_full(eng, DTYPE_FLOAT32, 1, SHAPE(n), 1.0);
    x->requires_grad = true;
    Tensor *y = tensor_dropout(eng, x, 0.3, true);
    assert_non_null(y);
    assert_string_equal(tensor_grad_fn_name(y), "MulBackward0");
    int64_t zeros = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = tensor_data(y)[i];
        if (v == 0.0f)
            zeros++;
        else
            assert_float_equal(v, 1.0f / 0.7f, 1e-6);
    }
    /* Binomial(20000, 0.3): sd ≈ 65; 5 sd either side */
    assert_in_range(zeros, 6000 - 325, 6000 + 325);
    /* backward: the same mask scales the gradient */
    Tensor *s = tensor_sum(eng, y);
    assert_true(autograd_backward(eng, s, false));
    for (int64_t i = 0; i < n; i++)
        assert_float_equal(tensor_data(x->grad)[i], tensor_data(y)[i], 0);
    tensor_release(s);
    tensor_release(y);
    /* p = 1 drops everything, as in PyTorch */
    y = tensor_dropout(eng, x, 1.0, true);
    for (int64_t i = 0; i < n; i++)
        assert_float_equal(tensor_data(y)[i], 0.0f, 0);
    tensor_release(y);
    tensor_release(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_softmax_values, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_softmax_is_stable_for_large_inputs, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_softmax_gradients, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_softmax_grad_fn_and_errors, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_mse_values, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_bce_values_clamp_logs_at_minus_100, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_nll_values, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_cross_entropy_values_and_gradient, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_mse_gradients, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_bce_gradients, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_nll_and_cross_entropy_gradients, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_loss_grad_fn_names, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_loss_errors, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_values, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_gradient_matches_pytorch, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_gradients, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_batch_equals_single_samples, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_paths_agree, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_memory_limit, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_errors, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_max_pool2d_values, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_max_pool2d_gradients, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_max_pool2d_wide_rows_and_nan, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_max_pool2d_errors, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_dropout_eval_is_identity, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_dropout_train_statistics, engine_setup, engine_teardown_no_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* nn modules: default initialisation, parameters and their names, forward,
 * Sequential, train/eval, zero_grad and PyTorch's repr (module_reprs.h, from
 * gen/module_reprs.py). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "gradcheck.h"
#include "lenet_reference.h"
#include "module_reprs.h"
#include "nn.h"

static void assert_describes(const Module *m, const char *expected)
{
    char buf[1024];
    module_describe(m, buf, sizeof buf);
    assert_string_equal(buf, expected);
}

/* ---- initialisation ---- */

/* Every value within ±bound, and the values spread over most of it. */
static void assert_uniform_within(const Tensor *t, double bound)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < tensor_numel(t); i++) {
        double v = tensor_get_flat(t, i);
        assert_true(fabs(v) <= bound);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    assert_true(lo < -0.9 * bound && hi > 0.9 * bound);
}

static void test_linear_init_bounds(void **state)
{
    Engine *eng = *state;
    Module *m = module_linear(eng, 400, 120, true);
    assert_non_null(m);
    assert_shape(m->weight, 2, SHAPE(120, 400));
    assert_shape(m->bias, 1, SHAPE(120));
    assert_true(m->weight->requires_grad && m->weight->is_parameter && tensor_is_leaf(m->weight));
    assert_uniform_within(m->weight, 1.0 / sqrt(400.0));
    assert_uniform_within(m->bias, 1.0 / sqrt(400.0));
    module_release(m);
}

static void test_conv2d_init_bounds(void **state)
{
    Engine *eng = *state;
    Module *m = module_conv2d(eng, 3, 6, 5, 1, 0, true);
    assert_non_null(m);
    assert_shape(m->weight, 4, SHAPE(6, 3, 5, 5));
    assert_uniform_within(m->weight, 1.0 / sqrt(75.0)); /* fan_in = 3·5·5 */
    assert_shape(m->bias, 1, SHAPE(6));
    for (int64_t i = 0; i < 6; i++)
        assert_true(fabs(tensor_get_flat(m->bias, i)) <= 1.0 / sqrt(75.0));
    module_release(m);
}

static void test_init_reproducible_with_seed(void **state)
{
    Engine *eng = *state;
    rng_seed(&eng->rng, 42);
    Module *a = module_linear(eng, 5, 4, true);
    rng_seed(&eng->rng, 42);
    Module *b = module_linear(eng, 5, 4, true);
    Module *c = module_linear(eng, 5, 4, true); /* the generator moved on */
    assert_memory_equal(tensor_data(a->weight), tensor_data(b->weight), 20 * sizeof(float));
    assert_memory_equal(tensor_data(a->bias), tensor_data(b->bias), 4 * sizeof(float));
    assert_memory_not_equal(tensor_data(a->weight), tensor_data(c->weight), 20 * sizeof(float));
    module_release(a);
    module_release(b);
    module_release(c);
}

/* ---- parameters ---- */

typedef struct Names {
    char text[256];
    Tensor *params[8];
    int n;
} Names;

static void collect(const char *name, Tensor *param, void *ctx)
{
    Names *names = ctx;
    size_t used = strlen(names->text);
    snprintf(names->text + used, sizeof names->text - used, "%s%s", used ? " " : "", name);
    if (names->n < 8)
        names->params[names->n++] = param;
}

static void test_parameter_names_and_order(void **state)
{
    Engine *eng = *state;
    Module *l1 = module_linear(eng, 2, 3, true), *relu = module_simple(eng, MOD_RELU);
    Module *l2 = module_linear(eng, 3, 1, true);
    Module *seq = module_sequential(eng, 3, (Module *[]){l1, relu, l2});
    Names names = {0};
    module_visit_parameters(seq, NULL, collect, &names);
    assert_string_equal(names.text, "0.weight 0.bias 2.weight 2.bias");
    assert_ptr_equal(names.params[0], l1->weight);
    assert_ptr_equal(names.params[3], l2->bias);
    Names single = {0};
    module_visit_parameters(l1, NULL, collect, &single);
    assert_string_equal(single.text, "weight bias");

    Module *inner = module_sequential(eng, 1, (Module *[]){module_linear(eng, 1, 1, true)});
    module_release(inner->children[0]); /* the Sequential holds the only reference */
    Module *conv = module_conv2d(eng, 1, 1, 1, 1, 0, true);
    Module *nested = module_sequential(eng, 3, (Module *[]){inner, relu, conv});
    Names nested_names = {0};
    module_visit_parameters(nested, NULL, collect, &nested_names);
    assert_string_equal(nested_names.text, NAMES_SEQUENTIAL_NESTED);
    module_release(nested);
    module_release(conv);
    module_release(inner);
    module_release(seq);
    module_release(l1);
    module_release(relu);
    module_release(l2);
}

/* ---- forward ---- */

static void test_sequential_forward_is_composition(void **state)
{
    Engine *eng = *state;
    Module *l1 = module_linear(eng, 4, 3, true), *tanh_m = module_simple(eng, MOD_TANH);
    Module *l2 = module_linear(eng, 3, 2, false), *sm = module_softmax(eng, MOD_SOFTMAX, 1);
    Module *seq = module_sequential(eng, 4, (Module *[]){l1, tanh_m, l2, sm});
    Tensor *x = random_tensor(eng, 2, SHAPE(5, 4), -1, 1, false);
    Tensor *y = module_forward(eng, seq, x);
    assert_non_null(y);
    assert_shape(y, 2, SHAPE(5, 2));
    Tensor *a = tensor_linear(eng, x, l1->weight, l1->bias);
    Tensor *b = tensor_tanh(eng, a);
    Tensor *c = tensor_linear(eng, b, l2->weight, NULL);
    Tensor *d = tensor_softmax(eng, c, 1);
    assert_tensor_close(y, tensor_data(d), 10, 1e-6);
    assert_string_equal(tensor_grad_fn_name(y), "SoftmaxBackward0");
    Tensor *ts[] = {a, b, c, d, y, x};
    for (int i = 0; i < 6; i++)
        tensor_release(ts[i]);
    Module *ms[] = {seq, l1, tanh_m, l2, sm};
    for (int i = 0; i < 5; i++)
        module_release(ms[i]);
}

static void test_conv_pool_flatten_forward(void **state)
{
    Engine *eng = *state;
    Module *conv = module_conv2d(eng, 1, 2, 3, 1, 1, true), *pool = module_max_pool2d(eng, 2, 0);
    Module *flat = module_simple(eng, MOD_FLATTEN);
    Module *seq = module_sequential(eng, 3, (Module *[]){conv, pool, flat});
    Tensor *x = random_tensor(eng, 4, SHAPE(3, 1, 6, 6), -1, 1, false);
    Tensor *y = module_forward(eng, seq, x);
    assert_non_null(y);
    assert_shape(y, 2, SHAPE(3, 18)); /* (3, 2, 3, 3) flattened from dim 1 */
    tensor_release(y);
    tensor_release(x);
    Module *ms[] = {seq, conv, pool, flat};
    for (int i = 0; i < 4; i++)
        module_release(ms[i]);
}

static void test_softmax_without_dim_uses_the_legacy_rule(void **state)
{
    Engine *eng = *state;
    Module *sm = module_softmax(eng, MOD_SOFTMAX, MODULE_DIM_NONE);
    Tensor *x = random_tensor(eng, 2, SHAPE(2, 3), -1, 1, false);
    Tensor *y = module_forward(eng, sm, x);
    Tensor *expected = tensor_softmax(eng, x, 1); /* 2-D: dim 1 */
    assert_tensor_close(y, tensor_data(expected), 6, 0);
    tensor_release(y);
    tensor_release(expected);
    tensor_release(x);
    module_release(sm);
}

static void test_loss_modules_match_functions(void **state)
{
    Engine *eng = *state;
    Tensor *x = random_tensor(eng, 2, SHAPE(4, 3), 0.1, 0.9, false);
    Tensor *p = random_tensor(eng, 2, SHAPE(4, 3), 0, 1, false);
    Tensor *t = tensor_from_doubles(eng, DTYPE_INT64, 1, SHAPE(4), (const double[]){0, 2, 1, 1}, 4);
    Module *mse = module_loss(eng, MOD_MSE_LOSS, REDUCTION_SUM);
    Module *bce = module_simple(eng, MOD_BCE_LOSS);
    Module *ce = module_simple(eng, MOD_CROSS_ENTROPY_LOSS);
    Module *nll = module_loss(eng, MOD_NLL_LOSS, REDUCTION_NONE);
    Tensor *r[4] = {module_loss_forward(eng, mse, x, p), module_loss_forward(eng, bce, x, p),
                    module_loss_forward(eng, ce, x, t), module_loss_forward(eng, nll, x, t)};
    Tensor *e[4] = {tensor_mse_loss(eng, x, p, REDUCTION_SUM), tensor_bce_loss(eng, x, p, REDUCTION_MEAN),
                    tensor_cross_entropy(eng, x, t, REDUCTION_MEAN), tensor_nll_loss(eng, x, t, REDUCTION_NONE)};
    for (int i = 0; i < 4; i++) {
        assert_non_null(r[i]);
        assert_int_equal(tensor_numel(r[i]), tensor_numel(e[i]));
        assert_tensor_close(r[i], tensor_data(e[i]), tensor_numel(e[i]), 0);
        tensor_release(r[i]);
        tensor_release(e[i]);
    }
    assert_true(module_is_loss(mse));
    assert_null(module_forward(eng, mse, x));
    assert_string_equal(engine_error(eng), "MSELoss takes two arguments (input, target)");
    Module *ms[] = {mse, bce, ce, nll};
    for (int i = 0; i < 4; i++)
        module_release(ms[i]);
    tensor_release(x);
    tensor_release(p);
    tensor_release(t);
}

/* ---- train / eval, zero_grad ---- */

static void test_train_eval_is_recursive_and_controls_dropout(void **state)
{
    Engine *eng = *state;
    Module *drop = module_dropout(eng, 0.5);
    Module *inner = module_sequential(eng, 1, &drop);
    Module *outer = module_sequential(eng, 1, &inner);
    assert_true(drop->training);
    Tensor *x = tensor_full(eng, DTYPE_FLOAT32, 1, SHAPE(1000), 1.0);
    Tensor *y = module_forward(eng, outer, x);
    int64_t zeros = 0;
    for (int64_t i = 0; i < 1000; i++)
        zeros += tensor_data(y)[i] == 0.0f;
    assert_in_range(zeros, 400, 600);
    tensor_release(y);
    module_set_training(outer, false);
    assert_false(drop->training);
    assert_false(inner->training);
    y = module_forward(eng, outer, x);
    assert_ptr_equal(y, x); /* eval: the same tensor */
    tensor_release(y);
    module_set_training(outer, true);
    assert_true(drop->training);
    tensor_release(x);
    module_release(outer);
    module_release(inner);
    module_release(drop);
}

static void test_zero_grad_sets_existing_grads_to_zero(void **state)
{
    Engine *eng = *state;
    Module *m = module_linear(eng, 3, 2, true);
    Tensor *x = random_tensor(eng, 2, SHAPE(4, 3), -1, 1, false);
    Tensor *y = module_forward(eng, m, x);
    Tensor *s = tensor_sum(eng, y);
    assert_true(autograd_backward(eng, s, false));
    assert_non_null(m->weight->grad);
    module_zero_grad(m);
    assert_non_null(m->weight->grad); /* PyTorch 1.13: zeros, not None */
    for (int64_t i = 0; i < 6; i++)
        assert_float_equal(tensor_get_flat(m->weight->grad, i), 0.0f, 0);
    for (int64_t i = 0; i < 2; i++)
        assert_float_equal(tensor_get_flat(m->bias->grad, i), 0.0f, 0);
    Module *fresh = module_linear(eng, 3, 2, true);
    module_zero_grad(fresh);
    assert_null(fresh->weight->grad); /* never had one: stays None */
    module_release(fresh);
    tensor_release(s);
    tensor_release(y);
    tensor_release(x);
    module_release(m);
}

/* ---- repr ---- */

static void test_describe_matches_pytorch(void **state)
{
    Engine *eng = *state;
    struct {
        Module *m;
        const char *expected;
    } cases[] = {
        {module_linear(eng, 1, 1, true), REPR_LINEAR},
        {module_linear(eng, 3, 2, false), REPR_LINEAR_NO_BIAS},
        {module_conv2d(eng, 1, 10, 5, 1, 0, true), REPR_CONV},
        {module_conv2d(eng, 3, 6, 5, 2, 1, false), REPR_CONV_STRIDE_PAD_NO_BIAS},
        {module_max_pool2d(eng, 2, 0), REPR_MAXPOOL},
        {module_max_pool2d(eng, 3, 1), REPR_MAXPOOL_STRIDE},
        {module_simple(eng, MOD_RELU), REPR_RELU},
        {module_simple(eng, MOD_SIGMOID), REPR_SIGMOID},
        {module_simple(eng, MOD_TANH), REPR_TANH},
        {module_softmax(eng, MOD_SOFTMAX, 1), REPR_SOFTMAX},
        {module_softmax(eng, MOD_SOFTMAX, MODULE_DIM_NONE), REPR_SOFTMAX_NONE},
        {module_softmax(eng, MOD_LOG_SOFTMAX, -1), REPR_LOG_SOFTMAX},
        {module_simple(eng, MOD_FLATTEN), REPR_FLATTEN},
        {module_flatten(eng, 0, 2), REPR_FLATTEN_DIMS},
        {module_dropout(eng, 0.5), REPR_DROPOUT},
        {module_dropout(eng, 0.25), REPR_DROPOUT_QUARTER},
        {module_simple(eng, MOD_MSE_LOSS), REPR_MSE},
        {module_loss(eng, MOD_BCE_LOSS, REDUCTION_SUM), REPR_BCE},
        {module_simple(eng, MOD_CROSS_ENTROPY_LOSS), REPR_CROSS_ENTROPY},
        {module_simple(eng, MOD_NLL_LOSS), REPR_NLL},
        {module_sequential(eng, 0, NULL), REPR_SEQUENTIAL_EMPTY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_non_null(cases[i].m);
        assert_describes(cases[i].m, cases[i].expected);
        module_release(cases[i].m);
    }
    Module *l1 = module_linear(eng, 2, 3, true), *relu = module_simple(eng, MOD_RELU);
    Module *l2 = module_linear(eng, 3, 1, true), *one = module_linear(eng, 1, 1, true);
    Module *seq = module_sequential(eng, 3, (Module *[]){l1, relu, l2});
    assert_describes(seq, REPR_SEQUENTIAL);
    Module *inner = module_sequential(eng, 1, &one);
    Module *nested = module_sequential(eng, 2, (Module *[]){inner, relu});
    assert_describes(nested, REPR_SEQUENTIAL_NESTED);
    /* a short buffer truncates safely */
    char small[10];
    module_describe(seq, small, sizeof small);
    assert_string_equal(small, "Sequentia");
    Module *ms[] = {nested, inner, seq, l1, relu, l2, one};
    for (int i = 0; i < 7; i++)
        module_release(ms[i]);
}

/* ---- the course's LeNet against PyTorch ---- */

typedef struct WaveParams {
    int k;
} WaveParams;

static void set_wave_parameter(const char *name, Tensor *param, void *ctx)
{
    (void)name;
    WaveParams *w = ctx;
    fill_wave(param, 0.37 + 0.11 * w->k, 0.3 * w->k, 0.2, 0.0); /* as gen/lenet_reference.py */
    w->k++;
}

static Tensor *then(Tensor *x, Tensor *y)
{
    tensor_release(x);
    assert_non_null(y);
    return y;
}

/* One forward and backward pass: conv, pooling, linear, relu, view and
 * cross_entropy together give PyTorch's loss and gradients. */
static void test_lenet_gradients_match_pytorch(void **state)
{
    Engine *eng = *state;
    Module *conv1 = module_conv2d(eng, 3, 6, 5, 1, 0, true), *conv2 = module_conv2d(eng, 6, 16, 5, 1, 0, true);
    Module *fc1 = module_linear(eng, 400, 120, true), *fc2 = module_linear(eng, 120, 84, true);
    Module *fc3 = module_linear(eng, 84, 10, true);
    Module *net = module_sequential(eng, 5, (Module *[]){conv1, conv2, fc1, fc2, fc3});
    WaveParams wp = {0};
    module_visit_parameters(net, NULL, set_wave_parameter, &wp);
    assert_int_equal(wp.k, 10);

    Tensor *input = tensor_empty(eng, DTYPE_FLOAT32, 4, SHAPE(4, 3, 32, 32));
    fill_wave(input, 0.013, 0.5, 1.0, 0.0);
    Tensor *target = tensor_from_doubles(eng, DTYPE_INT64, 1, SHAPE(4), (const double[]){3, 1, 7, 0}, 4);
    Tensor *x = tensor_retain(input);
    x = then(x, module_forward(eng, conv1, x));
    x = then(x, tensor_relu(eng, x));
    x = then(x, tensor_max_pool2d(eng, x, 2, 2));
    x = then(x, module_forward(eng, conv2, x));
    x = then(x, tensor_relu(eng, x));
    x = then(x, tensor_max_pool2d(eng, x, 2, 2));
    x = then(x, tensor_view(eng, x, 2, SHAPE(-1, 400)));
    x = then(x, module_forward(eng, fc1, x));
    x = then(x, tensor_relu(eng, x));
    x = then(x, module_forward(eng, fc2, x));
    x = then(x, tensor_relu(eng, x));
    x = then(x, module_forward(eng, fc3, x));
    Tensor *loss = tensor_cross_entropy(eng, x, target, REDUCTION_MEAN);
    assert_non_null(loss);
    assert_tensor_close(loss, REF_LENET_LOSS, 1, 1e-6);
    assert_true(autograd_backward(eng, loss, false));
    assert_tensor_close(conv1->weight->grad, REF_LENET_CONV1_WEIGHT_GRAD, 450, 1e-6);
    assert_tensor_close(conv2->bias->grad, REF_LENET_CONV2_BIAS_GRAD, 16, 1e-6);
    assert_tensor_close(fc1->bias->grad, REF_LENET_FC1_BIAS_GRAD, 120, 1e-6);
    assert_tensor_close(fc3->weight->grad, REF_LENET_FC3_WEIGHT_GRAD, 840, 1e-6);
    tensor_release(loss);
    tensor_release(x);
    tensor_release(input);
    tensor_release(target);
    Module *ms[] = {net, conv1, conv2, fc1, fc2, fc3};
    for (int i = 0; i < 6; i++)
        module_release(ms[i]);
}

static void test_constructor_errors(void **state)
{
    Engine *eng = *state;
    assert_null(module_dropout(eng, 1.5));
    assert_string_equal(engine_error(eng), "dropout probability has to be between 0 and 1, but got 1.5");
    assert_null(module_linear(eng, -1, 3, true));
    assert_non_null(strstr(engine_error(eng), "in_features"));
    assert_null(module_conv2d(eng, 1, 2, 0, 1, 0, true));
    assert_non_null(strstr(engine_error(eng), "kernel_size"));
    assert_null(module_loss(eng, MOD_MSE_LOSS, 9));
    assert_string_equal(engine_error(eng), "9 is not a valid value for reduction");
    assert_null(module_loss(eng, MOD_RELU, REDUCTION_MEAN));
    assert_string_equal(engine_error(eng), "module_loss: ReLU is not a loss");
    Module *relu = module_simple(eng, MOD_RELU);
    assert_false(module_is_loss(relu));
    Tensor *x = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(2));
    assert_null(module_loss_forward(eng, relu, x, x));
    assert_string_equal(engine_error(eng), "ReLU is not a loss: it takes one input");
    tensor_release(x);
    module_release(relu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_linear_init_bounds, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv2d_init_bounds, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_init_reproducible_with_seed, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_parameter_names_and_order, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_sequential_forward_is_composition, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_conv_pool_flatten_forward, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_softmax_without_dim_uses_the_legacy_rule, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_loss_modules_match_functions, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_train_eval_is_recursive_and_controls_dropout, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_zero_grad_sets_existing_grads_to_zero, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_describe_matches_pytorch, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_lenet_gradients_match_pytorch, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_constructor_errors, engine_setup, engine_teardown_no_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SGD and Adam: parameter trajectories against PyTorch 1.13
 * (optim_reference.h, from gen/optim_reference.py), zero_grad, skipped
 * parameters and argument errors. */
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "gradcheck.h"
#include "optim.h"
#include "optim_reference.h"

/* The generator's problem: loss = mse_loss(tanh(x * w) + b, y). */
typedef struct Problem {
    Tensor *w, *b, *x, *y;
} Problem;

static Problem problem_new(Engine *eng)
{
    Problem p = {
        wave(eng, 2, SHAPE(2, 3), 0.7, 0.1, 1.0, 0.0),
        wave(eng, 1, SHAPE(3), 1.3, 0.2, 0.5, 0.0),
        wave(eng, 2, SHAPE(2, 3), 0.9, -0.3, 2.0, 0.0),
        wave(eng, 2, SHAPE(2, 3), 0.4, 0.6, 1.0, 0.0),
    };
    p.w->requires_grad = p.b->requires_grad = true;
    return p;
}

static void problem_free(Problem *p)
{
    tensor_release(p->w);
    tensor_release(p->b);
    tensor_release(p->x);
    tensor_release(p->y);
}

static void backward_once(Engine *eng, const Problem *p)
{
    Tensor *xw = tensor_mul(eng, p->x, p->w);
    Tensor *t = tensor_tanh(eng, xw);
    Tensor *pred = tensor_add(eng, t, p->b);
    Tensor *loss = tensor_mse_loss(eng, pred, p->y, REDUCTION_MEAN);
    assert_non_null(loss);
    assert_true(autograd_backward(eng, loss, false));
    tensor_release(loss);
    tensor_release(pred);
    tensor_release(t);
    tensor_release(xw);
}

/* Run OPTIM_REF_STEPS steps and compare w and b after each with PyTorch's. */
static void check_trajectory(Engine *eng, Problem *p, Optimizer *o, const float *expected)
{
    assert_non_null(o);
    for (int step = 0; step < OPTIM_REF_STEPS; step++) {
        optim_zero_grad(o);
        backward_once(eng, p);
        assert_true(optim_step(eng, o));
        assert_tensor_close(p->w, expected + step * 9, 6, 1e-6);
        assert_tensor_close(p->b, expected + step * 9 + 6, 3, 1e-6);
    }
}

typedef struct OptimCase {
    bool adam;
    double lr, momentum, weight_decay, beta1, beta2, eps;
    const float *expected;
} OptimCase;

static void run_case(Engine *eng, const OptimCase *c)
{
    Problem p = problem_new(eng);
    Tensor *params[2] = {p.w, p.b};
    Optimizer *o = c->adam ? optim_adam(eng, 2, params, c->lr, c->beta1, c->beta2, c->eps, c->weight_decay)
                           : optim_sgd(eng, 2, params, c->lr, c->momentum, c->weight_decay);
    check_trajectory(eng, &p, o, c->expected);
    optim_release(o);
    problem_free(&p);
}

static void test_sgd_plain(void **state)
{
    run_case(*state, &(OptimCase){.lr = 0.1, .expected = REF_SGD_PLAIN});
}

static void test_sgd_momentum(void **state)
{
    run_case(*state, &(OptimCase){.lr = 0.1, .momentum = 0.9, .expected = REF_SGD_MOMENTUM});
}

static void test_sgd_momentum_weight_decay(void **state)
{
    run_case(*state, &(OptimCase){.lr = 0.05, .momentum = 0.5, .weight_decay = 0.1,
                                  .expected = REF_SGD_MOMENTUM_DECAY});
}

static void test_adam_default(void **state)
{
    run_case(*state, &(OptimCase){.adam = true, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999,
                                  .eps = 1e-8, .expected = REF_ADAM_DEFAULT});
}

static void test_adam_custom_betas(void **state)
{
    run_case(*state, &(OptimCase){.adam = true, .lr = 0.05, .beta1 = 0.8, .beta2 = 0.99,
                                  .eps = 1e-6, .expected = REF_ADAM_BETAS});
}

static void test_adam_weight_decay(void **state)
{
    run_case(*state, &(OptimCase){.adam = true, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999,
                                  .eps = 1e-8, .weight_decay = 0.1, .expected = REF_ADAM_DECAY});
}

/* One SGD step by hand: p ← p − lr·g, with numbers a student can check. */
static void test_sgd_step_by_hand(void **state)
{
    Engine *eng = *state;
    Tensor *w = make_tensor(eng, 1, SHAPE(2), VALUES(1.0f, -2.0f));
    w->requires_grad = true;
    w->grad = make_tensor(eng, 1, SHAPE(2), VALUES(0.5f, 4.0f));
    Optimizer *o = optim_sgd(eng, 1, &w, 0.1, 0, 0);
    assert_true(optim_step(eng, o));
    assert_tensor_close(w, VALUES(0.95f, -2.4f), 2, 1e-7);
    optim_release(o);
    tensor_release(w);
}

static void test_zero_grad_keeps_zero_tensors(void **state)
{
    Engine *eng = *state;
    Problem p = problem_new(eng);
    Tensor *unused = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(2));
    unused->requires_grad = true;
    Tensor *params[3] = {p.w, p.b, unused};
    Optimizer *o = optim_adam(eng, 3, params, 0.01, 0.9, 0.999, 1e-8, 0);
    backward_once(eng, &p);
    assert_true(optim_step(eng, o));
    /* a parameter without a gradient is skipped: no state, no change */
    assert_null(unused->grad);
    assert_null(o->state_a[2]);
    assert_int_equal(o->steps[2], 0);
    assert_int_equal(o->steps[0], 1);
    assert_tensor_close(unused, VALUES(0, 0), 2, 0);
    optim_zero_grad(o);
    assert_non_null(p.w->grad);
    for (int64_t i = 0; i < 6; i++)
        assert_float_equal(tensor_get_flat(p.w->grad, i), 0.0f, 0);
    assert_null(unused->grad);
    optim_release(o);
    tensor_release(unused);
    problem_free(&p);
}

/* A non-contiguous parameter (its .data a transposed view) is updated in place. */
static void test_step_updates_a_strided_parameter(void **state)
{
    Engine *eng = *state;
    Tensor *base = make_tensor(eng, 2, SHAPE(2, 2), VALUES(1, 2, 3, 4));
    Tensor *w = tensor_transpose(eng, base, 0, 1);
    assert_non_null(w);
    Tensor *leaf = tensor_alias(eng, w);
    leaf->requires_grad = true;
    leaf->grad = make_tensor(eng, 2, SHAPE(2, 2), VALUES(10, 20, 30, 40));
    Optimizer *o = optim_sgd(eng, 1, &leaf, 0.1, 0, 0);
    assert_true(optim_step(eng, o));
    /* leaf reads base transposed: (1, 3; 2, 4) − 0.1·(10, 20; 30, 40) */
    assert_tensor_close(leaf, VALUES(0, 1, -1, 0), 4, 1e-6);
    assert_tensor_close(base, VALUES(0, -1, 1, 0), 4, 1e-6);
    optim_release(o);
    tensor_release(leaf);
    tensor_release(w);
    tensor_release(base);
}

static void test_argument_errors(void **state)
{
    Engine *eng = *state;
    Tensor *w = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(2));
    w->requires_grad = true;
    assert_null(optim_sgd(eng, 1, &w, -0.1, 0, 0));
    assert_string_equal(engine_error(eng), "Invalid learning rate: -0.1");
    assert_null(optim_sgd(eng, 1, &w, 0.1, -1, 0));
    assert_string_equal(engine_error(eng), "Invalid momentum value: -1");
    assert_null(optim_adam(eng, 1, &w, 0.1, 1.0, 0.999, 1e-8, 0));
    assert_string_equal(engine_error(eng), "Invalid beta parameter at index 0: 1");
    assert_null(optim_adam(eng, 1, &w, 0.1, 0.9, 0.999, 1e-8, -0.5));
    assert_string_equal(engine_error(eng), "Invalid weight_decay value: -0.5");
    assert_null(optim_sgd(eng, 0, NULL, 0.1, 0, 0));
    assert_string_equal(engine_error(eng), "optimizer got an empty parameter list");
    Tensor *two = tensor_scalar(eng, DTYPE_FLOAT32, 2);
    Tensor *derived = tensor_mul(eng, w, two);
    assert_null(optim_sgd(eng, 1, &derived, 0.1, 0, 0));
    assert_string_equal(engine_error(eng), "can't optimize a non-leaf Tensor");
    /* a tensor without requires_grad is accepted and left alone, as in PyTorch */
    w->requires_grad = false;
    Optimizer *o = optim_sgd(eng, 1, &w, 0.1, 0, 0);
    assert_non_null(o);
    float before = tensor_get_flat(w, 0);
    assert_true(optim_step(eng, o));
    assert_true(tensor_get_flat(w, 0) == before);
    optim_release(o);
    tensor_release(derived);
    tensor_release(two);
    tensor_release(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sgd_plain, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_sgd_momentum, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_sgd_momentum_weight_decay, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_adam_default, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_adam_custom_betas, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_adam_weight_decay, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_sgd_step_by_hand, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_zero_grad_keeps_zero_tensors, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_step_updates_a_strided_parameter, engine_setup, engine_teardown_no_leaks),
        cmocka_unit_test_setup_teardown(test_argument_errors, engine_setup, engine_teardown_no_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

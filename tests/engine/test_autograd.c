/* The autograd machinery: accumulation, reuse, freeing, errors, limits. */
#include <string.h>

#include "fixture.h"
#include "gradcheck.h"

static Tensor *scalar_leaf(Engine *eng, float v)
{
    Tensor *t = make_tensor(eng, 1, SHAPE(1), (float[]){v});
    t->requires_grad = true;
    return t;
}

/* The course's loop body: l = (x * w - y) ** 2, dl/dw = 2x(xw - y). */
static Tensor *course_loss(Engine *eng, Tensor *w, float x, float y)
{
    Tensor *xs = tensor_scalar(eng, DTYPE_FLOAT32, x), *ys = tensor_scalar(eng, DTYPE_FLOAT32, y);
    xs->is_wrapped_number = ys->is_wrapped_number = true;
    Tensor *pred = tensor_mul(eng, xs, w);
    Tensor *diff = tensor_sub(eng, pred, ys);
    Tensor *l = tensor_pow_scalar(eng, diff, 2);
    tensor_release(xs);
    tensor_release(ys);
    tensor_release(pred);
    tensor_release(diff);
    return l;
}

static void test_gradients_accumulate_across_backward_calls(void **state)
{
    Engine *eng = *state;
    Tensor *w = scalar_leaf(eng, 1.0f);
    for (int i = 0; i < 2; i++) {
        Tensor *l = course_loss(eng, w, 2.0f, 4.0f);
        assert_true(autograd_backward(eng, l, false));
        tensor_release(l);
    }
    /* 2 · 2 · (2 - 4) = -8, twice */
    assert_tensor_close(w->grad, VALUES(-16), 1, 0);
    tensor_fill_(w->grad, 0);
    Tensor *l = course_loss(eng, w, 3.0f, 6.0f);
    assert_true(autograd_backward(eng, l, false));
    assert_tensor_close(w->grad, VALUES(-18), 1, 0);
    tensor_release(l);
    tensor_release(w);
}

static void test_grad_fn_names(void **state)
{
    Engine *eng = *state;
    Tensor *w = scalar_leaf(eng, 1.0f);
    Tensor *l = course_loss(eng, w, 2.0f, 4.0f);
    assert_string_equal(tensor_grad_fn_name(l), "PowBackward0");
    assert_null(tensor_grad_fn_name(w));
    Tensor *two = tensor_scalar(eng, DTYPE_FLOAT32, 2);
    two->is_wrapped_number = true;
    Tensor *r = tensor_sub(eng, two, w);
    assert_string_equal(tensor_grad_fn_name(r), "RsubBackward1");
    tensor_release(r);
    r = tensor_sum(eng, w);
    assert_string_equal(tensor_grad_fn_name(r), "SumBackward0");
    tensor_release(r);
    r = tensor_sum_dim(eng, w, 0, false);
    assert_string_equal(tensor_grad_fn_name(r), "SumBackward1");
    tensor_release(r);
    tensor_release(two);
    tensor_release(l);
    tensor_release(w);
}

static void test_second_backward_is_an_error(void **state)
{
    Engine *eng = *state;
    Tensor *w = scalar_leaf(eng, 1.0f);
    Tensor *l = course_loss(eng, w, 2.0f, 4.0f);
    assert_true(autograd_backward(eng, l, false));
    assert_false(autograd_backward(eng, l, false));
    assert_non_null(strstr(engine_error(eng), "backward through the graph a second time"));
    assert_tensor_close(w->grad, VALUES(-8), 1, 0);
    tensor_release(l);
    tensor_release(w);
}

static void test_retain_graph_allows_a_second_backward(void **state)
{
    Engine *eng = *state;
    Tensor *w = scalar_leaf(eng, 1.0f);
    Tensor *l = course_loss(eng, w, 2.0f, 4.0f);
    assert_true(autograd_backward(eng, l, true));
    assert_true(autograd_backward(eng, l, false));
    assert_tensor_close(w->grad, VALUES(-16), 1, 0);
    tensor_release(l);
    tensor_release(w);
}

static void test_reused_node_gets_summed_gradient(void **state)
{
    Engine *eng = *state;
    /* y = x·x + x with x used three times and the product used twice:
     * z = y·y, dz/dx = 2y(2x + 1). At x = 3: y = 12, dz/dx = 168. */
    Tensor *x = scalar_leaf(eng, 3.0f);
    Tensor *xx = tensor_mul(eng, x, x);
    Tensor *y = tensor_add(eng, xx, x);
    Tensor *z = tensor_mul(eng, y, y);
    assert_true(autograd_backward(eng, z, false));
    assert_tensor_close(x->grad, VALUES(168), 1, 0);
    tensor_release(z);
    tensor_release(y);
    tensor_release(xx);
    tensor_release(x);
}

static void test_backward_requires_scalar_and_grad(void **state)
{
    Engine *eng = *state;
    Tensor *x = tensor_full(eng, DTYPE_FLOAT32, 1, SHAPE(3), 1.0);
    x->requires_grad = true;
    Tensor *y = tensor_mul(eng, x, x);
    assert_false(autograd_backward(eng, y, false));
    assert_non_null(strstr(engine_error(eng), "only for scalar outputs"));
    Tensor *c = tensor_scalar(eng, DTYPE_FLOAT32, 1);
    assert_false(autograd_backward(eng, c, false));
    assert_non_null(strstr(engine_error(eng), "does not require grad"));
    tensor_release(c);
    tensor_release(y);
    tensor_release(x);
}

static void test_no_grad_records_nothing(void **state)
{
    Engine *eng = *state;
    Tensor *w = scalar_leaf(eng, 1.0f);
    eng->grad_enabled = false;
    Tensor *l = course_loss(eng, w, 2.0f, 4.0f);
    eng->grad_enabled = true;
    assert_null(l->grad_fn);
    assert_false(l->requires_grad);
    tensor_release(l);
    tensor_release(w);
}

static void test_detached_alias_shares_data_but_not_graph(void **state)
{
    Engine *eng = *state;
    Tensor *w = scalar_leaf(eng, 1.0f);
    Tensor *d = tensor_alias(eng, w);
    assert_false(d->requires_grad);
    tensor_fill_(d, 5.0);
    assert_tensor_close(w, VALUES(5), 1, 0);
    tensor_release(d);
    tensor_release(w);
}

static void test_deep_graph_is_walked_and_freed_without_recursion(void **state)
{
    Engine *eng = *state;
    /* 200,000 chained additions: a recursive walk would overflow the stack. */
    Tensor *w = scalar_leaf(eng, 0.5f);
    Tensor *acc = tensor_retain(w);
    for (int i = 0; i < 200000; i++) {
        Tensor *next = tensor_add(eng, acc, w);
        tensor_release(acc);
        acc = next;
    }
    assert_true(autograd_backward(eng, acc, false));
    assert_tensor_close(w->grad, VALUES(200001), 1, 0);
    tensor_release(acc);
    /* and a chain that is dropped without backward */
    acc = tensor_retain(w);
    for (int i = 0; i < 200000; i++) {
        Tensor *next = tensor_mul(eng, acc, w);
        tensor_release(acc);
        acc = next;
    }
    tensor_release(acc);
    tensor_release(w);
}

static void test_memory_is_returned_after_training_step(void **state)
{
    Engine *eng = *state;
    size_t before = eng->bytes_in_use;
    Tensor *w = scalar_leaf(eng, 1.0f);
    for (int i = 0; i < 100; i++) {
        Tensor *l = course_loss(eng, w, 2.0f, 4.0f);
        assert_true(autograd_backward(eng, l, false));
        tensor_release(l);
    }
    tensor_release(w);
    assert_int_equal(eng->bytes_in_use, before);
}

static void test_memory_cap_turns_huge_request_into_error(void **state)
{
    Engine *eng = *state;
    engine_set_max_bytes(eng, 1024 * 1024);
    assert_null(tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(1000, 1000)));
    assert_non_null(strstr(engine_error(eng), "exceed the memory limit of 1.0 MB"));
    assert_null(tensor_zeros(eng, DTYPE_FLOAT32, 4, SHAPE(100000, 100000, 100000, 100000)));
    assert_non_null(strstr(engine_error(eng), "tensor too large"));
    assert_null(tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(-1, 3)));
    assert_null(tensor_zeros(eng, DTYPE_FLOAT32, 5, SHAPE(1, 1, 1, 1, 1)));
    assert_non_null(strstr(engine_error(eng), "at most 4 dimensions"));
    engine_set_max_bytes(eng, ENGINE_DEFAULT_MAX_BYTES);
}

static void test_rng_is_reproducible(void **state)
{
    (void)state;
    Engine a, b;
    engine_init(&a);
    engine_init(&b);
    rng_seed(&a.rng, 42);
    rng_seed(&b.rng, 42);
    for (int i = 0; i < 100; i++)
        assert_true(rng_next_u64(&a.rng) == rng_next_u64(&b.rng));
    double sum = 0, sumsq = 0;
    for (int i = 0; i < 100000; i++) {
        double z = rng_normal(&a.rng);
        sum += z;
        sumsq += z * z;
    }
    assert_true(sum / 100000 < 0.02 && sum / 100000 > -0.02);
    assert_true(sumsq / 100000 > 0.97 && sumsq / 100000 < 1.03);
    for (int i = 0; i < 1000; i++) {
        int64_t k = rng_below(&a.rng, 7);
        assert_true(k >= 0 && k < 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_accumulate_across_backward_calls),
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_second_backward_is_an_error),
        cmocka_unit_test(test_retain_graph_allows_a_second_backward),
        cmocka_unit_test(test_reused_node_gets_summed_gradient),
        cmocka_unit_test(test_backward_requires_scalar_and_grad),
        cmocka_unit_test(test_no_grad_records_nothing),
        cmocka_unit_test(test_detached_alias_shares_data_but_not_graph),
        cmocka_unit_test(test_deep_graph_is_walked_and_freed_without_recursion),
        cmocka_unit_test(test_memory_is_returned_after_training_step),
        cmocka_unit_test(test_memory_cap_turns_huge_request_into_error),
        cmocka_unit_test(test_rng_is_reproducible),
    };
    return cmocka_run_group_tests(tests, engine_setup, NULL);
}

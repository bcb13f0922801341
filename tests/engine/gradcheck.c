#include "gradcheck.h"

#include <math.h>
#include <stdio.h>

Tensor *random_tensor(Engine *eng, int ndim, const int64_t *shape, double lo, double hi,
                      bool requires_grad)
{
    Tensor *t = tensor_rand(eng, ndim, shape);
    assert_non_null(t);
    float *d = tensor_data(t);
    for (int64_t i = 0; i < tensor_numel(t); i++)
        d[i] = (float)(lo + (hi - lo) * d[i]);
    t->requires_grad = requires_grad;
    return t;
}

Tensor *make_tensor(Engine *eng, int ndim, const int64_t *shape, const float *values)
{
    Tensor *t = tensor_from_floats(eng, DTYPE_FLOAT32, ndim, shape, values, shape_numel(ndim, shape));
    assert_non_null(t);
    return t;
}

void assert_tensor_close(const Tensor *t, const float *expected, int64_t n, double tol)
{
    assert_int_equal(tensor_numel(t), n);
    for (int64_t i = 0; i < n; i++) {
        double got = tensor_get_flat(t, i);
        if (!(fabs(got - expected[i]) <= tol * (1.0 + fabs(expected[i])))) {
            print_error("element %lld: got %.7g, expected %.7g\n", (long long)i, got,
                        (double)expected[i]);
            fail();
        }
    }
}

void assert_shape(const Tensor *t, int ndim, const int64_t *shape)
{
    assert_int_equal(t->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(t->shape[i], shape[i]);
}

/* Σ out ⊙ R in double, R_i = a fixed sequence in [0.5, 1.5). */
static double weighted_sum(const Tensor *out)
{
    double acc = 0.0;
    for (int64_t i = 0; i < tensor_numel(out); i++)
        acc += tensor_get_flat(out, i) * (0.5 + (double)((i * 37 + 11) % 17) / 17.0);
    return acc;
}

static double evaluate(Engine *eng, GradcheckFn f, Tensor **inputs, void *ctx)
{
    bool was = eng->grad_enabled;
    eng->grad_enabled = false;
    Tensor *out = f(eng, inputs, ctx);
    eng->grad_enabled = was;
    if (!out)
        print_error("forward failed: %s\n", engine_error(eng));
    assert_non_null(out);
    double v = weighted_sum(out);
    tensor_release(out);
    return v;
}

static void compute_analytic(Engine *eng, GradcheckFn f, int n, Tensor **inputs, void *ctx)
{
    for (int i = 0; i < n; i++) {
        tensor_release(inputs[i]->grad);
        inputs[i]->grad = NULL;
    }
    Tensor *out = f(eng, inputs, ctx);
    if (!out)
        print_error("forward failed: %s\n", engine_error(eng));
    assert_non_null(out);
    /* L = Σ out ⊙ R, built from engine ops so backward sees it */
    Tensor *r = tensor_empty(eng, DTYPE_FLOAT32, out->ndim, out->shape);
    assert_non_null(r);
    for (int64_t i = 0; i < tensor_numel(r); i++)
        tensor_data(r)[i] = (float)(0.5 + (double)((i * 37 + 11) % 17) / 17.0);
    Tensor *prod = tensor_mul(eng, out, r);
    Tensor *loss = prod ? tensor_sum(eng, prod) : NULL;
    assert_non_null(loss);
    if (!autograd_backward(eng, loss, false))
        print_error("backward failed: %s\n", engine_error(eng));
    tensor_release(loss);
    tensor_release(prod);
    tensor_release(r);
    tensor_release(out);
}

void assert_gradcheck(Engine *eng, GradcheckFn f, int n, Tensor **inputs, void *ctx,
                      const GradcheckOptions *opt)
{
    GradcheckOptions o = {1e-2, 2e-3, 2e-3};
    if (opt)
        o = *opt;
    compute_analytic(eng, f, n, inputs, ctx);
    for (int k = 0; k < n; k++) {
        Tensor *x = inputs[k];
        if (!x->requires_grad)
            continue;
        if (!x->grad)
            print_error("input %d has no gradient after backward\n", k);
        assert_non_null(x->grad);
        for (int64_t i = 0; i < tensor_numel(x); i++) {
            float saved = tensor_get_flat(x, i);
            tensor_set_flat(x, i, (float)(saved + o.eps));
            double plus = evaluate(eng, f, inputs, ctx);
            tensor_set_flat(x, i, (float)(saved - o.eps));
            double minus = evaluate(eng, f, inputs, ctx);
            tensor_set_flat(x, i, saved);
            double numeric = (plus - minus) / (2.0 * o.eps);
            double analytic = tensor_get_flat(x->grad, i);
            if (!(fabs(analytic - numeric) <= o.atol + o.rtol * fabs(numeric))) {
                print_error("input %d element %lld: analytic %.6g vs numeric %.6g\n", k,
                            (long long)i, analytic, numeric);
                fail();
            }
        }
    }
}

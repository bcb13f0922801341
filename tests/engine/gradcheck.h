/*
 * gradcheck.h - test helpers: gradients checked by central differences.
 *
 * For a function f of tensors, the check builds the scalar
 *     L = Σ f(inputs) ⊙ R      (R fixed pseudo-random weights, so that the
 *                               output gradient is not uniform)
 * runs backward(), and compares each input's .grad with
 *     (L(x + ε) - L(x - ε)) / 2ε
 * computed element by element. The forward pass is float32, so the numeric
 * derivative carries round-off of about 1e-7·|L|/ε: with ε = 1e-2 the
 * truncation error (ε²·f''') and the round-off are both near 1e-4, and the
 * default tolerance |analytic - numeric| <= 2e-3 + 2e-3·|numeric| is honest
 * for smooth functions of inputs of order 1.
 */
#ifndef NNREPL_TEST_GRADCHECK_H
#define NNREPL_TEST_GRADCHECK_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine.h"
#include "ops.h"

typedef Tensor *(*GradcheckFn)(Engine *eng, Tensor **inputs, void *ctx);

typedef struct GradcheckOptions {
    double eps;     /* default 1e-2 */
    double atol;    /* default 2e-3 */
    double rtol;    /* default 2e-3 */
} GradcheckOptions;

/* Fails the current cmocka test (with the offending element) on a mismatch.
 * inputs[i] that require grad are checked; their .grad is reset first. */
void assert_gradcheck(Engine *eng, GradcheckFn f, int n, Tensor **inputs, void *ctx,
                      const GradcheckOptions *opt);

/* A float32 tensor of the given shape with values drawn uniformly from
 * [lo, hi) by the engine's generator, requires_grad set as asked. */
Tensor *random_tensor(Engine *eng, int ndim, const int64_t *shape, double lo, double hi,
                      bool requires_grad);
/* A float32 tensor from a literal list of values. */
Tensor *make_tensor(Engine *eng, int ndim, const int64_t *shape, const float *values);

/* assert every element of t equals expected[i] within tol. */
void assert_tensor_close(const Tensor *t, const float *expected, int64_t n, double tol);
void assert_shape(const Tensor *t, int ndim, const int64_t *shape);

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})
#define VALUES(...) ((const float[]){__VA_ARGS__})

#endif

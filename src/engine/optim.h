/*
 * optim.h - torch.optim.SGD and torch.optim.Adam with PyTorch 1.13's exact
 * update rules.
 *
 * SGD, for each parameter p with gradient g (skipped when p.grad is None):
 *     g = g + weight_decay * p                      (if weight_decay != 0)
 *     buf = g  on the first step, else  buf = momentum * buf + g   (if momentum != 0)
 *     g = buf
 *     p = p - lr * g
 * Adam (step t counted per parameter from 1):
 *     g = g + weight_decay * p
 *     m = beta1 * m + (1 - beta1) * g
 *     v = beta2 * v + (1 - beta2) * g * g
 *     p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
#ifndef NNREPL_OPTIM_H
#define NNREPL_OPTIM_H

#include "tensor.h"

typedef enum OptimKind { OPTIM_SGD, OPTIM_ADAM } OptimKind;

typedef struct Optimizer {
    int refcount;
    OptimKind kind;
    int n_params;
    Tensor **params;        /* owned references, in the order given */
    Tensor **state_a;       /* SGD momentum buffer / Adam exp_avg, NULL until used */
    Tensor **state_b;       /* Adam exp_avg_sq */
    int64_t *steps;         /* Adam: per-parameter step count */
    double lr;
    double momentum, weight_decay;  /* SGD (weight_decay also Adam) */
    double beta1, beta2, eps;       /* Adam */
} Optimizer;

/* Take references to params[0..n). Errors: no parameters, a negative lr,
 * a parameter that is not a leaf. A leaf without requires_grad is accepted,
 * as in PyTorch; it never gets a gradient, so step() leaves it alone. */
Optimizer *optim_sgd(Engine *eng, int n, Tensor *const *params, double lr,
                     double momentum, double weight_decay);
Optimizer *optim_adam(Engine *eng, int n, Tensor *const *params, double lr,
                      double beta1, double beta2, double eps, double weight_decay);
Optimizer *optim_retain(Optimizer *o);
void optim_release(Optimizer *o);

/* One update of every parameter that has a gradient (no autograd recorded). */
bool optim_step(Engine *eng, Optimizer *o);
/* Zero every parameter's gradient in place (PyTorch 1.13: set_to_none=False). */
void optim_zero_grad(Optimizer *o);

#endif

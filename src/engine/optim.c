/*
 * optim.c - SGD and Adam, computing in float32 in the order PyTorch 1.13's
 * single-tensor implementations do, so that trajectories agree to rounding.
 */
#include "optim.h"

#include <math.h>
#include <stdlib.h>

#include "kernels.h"

static bool check_params(Engine *eng, int n, Tensor *const *params)
{
    if (n <= 0)
        return engine_fail(eng, "optimizer got an empty parameter list");
    for (int i = 0; i < n; i++) {
        /* a parameter without requires_grad is accepted, as in PyTorch:
         * it never gets a gradient, so step() leaves it alone */
        if (!tensor_is_leaf(params[i]))
            return engine_fail(eng, "can't optimize a non-leaf Tensor");
    }
    return true;
}

static Optimizer *optim_new(Engine *eng, OptimKind kind, int n, Tensor *const *params, double lr)
{
    Optimizer *o = calloc(1, sizeof *o);
    if (!o) {
        engine_fail(eng, "out of memory");
        return NULL;
    }
    o->refcount = 1;
    o->params = calloc((size_t)n, sizeof *o->params);
    o->state_a = calloc((size_t)n, sizeof *o->state_a);
    o->state_b = calloc((size_t)n, sizeof *o->state_b);
    o->steps = calloc((size_t)n, sizeof *o->steps);
    if (!o->params || !o->state_a || !o->state_b || !o->steps) {
        optim_release(o); /* n_params is still 0: frees the arrays and o */
        engine_fail(eng, "out of memory");
        return NULL;
    }
    o->kind = kind;
    o->n_params = n;
    for (int i = 0; i < n; i++)
        o->params[i] = tensor_retain(params[i]);
    o->lr = lr;
    return o;
}

/* PyTorch's message for a hyperparameter out of range ("Invalid momentum
 * value: -1"); NULL, for the constructor to return. */
static Optimizer *invalid(Engine *eng, const char *what, double value)
{
    engine_fail(eng, "Invalid %s: %g", what, value);
    return NULL;
}

/* The checks and the construction both optimizers end with, after their own
 * hyperparameters have been checked. */
static Optimizer *optim_checked_new(Engine *eng, OptimKind kind, int n, Tensor *const *params,
                                    double lr, double weight_decay)
{
    if (!(weight_decay >= 0.0))
        return invalid(eng, "weight_decay value", weight_decay);
    if (!check_params(eng, n, params))
        return NULL;
    Optimizer *o = optim_new(eng, kind, n, params, lr);
    if (o)
        o->weight_decay = weight_decay;
    return o;
}

Optimizer *optim_sgd(Engine *eng, int n, Tensor *const *params, double lr, double momentum,
                     double weight_decay)
{
    if (!(lr >= 0.0))
        return invalid(eng, "learning rate", lr);
    if (!(momentum >= 0.0))
        return invalid(eng, "momentum value", momentum);
    Optimizer *o = optim_checked_new(eng, OPTIM_SGD, n, params, lr, weight_decay);
    if (o)
        o->momentum = momentum;
    return o;
}

Optimizer *optim_adam(Engine *eng, int n, Tensor *const *params, double lr, double beta1,
                      double beta2, double eps, double weight_decay)
{
    if (!(lr >= 0.0))
        return invalid(eng, "learning rate", lr);
    if (!(eps >= 0.0))
        return invalid(eng, "epsilon value", eps);
    if (!(beta1 >= 0.0 && beta1 < 1.0))
        return invalid(eng, "beta parameter at index 0", beta1);
    if (!(beta2 >= 0.0 && beta2 < 1.0))
        return invalid(eng, "beta parameter at index 1", beta2);
    Optimizer *o = optim_checked_new(eng, OPTIM_ADAM, n, params, lr, weight_decay);
    if (o) {
        o->beta1 = beta1;
        o->beta2 = beta2;
        o->eps = eps;
    }
    return o;
}

Optimizer *optim_retain(Optimizer *o)
{
    if (o)
        o->refcount++;
    return o;
}

void optim_release(Optimizer *o)
{
    if (!o || --o->refcount > 0)
        return;
    for (int i = 0; i < o->n_params; i++) {
        tensor_release(o->params[i]);
        tensor_release(o->state_a[i]);
        tensor_release(o->state_b[i]);
    }
    free(o->params);
    free(o->state_a);
    free(o->state_b);
    free(o->steps);
    free(o);
}

/* ---- the updates (p: parameter, d: its gradient after weight decay,
 * n elements, contiguous) ---- */

/* The SGD update of one parameter; `buf` is its momentum buffer (NULL when
 * momentum is 0), `first` when the buffer is new. */
static void sgd_update(const Optimizer *o, float *p, const float *d, float *buf, bool first,
                       int64_t n)
{
    if (buf) {
        float m = (float)o->momentum;
        for (int64_t i = 0; i < n; i++)
            buf[i] = first ? d[i] : buf[i] * m + d[i];   /* buf.mul_(momentum).add_(d) */
        d = buf;
    }
    float step = (float)-o->lr;
    for (int64_t i = 0; i < n; i++)
        p[i] = p[i] + step * d[i];                       /* p.add_(d, alpha=-lr) */
}

/* The Adam update of one parameter at step t (counted from 1). */
static void adam_update(const Optimizer *o, float *p, const float *d, float *m, float *v,
                        int64_t t, int64_t n)
{
    float b1 = (float)o->beta1, b2 = (float)o->beta2;
    float one_minus_b1 = (float)(1.0 - o->beta1), one_minus_b2 = (float)(1.0 - o->beta2);
    /* The bias corrections are Python floats (double) in PyTorch. */
    double bias_correction1 = 1.0 - pow(o->beta1, (double)t);
    double bias_correction2 = 1.0 - pow(o->beta2, (double)t);
    float step_size = (float)-(o->lr / bias_correction1);
    float bc2_sqrt = (float)sqrt(bias_correction2);
    float eps = (float)o->eps;
    for (int64_t i = 0; i < n; i++) {
        m[i] = m[i] * b1 + one_minus_b1 * d[i];          /* exp_avg.mul_(b1).add_(g, alpha=1-b1) */
        v[i] = v[i] * b2 + one_minus_b2 * d[i] * d[i];   /* exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2) */
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;      /* (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps) */
        p[i] = p[i] + step_size * m[i] / denom;          /* p.addcdiv_(exp_avg, denom, value=-step_size) */
    }
}

/* A zero-filled state tensor shaped like the parameter, created on first use. */
static bool ensure_state(Engine *eng, Tensor **slot, const Tensor *like, bool *created)
{
    *created = false;
    if (*slot && tensor_same_shape(*slot, like))
        return true;
    tensor_release(*slot);
    *slot = tensor_zeros(eng, DTYPE_FLOAT32, like->ndim, like->shape);
    *created = *slot != NULL;
    return *slot != NULL;
}

/* Update parameter i from its contiguous data p and gradient d. */
static bool update_one(Engine *eng, Optimizer *o, int i, float *p, const float *d, int64_t n)
{
    Tensor *param = o->params[i];
    bool created = false, created_b = false;
    if (o->kind == OPTIM_SGD) {
        float *buf = NULL;
        if (o->momentum != 0.0) {
            if (!ensure_state(eng, &o->state_a[i], param, &created))
                return false;
            buf = tensor_data(o->state_a[i]);
        }
        sgd_update(o, p, d, buf, created, n);
        return true;
    }
    if (!ensure_state(eng, &o->state_a[i], param, &created) ||
        !ensure_state(eng, &o->state_b[i], param, &created_b))
        return false;
    if (created)
        o->steps[i] = 0;
    adam_update(o, p, d, tensor_data(o->state_a[i]), tensor_data(o->state_b[i]), ++o->steps[i], n);
    return true;
}

static bool step_one(Engine *eng, Optimizer *o, int i)
{
    Tensor *param = o->params[i], *grad = param->grad;
    if (!tensor_same_shape(param, grad)) {
        char fp[96], fg[96];
        tensor_shape_str(param, fp, sizeof fp);
        tensor_shape_str(grad, fg, sizeof fg);
        return engine_fail(eng, "optimizer: parameter %d has shape %s but its gradient has shape %s",
                           i, fp, fg);
    }
    /* A view of the parameter's own storage when contiguous: updated in place. */
    Tensor *pc = tensor_contiguous(eng, param);
    Tensor *gc = pc ? tensor_contiguous(eng, grad) : NULL;
    int64_t n = tensor_numel(param);
    /* weight decay: d = g + wd·p in a buffer, as PyTorch's grad.add(p, alpha=wd) */
    size_t decayed_bytes = o->weight_decay != 0.0 ? (size_t)n * sizeof(float) : 0;
    float *decayed = gc && decayed_bytes ? engine_alloc(eng, decayed_bytes, "optimizer buffer") : NULL;
    bool ok = gc && (decayed || !decayed_bytes);
    if (ok) {
        float *p = tensor_data(pc);
        const float *d = tensor_data(gc);
        if (decayed) {
            float wd = (float)o->weight_decay;
            for (int64_t k = 0; k < n; k++)
                decayed[k] = d[k] + wd * p[k];
            d = decayed;
        }
        ok = update_one(eng, o, i, p, d, n);
    }
    if (ok && pc != param)
        ok = tensor_copy_(eng, param, pc);
    engine_free_accounted(eng, decayed, decayed_bytes);
    tensor_release(pc);
    tensor_release(gc);
    return ok;
}

bool optim_step(Engine *eng, Optimizer *o)
{
    for (int i = 0; i < o->n_params; i++)
        if (o->params[i]->grad && !step_one(eng, o, i))
            return false;
    return true;
}

void optim_zero_grad(Optimizer *o)
{
    for (int i = 0; i < o->n_params; i++)
        if (o->params[i]->grad)
            tensor_fill_(o->params[i]->grad, 0.0);
}

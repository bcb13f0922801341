/*
 * ops_nn.c - the neural-network functions: softmax and log_softmax, the four
 * losses, max_pool2d and dropout (conv2d: ops_conv.c). Each op: forward and
 * backward side by side.
 *
 * Shapes in comments: N batch, C classes or channels, (H, W) an image plane,
 * (OH, OW) the output plane.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op_impl.h"

#include "ops_nn_common.h"

/* ==== softmax and log_softmax ==== */

/* A contiguous tensor seen as (outer, size, inner) around dimension `dim`. */
typedef struct Split {
    int64_t outer, size, inner;
} Split;

static Split split_at(const Tensor *a, int dim)
{
    Split s = {1, 1, 1};
    for (int i = 0; i < a->ndim; i++) {
        if (i < dim)
            s.outer *= a->shape[i];
        else if (i == dim)
            s.size = a->shape[i];
        else
            s.inner *= a->shape[i];
    }
    return s;
}

/* y[i, :, k] = softmax or log_softmax of x[i, :, k], shifted by the maximum so
 * that exp never overflows. */
static void softmax_lines(const float *x, float *y, Split s, bool log_form)
{
    for (int64_t i = 0; i < s.outer; i++)
        for (int64_t k = 0; k < s.inner; k++) {
            const float *p = x + i * s.size * s.inner + k;
            float *q = y + i * s.size * s.inner + k;
            float m = -INFINITY;
            for (int64_t j = 0; j < s.size; j++)
                if (p[j * s.inner] > m || isnan(p[j * s.inner]))
                    m = p[j * s.inner];
            double sum = 0.0;
            for (int64_t j = 0; j < s.size; j++) {
                float e = expf(p[j * s.inner] - m);
                if (!log_form)
                    q[j * s.inner] = e;
                sum += e;
            }
            if (log_form) {
                /* (x - m) is exact; adding m back to the log-sum would round */
                float log_sum = (float)log(sum);
                for (int64_t j = 0; j < s.size; j++)
                    q[j * s.inner] = (p[j * s.inner] - m) - log_sum;
            } else {
                float inv = (float)(1.0 / sum);
                for (int64_t j = 0; j < s.size; j++)
                    q[j * s.inner] *= inv;
            }
        }
}

static Tensor *softmax_forward(Engine *eng, Node *n, bool log_form)
{
    Tensor *a = n->inputs[0];
    if (a->dtype != DTYPE_FLOAT32) {
        engine_fail(eng, "\"%s_lastdim_kernel_impl\" not implemented for '%s'",
                    log_form ? "log_softmax" : "softmax", scalar_type_name(a->dtype));
        return NULL;
    }
    Tensor *src = tensor_contiguous(eng, a);
    Tensor *out = src ? tensor_empty(eng, DTYPE_FLOAT32, a->ndim, a->shape) : NULL;
    Tensor *saved = out ? tensor_alias(eng, out) : NULL;
    if (!saved) {
        tensor_release(src);
        tensor_release(out);
        return NULL;
    }
    softmax_lines(tensor_data(src), tensor_data(out), split_at(a, n->args.dim), log_form);
    tensor_release(src);
    n->saved[0] = saved;
    return out;
}

/* The backward of softmax_forward, y the saved output, along the dim:
 *   softmax:      dx = y ⊙ (g - Σ_j g·y)
 *   log_softmax:  dx = g - exp(y) · Σ_j g
 * Always inlined, so that each caller's constant `log_form` leaves branch-free
 * loops. */
static inline __attribute__((always_inline)) bool softmax_backward(Node *n, const Tensor *gout, Tensor **gin, bool log_form)
{
    Split s = split_at(n->inputs[0], n->args.dim);
    const float *g = tensor_data(gout), *y = tensor_data(n->saved[0]);
    float *dx = tensor_data(gin[0]);
    for (int64_t i = 0; i < s.outer; i++)
        for (int64_t k = 0; k < s.inner; k++) {
            int64_t base = i * s.size * s.inner + k;
            double acc = 0.0;   /* Σ_j g (log_softmax) or Σ_j g·y (softmax) */
            for (int64_t j = 0; j < s.size; j++) {
                int64_t at = base + j * s.inner;
                if (log_form)
                    acc += g[at];
                else
                    acc += (double)g[at] * y[at];
            }
            for (int64_t j = 0; j < s.size; j++) {
                int64_t at = base + j * s.inner;
                if (log_form)
                    dx[at] += g[at] - expf(y[at]) * (float)acc;
                else
                    dx[at] += y[at] * (g[at] - (float)acc);
            }
        }
    return true;
}

Tensor *op_softmax_forward(Engine *eng, Node *n)
{
    return softmax_forward(eng, n, false);
}

bool op_softmax_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    return softmax_backward(n, gout, gin, false);
}

Tensor *op_log_softmax_forward(Engine *eng, Node *n)
{
    return softmax_forward(eng, n, true);
}

bool op_log_softmax_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    return softmax_backward(n, gout, gin, true);
}

/* ==== losses ==== */

static bool check_reduction(Engine *eng, int reduction)
{
    if (reduction == REDUCTION_NONE || reduction == REDUCTION_MEAN || reduction == REDUCTION_SUM)
        return true;
    return engine_fail(eng, "%d is not a valid value for reduction", reduction);
}

/* The output of a loss: the per-element losses for reduction 'none', their
 * mean or sum (0-d) otherwise. `count` divides the sum for 'mean'. */
static Tensor *loss_output(Engine *eng, const float *losses, int ndim, const int64_t *shape,
                           int reduction, double count)
{
    if (reduction == REDUCTION_NONE)
        return tensor_from_floats(eng, DTYPE_FLOAT32, ndim, shape, losses, shape_numel(ndim, shape));
    double acc = 0.0;
    int64_t n = shape_numel(ndim, shape);
    for (int64_t i = 0; i < n; i++)
        acc += losses[i];
    if (reduction == REDUCTION_MEAN)
        acc = count > 0 ? acc / count : NAN;
    return tensor_scalar(eng, DTYPE_FLOAT32, acc);
}

/* The gradient of loss element i: g[i] for 'none', g / count for 'mean', g
 * for 'sum' (g the single output gradient). */
static inline float loss_grad_at(const float *g, int reduction, float inv_count, int64_t i)
{
    if (reduction == REDUCTION_NONE)
        return g[i];
    return reduction == REDUCTION_MEAN ? g[0] * inv_count : g[0];
}

/* `t` expanded to (ndim, shape) as a new contiguous tensor (a retained `t`
 * when it already has that shape and is contiguous). */
static Tensor *expand_contiguous(Engine *eng, Tensor *t, int ndim, const int64_t *shape)
{
    if (t->ndim == ndim && memcmp(t->shape, shape, (size_t)ndim * sizeof *shape) == 0)
        return tensor_contiguous(eng, t);
    Tensor view;
    if (!broadcast_view(eng, t, ndim, shape, &view))
        return NULL;
    Tensor *out = tensor_empty(eng, t->dtype, ndim, shape);
    if (out)
        strided_copy(tensor_data(out), &view);
    return out;
}

/* ---- mse_loss: mean of (input - target)², broadcasting as PyTorch ---- */

/* The broadcast shape of the two inputs, with PyTorch's message when they
 * cannot be broadcast. */
static bool loss_broadcast_shape(Engine *eng, const Tensor *a, const Tensor *b, int *nd,
                                 int64_t *shape)
{
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < n; i++) {
        int ia = a->ndim - n + i, ib = b->ndim - n + i;
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return engine_fail(eng, "The size of tensor a (%lld) must match the size of tensor b "
                               "(%lld) at non-singleton dimension %d",
                               (long long)da, (long long)db, i);
        shape[i] = da == 1 ? db : da;
    }
    *nd = n;
    return true;
}

Tensor *op_mse_loss_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0], *t = n->inputs[1];
    if (!check_reduction(eng, n->args.reduction))
        return NULL;
    if (x->dtype != DTYPE_FLOAT32 && t->dtype != DTYPE_FLOAT32) {
        engine_fail(eng, "\"mse_cpu\" not implemented for '%s'", scalar_type_name(x->dtype));
        return NULL;
    }
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (!loss_broadcast_shape(eng, x, t, &nd, shape))
        return NULL;
    Tensor *xe = expand_contiguous(eng, x, nd, shape);
    Tensor *te = xe ? expand_contiguous(eng, t, nd, shape) : NULL;
    int64_t count = shape_numel(nd, shape);
    float *losses = te ? scratch_alloc(eng, count, "mse_loss buffer") : NULL;
    Tensor *out = NULL;
    if (losses) {
        const float *a = tensor_data(xe), *b = tensor_data(te);
        for (int64_t i = 0; i < count; i++) {
            float d = a[i] - b[i];
            losses[i] = d * d;
        }
        out = loss_output(eng, losses, nd, shape, n->args.reduction, (double)count);
        scratch_free(eng, losses, count);
    }
    tensor_release(xe);
    tensor_release(te);
    return out;
}

/* d/dx = 2 (x - t) · g (/ count for 'mean'); d/dt = -d/dx; both summed back
 * over broadcast dims. */
bool op_mse_loss_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *x = n->inputs[0], *t = n->inputs[1];
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (!loss_broadcast_shape(eng, x, t, &nd, shape))
        return false;
    Tensor *xe = expand_contiguous(eng, x, nd, shape);
    Tensor *te = xe ? expand_contiguous(eng, t, nd, shape) : NULL;
    Tensor *dx = te ? tensor_empty(eng, DTYPE_FLOAT32, nd, shape) : NULL;
    bool ok = dx != NULL;
    if (ok) {
        int64_t count = shape_numel(nd, shape);
        const float *a = tensor_data(xe), *b = tensor_data(te), *g = tensor_data(gout);
        float *d = tensor_data(dx);
        float inv = 1.0f / (float)count;
        for (int64_t i = 0; i < count; i++)
            d[i] = 2.0f * (a[i] - b[i]) * loss_grad_at(g, n->args.reduction, inv, i);
        if (gin[0])
            ok = grad_accumulate_reduced(eng, gin[0], dx);
        if (ok && gin[1])
            ok = grad_accumulate_scaled(eng, gin[1], dx, -1.0f);
    }
    tensor_release(xe);
    tensor_release(te);
    tensor_release(dx);
    return ok;
}

/* ---- binary_cross_entropy: -(t·log x + (1 - t)·log(1 - x)), logs clamped at -100 ---- */

static bool check_same_size(Engine *eng, const Tensor *x, const Tensor *t)
{
    if (tensor_same_shape(x, t))
        return true;
    char fx[96], ft[96];
    sizes_format(fx, sizeof fx, x->ndim, x->shape);
    sizes_format(ft, sizeof ft, t->ndim, t->shape);
    return engine_fail(eng, "Using a target size (torch.Size(%s)) that is different to the input "
                       "size (torch.Size(%s)) is deprecated. Please ensure they have the same size.",
                       ft, fx);
}

/* PyTorch clamps both logarithms at -100 so that x = 0 or 1 gives a finite loss. */
static inline float clamped_log(float v)
{
    float l = logf(v);
    return l > -100.0f ? l : -100.0f;
}

static inline float clamped_log1m(float v)
{
    float l = log1pf(-v);
    return l > -100.0f ? l : -100.0f;
}

Tensor *op_bce_loss_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0], *t = n->inputs[1];
    if (!check_reduction(eng, n->args.reduction) || !check_same_size(eng, x, t))
        return NULL;
    if (t->dtype != x->dtype) {
        engine_fail(eng, "Found dtype %s but expected %s", scalar_type_name(t->dtype),
                    scalar_type_name(x->dtype));
        return NULL;
    }
    if (x->dtype != DTYPE_FLOAT32) {
        engine_fail(eng, "\"binary_cross_entropy\" not implemented for '%s'",
                    scalar_type_name(x->dtype));
        return NULL;
    }
    Tensor *xc = tensor_contiguous(eng, x);
    Tensor *tc = xc ? tensor_contiguous(eng, t) : NULL;
    int64_t count = tensor_numel(x);
    float *losses = tc ? scratch_alloc(eng, count, "binary_cross_entropy buffer") : NULL;
    Tensor *out = NULL;
    if (losses) {
        const float *a = tensor_data(xc), *b = tensor_data(tc);
        bool in_range = true;
        for (int64_t i = 0; i < count; i++) {
            if (!(a[i] >= 0.0f && a[i] <= 1.0f)) {
                in_range = false;
                break;
            }
            losses[i] = (b[i] - 1.0f) * clamped_log1m(a[i]) - b[i] * clamped_log(a[i]);
        }
        if (in_range)
            out = loss_output(eng, losses, x->ndim, x->shape, n->args.reduction, (double)count);
        else
            engine_fail(eng, "all elements of input should be between 0 and 1");
        scratch_free(eng, losses, count);
    }
    tensor_release(xc);
    tensor_release(tc);
    return out;
}

/* PyTorch's guard against dividing by zero at x = 0 or 1. */
#define BCE_EPSILON 1e-12f

/* d/dx = g · (x - t) / max(x (1 - x), ε);  d/dt = g · (log(1 - x) - log x), clamped logs */
bool op_bce_loss_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *xc = tensor_contiguous(eng, n->inputs[0]);
    Tensor *tc = xc ? tensor_contiguous(eng, n->inputs[1]) : NULL;
    if (!tc) {
        tensor_release(xc);
        return false;
    }
    const float *a = tensor_data(xc), *b = tensor_data(tc), *g = tensor_data(gout);
    int64_t count = tensor_numel(xc);
    float inv = 1.0f / (float)count;
    int red = n->args.reduction;
    if (gin[0]) {
        float *d = tensor_data(gin[0]);
        for (int64_t i = 0; i < count; i++) {
            float denom = (1.0f - a[i]) * a[i];
            d[i] += loss_grad_at(g, red, inv, i) * (a[i] - b[i]) /
                    (denom > BCE_EPSILON ? denom : BCE_EPSILON);
        }
    }
    if (gin[1]) {
        float *d = tensor_data(gin[1]);
        for (int64_t i = 0; i < count; i++)
            d[i] += loss_grad_at(g, red, inv, i) * (clamped_log1m(a[i]) - clamped_log(a[i]));
    }
    tensor_release(xc);
    tensor_release(tc);
    return true;
}

/* ---- nll_loss and cross_entropy: class-index targets ---- */

/* PyTorch's default ignore_index: targets equal to it add nothing. */
#define IGNORE_INDEX (-100)

/* The (N, C) view of a (N, C) or (C) input with its (N) or 0-d target,
 * checked as PyTorch checks them. */
typedef struct ClassProblem {
    int64_t rows, classes;
    bool batched;               /* input (N, C); else (C) with a 0-d target */
} ClassProblem;

static bool class_problem(Engine *eng, bool cross_entropy, const Tensor *x, const Tensor *t,
                          ClassProblem *cp)
{
    if (t->dtype != DTYPE_INT64)
        return engine_fail(eng, "expected scalar type Long but found %s", scalar_type_name(t->dtype));
    if (x->dtype != DTYPE_FLOAT32)
        return engine_fail(eng, "\"%s\" not implemented for '%s'",
                           cross_entropy ? "log_softmax_lastdim_kernel_impl" : "nll_loss_out_frame",
                           scalar_type_name(x->dtype));
    if (x->ndim == 1) {
        if (t->ndim != 0) {
            char fx[64], ft[64];
            sizes_format(fx, sizeof fx, x->ndim, x->shape);
            sizes_format(ft, sizeof ft, t->ndim, t->shape);
            return engine_fail(eng, "size mismatch (got input: %s, target: %s)", fx, ft);
        }
        *cp = (ClassProblem){1, x->shape[0], false};
        return true;
    }
    if (x->ndim != 2) {
        char fx[96];
        shape_format(fx, sizeof fx, x->ndim, x->shape);
        return engine_fail(eng, "%s: expected input of shape (N, C) or (C), got %s",
                           cross_entropy ? "cross_entropy" : "nll_loss", fx);
    }
    int64_t tn = t->ndim == 0 ? 0 : t->shape[0];
    if (t->ndim != 1 && !(t->ndim >= 1 && tn == x->shape[0]))
        return engine_fail(eng, "Expected input batch_size (%lld) to match target batch_size (%lld).",
                           (long long)x->shape[0], (long long)tn);
    if (t->ndim != 1)
        return engine_fail(eng, "1D target tensor expected, multi-target not supported");
    if (tn != x->shape[0])
        return engine_fail(eng, "Expected input batch_size (%lld) to match target batch_size (%lld).",
                           (long long)x->shape[0], (long long)tn);
    *cp = (ClassProblem){x->shape[0], x->shape[1], true};
    return true;
}

/* Check every target is a class index (or the ignore index); count the rest. */
static bool check_targets(Engine *eng, const Tensor *t, const ClassProblem *cp, int64_t *counted)
{
    int64_t used = 0;
    for (int64_t i = 0; i < cp->rows; i++) {
        int64_t c = (int64_t)tensor_get_flat(t, i);
        if (c == IGNORE_INDEX)
            continue;
        if (c < 0 || c >= cp->classes)
            return engine_fail(eng, "Target %lld is out of bounds.", (long long)c);
        used++;
    }
    *counted = used;
    return true;
}

/* class_problem, then check_targets: the checks every pass of nll_loss and
 * cross_entropy starts with. */
static bool class_targets(Engine *eng, bool cross_entropy, const Tensor *x, const Tensor *t,
                          ClassProblem *cp, int64_t *counted)
{
    return class_problem(eng, cross_entropy, x, t, cp) && check_targets(eng, t, cp, counted);
}

/* Losses -logp[i, t_i] (0 for ignored rows) from (rows, C) log-probabilities,
 * then reduced; the output shape is (N) or 0-d for 'none'. */
static Tensor *nll_from_log_probs(Engine *eng, const float *logp, const Tensor *t,
                                  const ClassProblem *cp, int reduction, int64_t counted)
{
    float *losses = scratch_alloc(eng, cp->rows > 0 ? cp->rows : 1, "nll_loss buffer");
    if (!losses)
        return NULL;
    for (int64_t i = 0; i < cp->rows; i++) {
        int64_t c = (int64_t)tensor_get_flat(t, i);
        losses[i] = c == IGNORE_INDEX ? 0.0f : -logp[i * cp->classes + c];
    }
    int64_t shape[1] = {cp->rows};
    Tensor *out = loss_output(eng, losses, cp->batched ? 1 : 0, shape, reduction, (double)counted);
    scratch_free(eng, losses, cp->rows > 0 ? cp->rows : 1);
    return out;
}

Tensor *op_nll_loss_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0], *t = n->inputs[1];
    ClassProblem cp;
    int64_t counted;
    if (!check_reduction(eng, n->args.reduction) || !class_targets(eng, false, x, t, &cp, &counted))
        return NULL;
    Tensor *xc = tensor_contiguous(eng, x);
    if (!xc)
        return NULL;
    Tensor *out = nll_from_log_probs(eng, tensor_data(xc), t, &cp, n->args.reduction, counted);
    tensor_release(xc);
    return out;
}

/* The weight of row i's gradient: g_i, g / counted for 'mean', g for 'sum'. */
static float class_row_grad(const Tensor *gout, int reduction, int64_t counted, int64_t i)
{
    const float *g = tensor_data(gout);
    if (reduction == REDUCTION_NONE)
        return g[i];
    return reduction == REDUCTION_MEAN ? g[0] / (float)counted : g[0];
}

/* dx[i, t_i] -= g_i */
bool op_nll_loss_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *t = n->inputs[1];
    ClassProblem cp;
    int64_t counted;
    if (!class_targets(eng, false, n->inputs[0], t, &cp, &counted))
        return false;
    float *dx = tensor_data(gin[0]);
    for (int64_t i = 0; i < cp.rows; i++) {
        int64_t c = (int64_t)tensor_get_flat(t, i);
        if (c != IGNORE_INDEX)
            dx[i * cp.classes + c] -= class_row_grad(gout, n->args.reduction, counted, i);
    }
    return true;
}

/* cross_entropy = nll_loss(log_softmax(x, dim=class dim)) in one op; the
 * log-probabilities are kept for backward (saved[0]). */
Tensor *op_cross_entropy_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0], *t = n->inputs[1];
    ClassProblem cp;
    int64_t counted;
    if (!check_reduction(eng, n->args.reduction) || !class_targets(eng, true, x, t, &cp, &counted))
        return NULL;
    Tensor *xc = tensor_contiguous(eng, x);
    Tensor *logp = xc ? tensor_empty(eng, DTYPE_FLOAT32, x->ndim, x->shape) : NULL;
    Tensor *out = NULL;
    if (logp) {
        Split rows = {cp.rows, cp.classes, 1};
        softmax_lines(tensor_data(xc), tensor_data(logp), rows, true);
        out = nll_from_log_probs(eng, tensor_data(logp), t, &cp, n->args.reduction, counted);
    }
    tensor_release(xc);
    if (out)
        n->saved[0] = logp;
    else
        tensor_release(logp);
    return out;
}

/* dx[i, c] += g_i · (softmax(x)[i, c] - [c = t_i]) */
bool op_cross_entropy_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *t = n->inputs[1];
    ClassProblem cp;
    int64_t counted;
    if (!class_targets(eng, true, n->inputs[0], t, &cp, &counted))
        return false;
    const float *logp = tensor_data(n->saved[0]);
    float *dx = tensor_data(gin[0]);
    for (int64_t i = 0; i < cp.rows; i++) {
        int64_t c = (int64_t)tensor_get_flat(t, i);
        if (c == IGNORE_INDEX)
            continue;
        float w = class_row_grad(gout, n->args.reduction, counted, i);
        const float *lp = logp + i * cp.classes;
        float *d = dx + i * cp.classes;
        for (int64_t j = 0; j < cp.classes; j++)
            d[j] += w * expf(lp[j]);
        d[c] -= w;
    }
    return true;
}

/* ==== max_pool2d ==== */

typedef struct PoolGeom {
    int64_t planes, h, w;       /* input (N·C planes of H×W) */
    int64_t k, stride;
    int64_t oh, ow;
} PoolGeom;

static bool pool_geometry(Engine *eng, const Tensor *x, int kernel, int stride, PoolGeom *g)
{
    if ((x->ndim != 3 && x->ndim != 4) || tensor_numel(x) == 0)
        return engine_fail(eng, "non-empty 3D or 4D (batch mode) tensor expected for input");
    if (x->dtype != DTYPE_FLOAT32)
        return engine_fail(eng, "\"max_pool2d\" not implemented for '%s'", scalar_type_name(x->dtype));
    if (kernel <= 0)
        return engine_fail(eng, "kernel size should be greater than zero, but got kH: %d kW: %d",
                           kernel, kernel);
    if (stride <= 0)
        return engine_fail(eng, "stride should be greater than zero, but got dH: %d dW: %d",
                           stride, stride);
    int d = x->ndim - 2;
    g->planes = x->ndim == 4 ? x->shape[0] * x->shape[1] : x->shape[0];
    g->h = x->shape[d];
    g->w = x->shape[d + 1];
    g->k = kernel;
    g->stride = stride;
    g->oh = g->h >= kernel ? (g->h - kernel) / stride + 1 : 0;
    g->ow = g->w >= kernel ? (g->w - kernel) / stride + 1 : 0;
    if (g->oh < 1 || g->ow < 1) {
        int64_t c = x->shape[d - 1];
        return engine_fail(eng, "Given input size: (%lldx%lldx%lld). Calculated output size: "
                           "(%lldx%lldx%lld). Output size is too small",
                           (long long)c, (long long)g->h, (long long)g->w, (long long)c,
                           (long long)g->oh, (long long)g->ow);
    }
    return true;
}

/* Does v replace the running maximum? PyTorch's rule: larger, or NaN. */
static inline bool pool_beats(float v, float best)
{
    return v > best || isnan(v);
}

#ifdef __SSE2__
#include <emmintrin.h>

/* m ? a : b, lane by lane (m all ones or zero) */
static inline __m128 select4(__m128 m, __m128 a, __m128 b)
{
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}

/* pool_beats, four lanes at once */
static inline __m128 beats4(__m128 v, __m128 best)
{
    return _mm_or_ps(_mm_cmpgt_ps(v, best), _mm_cmpunord_ps(v, v));
}

/* Four 2×2 windows of rows r0, r1 starting at column 2·ox; `at0`, `at1`
 * are the flat indices of r0[2·ox], r1[2·ox] (floats are exact below 2^24). */
static inline void pool4(const float *r0, const float *r1, float at0, float at1, float *d, float *a)
{
    __m128 p = _mm_loadu_ps(r0), q = _mm_loadu_ps(r0 + 4);
    __m128 e0 = _mm_shuffle_ps(p, q, _MM_SHUFFLE(2, 0, 2, 0)); /* r0[0], r0[2], ... */
    __m128 o0 = _mm_shuffle_ps(p, q, _MM_SHUFFLE(3, 1, 3, 1)); /* r0[1], r0[3], ... */
    p = _mm_loadu_ps(r1);
    q = _mm_loadu_ps(r1 + 4);
    __m128 e1 = _mm_shuffle_ps(p, q, _MM_SHUFFLE(2, 0, 2, 0));
    __m128 o1 = _mm_shuffle_ps(p, q, _MM_SHUFFLE(3, 1, 3, 1));
    __m128 steps = _mm_set_ps(6.0f, 4.0f, 2.0f, 0.0f), one = _mm_set1_ps(1.0f);
    __m128 i0 = _mm_add_ps(_mm_set1_ps(at0), steps), i1 = _mm_add_ps(_mm_set1_ps(at1), steps);
    __m128 best = e0, best_at = i0;
    __m128 m = beats4(o0, best);
    best = select4(m, o0, best);
    best_at = select4(m, _mm_add_ps(i0, one), best_at);
    m = beats4(e1, best);
    best = select4(m, e1, best);
    best_at = select4(m, i1, best_at);
    m = beats4(o1, best);
    best = select4(m, o1, best);
    best_at = select4(m, _mm_add_ps(i1, one), best_at);
    _mm_storeu_ps(d, best);
    _mm_storeu_ps(a, best_at);
}
#endif

/* One 2×2 window: r0[0..1], r1[0..1]. */
static inline void pool1(const float *r0, const float *r1, float at0, float at1, float *d, float *a)
{
    float best = r0[0], best_at = at0;
    if (pool_beats(r0[1], best)) {
        best = r0[1];
        best_at = at0 + 1.0f;
    }
    if (pool_beats(r1[0], best)) {
        best = r1[0];
        best_at = at1;
    }
    if (pool_beats(r1[1], best)) {
        best = r1[1];
        best_at = at1 + 1.0f;
    }
    *d = best;
    *a = best_at;
}

/* The common 2×2 window with stride 2, four windows at a time where SSE2 is
 * there: on random data the comparisons are unpredictable, and selects have
 * no branches to mispredict. Indices are kept as floats, as the int64
 * tensor stores them. */
static void max_pool_2x2(const PoolGeom *g, const float *x, float *y, float *idx)
{
    const float *x_end = x + g->planes * g->h * g->w;
    (void)x_end; /* unused without SSE2 */
    for (int64_t p = 0; p < g->planes; p++) {
        const float *src = x + p * g->h * g->w;
        float *dst = y + p * g->oh * g->ow, *at = idx + p * g->oh * g->ow;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            const float *r0 = src + 2 * oy * g->w, *r1 = r0 + g->w;
            float *d = dst + oy * g->ow, *a = at + oy * g->ow;
            float row0 = (float)(2 * oy * g->w), row1 = (float)((2 * oy + 1) * g->w);
            int64_t ox = 0;
#ifdef __SSE2__
            /* reads r[2·ox .. 2·ox + 7], inside the row while ox + 4 <= OW */
            for (; ox + 4 <= g->ow; ox += 4)
                pool4(r0 + 2 * ox, r1 + 2 * ox, row0 + (float)(2 * ox), row1 + (float)(2 * ox),
                      d + ox, a + ox);
            if (ox < g->ow && r1 + 2 * ox + 8 <= x_end) {
                /* the last 1..3 windows read past the row into the rest of
                 * the input (lanes that are then dropped) */
                float td[4], ta[4];
                pool4(r0 + 2 * ox, r1 + 2 * ox, row0 + (float)(2 * ox), row1 + (float)(2 * ox), td, ta);
                for (int64_t i = 0; ox + i < g->ow; i++) {
                    d[ox + i] = td[i];
                    a[ox + i] = ta[i];
                }
                ox = g->ow;
            } else if (ox < g->ow) {
                /* at the very end of the input: from copies padded to four windows */
                int64_t left = g->ow - ox;
                float t0[8], t1[8], td[4], ta[4];
                for (int i = 0; i < 8; i++) {
                    t0[i] = i < 2 * left ? r0[2 * ox + i] : 0.0f;
                    t1[i] = i < 2 * left ? r1[2 * ox + i] : 0.0f;
                }
                pool4(t0, t1, row0 + (float)(2 * ox), row1 + (float)(2 * ox), td, ta);
                for (int64_t i = 0; i < left; i++) {
                    d[ox + i] = td[i];
                    a[ox + i] = ta[i];
                }
                ox = g->ow;
            }
#endif
            for (; ox < g->ow; ox++)
                pool1(r0 + 2 * ox, r1 + 2 * ox, row0 + (float)(2 * ox), row1 + (float)(2 * ox),
                      d + ox, a + ox);
        }
    }
}

/* y[p, oy, ox] = max of the window, idx = its flat position iy·W + ix in
 * the plane (PyTorch's indices). */
static void max_pool_planes(const PoolGeom *g, const float *x, float *y, float *idx)
{
    if (g->k == 2 && g->stride == 2) {
        max_pool_2x2(g, x, y, idx);
        return;
    }
    for (int64_t p = 0; p < g->planes; p++) {
        const float *src = x + p * g->h * g->w;
        float *dst = y + p * g->oh * g->ow, *at = idx + p * g->oh * g->ow;
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t first = oy * g->stride * g->w + ox * g->stride;
                float best = src[first];
                int64_t best_at = first;
                for (int64_t i = 0; i < g->k; i++) {
                    const float *row = src + first + i * g->w;
                    for (int64_t j = 0; j < g->k; j++)
                        if (pool_beats(row[j], best)) {
                            best = row[j];
                            best_at = first + i * g->w + j;
                        }
                }
                dst[oy * g->ow + ox] = best;
                at[oy * g->ow + ox] = (float)best_at;
            }
    }
}

/* The argmax indices (int64, output shape) are saved[0]. */
Tensor *op_max_pool2d_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0];
    PoolGeom g;
    if (!pool_geometry(eng, x, n->args.kernel, n->args.stride, &g))
        return NULL;
    int64_t shape[4];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 2] = g.oh;
    shape[x->ndim - 1] = g.ow;
    Tensor *xc = tensor_contiguous(eng, x);
    Tensor *out = xc ? tensor_empty(eng, DTYPE_FLOAT32, x->ndim, shape) : NULL;
    Tensor *idx = out ? tensor_empty(eng, DTYPE_INT64, x->ndim, shape) : NULL;
    if (idx) {
        max_pool_planes(&g, tensor_data(xc), tensor_data(out), tensor_data(idx));
        n->saved[0] = idx;
    } else {
        tensor_release(out);
        out = NULL;
    }
    tensor_release(xc);
    return out;
}

/* dx[p, idx] += g[p, o] */
bool op_max_pool2d_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    PoolGeom g;
    if (!pool_geometry(eng, n->inputs[0], n->args.kernel, n->args.stride, &g))
        return false;
    const float *gy = tensor_data(gout), *idx = tensor_data(n->saved[0]);
    float *dx = tensor_data(gin[0]);
    int64_t per_out = g.oh * g.ow, per_in = g.h * g.w;
    for (int64_t p = 0; p < g.planes; p++)
        for (int64_t o = 0; o < per_out; o++)
            dx[p * per_in + (int64_t)idx[p * per_out + o]] += gy[p * per_out + o];
    return true;
}

/* ==== dropout (training mode; eval mode never builds a node) ==== */

/* out = x ⊙ mask, mask = 0 with probability p, else 1 / (1 - p), drawn from
 * the engine's generator; the mask is saved[0]. */
Tensor *op_dropout_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0];
    double p = n->args.a;
    Tensor *xc = tensor_contiguous(eng, x);
    Tensor *mask = xc ? tensor_empty(eng, DTYPE_FLOAT32, x->ndim, x->shape) : NULL;
    Tensor *out = mask ? tensor_empty(eng, DTYPE_FLOAT32, x->ndim, x->shape) : NULL;
    if (!out) {
        tensor_release(xc);
        tensor_release(mask);
        return NULL;
    }
    float keep_scale = p < 1.0 ? (float)(1.0 / (1.0 - p)) : 0.0f;
    float *m = tensor_data(mask), *o = tensor_data(out);
    const float *a = tensor_data(xc);
    int64_t count = tensor_numel(x);
    for (int64_t i = 0; i < count; i++) {
        m[i] = rng_uniform(&eng->rng) < p ? 0.0f : keep_scale;
        o[i] = a[i] * m[i];
    }
    tensor_release(xc);
    n->saved[0] = mask;
    return out;
}

bool op_dropout_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    const float *g = tensor_data(gout), *m = tensor_data(n->saved[0]);
    float *dx = tensor_data(gin[0]);
    int64_t count = tensor_numel(gout);
    for (int64_t i = 0; i < count; i++)
        dx[i] += g[i] * m[i];
    return true;
}

/* ==== public wrappers ==== */

static Tensor *softmax_apply(Engine *eng, OpKind kind, Tensor *a, int64_t dim)
{
    int d;
    if (!tensor_wrap_dim(eng, a->ndim, dim, &d))
        return NULL;
    OpArgs args = {0};
    args.dim = a->ndim == 0 ? 0 : d;
    return op_apply(eng, kind, 1, &a, &args);
}

Tensor *tensor_softmax(Engine *eng, Tensor *a, int64_t dim)
{
    return softmax_apply(eng, OP_SOFTMAX, a, dim);
}

Tensor *tensor_log_softmax(Engine *eng, Tensor *a, int64_t dim)
{
    return softmax_apply(eng, OP_LOG_SOFTMAX, a, dim);
}

static Tensor *loss_apply(Engine *eng, OpKind kind, Tensor *input, Tensor *target, int reduction)
{
    Tensor *in[2] = {input, target};
    OpArgs args = {0};
    args.reduction = reduction;
    return op_apply(eng, kind, 2, in, &args);
}

Tensor *tensor_mse_loss(Engine *eng, Tensor *input, Tensor *target, int reduction)
{
    return loss_apply(eng, OP_MSE_LOSS, input, target, reduction);
}

Tensor *tensor_bce_loss(Engine *eng, Tensor *input, Tensor *target, int reduction)
{
    return loss_apply(eng, OP_BCE_LOSS, input, target, reduction);
}

Tensor *tensor_nll_loss(Engine *eng, Tensor *input, Tensor *target, int reduction)
{
    return loss_apply(eng, OP_NLL_LOSS, input, target, reduction);
}

Tensor *tensor_cross_entropy(Engine *eng, Tensor *input, Tensor *target, int reduction)
{
    return loss_apply(eng, OP_CROSS_ENTROPY, input, target, reduction);
}

Tensor *tensor_max_pool2d(Engine *eng, Tensor *input, int kernel, int stride)
{
    OpArgs args = {0};
    args.kernel = kernel;
    args.stride = stride <= 0 && kernel > 0 ? kernel : stride;
    return op_apply(eng, OP_MAX_POOL2D, 1, &input, &args);
}

Tensor *tensor_dropout(Engine *eng, Tensor *input, double p, bool training)
{
    if (!(p >= 0.0 && p <= 1.0)) {
        engine_fail(eng, "dropout probability has to be between 0 and 1, but got %g", p);
        return NULL;
    }
    if (!training || p == 0.0)
        return tensor_retain(input);
    if (input->dtype != DTYPE_FLOAT32) {
        engine_fail(eng, "result type Float can't be cast to the desired output type %s",
                    scalar_type_name(input->dtype));
        return NULL;
    }
    OpArgs args = {0};
    args.a = p;
    return op_apply(eng, OP_DROPOUT, 1, &input, &args);
}

/*
 * ops_nn.c - the neural-network functions: softmax and log_softmax, the four
 * losses, conv2d, max_pool2d and dropout. Each op: forward and backward side
 * by side.
 *
 * Shapes in comments: N batch, C classes or channels, (H, W) an image plane,
 * (OH, OW) the output plane, P = OH·OW, K = Cin·k·k a convolution's patch.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "blas.h"
#include "conv_fast.h"
#include "op_impl.h"

/* PyTorch's names of the dtypes, as its kernel messages print them. */
static const char *scalar_type_name(DType d)
{
    switch (d) {
    case DTYPE_INT64: return "Long";
    case DTYPE_BOOL: return "Bool";
    default: return "Float";
    }
}

/* "[64, 1, 32, 32]": PyTorch's way of printing sizes inside messages. */
static void sizes_format(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = 0;
    int n = snprintf(buf, size, "[");
    used = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < ndim && used < size; i++) {
        n = snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)shape[i]);
        if (n > 0)
            used += (size_t)n;
    }
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

static bool interrupted(const Engine *eng)
{
    return eng->interrupt_flag && *eng->interrupt_flag;
}

/* Scratch memory counted against the engine's limit. */
static float *scratch_alloc(Engine *eng, int64_t count, const char *what)
{
    return engine_alloc(eng, (size_t)count * sizeof(float), what);
}

static void scratch_free(Engine *eng, float *p, int64_t count)
{
    engine_free_accounted(eng, p, (size_t)count * sizeof(float));
}

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

Tensor *op_softmax_forward(Engine *eng, Node *n)
{
    return softmax_forward(eng, n, false);
}

/* dx = y ⊙ (g - Σ_j g·y) along the softmax dim */
bool op_softmax_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    Split s = split_at(n->inputs[0], n->args.dim);
    const float *g = tensor_data(gout), *y = tensor_data(n->saved[0]);
    float *dx = tensor_data(gin[0]);
    for (int64_t i = 0; i < s.outer; i++)
        for (int64_t k = 0; k < s.inner; k++) {
            int64_t base = i * s.size * s.inner + k;
            double dot = 0.0;
            for (int64_t j = 0; j < s.size; j++)
                dot += (double)g[base + j * s.inner] * y[base + j * s.inner];
            for (int64_t j = 0; j < s.size; j++) {
                int64_t at = base + j * s.inner;
                dx[at] += y[at] * (g[at] - (float)dot);
            }
        }
    return true;
}

Tensor *op_log_softmax_forward(Engine *eng, Node *n)
{
    return softmax_forward(eng, n, true);
}

/* dx = g - exp(y) · Σ_j g along the dim (y = log_softmax(x)) */
bool op_log_softmax_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    Split s = split_at(n->inputs[0], n->args.dim);
    const float *g = tensor_data(gout), *y = tensor_data(n->saved[0]);
    float *dx = tensor_data(gin[0]);
    for (int64_t i = 0; i < s.outer; i++)
        for (int64_t k = 0; k < s.inner; k++) {
            int64_t base = i * s.size * s.inner + k;
            double gsum = 0.0;
            for (int64_t j = 0; j < s.size; j++)
                gsum += g[base + j * s.inner];
            for (int64_t j = 0; j < s.size; j++) {
                int64_t at = base + j * s.inner;
                dx[at] += g[at] - expf(y[at]) * (float)gsum;
            }
        }
    return true;
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
    int64_t strides[TENSOR_MAX_DIMS];
    if (!broadcast_to_strides(eng, t, ndim, shape, strides))
        return NULL;
    Tensor view = *t;
    view.ndim = ndim;
    memcpy(view.shape, shape, (size_t)ndim * sizeof *shape);
    memcpy(view.stride, strides, (size_t)ndim * sizeof *strides);
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
    if (!check_reduction(eng, n->args.reduction) ||
        !class_problem(eng, false, x, t, &cp) || !check_targets(eng, t, &cp, &counted))
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
    if (!class_problem(eng, false, n->inputs[0], t, &cp) ||
        !check_targets(eng, t, &cp, &counted))
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
    if (!check_reduction(eng, n->args.reduction) ||
        !class_problem(eng, true, x, t, &cp) ||
        !check_targets(eng, t, &cp, &counted))
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
    if (!class_problem(eng, true, n->inputs[0], t, &cp) ||
        !check_targets(eng, t, &cp, &counted))
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

/* ==== conv2d ==== */

/* The geometry of one convolution. */
typedef struct ConvGeom {
    int64_t batch, cin, h, w;   /* input (N, Cin, H, W) */
    int64_t cout, k;            /* weight (Cout, Cin, k, k) */
    int64_t stride, pad;
    int64_t oh, ow;             /* output (N, Cout, OH, OW) */
    int64_t patch;              /* K = Cin·k·k */
    int64_t plane;              /* P = OH·OW */
} ConvGeom;

static bool conv_geometry(Engine *eng, const Tensor *x, const Tensor *w, const Tensor *b,
                          int stride, int pad, ConvGeom *g)
{
    char fx[96], fw[96];
    if (x->ndim != 3 && x->ndim != 4) {
        sizes_format(fx, sizeof fx, x->ndim, x->shape);
        return engine_fail(eng, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           "input of size: %s", fx);
    }
    if (w->ndim != 4) {
        sizes_format(fw, sizeof fw, w->ndim, w->shape);
        return engine_fail(eng, "conv2d: expected a weight of 4 dimensions (out_channels, "
                           "in_channels, kH, kW), got size %s", fw);
    }
    if (w->shape[2] != w->shape[3]) {
        sizes_format(fw, sizeof fw, w->ndim, w->shape);
        return engine_fail(eng, "conv2d: only square kernels are supported, got weight of size %s", fw);
    }
    if (x->dtype != w->dtype || (b && b->dtype != w->dtype))
        return engine_fail(eng, "expected scalar type %s but found %s", scalar_type_name(x->dtype),
                           scalar_type_name(x->dtype != w->dtype ? w->dtype : b->dtype));
    if (x->dtype != DTYPE_FLOAT32)
        return engine_fail(eng, "\"conv2d\" not implemented for '%s'", scalar_type_name(x->dtype));
    if (stride <= 0)
        return engine_fail(eng, "non-positive stride is not supported");
    if (pad < 0)
        return engine_fail(eng, "negative padding is not supported");
    int o = x->ndim - 3; /* 1 for a batch */
    g->batch = o ? x->shape[0] : 1;
    g->cin = x->shape[o];
    g->h = x->shape[o + 1];
    g->w = x->shape[o + 2];
    g->cout = w->shape[0];
    g->k = w->shape[2];
    g->stride = stride;
    g->pad = pad;
    if (g->cin != w->shape[1]) {
        int64_t xs[4] = {g->batch, g->cin, g->h, g->w};
        sizes_format(fw, sizeof fw, 4, w->shape);
        sizes_format(fx, sizeof fx, 4, xs);
        return engine_fail(eng, "Given groups=1, weight of size %s, expected input%s to have %lld "
                           "channels, but got %lld channels instead", fw, fx,
                           (long long)w->shape[1], (long long)g->cin);
    }
    if (b && (b->ndim != 1 || b->shape[0] != g->cout)) {
        char fb[96];
        sizes_format(fw, sizeof fw, 4, w->shape);
        sizes_format(fb, sizeof fb, b->ndim, b->shape);
        return engine_fail(eng, "Given weight of size %s, expected bias to be 1-dimensional with "
                           "%lld elements, but got bias of size %s instead", fw,
                           (long long)g->cout, fb);
    }
    int64_t ph = g->h + 2 * pad, pw = g->w + 2 * pad;
    if (ph < g->k || pw < g->k)
        return engine_fail(eng, "Calculated padded input size per channel: (%lld x %lld). Kernel "
                           "size: (%lld x %lld). Kernel size can't be greater than actual input size",
                           (long long)ph, (long long)pw, (long long)g->k, (long long)g->k);
    g->oh = (ph - g->k) / stride + 1;
    g->ow = (pw - g->k) / stride + 1;
    g->patch = g->cin * g->k * g->k;
    g->plane = g->oh * g->ow;
    return true;
}

/* The outputs o in [*lo, *hi) whose input position o·stride + offset lies
 * in [0, size). */
static void valid_outputs(int64_t offset, int64_t stride, int64_t size, int64_t outputs,
                          int64_t *lo, int64_t *hi)
{
    int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int64_t last = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
    if (last > outputs)
        last = outputs;
    if (first > last)
        first = last;
    *lo = first;
    *hi = last;
}

/*
 * A convolution runs as matrix products over chunks of samples:
 *     Y (Cout, cols) = W (Cout, K) · col (K, cols)
 * where col holds, for each output position, the K input values its kernel
 * window reads (im2col). Two layouts of col:
 *
 *   rows  the textbook one: one column per output position (cols = n·OH·OW).
 *   wide  stride 1 only: one column per position (oy, x) of the (padded)
 *         input width PW, cols = n·OH·PW. Each row of col is then a single
 *         contiguous run of the input plane starting at ki·PW + kj, copied in
 *         one memcpy instead of OH short rows; the PW - OW columns past each
 *         output row are computed and dropped (their output gradients are
 *         zero in backward). Worth it when the input is not much wider than
 *         the output, i.e. for the small kernels of LeNet-style networks.
 *
 * Chunks are sized so that col stays in the L2 cache while OpenBLAS packs it.
 */
typedef struct ConvPlan {
    ConvGeom g;
    bool wide;
    int64_t ph, pw;        /* wide: the padded input plane */
    int64_t span;          /* columns per sample: OH·PW (wide) or OH·OW */
    int64_t chunk;         /* samples per matrix product */
} ConvPlan;

#define CONV_COL_TARGET_FLOATS (64 * 1024)
/* The wide layout computes PW/OW times the outputs; beyond this it loses. */
#define CONV_WIDE_MAX_WASTE 1.6

static ConvPlan conv_plan(const ConvGeom *g, ConvPath path)
{
    ConvPlan p = {.g = *g};
    p.ph = g->h + 2 * g->pad;
    p.pw = g->w + 2 * g->pad;
    p.wide = g->stride == 1 && (path == CONV_PATH_WIDE ||
                                (path != CONV_PATH_ROWS &&
                                 (double)p.pw <= CONV_WIDE_MAX_WASTE * (double)g->ow));
    p.span = p.wide ? g->oh * p.pw : g->plane;
    int64_t per_sample = g->patch * p.span;
    int64_t chunk = per_sample > 0 ? CONV_COL_TARGET_FLOATS / per_sample : g->batch;
    if (chunk < 1)
        chunk = 1;
    p.chunk = chunk < g->batch ? chunk : g->batch;
    return p;
}

/* rows layout: col (K, cn·OH·OW); row (c, ki, kj), column (s, oy, ox) holds
 * x[s, c, oy·stride + ki - pad, ox·stride + kj - pad], 0 in the padding.
 * x: (cn, Cin, H, W). */
static void im2col_rows(const ConvGeom *g, const float *x, int64_t cn, float *col)
{
    int64_t cols = cn * g->plane, st = g->stride;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++) {
            int64_t ylo, yhi;
            valid_outputs(ki - g->pad, st, g->h, g->oh, &ylo, &yhi);
            for (int64_t kj = 0; kj < g->k; kj++) {
                float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t xlo, xhi, off = kj - g->pad;
                valid_outputs(off, st, g->w, g->ow, &xlo, &xhi);
                for (int64_t s = 0; s < cn; s++) {
                    const float *src_plane = x + (s * g->cin + c) * g->h * g->w;
                    float *dst = row + s * g->plane;
                    memset(dst, 0, (size_t)(ylo * g->ow) * sizeof(float));
                    for (int64_t oy = ylo; oy < yhi; oy++) {
                        const float *src = src_plane + (oy * st + ki - g->pad) * g->w + off;
                        float *d = dst + oy * g->ow;
                        for (int64_t ox = 0; ox < xlo; ox++)
                            d[ox] = 0.0f;
                        if (st == 1)
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox] = src[ox];
                        else
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox] = src[ox * st];
                        for (int64_t ox = xhi; ox < g->ow; ox++)
                            d[ox] = 0.0f;
                    }
                    memset(dst + yhi * g->ow, 0, (size_t)((g->oh - yhi) * g->ow) * sizeof(float));
                }
            }
        }
}

/* The adjoint of im2col_rows: dx[s, c, iy, ix] += every col entry read from
 * it. dx: (cn, Cin, H, W). */
static void col2im_rows(const ConvGeom *g, const float *col, int64_t cn, float *dx)
{
    int64_t cols = cn * g->plane, st = g->stride;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++) {
            int64_t ylo, yhi;
            valid_outputs(ki - g->pad, st, g->h, g->oh, &ylo, &yhi);
            for (int64_t kj = 0; kj < g->k; kj++) {
                const float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t xlo, xhi, off = kj - g->pad;
                valid_outputs(off, st, g->w, g->ow, &xlo, &xhi);
                for (int64_t s = 0; s < cn; s++) {
                    float *dst_plane = dx + (s * g->cin + c) * g->h * g->w;
                    const float *src = row + s * g->plane;
                    for (int64_t oy = ylo; oy < yhi; oy++) {
                        float *d = dst_plane + (oy * st + ki - g->pad) * g->w + off;
                        const float *v = src + oy * g->ow;
                        if (st == 1)
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox] += v[ox];
                        else
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox * st] += v[ox];
                    }
                }
            }
        }
}

/* The run of the padded plane that row (ki, kj) of a wide col copies:
 * from ki·PW + kj, span elements, fewer at the plane's end. */
static int64_t wide_run(const ConvPlan *p, int64_t ki, int64_t kj, int64_t *start)
{
    *start = ki * p->pw + kj;
    int64_t avail = p->ph * p->pw - *start;
    return avail < p->span ? avail : p->span;
}

/* wide layout: col[(c, ki, kj)][s·span + j] = xp[s, c][ki·PW + kj + j].
 * xp: (cn, Cin, PH, PW), the padded input. */
static void im2col_wide(const ConvPlan *p, const float *xp, int64_t cn, float *col)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, plane = p->ph * p->pw;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++) {
                float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t start, n = wide_run(p, ki, kj, &start);
                for (int64_t s = 0; s < cn; s++) {
                    float *dst = row + s * p->span;
                    memcpy(dst, xp + (s * g->cin + c) * plane + start, (size_t)n * sizeof(float));
                    memset(dst + n, 0, (size_t)(p->span - n) * sizeof(float));
                }
            }
}

/* The adjoint of im2col_wide. dxp: (cn, Cin, PH, PW). */
static void col2im_wide(const ConvPlan *p, const float *col, int64_t cn, float *dxp)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, plane = p->ph * p->pw;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++) {
                const float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t start, n = wide_run(p, ki, kj, &start);
                for (int64_t s = 0; s < cn; s++) {
                    float *d = dxp + (s * g->cin + c) * plane + start;
                    const float *v = row + s * p->span;
                    for (int64_t j = 0; j < n; j++)
                        d[j] += v[j];
                }
            }
}

/* xp (cn, Cin, PH, PW) = x (cn, Cin, H, W) framed by `pad` zeros. */
static void pad_planes(const ConvGeom *g, int64_t ph, int64_t pw, const float *x, int64_t cn,
                       float *xp)
{
    int64_t pad = g->pad;
    memset(xp, 0, (size_t)(cn * g->cin * ph * pw) * sizeof(float));
    for (int64_t i = 0; i < cn * g->cin; i++)
        for (int64_t y = 0; y < g->h; y++)
            memcpy(xp + (i * ph + y + pad) * pw + pad, x + (i * g->h + y) * g->w,
                   (size_t)g->w * sizeof(float));
}

/* dx (cn, Cin, H, W) += dxp (cn, Cin, rows, pw) where row y of dx is row
 * y + row0 of dxp, from column `pad` on. */
static void unpad_planes_add(const ConvGeom *g, int64_t rows, int64_t row0, int64_t pw,
                             const float *dxp, int64_t cn, float *dx)
{
    for (int64_t i = 0; i < cn * g->cin; i++)
        for (int64_t y = 0; y < g->h; y++) {
            const float *src = dxp + (i * rows + y + row0) * pw + g->pad;
            float *dst = dx + (i * g->h + y) * g->w;
            for (int64_t x = 0; x < g->w; x++)
                dst[x] += src[x];
        }
}

/* Scratch for one chunked pass. */
typedef struct ConvScratch {
    float *col;    /* (K, chunk·span) */
    float *mat;    /* (Cout, chunk·span): a chunk's outputs or output gradients */
    float *pad;    /* (chunk, Cin, PH, PW): padded inputs or their gradients */
    int64_t col_n, mat_n, pad_n;
} ConvScratch;

static bool conv_scratch_init(Engine *eng, const ConvPlan *p, ConvScratch *s)
{
    const ConvGeom *g = &p->g;
    memset(s, 0, sizeof *s);
    s->col_n = g->patch * p->chunk * p->span;
    s->mat_n = g->cout * p->chunk * p->span;
    s->pad_n = p->wide && g->pad > 0 ? p->chunk * g->cin * p->ph * p->pw : 0;
    s->col = scratch_alloc(eng, s->col_n, "conv2d buffer");
    s->mat = s->col ? scratch_alloc(eng, s->mat_n, "conv2d buffer") : NULL;
    s->pad = s->mat && s->pad_n ? scratch_alloc(eng, s->pad_n, "conv2d buffer") : NULL;
    if (s->mat && (s->pad || !s->pad_n))
        return true;
    scratch_free(eng, s->col, s->col ? s->col_n : 0);
    scratch_free(eng, s->mat, s->mat ? s->mat_n : 0);
    return false;
}

static void conv_scratch_free(Engine *eng, ConvScratch *s)
{
    scratch_free(eng, s->col, s->col_n);
    scratch_free(eng, s->mat, s->mat_n);
    scratch_free(eng, s->pad, s->pad_n);
}

/* col for samples x[0..cn) (x: (cn, Cin, H, W)) in the plan's layout. */
static void conv_im2col(const ConvPlan *p, ConvScratch *s, const float *x, int64_t cn)
{
    if (!p->wide) {
        im2col_rows(&p->g, x, cn, s->col);
        return;
    }
    const float *xp = x;
    if (p->g.pad > 0) {
        pad_planes(&p->g, p->ph, p->pw, x, cn, s->pad);
        xp = s->pad;
    }
    im2col_wide(p, xp, cn, s->col);
}

/* dx (cn, Cin, H, W) += the adjoint of conv_im2col applied to s->col. */
static void conv_col2im(const ConvPlan *p, ConvScratch *s, int64_t cn, float *dx)
{
    if (!p->wide) {
        col2im_rows(&p->g, s->col, cn, dx);
    } else if (p->g.pad == 0) {
        col2im_wide(p, s->col, cn, dx);
    } else {
        memset(s->pad, 0, (size_t)(cn * p->g.cin * p->ph * p->pw) * sizeof(float));
        col2im_wide(p, s->col, cn, s->pad);
        unpad_planes_add(&p->g, p->ph, p->g.pad, p->pw, s->pad, cn, dx);
    }
}

/* The output position (oy, ox) of a sample sits at column oy·PW + ox (wide)
 * or oy·OW + ox (rows) of its span. */
static int64_t span_row_stride(const ConvPlan *p)
{
    return p->wide ? p->pw : p->g.ow;
}

/* y[s, co, oy, ox] = mat[co, s·span + oy·stride + ox] + bias[co]
 * (y: the chunk's (cn, Cout, OH, OW) outputs). */
static void scatter_outputs(const ConvPlan *p, const float *mat, int64_t cn, const float *bias,
                            float *y)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, rs = span_row_stride(p);
    for (int64_t s = 0; s < cn; s++)
        for (int64_t co = 0; co < g->cout; co++) {
            float b = bias ? bias[co] : 0.0f;
            const float *src = mat + co * cols + s * p->span;
            float *dst = y + (s * g->cout + co) * g->plane;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++)
                    dst[oy * g->ow + ox] = src[oy * rs + ox] + b;
        }
}

/* mat (Cout, cn·span) = the chunk's output gradients gy (cn, Cout, OH, OW),
 * zero in the wide layout's dropped columns. */
static void gather_output_grads(const ConvPlan *p, const float *gy, int64_t cn, float *mat)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, rs = span_row_stride(p);
    for (int64_t s = 0; s < cn; s++)
        for (int64_t co = 0; co < g->cout; co++) {
            const float *src = gy + (s * g->cout + co) * g->plane;
            float *dst = mat + co * cols + s * p->span;
            for (int64_t oy = 0; oy < g->oh; oy++) {
                for (int64_t ox = 0; ox < g->ow; ox++)
                    dst[oy * rs + ox] = src[oy * g->ow + ox];
                for (int64_t ox = g->ow; ox < rs; ox++)
                    dst[oy * rs + ox] = 0.0f;
            }
        }
}

static int64_t chunk_size(const ConvPlan *p, int64_t s0)
{
    return p->g.batch - s0 < p->chunk ? p->g.batch - s0 : p->chunk;
}

/* y (N, Cout, OH, OW) = conv(x, w) + bias, chunk by chunk. */
static bool gemm_conv_forward(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                              const float *w, const float *bias, float *y)
{
    ConvPlan p = conv_plan(g, path);
    ConvScratch s;
    if (!conv_scratch_init(eng, &p, &s))
        return false;
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane;
    bool ok = true;
    for (int64_t s0 = 0; s0 < g->batch && ok; s0 += p.chunk) {
        int64_t cn = chunk_size(&p, s0), cols = cn * p.span;
        conv_im2col(&p, &s, x + s0 * in_size, cn);
        /* Y (Cout, cols) = W (Cout, K) · col (K, cols) */
        sgemm(false, false, g->cout, cols, g->patch, 1.0f, w, g->patch, s.col, cols, 0.0f, s.mat, cols);
        scatter_outputs(&p, s.mat, cn, bias, y + s0 * out_size);
        ok = !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    conv_scratch_free(eng, &s);
    return ok;
}

/* db[co] += Σ over samples and positions of gy[s, co, :] */
static void conv_bias_grad(const ConvGeom *g, const float *gy, float *db)
{
    for (int64_t s = 0; s < g->batch; s++)
        for (int64_t co = 0; co < g->cout; co++) {
            const float *src = gy + (s * g->cout + co) * g->plane;
            float acc = 0.0f;
            for (int64_t i = 0; i < g->plane; i++)
                acc += src[i];
            db[co] += acc;
        }
}

/* dW += dY · colᵀ and dX += col2im(Wᵀ · dY), chunk by chunk. */
static bool gemm_conv_backward(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                               const float *w, const float *gy, float *dx, float *dw)
{
    ConvPlan p = conv_plan(g, path);
    ConvScratch s;
    if (!conv_scratch_init(eng, &p, &s))
        return false;
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane;
    bool ok = true;
    for (int64_t s0 = 0; s0 < g->batch && ok; s0 += p.chunk) {
        int64_t cn = chunk_size(&p, s0), cols = cn * p.span;
        gather_output_grads(&p, gy + s0 * out_size, cn, s.mat);
        if (dw) {
            conv_im2col(&p, &s, x + s0 * in_size, cn);
            /* dW (Cout, K) += dY (Cout, cols) · colᵀ (cols, K) */
            sgemm(false, true, g->cout, g->patch, cols, 1.0f, s.mat, cols, s.col, cols, 1.0f, dw, g->patch);
        }
        if (dx) {
            /* dcol (K, cols) = Wᵀ (K, Cout) · dY (Cout, cols) */
            sgemm(true, false, g->patch, cols, g->cout, 1.0f, w, g->patch, s.mat, cols, 0.0f, s.col, cols);
            conv_col2im(&p, &s, cn, dx + s0 * in_size);
        }
        ok = !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    conv_scratch_free(eng, &s);
    return ok;
}

/* ---- the direct path: stride 1, vectorised kernels (conv_fast.h) ---- */

/*
 * The input planes are read in place (or from a padded copy) as rows of
 * width PW; output column j = oy·PW + ox, as in the wide layout, so tap
 * (c, ki, kj) is the offset c·PH·PW + ki·PW + kj. The input gradient is the
 * same kind of sum over the output gradient with the kernel flipped: each
 * gradient row is stored after `lead` = (k-1)·PW + (k-1) zeros so that the
 * flipped taps never read before it.
 */
typedef struct DirectConv {
    ConvGeom g;
    int64_t ph, pw, plane;   /* the padded input plane */
    int64_t cols;            /* (OH-1)·PW + OW: up to the last output */
    int64_t lead, grad_row;  /* zeros before a gradient row; its length lead + plane */
} DirectConv;

static DirectConv direct_plan(const ConvGeom *g)
{
    DirectConv d = {.g = *g};
    d.ph = g->h + 2 * g->pad;
    d.pw = g->w + 2 * g->pad;
    d.plane = d.ph * d.pw;
    d.cols = (g->oh - 1) * d.pw + g->ow;
    d.lead = (g->k - 1) * d.pw + (g->k - 1);
    d.grad_row = d.lead + d.plane;
    return d;
}

/* Scratch of the direct path, one allocation. */
typedef struct DirectScratch {
    void *block;
    size_t bytes;
    int64_t *off;      /* (K) input taps */
    int64_t *off_t;    /* (Cout·k·k) flipped taps over the gradient rows */
    float *wt;         /* (K, Cout) weights by tap */
    float *wflip;      /* (Cout·k·k, Cin) flipped weights by tap */
    float *xp;         /* (Cin, PH, PW) a padded sample */
    float *rows;       /* forward: (Cout, cols) outputs; backward: (Cout, grad_row) gradients */
    float *dxp;        /* (Cin, H, PW) a padded sample's input gradient */
} DirectScratch;

static bool direct_scratch_init(Engine *eng, const DirectConv *d, bool backward, bool need_dx,
                                DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    int64_t kk = g->k * g->k, flipped = need_dx ? g->cout * kk : 0;
    int64_t xp_n = g->pad > 0 ? g->cin * d->plane : 0;
    int64_t rows_n = backward ? g->cout * d->grad_row : g->cout * d->cols;
    int64_t dxp_n = need_dx && g->pad > 0 ? g->cin * g->h * d->pw : 0;
    int64_t floats = g->patch * g->cout + flipped * g->cin + xp_n + rows_n + dxp_n;
    int64_t ints = g->patch + flipped;
    memset(s, 0, sizeof *s);
    s->bytes = (size_t)ints * sizeof(int64_t) + (size_t)floats * sizeof(float);
    s->block = engine_alloc(eng, s->bytes, "conv2d buffer");
    if (!s->block)
        return false;
    s->off = s->block;
    s->off_t = s->off + g->patch;
    s->wt = (float *)(s->off_t + flipped);
    s->wflip = s->wt + g->patch * g->cout;
    s->xp = s->wflip + flipped * g->cin;
    s->rows = s->xp + xp_n;
    s->dxp = s->rows + rows_n;
    return true;
}

static void direct_scratch_free(Engine *eng, DirectScratch *s)
{
    engine_free_accounted(eng, s->block, s->bytes);
}

/* off[(c·k + ki)·k + kj] = c·PH·PW + ki·PW + kj */
static void direct_input_taps(const DirectConv *d, DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++)
                s->off[(c * g->k + ki) * g->k + kj] = c * d->plane + ki * d->pw + kj;
}

/* wt[t][co] = w[co][t] */
static void direct_weights_by_tap(const DirectConv *d, const float *w, DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    for (int64_t t = 0; t < g->patch; t++)
        for (int64_t co = 0; co < g->cout; co++)
            s->wt[t * g->cout + co] = w[co * g->patch + t];
}

/* Flipped taps (co, ki', kj') over the gradient rows and their weights
 * wflip[(co, ki', kj')][c] = w[co][c][k-1-ki'][k-1-kj']. */
static void direct_flipped_taps(const DirectConv *d, const float *w, DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    int64_t k = g->k;
    for (int64_t co = 0; co < g->cout; co++)
        for (int64_t ki = 0; ki < k; ki++)
            for (int64_t kj = 0; kj < k; kj++) {
                int64_t t = (co * k + ki) * k + kj;
                s->off_t[t] = co * d->grad_row + ki * d->pw + kj;
                for (int64_t c = 0; c < g->cin; c++)
                    s->wflip[t * g->cin + c] = w[((co * g->cin + c) * k + (k - 1 - ki)) * k + (k - 1 - kj)];
            }
}

/* The sample's input as PH×PW planes: in place, or a padded copy. */
static const float *direct_input(const DirectConv *d, const float *x, DirectScratch *s)
{
    if (d->g.pad == 0)
        return x;
    pad_planes(&d->g, d->ph, d->pw, x, 1, s->xp);
    return s->xp;
}

static bool direct_conv_forward(Engine *eng, const ConvKernels *kern, const ConvGeom *g,
                                const float *x, const float *w, const float *bias, float *y)
{
    DirectConv d = direct_plan(g);
    DirectScratch s;
    if (!direct_scratch_init(eng, &d, false, false, &s))
        return false;
    direct_input_taps(&d, &s);
    direct_weights_by_tap(&d, w, &s);
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane;
    bool ok = true;
    for (int64_t n = 0; n < g->batch && ok; n++) {
        const float *in = direct_input(&d, x + n * in_size, &s);
        /* rows (Cout, cols) = Σ_t wt[t] ⊗ in[off[t] ...] */
        kern->correlate(in, s.off, g->patch, s.wt, g->cout, s.rows, d.cols, d.cols, false);
        float *out = y + n * out_size;
        for (int64_t co = 0; co < g->cout; co++) {
            float b = bias ? bias[co] : 0.0f;
            const float *src = s.rows + co * d.cols;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++)
                    out[(co * g->oh + oy) * g->ow + ox] = src[oy * d.pw + ox] + b;
        }
        ok = (n & 15) != 15 || !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    direct_scratch_free(eng, &s);
    return ok;
}

static bool direct_conv_backward(Engine *eng, const ConvKernels *kern, const ConvGeom *g,
                                 const float *x, const float *w, const float *gy, float *dx,
                                 float *dw)
{
    DirectConv d = direct_plan(g);
    DirectScratch s;
    if (!direct_scratch_init(eng, &d, true, dx != NULL, &s))
        return false;
    direct_input_taps(&d, &s);
    if (dx)
        direct_flipped_taps(&d, w, &s);
    /* the gradient rows: zero except at output positions, rewritten per sample */
    memset(s.rows, 0, (size_t)(g->cout * d.grad_row) * sizeof(float));
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane, kk = g->k * g->k;
    bool ok = true;
    for (int64_t n = 0; n < g->batch && ok; n++) {
        const float *gyn = gy + n * out_size;
        for (int64_t co = 0; co < g->cout; co++)
            for (int64_t oy = 0; oy < g->oh; oy++)
                memcpy(s.rows + co * d.grad_row + d.lead + oy * d.pw, gyn + (co * g->oh + oy) * g->ow,
                       (size_t)g->ow * sizeof(float));
        if (dw) {
            /* dW[co][t] += Σ_j dY[co][j] · in[off[t] + j] */
            const float *in = direct_input(&d, x + n * in_size, &s);
            kern->weight_grad(in, s.off, g->patch, s.rows + d.lead, d.grad_row, g->cout, dw, d.cols);
        }
        if (dx && g->pad == 0) {
            /* dX[c][p] += Σ_t wflip[t][c] · rows[off_t[t] + p] over the whole plane */
            kern->correlate(s.rows, s.off_t, g->cout * kk, s.wflip, g->cin, dx + n * in_size,
                            d.plane, d.plane, true);
        } else if (dx) {
            /* only the rows of the padded plane that are not padding */
            int64_t n_cols = g->h * d.pw;
            kern->correlate(s.rows + g->pad * d.pw, s.off_t, g->cout * kk, s.wflip, g->cin,
                            s.dxp, n_cols, n_cols, false);
            unpad_planes_add(g, g->h, 0, d.pw, s.dxp, 1, dx + n * in_size);
        }
        ok = (n & 15) != 15 || !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    direct_scratch_free(eng, &s);
    return ok;
}

/* ---- choosing a path ---- */

/* The direct kernels when the path allows them, the stride is 1 and the
 * CPU has them. */
static bool direct_kernels(const ConvGeom *g, ConvPath path, ConvKernels *kern)
{
    bool allowed = path == CONV_PATH_AUTO || path == CONV_PATH_DIRECT || path == CONV_PATH_DIRECT_AVX2;
    return allowed && g->stride == 1 && conv_fast_kernels(path == CONV_PATH_DIRECT_AVX2, kern);
}

static bool conv_forward_compute(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                                 const float *w, const float *bias, float *y)
{
    ConvKernels kern;
    if (direct_kernels(g, path, &kern))
        return direct_conv_forward(eng, &kern, g, x, w, bias, y);
    return gemm_conv_forward(eng, g, path, x, w, bias, y);
}

static bool conv_backward_compute(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                                  const float *w, const float *gy, float *dx, float *dw)
{
    ConvKernels kern;
    if (direct_kernels(g, path, &kern))
        return direct_conv_backward(eng, &kern, g, x, w, gy, dx, dw);
    return gemm_conv_backward(eng, g, path, x, w, gy, dx, dw);
}

Tensor *op_conv2d_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0], *w = n->inputs[1];
    Tensor *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
    ConvGeom g;
    if (!conv_geometry(eng, x, w, b, n->args.stride, n->args.padding, &g))
        return NULL;
    int64_t shape[4] = {g.batch, g.cout, g.oh, g.ow};
    Tensor *xc = tensor_contiguous(eng, x);
    Tensor *wc = xc ? tensor_contiguous(eng, w) : NULL;
    Tensor *bc = wc && b ? tensor_contiguous(eng, b) : NULL;
    Tensor *out = wc && (bc || !b) ? (x->ndim == 4 ? tensor_empty(eng, DTYPE_FLOAT32, 4, shape)
                                                   : tensor_empty(eng, DTYPE_FLOAT32, 3, shape + 1))
                                   : NULL;
    if (out && !conv_forward_compute(eng, &g, (ConvPath)n->args.kernel, tensor_data(xc),
                                     tensor_data(wc), bc ? tensor_data(bc) : NULL, tensor_data(out))) {
        tensor_release(out);
        out = NULL;
    }
    tensor_release(xc);
    tensor_release(wc);
    tensor_release(bc);
    return out;
}

bool op_conv2d_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *x = n->inputs[0], *w = n->inputs[1];
    Tensor *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
    ConvGeom g;
    if (!conv_geometry(eng, x, w, b, n->args.stride, n->args.padding, &g))
        return false;
    if (b && gin[2])
        conv_bias_grad(&g, tensor_data(gout), tensor_data(gin[2]));
    if (!gin[0] && !gin[1])
        return true;
    Tensor *xc = gin[1] ? tensor_contiguous(eng, x) : NULL;
    Tensor *wc = gin[0] ? tensor_contiguous(eng, w) : NULL;
    bool ok = (xc || !gin[1]) && (wc || !gin[0]);
    if (ok)
        ok = conv_backward_compute(eng, &g, (ConvPath)n->args.kernel, xc ? tensor_data(xc) : NULL,
                                   wc ? tensor_data(wc) : NULL,
                                   tensor_data(gout), gin[0] ? tensor_data(gin[0]) : NULL,
                                   gin[1] ? tensor_data(gin[1]) : NULL);
    tensor_release(xc);
    tensor_release(wc);
    return ok;
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

Tensor *tensor_conv2d(Engine *eng, Tensor *input, Tensor *weight, Tensor *bias, int stride,
                      int padding)
{
    return tensor_conv2d_path(eng, input, weight, bias, stride, padding, CONV_PATH_AUTO);
}

Tensor *tensor_conv2d_path(Engine *eng, Tensor *input, Tensor *weight, Tensor *bias, int stride,
                           int padding, ConvPath path)
{
    Tensor *in[3] = {input, weight, bias};
    OpArgs args = {0};
    args.stride = stride;
    args.padding = padding;
    args.kernel = (int)path; /* conv2d's use of the field: which algorithm */
    /* PyTorch runs an unbatched input as a batch of one and squeezes it */
    if (input->ndim == 3)
        args.grad_fn_name = "SqueezeBackward1";
    return op_apply(eng, OP_CONV2D, bias ? 3 : 2, in, &args);
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

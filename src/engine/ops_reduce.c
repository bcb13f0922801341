/*
 * ops_reduce.c - sum, mean, max, min (over everything or one dim), argmax.
 *
 * A reduction over dim d of a contiguous tensor sees it as (outer, size,
 * inner): outer = product of the dims before d, inner = product after.
 * Reducing everything is outer = inner = 1, size = numel.
 */
#include <math.h>
#include <string.h>

#include "op_impl.h"

typedef struct ReduceShape {
    int64_t outer, size, inner;
    int out_ndim;
    int64_t out_shape[TENSOR_MAX_DIMS];
} ReduceShape;

/* The (outer, size, inner) split and the output shape of reducing `a` over
 * args->dim (args->has_dim) or over everything. */
static bool reduce_shape(Engine *eng, const Tensor *a, const OpArgs *args, ReduceShape *r)
{
    if (!args->has_dim) {
        r->outer = r->inner = 1;
        r->size = tensor_numel(a);
        r->out_ndim = 0;
        return true;
    }
    int d;
    if (!tensor_wrap_dim(eng, a->ndim, args->dim, &d))
        return false;
    r->outer = r->inner = 1;
    r->size = a->ndim ? a->shape[d] : 1;
    r->out_ndim = 0;
    for (int i = 0; i < a->ndim; i++) {
        if (i < d)
            r->outer *= a->shape[i];
        if (i > d)
            r->inner *= a->shape[i];
        if (i != d)
            r->out_shape[r->out_ndim++] = a->shape[i];
        else if (args->keepdim)
            r->out_shape[r->out_ndim++] = 1;
    }
    return true;
}

/* ---- sum and mean ---- */

static Tensor *sum_or_mean(Engine *eng, Node *n, bool mean)
{
    Tensor *a = n->inputs[0];
    ReduceShape r;
    if (!reduce_shape(eng, a, &n->args, &r))
        return NULL;
    if (mean && dtype_is_integral(a->dtype)) {
        engine_fail(eng, "mean(): could not infer output dtype. Input dtype must be either "
                    "a floating point or complex dtype. Got: %s",
                    a->dtype == DTYPE_BOOL ? "Bool" : "Long");
        return NULL;
    }
    DType d = dtype_is_integral(a->dtype) ? DTYPE_INT64 : DTYPE_FLOAT32;
    Tensor *src = tensor_contiguous(eng, a);
    Tensor *out = src ? tensor_empty(eng, d, r.out_ndim, r.out_shape) : NULL;
    if (!out) {
        tensor_release(src);
        return NULL;
    }
    const float *x = tensor_data(src);
    float *o = tensor_data(out);
    /* float32 in PyTorch's order (sum_order.c), so results print alike;
     * integer tensors are summed exactly */
    for (int64_t i = 0; i < r.outer; i++) {
        const float *block = x + i * r.size * r.inner;
        float *dst = o + i * r.inner;
        if (d == DTYPE_INT64) {
            for (int64_t k = 0; k < r.inner; k++) {
                double acc = 0.0;
                for (int64_t j = 0; j < r.size; j++)
                    acc += block[j * r.inner + k];
                dst[k] = (float)acc;
            }
        } else if (r.inner == 1) {
            dst[0] = sum_contiguous_row(block, r.size);
        } else {
            sum_columns(block, r.size, r.inner, dst);
        }
        if (mean)
            for (int64_t k = 0; k < r.inner; k++)
                dst[k] /= (float)r.size;
    }
    tensor_release(src);
    return out;
}

/* gin[i, j, k] += g[i, k] * scale */
static void spread_gradient(const ReduceShape *r, const float *g, float *gin, float scale)
{
    for (int64_t i = 0; i < r->outer; i++)
        for (int64_t j = 0; j < r->size; j++) {
            float *dst = gin + (i * r->size + j) * r->inner;
            const float *src = g + i * r->inner;
            for (int64_t k = 0; k < r->inner; k++)
                dst[k] += src[k] * scale;
        }
}

Tensor *op_sum_forward(Engine *eng, Node *n)
{
    return sum_or_mean(eng, n, false);
}

bool op_sum_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    ReduceShape r;
    if (!reduce_shape(eng, n->inputs[0], &n->args, &r))
        return false;
    spread_gradient(&r, tensor_data(gout), tensor_data(gin[0]), 1.0f);
    return true;
}

Tensor *op_mean_forward(Engine *eng, Node *n)
{
    return sum_or_mean(eng, n, true);
}

bool op_mean_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    ReduceShape r;
    if (!reduce_shape(eng, n->inputs[0], &n->args, &r))
        return false;
    spread_gradient(&r, tensor_data(gout), tensor_data(gin[0]), 1.0f / (float)r.size);
    return true;
}

/* ---- max and min ---- */

/* Is v a better extreme than best? NaN wins, as in PyTorch. */
static inline bool beats(float v, float best, bool want_max)
{
    if (isnan(v))
        return !isnan(best);
    return want_max ? v > best : v < best;
}

/* values[i, k] and indices[i, k] of the extreme over j of x[i, j, k]. */
static void extreme_along(const ReduceShape *r, const float *x, bool want_max,
                          float *values, float *indices)
{
    for (int64_t i = 0; i < r->outer; i++)
        for (int64_t k = 0; k < r->inner; k++) {
            const float *p = x + i * r->size * r->inner + k;
            float best = p[0];
            int64_t at = 0;
            for (int64_t j = 1; j < r->size; j++)
                if (beats(p[j * r->inner], best, want_max)) {
                    best = p[j * r->inner];
                    at = j;
                }
            if (values)
                values[i * r->inner + k] = best;
            if (indices)
                indices[i * r->inner + k] = (float)at;
        }
}

static bool check_nonempty(Engine *eng, const Tensor *a, const ReduceShape *r, const char *what)
{
    if (r->size > 0 && tensor_numel(a) > 0)
        return true;
    return engine_fail(eng, "%s(): expected a non-empty tensor (the reduction has no elements)", what);
}

/* Extreme values (node output) and their indices (node->saved[0], int64). */
static Tensor *extreme_dim_forward(Engine *eng, Node *n, bool want_max)
{
    Tensor *a = n->inputs[0];
    ReduceShape r;
    if (!reduce_shape(eng, a, &n->args, &r) || !check_nonempty(eng, a, &r, want_max ? "max" : "min"))
        return NULL;
    Tensor *src = tensor_contiguous(eng, a);
    Tensor *values = src ? tensor_empty(eng, a->dtype, r.out_ndim, r.out_shape) : NULL;
    Tensor *indices = values ? tensor_empty(eng, DTYPE_INT64, r.out_ndim, r.out_shape) : NULL;
    if (!indices) {
        tensor_release(src);
        tensor_release(values);
        return NULL;
    }
    extreme_along(&r, tensor_data(src), want_max, tensor_data(values), tensor_data(indices));
    tensor_release(src);
    n->saved[0] = indices;
    return values;
}

/* gin[i, index[i, k], k] += g[i, k] */
static bool extreme_dim_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    ReduceShape r;
    if (!reduce_shape(eng, n->inputs[0], &n->args, &r))
        return false;
    const float *g = tensor_data(gout), *idx = tensor_data(n->saved[0]);
    float *d = tensor_data(gin[0]);
    for (int64_t i = 0; i < r.outer; i++)
        for (int64_t k = 0; k < r.inner; k++) {
            int64_t j = (int64_t)idx[i * r.inner + k];
            d[(i * r.size + j) * r.inner + k] += g[i * r.inner + k];
        }
    return true;
}

Tensor *op_max_dim_forward(Engine *eng, Node *n) { return extreme_dim_forward(eng, n, true); }
Tensor *op_min_dim_forward(Engine *eng, Node *n) { return extreme_dim_forward(eng, n, false); }

bool op_max_dim_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return extreme_dim_backward(eng, n, gout, gin);
}

bool op_min_dim_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return extreme_dim_backward(eng, n, gout, gin);
}

static Tensor *extreme_all_forward(Engine *eng, Node *n, bool want_max)
{
    Tensor *a = n->inputs[0];
    ReduceShape r;
    OpArgs all = {0};
    reduce_shape(eng, a, &all, &r);
    if (!check_nonempty(eng, a, &r, want_max ? "max" : "min"))
        return NULL;
    Tensor *src = tensor_contiguous(eng, a);
    Tensor *out = src ? tensor_empty(eng, a->dtype, 0, NULL) : NULL;
    if (out)
        extreme_along(&r, tensor_data(src), want_max, tensor_data(out), NULL);
    tensor_release(src);
    return out;
}

/* The gradient is shared evenly by all elements equal to the extreme. */
static bool extreme_all_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    Tensor *a = n->inputs[0];
    int64_t count = tensor_numel(a);
    bool want_max = n->op == OP_MAX_ALL;
    float best = tensor_get_flat(a, 0);
    for (int64_t i = 1; i < count; i++)
        if (beats(tensor_get_flat(a, i), best, want_max))
            best = tensor_get_flat(a, i);
    int64_t ties = 0;
    for (int64_t i = 0; i < count; i++)
        ties += tensor_get_flat(a, i) == best;
    if (ties == 0)
        return true; /* the extreme was NaN */
    float share = tensor_data(gout)[0] / (float)ties;
    float *d = tensor_data(gin[0]);
    for (int64_t i = 0; i < count; i++)
        if (tensor_get_flat(a, i) == best)
            d[i] += share;
    return true;
}

Tensor *op_max_all_forward(Engine *eng, Node *n) { return extreme_all_forward(eng, n, true); }
Tensor *op_min_all_forward(Engine *eng, Node *n) { return extreme_all_forward(eng, n, false); }

bool op_max_all_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return extreme_all_backward(eng, n, gout, gin);
}

bool op_min_all_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return extreme_all_backward(eng, n, gout, gin);
}

/* ---- public wrappers ---- */

static Tensor *reduce(Engine *eng, OpKind k, Tensor *a, bool has_dim, int64_t dim, bool keepdim,
                      const char *grad_fn_name)
{
    OpArgs args = {0};
    args.has_dim = has_dim;
    args.dim = (int)dim;
    if (has_dim && (dim < -TENSOR_MAX_DIMS - 1 || dim > TENSOR_MAX_DIMS)) {
        int unused;
        tensor_wrap_dim(eng, a->ndim, dim, &unused);
        return NULL;
    }
    args.keepdim = keepdim;
    args.grad_fn_name = grad_fn_name;
    return op_apply(eng, k, 1, &a, &args);
}

Tensor *tensor_sum(Engine *eng, Tensor *a)
{
    return reduce(eng, OP_SUM, a, false, 0, false, NULL);
}

Tensor *tensor_sum_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim)
{
    return reduce(eng, OP_SUM, a, true, dim, keepdim, "SumBackward1");
}

Tensor *tensor_mean(Engine *eng, Tensor *a)
{
    return reduce(eng, OP_MEAN, a, false, 0, false, NULL);
}

Tensor *tensor_mean_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim)
{
    return reduce(eng, OP_MEAN, a, true, dim, keepdim, "MeanBackward1");
}

Tensor *tensor_max(Engine *eng, Tensor *a)
{
    return reduce(eng, OP_MAX_ALL, a, false, 0, false, NULL);
}

Tensor *tensor_min(Engine *eng, Tensor *a)
{
    return reduce(eng, OP_MIN_ALL, a, false, 0, false, NULL);
}

/* Indices of the extremes along dim, int64 (no autograd). */
static Tensor *extreme_indices(Engine *eng, Tensor *a, bool has_dim, int64_t dim, bool keepdim,
                               bool want_max)
{
    OpArgs args = {0};
    args.has_dim = has_dim;
    args.dim = (int)dim;
    args.keepdim = keepdim;
    ReduceShape r;
    if (!reduce_shape(eng, a, &args, &r) || !check_nonempty(eng, a, &r, want_max ? "argmax" : "argmin"))
        return NULL;
    Tensor *src = tensor_contiguous(eng, a);
    Tensor *out = src ? tensor_empty(eng, DTYPE_INT64, r.out_ndim, r.out_shape) : NULL;
    if (out)
        extreme_along(&r, tensor_data(src), want_max, NULL, tensor_data(out));
    tensor_release(src);
    return out;
}

static bool extreme_dim(Engine *eng, OpKind k, Tensor *a, int64_t dim, bool keepdim,
                        Tensor **values, Tensor **indices)
{
    *values = reduce(eng, k, a, true, dim, keepdim, NULL);
    if (!*values)
        return false;
    *indices = extreme_indices(eng, a, true, dim, keepdim, k == OP_MAX_DIM);
    if (!*indices) {
        tensor_release(*values);
        *values = NULL;
        return false;
    }
    return true;
}

bool tensor_max_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim, Tensor **values,
                    Tensor **indices)
{
    return extreme_dim(eng, OP_MAX_DIM, a, dim, keepdim, values, indices);
}

bool tensor_min_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim, Tensor **values,
                    Tensor **indices)
{
    return extreme_dim(eng, OP_MIN_DIM, a, dim, keepdim, values, indices);
}

Tensor *tensor_argmax(Engine *eng, Tensor *a)
{
    return extreme_indices(eng, a, false, 0, false, true);
}

Tensor *tensor_argmax_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim)
{
    return extreme_indices(eng, a, true, dim, keepdim, true);
}

bool tensor_allclose(Engine *eng, Tensor *a, Tensor *b, double rtol, double atol, bool *out)
{
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (!broadcast_tensors_shape(eng, "allclose", a, b, &nd, shape))
        return false;
    Tensor *diff = binary_map(eng, "allclose", BK_SUB, a, b, DTYPE_FLOAT32);
    if (!diff)
        return false;
    int64_t sb[TENSOR_MAX_DIMS];
    broadcast_to_strides(eng, b, nd, shape, sb);
    Tensor bview = *b;
    bview.ndim = nd;
    memcpy(bview.shape, shape, sizeof bview.shape);
    memcpy(bview.stride, sb, sizeof bview.stride);
    bool close = true;
    const float *d = tensor_data(diff);
    for (int64_t i = 0; i < tensor_numel(diff) && close; i++) {
        double bv = tensor_get_flat(&bview, i);
        close = fabs((double)d[i]) <= atol + rtol * fabs(bv);
    }
    tensor_release(diff);
    *out = close;
    return true;
}

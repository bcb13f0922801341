#include "tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "kernels.h"

/* ---- storage ---- */

static Storage *storage_new(Engine *eng, int64_t numel)
{
    Storage *s = engine_object_alloc(eng, sizeof *s);
    if (!s) {
        engine_fail(eng, "out of memory");
        return NULL;
    }
    s->data = engine_alloc(eng, (size_t)numel * sizeof(float), "tensor");
    if (!s->data) {
        engine_object_free(eng, s, sizeof *s);
        return NULL;
    }
    s->refcount = 1;
    s->numel = numel;
    s->eng = eng;
    return s;
}

void storage_release(Storage *s)
{
    if (!s || --s->refcount > 0)
        return;
    engine_free_accounted(s->eng, s->data, (size_t)s->numel * sizeof(float));
    engine_object_free(s->eng, s, sizeof *s);
}

/* ---- shapes ---- */

int64_t shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

int64_t tensor_numel(const Tensor *t)
{
    return shape_numel(t->ndim, t->shape);
}

/* A shape is acceptable when it has at most TENSOR_MAX_DIMS non-negative
 * sizes whose product fits comfortably in memory arithmetic. */
static bool check_shape(Engine *eng, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS)
        return engine_fail(eng, "tensors have at most %d dimensions (got %d)", TENSOR_MAX_DIMS, ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return engine_fail(eng, "negative dimension %lld in a tensor shape", (long long)shape[i]);
        if (shape[i] > 0 && n > ((int64_t)1 << 40) / shape[i]) {
            char buf[128];
            shape_format(buf, sizeof buf, ndim, shape);
            return engine_fail(eng, "tensor too large: shape %s", buf);
        }
        n *= shape[i];
    }
    return true;
}

void tensor_set_contiguous_strides(Tensor *t)
{
    int64_t stride = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        t->stride[i] = stride;
        stride *= t->shape[i];
    }
}

/* ---- creation ---- */

Tensor *tensor_wrap_storage(Engine *eng, Storage *s, DType dtype, int ndim, const int64_t *shape)
{
    Tensor *t = engine_object_alloc(eng, sizeof *t);
    if (!t) {
        engine_fail(eng, "out of memory");
        return NULL;
    }
    t->refcount = 1;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    tensor_set_contiguous_strides(t);
    t->storage = s;
    s->refcount++;
    return t;
}

Tensor *tensor_empty(Engine *eng, DType dtype, int ndim, const int64_t *shape)
{
    if (!check_shape(eng, ndim, shape))
        return NULL;
    Storage *s = storage_new(eng, shape_numel(ndim, shape));
    if (!s)
        return NULL;
    Tensor *t = tensor_wrap_storage(eng, s, dtype, ndim, shape);
    storage_release(s);
    return t;
}

Tensor *tensor_full(Engine *eng, DType dtype, int ndim, const int64_t *shape, double value)
{
    Tensor *t = tensor_empty(eng, dtype, ndim, shape);
    if (t)
        tensor_fill_(t, value);
    return t;
}

Tensor *tensor_zeros(Engine *eng, DType dtype, int ndim, const int64_t *shape)
{
    Tensor *t = tensor_empty(eng, dtype, ndim, shape);
    if (t)
        memset(t->storage->data, 0, (size_t)t->storage->numel * sizeof(float));
    return t;
}

Tensor *tensor_scalar(Engine *eng, DType dtype, double value)
{
    return tensor_full(eng, dtype, 0, NULL, value);
}

static bool check_int_value(Engine *eng, DType dtype, double v)
{
    if (dtype == DTYPE_INT64 && (v > TENSOR_MAX_EXACT_INT || v < -TENSOR_MAX_EXACT_INT))
        return engine_fail(eng, "integer %.0f is too large for an nnl integer tensor "
                           "(values are exact up to 16777216)", v);
    return true;
}

static float cast_value(DType dtype, double v)
{
    switch (dtype) {
    case DTYPE_BOOL:
        return v != 0.0 ? 1.0f : 0.0f;
    case DTYPE_INT64:
        return (float)trunc(v);
    default:
        return (float)v;
    }
}

/* Do n values fill a valid shape exactly? */
static bool check_values_fill(Engine *eng, int ndim, const int64_t *shape, int64_t n)
{
    if (!check_shape(eng, ndim, shape))
        return false;
    if (shape_numel(ndim, shape) != n)
        return engine_fail(eng, "%lld values do not fill the shape", (long long)n);
    return true;
}

Tensor *tensor_from_doubles(Engine *eng, DType dtype, int ndim, const int64_t *shape,
                            const double *values, int64_t n)
{
    if (!check_values_fill(eng, ndim, shape, n))
        return NULL;
    for (int64_t i = 0; i < n; i++)
        if (!check_int_value(eng, dtype, values[i]))
            return NULL;
    Tensor *t = tensor_empty(eng, dtype, ndim, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        t->storage->data[i] = cast_value(dtype, values[i]);
    return t;
}

Tensor *tensor_from_floats(Engine *eng, DType dtype, int ndim, const int64_t *shape,
                           const float *values, int64_t n)
{
    if (!check_values_fill(eng, ndim, shape, n))
        return NULL;
    Tensor *t = tensor_empty(eng, dtype, ndim, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        t->storage->data[i] = cast_value(dtype, values[i]);
    return t;
}

Tensor *tensor_zeros_like(Engine *eng, const Tensor *like)
{
    return tensor_zeros(eng, like->dtype, like->ndim, like->shape);
}

Tensor *tensor_full_like(Engine *eng, const Tensor *like, double value)
{
    return tensor_full(eng, like->dtype, like->ndim, like->shape, value);
}

Tensor *tensor_eye(Engine *eng, int64_t n, int64_t m)
{
    int64_t shape[2] = {n, m};
    Tensor *t = tensor_zeros(eng, DTYPE_FLOAT32, 2, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < n && i < m; i++)
        t->storage->data[i * m + i] = 1.0f;
    return t;
}

Tensor *tensor_arange(Engine *eng, double start, double end, double step, DType dtype)
{
    if (step == 0.0) {
        engine_fail(eng, "arange: step must be nonzero");
        return NULL;
    }
    if (!isfinite(start) || !isfinite(end) || !isfinite(step)) {
        engine_fail(eng, "arange: unsupported range: %g -> %g", start, end);
        return NULL;
    }
    if ((step > 0 && end < start) || (step < 0 && end > start)) {
        engine_fail(eng, "arange: upper bound and larger bound inconsistent with step sign");
        return NULL;
    }
    double count = ceil((end - start) / step);
    if (count > (double)((int64_t)1 << 40)) {
        engine_fail(eng, "arange: tensor too large: %.0f elements", count);
        return NULL;
    }
    int64_t shape[1] = {(int64_t)count};
    if (!check_int_value(eng, dtype, start) || !check_int_value(eng, dtype, start + (count - 1) * step))
        return NULL;
    Tensor *t = tensor_empty(eng, dtype, 1, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < shape[0]; i++)
        t->storage->data[i] = cast_value(dtype, start + (double)i * step);
    return t;
}

Tensor *tensor_linspace(Engine *eng, double start, double end, int64_t steps)
{
    if (steps < 0) {
        engine_fail(eng, "linspace: number of steps must be non-negative");
        return NULL;
    }
    int64_t shape[1] = {steps};
    Tensor *t = tensor_empty(eng, DTYPE_FLOAT32, 1, shape);
    if (!t)
        return NULL;
    float *d = t->storage->data;
    if (steps == 1)
        d[0] = (float)start;
    if (steps > 1) {
        /* Like PyTorch: the first half counts up from start, the second half
         * down from end, so both ends are exact. */
        double step = (end - start) / (double)(steps - 1);
        int64_t half = steps / 2;
        for (int64_t i = 0; i < steps; i++)
            d[i] = (float)(i < half ? start + step * (double)i
                                    : end - step * (double)(steps - 1 - i));
    }
    return t;
}

/* A float32 tensor of draws from the engine's generator: standard normal
 * or uniform on [0, 1). Inline, so that each caller's constant `normal`
 * leaves a loop without a branch. */
static inline Tensor *random_floats(Engine *eng, int ndim, const int64_t *shape, bool normal)
{
    Tensor *t = tensor_empty(eng, DTYPE_FLOAT32, ndim, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < t->storage->numel; i++)
        t->storage->data[i] = (float)(normal ? rng_normal(&eng->rng) : rng_uniform(&eng->rng));
    return t;
}

Tensor *tensor_rand(Engine *eng, int ndim, const int64_t *shape)
{
    return random_floats(eng, ndim, shape, false);
}

Tensor *tensor_randn(Engine *eng, int ndim, const int64_t *shape)
{
    return random_floats(eng, ndim, shape, true);
}

Tensor *tensor_randint(Engine *eng, int64_t low, int64_t high, int ndim, const int64_t *shape)
{
    if (high <= low) {
        engine_fail(eng, "randint: expected low < high, but got low=%lld, high=%lld",
                    (long long)low, (long long)high);
        return NULL;
    }
    if (!check_int_value(eng, DTYPE_INT64, (double)low) || !check_int_value(eng, DTYPE_INT64, (double)high))
        return NULL;
    Tensor *t = tensor_empty(eng, DTYPE_INT64, ndim, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < t->storage->numel; i++)
        t->storage->data[i] = (float)(low + rng_below(&eng->rng, high - low));
    return t;
}

Tensor *tensor_randperm(Engine *eng, int64_t n)
{
    if (!check_int_value(eng, DTYPE_INT64, (double)n))
        return NULL;
    int64_t shape[1] = {n};
    Tensor *t = tensor_empty(eng, DTYPE_INT64, 1, shape);
    if (!t)
        return NULL;
    float *d = t->storage->data;
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)i;
    for (int64_t i = n - 1; i > 0; i--) {  /* Fisher-Yates */
        int64_t j = rng_below(&eng->rng, i + 1);
        float tmp = d[i];
        d[i] = d[j];
        d[j] = tmp;
    }
    return t;
}

/* ---- references ---- */

Tensor *tensor_retain(Tensor *t)
{
    if (t)
        t->refcount++;
    return t;
}

void tensor_release(Tensor *t)
{
    if (!t || --t->refcount > 0)
        return;
    tensor_free_unreferenced(t);
}

/* ---- facts ---- */

bool tensor_is_contiguous(const Tensor *t)
{
    int64_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != expected)
            return false;
        expected *= t->shape[i];
    }
    return true;
}

bool tensor_same_shape(const Tensor *a, const Tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

bool tensor_is_leaf(const Tensor *t)
{
    return t->grad_fn == NULL;
}

bool dtype_is_integral(DType d)
{
    return d == DTYPE_INT64 || d == DTYPE_BOOL;
}

const char *dtype_name(DType d)
{
    switch (d) {
    case DTYPE_INT64:
        return "torch.int64";
    case DTYPE_BOOL:
        return "torch.bool";
    default:
        return "torch.float32";
    }
}

void tensor_shape_str(const Tensor *t, char *buf, size_t size)
{
    shape_format(buf, size, t->ndim, t->shape);
}

bool tensor_wrap_dim(Engine *eng, int ndim, int64_t dim, int *out)
{
    int64_t n = ndim > 0 ? ndim : 1; /* a 0-d tensor accepts dim 0 and -1 */
    if (dim < -n || dim >= n)
        return engine_fail(eng, "Dimension out of range (expected to be in range of [%lld, %lld], but got %lld)",
                           (long long)-n, (long long)(n - 1), (long long)dim);
    *out = (int)(dim < 0 ? dim + n : dim);
    return true;
}

/* ---- element access ---- */

int64_t tensor_flat_offset(const Tensor *t, int64_t i)
{
    int64_t off = t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t size = t->shape[d];
        off += (i % size) * t->stride[d];
        i /= size;
    }
    return off;
}

float tensor_get_flat(const Tensor *t, int64_t i)
{
    return t->storage->data[tensor_flat_offset(t, i)];
}

void tensor_set_flat(Tensor *t, int64_t i, float v)
{
    t->storage->data[tensor_flat_offset(t, i)] = v;
}

float *tensor_data(const Tensor *t)
{
    return t->storage->data + t->offset;
}

bool tensor_item(Engine *eng, const Tensor *t, double *out)
{
    int64_t n = tensor_numel(t);
    if (n != 1)
        return engine_fail(eng, "a Tensor with %lld elements cannot be converted to Scalar", (long long)n);
    *out = (double)tensor_get_flat(t, 0);
    return true;
}

/* ---- layout ---- */

Tensor *tensor_copy_data(Engine *eng, const Tensor *t)
{
    Tensor *c = tensor_empty(eng, t->dtype, t->ndim, t->shape);
    if (!c)
        return NULL;
    strided_copy(tensor_data(c), t);
    return c;
}

Tensor *tensor_contiguous(Engine *eng, Tensor *t)
{
    if (tensor_is_contiguous(t))
        return tensor_retain(t);
    return tensor_copy_data(eng, t);
}

Tensor *tensor_alias(Engine *eng, Tensor *t)
{
    Tensor *a = engine_object_alloc(eng, sizeof *a);
    if (!a) {
        engine_fail(eng, "out of memory");
        return NULL;
    }
    a->refcount = 1;
    a->dtype = t->dtype;
    a->ndim = t->ndim;
    memcpy(a->shape, t->shape, sizeof a->shape);
    memcpy(a->stride, t->stride, sizeof a->stride);
    a->offset = t->offset;
    a->storage = t->storage;
    a->storage->refcount++;
    return a;
}

/* ---- in place ---- */

void tensor_fill_(Tensor *t, double v)
{
    float f = cast_value(t->dtype, v);
    if (tensor_is_contiguous(t)) {
        float *d = tensor_data(t);
        int64_t n = tensor_numel(t);
        for (int64_t i = 0; i < n; i++)
            d[i] = f;
        return;
    }
    int64_t n = tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        tensor_set_flat(t, i, f);
}

bool tensor_copy_(Engine *eng, Tensor *dst, const Tensor *src)
{
    Tensor view;
    if (!broadcast_view(eng, src, dst->ndim, dst->shape, &view))
        return false;
    /* Copy through a temporary when the two overlap (x[1:] = x[:-1]). */
    Tensor *tmp = NULL;
    if (src->storage == dst->storage) {
        tmp = tensor_copy_data(eng, src);
        if (!tmp)
            return false;
        broadcast_view(eng, tmp, dst->ndim, dst->shape, &view);
    }
    int64_t n = tensor_numel(dst);
    for (int64_t i = 0; i < n; i++)
        tensor_set_flat(dst, i, cast_value(dst->dtype, tensor_get_flat(&view, i)));
    tensor_release(tmp);
    return true;
}

void tensor_set_data_(Tensor *t, Tensor *src)
{
    Storage *old = t->storage;
    t->storage = src->storage;
    t->storage->refcount++;
    storage_release(old);
    t->dtype = src->dtype;
    t->ndim = src->ndim;
    memcpy(t->shape, src->shape, sizeof t->shape);
    memcpy(t->stride, src->stride, sizeof t->stride);
    t->offset = src->offset;
}

bool tensor_add_scaled_(Engine *eng, Tensor *dst, const Tensor *src, double alpha)
{
    float a = (float)alpha;
    if (tensor_is_contiguous(dst) && tensor_is_contiguous(src) && tensor_same_shape(dst, src)) {
        float *d = tensor_data(dst);
        const float *s = tensor_data(src);
        int64_t n = tensor_numel(dst);
        for (int64_t i = 0; i < n; i++)
            d[i] += a * s[i];
        return true;
    }
    Tensor view;
    if (!broadcast_view(eng, src, dst->ndim, dst->shape, &view))
        return false;
    int64_t n = tensor_numel(dst);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = tensor_flat_offset(dst, i);
        dst->storage->data[off] = cast_value(dst->dtype, dst->storage->data[off] + a * tensor_get_flat(&view, i));
    }
    return true;
}

Tensor *tensor_to_dtype(Engine *eng, Tensor *t, DType dtype)
{
    if (t->dtype == dtype)
        return tensor_retain(t);
    Tensor *c = tensor_empty(eng, dtype, t->ndim, t->shape);
    if (!c)
        return NULL;
    int64_t n = tensor_numel(t);
    float *d = tensor_data(c);
    for (int64_t i = 0; i < n; i++)
        d[i] = cast_value(dtype, tensor_get_flat(t, i));
    return c;
}

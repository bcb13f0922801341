#include "kernels.h"

#include <string.h>

bool broadcast_shapes(Engine *eng, const char *op, int nda, const int64_t *sa,
                      int ndb, const int64_t *sb, int *nd_out, int64_t *shape_out)
{
    int nd = nda > ndb ? nda : ndb;
    for (int i = 0; i < nd; i++) {
        int ia = nda - nd + i, ib = ndb - nd + i;
        int64_t da = ia >= 0 ? sa[ia] : 1;
        int64_t db = ib >= 0 ? sb[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char fa[96], fb[96];
            shape_format(fa, sizeof fa, nda, sa);
            shape_format(fb, sizeof fb, ndb, sb);
            return engine_fail(eng, "%s: shapes %s and %s cannot be broadcast together "
                               "(dimension %d: %lld vs %lld)", op, fa, fb, i,
                               (long long)da, (long long)db);
        }
        shape_out[i] = da == 1 ? db : da;
    }
    *nd_out = nd;
    return true;
}

bool broadcast_tensors_shape(Engine *eng, const char *op, const Tensor *a, const Tensor *b,
                             int *nd_out, int64_t *shape_out)
{
    return broadcast_shapes(eng, op, a->ndim, a->shape, b->ndim, b->shape, nd_out, shape_out);
}

bool broadcast_to_strides(Engine *eng, const Tensor *t, int ndim, const int64_t *shape,
                          int64_t *strides)
{
    if (t->ndim > ndim) {
        char ft[96], fs[96];
        tensor_shape_str(t, ft, sizeof ft);
        shape_format(fs, sizeof fs, ndim, shape);
        return engine_fail(eng, "cannot broadcast shape %s to %s", ft, fs);
    }
    for (int i = 0; i < ndim; i++) {
        int it = t->ndim - ndim + i;
        if (it < 0) {
            strides[i] = 0;
            continue;
        }
        if (t->shape[it] == shape[i]) {
            strides[i] = t->shape[it] == 1 ? 0 : t->stride[it];
        } else if (t->shape[it] == 1) {
            strides[i] = 0;
        } else {
            char ft[96], fs[96];
            tensor_shape_str(t, ft, sizeof ft);
            shape_format(fs, sizeof fs, ndim, shape);
            return engine_fail(eng, "cannot broadcast shape %s to %s", ft, fs);
        }
    }
    return true;
}

bool broadcast_view(Engine *eng, const Tensor *t, int ndim, const int64_t *shape, Tensor *view)
{
    int64_t strides[TENSOR_MAX_DIMS];
    if (!broadcast_to_strides(eng, t, ndim, shape, strides))
        return false;
    *view = *t;
    view->ndim = ndim;
    memcpy(view->shape, shape, (size_t)ndim * sizeof *shape);
    memcpy(view->stride, strides, (size_t)ndim * sizeof *strides);
    return true;
}

void strided_copy(float *out, const Tensor *t)
{
    const float *src = t->storage->data;
    if (tensor_is_contiguous(t)) {
        memcpy(out, src + t->offset, (size_t)tensor_numel(t) * sizeof(float));
        return;
    }
    /* Walk the index space as four nested loops (missing leading dims are 1). */
    int64_t shape[4] = {1, 1, 1, 1}, stride[4] = {0, 0, 0, 0};
    for (int i = 0; i < t->ndim; i++) {
        shape[4 - t->ndim + i] = t->shape[i];
        stride[4 - t->ndim + i] = t->stride[i];
    }
    int64_t k = 0;
    for (int64_t i0 = 0; i0 < shape[0]; i0++)
        for (int64_t i1 = 0; i1 < shape[1]; i1++)
            for (int64_t i2 = 0; i2 < shape[2]; i2++) {
                const float *row = src + t->offset + i0 * stride[0] + i1 * stride[1] + i2 * stride[2];
                for (int64_t i3 = 0; i3 < shape[3]; i3++)
                    out[k++] = row[i3 * stride[3]];
            }
}
